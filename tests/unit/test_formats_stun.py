"""The STUN client behind doctor's STUN check: binding requests and responses (RFC 5389), on the wire
and on loopback."""

import socket
import struct
import threading
import time

import pytest

from jvbjoin.formats import stun


# --- the STUN client (RFC 5389; vectors from RFC 5769 §2.2 and §2.3) --------------------------------

TXID = bytes.fromhex("b7e7a701bc34d686fa87dfae")
SOFTWARE = bytes.fromhex("80220010") + b"test vector     "  # 16 bytes: no padding to skip


def response(attributes, kind=stun.BINDING_SUCCESS, txid=TXID):
    body = b"".join(attributes)
    return struct.pack("!HHI", kind, len(body), stun.MAGIC_COOKIE) + txid + body


def test_a_binding_request_is_a_bare_header_with_the_cookie():
    message, txid = stun.binding_request(TXID)
    assert message == bytes.fromhex("000100002112a442") + TXID and txid == TXID
    assert len(stun.binding_request()[1]) == 12


def test_xor_mapped_address_ipv4_from_rfc_5769():
    xor = bytes.fromhex("00200008" "0001a147" "e112a643")
    assert stun.parse_response(response([SOFTWARE, xor]), TXID) == ("192.0.2.1", 32853)


def test_xor_mapped_address_ipv6_from_rfc_5769():
    xor = bytes.fromhex("00200014" "0002a147" "0113a9faa5d3f179bc25f4b5bed2b9d9")
    assert stun.parse_response(response([xor]), TXID) == ("2001:db8:1234:5678:11:2233:4455:6677", 32853)


def test_xor_mapped_address_wins_over_mapped_address_and_an_old_server_is_read_too():
    mapped = bytes.fromhex("00010008" "00010d05" "c6336407")  # 198.51.100.7:3333, not xor'ed
    xor = bytes.fromhex("00200008" "0001a147" "e112a643")
    assert stun.parse_response(response([mapped, xor]), TXID) == ("192.0.2.1", 32853)
    assert stun.parse_response(response([mapped]), TXID) == ("198.51.100.7", 3333)


@pytest.mark.parametrize("data, message", [
    (response([], txid=b"\0" * 12), "not for this request"),
    (response([]), "no mapped address"),
    (response([bytes.fromhex("00090010" "00000401") + b"Unauthorized"], kind=stun.BINDING_ERROR), "error 401"),
    (b"\x01\x01\x00", "too short"),
    (response([bytes.fromhex("00200004" "0001a147")]), "too short"),
    (response([bytes.fromhex("00200008" "0001a147")]), "past the end"),
])
def test_answers_that_carry_no_address_are_errors(data, message):
    with pytest.raises(stun.StunError, match=message):
        stun.parse_response(data, TXID)


class StunServer:
    """A STUN server on loopback that answers with the sender's address (after ``drop`` silent requests)."""

    def __init__(self, drop=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.drop = drop
        self.requests = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                data, (ip, port) = self.sock.recvfrom(2048)
            except OSError:
                return
            self.requests += 1
            if self.requests <= self.drop:
                continue
            xport = port ^ (stun.MAGIC_COOKIE >> 16)
            xaddr = bytes(a ^ b for a, b in zip(socket.inet_aton(ip), struct.pack("!I", stun.MAGIC_COOKIE)))
            attr = struct.pack("!HHBBH", stun.XOR_MAPPED_ADDRESS, 8, 0, 1, xport) + xaddr
            self.sock.sendto(response([attr], txid=data[8:20]), (ip, port))

    def close(self):
        self.sock.close()


def test_a_request_on_loopback_gets_the_source_address_after_a_lost_packet():
    srv = StunServer(drop=1)
    try:
        started = time.monotonic()
        ip, port = stun.mapped_address("127.0.0.1", srv.port, source="127.0.0.1", timeout=3.0)
    finally:
        srv.close()
    assert ip == "127.0.0.1" and port > 0 and srv.requests == 2
    assert 0.4 < time.monotonic() - started < 2.0  # sent again after 0.5 s of silence


def test_no_answer_is_an_error_within_the_time_limit():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        started = time.monotonic()
        with pytest.raises(stun.StunError, match="no answer"):
            stun.mapped_address("127.0.0.1", silent.getsockname()[1], timeout=0.8)
        assert time.monotonic() - started < 1.5
    finally:
        silent.close()
