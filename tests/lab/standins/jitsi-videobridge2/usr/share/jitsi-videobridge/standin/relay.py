"""Relays of the jitsi-videobridge2 lab stand-in: ICE connectivity checks between two bridges over
their media ports, as jicofo asks for them in colibri2 (the colibri2 side is in colibri.py).

Facts (jitsi-videobridge a29d97d13, ice4j 6da2b08b, jicofo 7ebb13dc3; tests/lab/standins/FIDELITY.md):
- jicofo's Colibri2Session.Relay: the relay of the bridge that was in the conference first is the
  initiator (ColibriV2SessionManager.addLinkBetween), which asks for use-unique-port and
  ice-controlling; the other side uses the single port harvester (videobridge.ice.udp.port, 10000).
- jvb IceTransport: checks with the peer's ufrag/pwd; getDebugState's keys; iceConnected when ICE
  completes, iceFailed (and Relay's relays_ice_failed metric) when it fails. No DTLS, SCTP or media is
  modelled: a relay whose ICE connects is connected here.
- ice4j StunClientTransaction: a check is sent, then resent after 100 ms doubling up to 1600 ms, six
  times, and times out 1600 ms after the last (6.3 s in all); ConnectivityCheckClient: once every pair
  failed, the check list fails 5 s later unless a check succeeds. So ICE fails about 11.3 s after the
  checks start, as upstream (the lab keeps upstream's times).
The STUN coding (RFC 5389 / 8445 short-term credentials) is the stand-in's own.
"""

import asyncio
import hashlib
import hmac
import os
import random
import socket
import string
import struct
import subprocess
import zlib

MAGIC = 0x2112A442
BINDING, SUCCESS, ERROR = 0x0001, 0x0101, 0x0111
USERNAME, INTEGRITY, ERROR_CODE, XOR_ADDRESS = 0x0006, 0x0008, 0x0009, 0x0020
PRIORITY, USE_CANDIDATE, FINGERPRINT, CONTROLLED, CONTROLLING = 0x0024, 0x0025, 0x8028, 0x8029, 0x802A
# ice4j StunClientTransaction: DEFAULT_ORIGINAL_WAIT_INTERVAL 100, DEFAULT_MAX_WAIT_INTERVAL 1600,
# DEFAULT_MAX_RETRANSMISSIONS 6: the waits after each send of one check
CHECK_WAITS = (0.1, 0.2, 0.4, 0.8, 1.6, 1.6, 1.6)
# ice4j ConnectivityCheckClient: "CheckList will failed in a few seconds if no succeeded checks come"
CHECK_LIST_FAIL_DELAY = 5.0
HOST_PRIORITY = 2130706431


def _attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def encode(mtype, tid, attrs, key=None):
    """A STUN message with MESSAGE-INTEGRITY (keyed with ``key``) when given, and FINGERPRINT."""
    body = b"".join(_attr(k, v) for k, v in attrs)
    if key is not None:
        header = struct.pack("!HHI12s", mtype, len(body) + 24, MAGIC, tid)
        body += _attr(INTEGRITY, hmac.new(key, header + body, hashlib.sha1).digest())
    header = struct.pack("!HHI12s", mtype, len(body) + 8, MAGIC, tid)
    crc = (zlib.crc32(header + body) & 0xFFFFFFFF) ^ 0x5354554E
    body += _attr(FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI12s", mtype, len(body), MAGIC, tid) + body


def decode(data):
    """``(type, tid, {attr: value}, integrity offset or None)``, or None for anything not STUN."""
    if len(data) < 20 or data[0] & 0xC0:
        return None
    mtype, length, magic, tid = struct.unpack("!HHI12s", data[:20])
    if magic != MAGIC or length + 20 != len(data):
        return None
    attrs, at, mi_at = {}, 20, None
    while at + 4 <= len(data):
        kind, size = struct.unpack("!HH", data[at:at + 4])
        if kind == INTEGRITY:
            mi_at = at
        attrs.setdefault(kind, data[at + 4:at + 4 + size])
        at += 4 + size + (4 - size % 4) % 4
    return mtype, tid, attrs, mi_at


def integrity_ok(data, mi_at, key):
    if mi_at is None:
        return False
    header = data[:2] + struct.pack("!H", mi_at - 20 + 24) + data[4:20]
    mac = hmac.new(key, header + data[20:mi_at], hashlib.sha1).digest()
    return hmac.compare_digest(mac, data[mi_at + 4:mi_at + 24])


def xor_address(host, port):
    raw = socket.inet_aton(host)
    xport = port ^ (MAGIC >> 16)
    xip = struct.unpack("!I", raw)[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, xport, xip)


def _token(size):
    chars = string.ascii_lowercase + string.digits
    return "".join(random.SystemRandom().choice(chars) for _ in range(size))


def local_addresses():
    """The host's IPv4 addresses that ice4j's host harvester would use (no loopback, no link-local)."""
    found = []
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        words = line.split()
        if "inet" in words:
            ip = words[words.index("inet") + 1].split("/")[0]
            if not ip.startswith("127.") and not ip.startswith("169.254.") and ip not in found:
                found.append(ip)
    return found


class Port(asyncio.DatagramProtocol):
    """One UDP socket of the bridge: the single port (10000) shared by the relays that use it, or a
    relay's unique port. STUN requests go to the relay whose local ufrag they name, responses to the
    relay that sent the request."""

    def __init__(self):
        self.transport = None
        self.by_ufrag = {}
        self.by_tid = {}

    def connection_made(self, transport):
        self.transport = transport

    def port(self):
        return self.transport.get_extra_info("sockname")[1]

    def datagram_received(self, data, addr):
        msg = decode(data)
        if msg is None:
            return
        mtype, tid, attrs, mi_at = msg
        if mtype == BINDING:
            name = attrs.get(USERNAME, b"").decode("utf-8", "replace")
            relay = self.by_ufrag.get(name.split(":", 1)[0])
            if relay is not None:
                relay.request(data, tid, attrs, mi_at, addr)
        elif mtype in (SUCCESS, ERROR):
            relay = self.by_tid.pop(tid, None)
            if relay is not None:
                relay.response(data, mtype, tid, attrs, mi_at, addr)

    def send(self, data, addr):
        if self.transport is not None:
            self.transport.sendto(data, addr)


async def open_port(loop, sock=None):
    """A Port on ``sock`` (the bound single port), or on a new socket of a dynamic port."""
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", 0))
    sock.setblocking(False)
    _transport, protocol = await loop.create_datagram_endpoint(Port, sock=sock)
    return protocol


class RelayIce(object):
    """The ICE side of one relay (IceTransport with its ice4j Agent), on a Port."""

    def __init__(self, loop, port, controlling, unique, on_change):
        self.loop = loop
        self.port = port
        self.controlling = controlling
        self.unique = unique
        self.on_change = on_change
        self.ufrag, self.pwd = _token(6), _token(24)
        self.tiebreaker = os.urandom(8)
        self.remote = None
        self.pairs = {}  # (ip, port) -> "in-progress" | "succeeded" | "failed"
        self.nominated = set()
        self.waiting = {}
        self.writeable = self.connected = self.failed = self.closed = False
        self.fail_task = None
        port.by_ufrag[self.ufrag] = self

    def debug_state(self):
        """IceTransport.getDebugState (without the packet stats)."""
        return {"keepAliveStrategy": "SELECTED_ONLY", "nominationStrategy": "NominateFirstHostOrReflexiveValid",
                "advertisePrivateCandidates": True, "closed": self.closed, "iceWriteable": self.writeable,
                "iceConnected": self.connected, "iceFailed": self.failed, "localUfrag": self.ufrag,
                "iceGeneration": 0, "restartPending": False}

    def candidates(self, addresses, mappings):
        """Host candidates on each address at this relay's port; a static mapping's public address as
        a server reflexive candidate of the local one it maps."""
        port = self.port.port()
        out = []
        for i, ip in enumerate(addresses):
            out.append({"foundation": str(i + 1), "component": "1", "protocol": "udp", "priority": str(HOST_PRIORITY),
                        "ip": ip, "port": str(port), "type": "host", "generation": "0", "network": "0"})
            for face, mask in mappings:
                if face.rsplit(":", 1)[0] == ip:
                    public = mask.rsplit(":", 1)[0].strip("[]")
                    out.append({"foundation": str(i + 11), "component": "1", "protocol": "udp",
                                "priority": str(1694498815), "ip": public, "port": str(port), "type": "srflx",
                                "rel-addr": ip, "rel-port": str(port), "generation": "0", "network": "0"})
        return out

    def set_remote(self, ufrag, pwd, candidates):
        """The peer's transport from jicofo: start the checks (IceTransport.startConnectivityEstablishment)."""
        if self.closed or self.remote is not None:
            return
        self.remote = (ufrag, pwd)
        targets = []
        for c in candidates:
            try:
                ip, port = c["ip"], int(c["port"])
                socket.inet_aton(ip)
            except (KeyError, ValueError, OSError):
                continue
            if c.get("protocol", "udp") == "udp" and (ip, port) not in targets:
                targets.append((ip, port))
        for addr in targets:
            self._start_check(addr)
        self._maybe_fail()

    def _start_check(self, addr):
        if addr in self.pairs or self.closed or self.remote is None:
            return
        self.pairs[addr] = "in-progress"
        asyncio.ensure_future(self._check(addr))

    async def _check(self, addr):
        ufrag, pwd = self.remote
        role = (CONTROLLING if self.controlling else CONTROLLED, self.tiebreaker)
        attrs = [(USERNAME, ("%s:%s" % (ufrag, self.ufrag)).encode()), (PRIORITY, struct.pack("!I", HOST_PRIORITY)),
                 role]
        if self.controlling:
            attrs.append((USE_CANDIDATE, b""))  # aggressive nomination
        tid = os.urandom(12)
        data = encode(BINDING, tid, attrs, pwd.encode())
        done = self.loop.create_future()
        self.waiting[tid] = done
        self.port.by_tid[tid] = self
        try:
            for wait in CHECK_WAITS:
                if self.closed:
                    return
                self.port.send(data, addr)
                try:
                    await asyncio.wait_for(asyncio.shield(done), wait)
                    break
                except asyncio.TimeoutError:
                    continue
        finally:
            self.waiting.pop(tid, None)
            self.port.by_tid.pop(tid, None)
        self.pairs[addr] = "succeeded" if done.done() and done.result() else "failed"
        self._update(addr)

    def response(self, data, mtype, tid, attrs, mi_at, addr):
        done = self.waiting.get(tid)
        if done is None or done.done() or self.remote is None:
            return
        if not integrity_ok(data, mi_at, self.remote[1].encode()):
            self.port.by_tid[tid] = self  # ice4j drops a response it cannot verify: keep waiting
            return
        done.set_result(mtype == SUCCESS)

    def request(self, data, tid, attrs, mi_at, addr):
        """A peer's check to this relay's ufrag: answered when its integrity holds with our password."""
        if self.closed:
            return
        if not integrity_ok(data, mi_at, self.pwd.encode()):
            self.port.send(encode(ERROR, tid, [(ERROR_CODE, struct.pack("!HBB", 0, 4, 1) + b"Unauthorized")]), addr)
            return
        self.port.send(encode(SUCCESS, tid, [(XOR_ADDRESS, xor_address(addr[0], addr[1]))],
                              self.pwd.encode()), addr)
        if USE_CANDIDATE in attrs:
            self.nominated.add(addr)
        self._start_check(addr)  # a triggered check (no-op while one runs)
        self._update(addr)

    def _update(self, addr):
        if self.closed or self.failed or self.connected:
            return
        if self.pairs.get(addr) == "succeeded" and (self.controlling or addr in self.nominated):
            self.writeable = self.connected = True
            if self.fail_task is not None:
                self.fail_task.cancel()
            self.on_change(self, "connected")
            return
        self._maybe_fail()

    def _maybe_fail(self):
        if self.remote is None or any(s == "in-progress" for s in self.pairs.values()):
            return
        if self.fail_task is None and not self.connected:
            self.fail_task = asyncio.ensure_future(self._fail_later())

    async def _fail_later(self):
        await asyncio.sleep(CHECK_LIST_FAIL_DELAY)
        if self.connected or self.closed:
            return
        if any(s in ("in-progress", "succeeded") for s in self.pairs.values()):
            # a triggered check started meanwhile (its end decides), or a valid pair waits for its
            # nomination: ice4j fails a check list only when no pair is valid
            self.fail_task = None
            return
        self.failed = True
        self.on_change(self, "failed")

    def close(self):
        self.closed = True
        self.port.by_ufrag.pop(self.ufrag, None)
        for tid in list(self.waiting):
            self.port.by_tid.pop(tid, None)
        if self.fail_task is not None:
            self.fail_task.cancel()
        if self.unique and self.port.transport is not None:
            self.port.transport.close()
