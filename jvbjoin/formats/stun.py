"""A STUN binding request (RFC 5389), enough to learn the address a STUN server sees this host as.

ice4j's STUN mapping harvester asks the same question at the bridge's start; doctor asks it again
to compare the answer with the address the bridge announces. One UDP socket, a few retransmissions
within a bounded time, no dependency beyond the standard library.
"""

import os
import select
import socket
import struct
import time

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
MAPPED_ADDRESS = 0x0001
XOR_MAPPED_ADDRESS = 0x0020
ERROR_CODE = 0x0009
_FAMILIES = {0x01: (socket.AF_INET, 4), 0x02: (socket.AF_INET6, 16)}


class StunError(Exception):
    """No usable answer: a timeout, an error response, or a message that is not STUN."""


def binding_request(transaction_id=None):
    """``(message, transaction id)`` of a Binding request with no attributes."""
    transaction_id = transaction_id or os.urandom(12)
    if len(transaction_id) != 12:
        raise ValueError("a STUN transaction id is 12 bytes")
    return struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC_COOKIE) + transaction_id, transaction_id


def _attributes(body):
    """``[(type, value)]`` of a message body (each value padded to 4 bytes on the wire)."""
    out, offset = [], 0
    while offset + 4 <= len(body):
        kind, length = struct.unpack_from("!HH", body, offset)
        value = body[offset + 4:offset + 4 + length]
        if len(value) != length:
            raise StunError("a STUN attribute runs past the end of the message")
        out.append((kind, value))
        offset += 4 + length + (-length % 4)
    return out


def _address(value, xor_key=None):
    """``(ip, port)`` of a (XOR-)MAPPED-ADDRESS value; ``xor_key`` is cookie + transaction id."""
    if len(value) < 4:
        raise StunError("a STUN address attribute is too short")
    family, port = value[1], struct.unpack_from("!H", value, 2)[0]
    if family not in _FAMILIES:
        raise StunError("unknown address family {} in a STUN answer".format(family))
    af, size = _FAMILIES[family]
    raw = value[4:4 + size]
    if len(raw) != size:
        raise StunError("a STUN address attribute is too short")
    if xor_key is not None:
        port ^= MAGIC_COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, xor_key[:size]))
    return socket.inet_ntop(af, raw), port


def parse_response(data, transaction_id):
    """The mapped ``(ip, port)`` in a Binding success response to ``transaction_id``.

    XOR-MAPPED-ADDRESS is preferred; MAPPED-ADDRESS (RFC 3489 servers) is read when it is the only one.
    """
    if len(data) < 20:
        raise StunError("the answer is too short for STUN")
    kind, length, cookie = struct.unpack_from("!HHI", data, 0)
    if cookie != MAGIC_COOKIE or data[8:20] != transaction_id:
        raise StunError("the answer is not for this request")
    if len(data) < 20 + length:
        raise StunError("the answer is shorter than its header says")
    attributes = _attributes(data[20:20 + length])
    if kind == BINDING_ERROR:
        for attr, value in attributes:
            if attr == ERROR_CODE and len(value) >= 4:
                code = (value[2] & 0x7) * 100 + value[3]
                raise StunError("the STUN server answered error {} {}".format(
                    code, value[4:].decode("utf-8", "replace")).strip())
        raise StunError("the STUN server answered an error")
    if kind != BINDING_SUCCESS:
        raise StunError("the answer is not a Binding success (type 0x{:04x})".format(kind))
    found = dict((attr, value) for attr, value in reversed(attributes))  # the first of each kind
    if XOR_MAPPED_ADDRESS in found:
        return _address(found[XOR_MAPPED_ADDRESS], struct.pack("!I", MAGIC_COOKIE) + transaction_id)
    if MAPPED_ADDRESS in found:
        return _address(found[MAPPED_ADDRESS])
    raise StunError("the STUN answer carries no mapped address")


def mapped_address(host, port, source=None, timeout=2.0):
    """The ``(ip, port)`` the STUN server ``host:port`` sees a request from this host as.

    ``source`` is the local address to send from (the one the NAT maps); the whole exchange takes
    at most ``timeout`` seconds, with the request sent again after 0.5, 1 and 2 s of silence
    (RFC 5389 §7.2.1 doubling).
    """
    deadline = time.monotonic() + timeout
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise StunError("cannot resolve {}: {}".format(host, exc)) from None
    if source:
        family = socket.AF_INET6 if ":" in source else socket.AF_INET
        infos = [i for i in infos if i[0] == family] or infos
    family, _, _, _, server = infos[0]
    message, transaction_id = binding_request()
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if source:
            sock.bind((source, 0))
        wait = 0.5
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StunError("no answer from {}:{} within {:.1f} s".format(host, port, timeout))
            try:
                sock.sendto(message, server)
            except OSError as exc:
                raise StunError("cannot send to {}:{}: {}".format(host, port, exc)) from None
            until = time.monotonic() + min(wait, left)
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    break
                readable, _, _ = select.select([sock], [], [], left)
                if not readable:
                    break
                try:
                    data, _ = sock.recvfrom(2048)
                except OSError as exc:  # e.g. ICMP port unreachable, reported on the next read
                    raise StunError("{}:{} refused the request: {}".format(host, port, exc)) from None
                try:
                    return parse_response(data, transaction_id)
                except StunError as exc:
                    if "not for this request" in str(exc):
                        continue  # a late answer to nothing we sent, or noise
                    raise
            wait *= 2
    finally:
        sock.close()
