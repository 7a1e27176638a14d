"""A bridge behind NAT: the addresses jvb-join writes as ice4j's static mapping and STUN servers,
checked before anything on the host changes."""

import ipaddress
import re
import socket

from jvbjoin.errors import JvbJoinError, UsageError

_STUN_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:([0-9]{1,5})$")


def advertise_ip(value):
    """The public address for ``--advertise-ip``: a literal IP address that can carry media."""
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise UsageError("--advertise-ip {!r} is not an IP address.".format(value),
                         "Give the bridge's public address as digits, e.g. --advertise-ip 203.0.113.7.") from None
    if address.is_loopback or address.is_unspecified or address.is_multicast or address.is_link_local:
        raise UsageError("--advertise-ip {} cannot be reached by participants.".format(address),
                         "Give the public address the NAT forwards UDP 10000 from.")
    return str(address)


def stun_servers(values):
    """``--stun-server HOST:PORT`` (repeatable; ``none`` for no STUN) as ice4j reads them: it splits
    on ':' so an IPv6 literal cannot be written. ``None`` when not given (the package's list stays)."""
    if not values:
        return None
    if list(values) == ["none"]:
        return []
    servers = []
    for value in values:
        match = _STUN_RE.match(value.strip())
        if not match or not 0 < int(match.group(2)) < 65536:
            raise UsageError("--stun-server {!r} is not HOST:PORT.".format(value),
                             "Write it like stun.example.org:3478 (a name or an IPv4 address), or "
                             "'--stun-server none' for no STUN.")
        if value.strip() not in servers:
            servers.append(value.strip())
    return servers


def local_address(given, server_host, server_port):
    """The host's own address the NAT maps: ``--local-ip`` when given, otherwise the one this host
    uses to reach the server. It must be an address of this host, or ice4j maps nothing."""
    if given:
        try:
            address = str(ipaddress.ip_address(given.strip()))
        except ValueError:
            raise UsageError("--local-ip {!r} is not an IP address.".format(given)) from None
    else:
        address = route_source(server_host, server_port)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.bind((address, 0))
    except OSError:
        raise JvbJoinError("{} is not an address of this host, so the bridge would map nothing to "
                           "the --advertise-ip address.".format(address),
                           "Give --local-ip with an address 'ip -brief address' shows.") from None
    finally:
        probe.close()
    return address


def route_source(host, port):
    """The source address the kernel picks for ``host`` (a UDP connect sends no packet)."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise JvbJoinError("Cannot resolve {} to find this host's local address: {}".format(host, exc),
                           "Give it with --local-ip.") from None
    family, _, _, _, sockaddr = infos[0]
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.connect(sockaddr)
        return probe.getsockname()[0].split("%")[0]
    except OSError as exc:
        raise JvbJoinError("No route to {} to find this host's local address: {}".format(host, exc),
                           "Give it with --local-ip.") from None
    finally:
        probe.close()
