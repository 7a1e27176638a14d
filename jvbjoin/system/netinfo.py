"""The host's sockets as the kernel lists them in /proc/net, and which process holds each one.

Read by doctor (who listens where), by ``server turn`` (is a port taken, and by whom) and by the join
(what a firewall that is turned on would cut), and whether an address is this host's. Nothing here
knows about Jitsi.
"""

import os
import socket
import struct

from jvbjoin.system import files

LISTEN, UNCONNECTED = "0A", "07"


def parse_proc_net(text, v6, state=LISTEN, inodes=False):
    """``(address, port)`` of every listening TCP socket in a /proc/net/tcp{,6} text (``state`` 07,
    unconnected, for the bound sockets of a /proc/net/udp text); ``(address, port, inode)`` with
    ``inodes``, to tell which process holds it."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != state:
            continue
        address, _, port = fields[1].partition(":")
        try:
            raw = bytes.fromhex(address)
            if v6:
                raw = b"".join(struct.pack("<I", struct.unpack(">I", raw[i:i + 4])[0]) for i in range(0, 16, 4))
                host = socket.inet_ntop(socket.AF_INET6, raw)
            else:
                host = socket.inet_ntop(socket.AF_INET, raw[::-1])
            out.append((host, int(port, 16), int(fields[9])) if inodes else (host, int(port, 16)))
        except (ValueError, OSError, IndexError):
            continue
    return out


def tcp_listeners(paths):
    """``(address, port)`` of every listening TCP socket, IPv4 and IPv6."""
    out = []
    for name, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        text = files.read_text(paths(name))
        if text:
            out.extend(parse_proc_net(text, v6))
    return out


def bound_sockets(paths):
    """``(proto, address, port, inode)`` of every listening TCP and bound UDP socket."""
    out = []
    for proto, state in (("tcp", LISTEN), ("udp", UNCONNECTED)):
        for suffix, v6 in (("", False), ("6", True)):
            text = files.read_text(paths("/proc/net/{}{}".format(proto, suffix))) or ""
            out.extend((proto,) + found for found in parse_proc_net(text, v6, state, inodes=True))
    return out


def is_loopback(address):
    return address in ("::1",) or address.startswith("127.") or address.startswith("::ffff:127.")


def is_local_address(address):
    """Whether ``address`` is on an interface of this host: a socket can be bound to it (what
    ice4j and coturn need). An address that cannot be bound for any reason is not."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.bind((address, 0))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def socket_inodes(paths, pid):
    """The inodes of the sockets process ``pid`` holds (empty when it cannot be read)."""
    folder = paths("/proc/{}/fd".format(pid))
    inodes = set()
    try:
        names = os.listdir(folder) if pid else []
    except OSError:
        return inodes
    for name in names:
        try:
            link = os.readlink(os.path.join(folder, name))
        except OSError:
            continue
        if link.startswith("socket:[") and link.endswith("]"):
            inodes.add(int(link[8:-1]))
    return inodes


def owners(paths, wanted):
    """``{inode: program name}`` for the socket inodes in ``wanted``, from /proc/PID/fd (root sees all)."""
    found = {}
    try:
        pids = [name for name in os.listdir(paths("/proc")) if name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        held = socket_inodes(paths, pid) & set(wanted)
        if not held:
            continue
        name = (files.read_text(paths("/proc/{}/comm".format(pid))) or "?").strip() or "?"
        for inode in held:
            found.setdefault(inode, name)
        if len(found) == len(set(wanted)):
            break
    return found
