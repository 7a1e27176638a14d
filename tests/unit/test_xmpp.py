"""Fetching and pinning the server certificate against a tiny fake XMPP STARTTLS server on 127.0.0.1."""

import socket
import ssl
import threading
import time

import pytest

from jvbjoin.formats import pin
from jvbjoin.xmpp import probe, session
from jvbjoin.errors import EXIT_DATAERR, EXIT_TEMPFAIL, PinMismatchError, UnreachableError

from helpers import make_cert

DOMAIN = "auth.meet.lab.test"
STREAM_REPLY = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' id='x1' from='{}' version='1.0'>".format(DOMAIN))
FEATURES_TLS = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
                "</stream:features>")
FEATURES_PLAIN = ("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")


class FakeServer:
    """One-connection-at-a-time STARTTLS server: mode 'tls', 'plain' (no starttls), 'silent', 'failure'."""

    def __init__(self, tmp_path, mode="tls"):
        self.der, pem, key = make_cert(DOMAIN)
        (tmp_path / "c.pem").write_bytes(pem)
        (tmp_path / "k.pem").write_bytes(key)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.seen = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_until(self, conn, marker):
        data = b""
        while marker not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        self.seen.append(data)
        return data

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                self._read_until(conn, b">")
                if self.mode == "silent":
                    time.sleep(1.5)
                    continue
                features = FEATURES_PLAIN if self.mode == "plain" else FEATURES_TLS
                conn.sendall((STREAM_REPLY + features).encode())
                if self.mode == "plain":
                    time.sleep(0.5)
                    continue
                self._read_until(conn, b"/>")
                if self.mode == "failure":
                    conn.sendall(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
                    continue
                conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                tls = self.context.wrap_socket(conn, server_side=True)
                try:
                    tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass
                tls.close()
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def server(tmp_path, request):
    s = FakeServer(tmp_path, getattr(request, "param", "tls"))
    yield s
    s.close()


def test_fetch_returns_the_certificate_and_speaks_starttls(server):
    der = probe.fetch_server_certificate("127.0.0.1", server.port, DOMAIN, timeout=5)
    assert der == server.der
    assert b"to='auth.meet.lab.test'" in server.seen[0]
    assert b"urn:ietf:params:xml:ns:xmpp-tls" in server.seen[1]


def test_right_pin_passes(server):
    der = probe.verify_pin("127.0.0.1", server.port, DOMAIN, pin.spki_pin(server.der), timeout=5)
    assert der == server.der


def test_wrong_pin_is_exit_65_with_both_fingerprints(server):
    wrong = "sha256:" + "1" * 64
    with pytest.raises(PinMismatchError) as e:
        probe.verify_pin("127.0.0.1", server.port, DOMAIN, wrong, timeout=5)
    assert e.value.exit_code == EXIT_DATAERR
    assert wrong in e.value.message
    assert pin.spki_pin(server.der) in e.value.message
    assert "CN=auth.meet.lab.test" in e.value.message


@pytest.mark.parametrize("server", ["plain"], indirect=True)
def test_server_without_starttls_is_refused(server):
    with pytest.raises(PinMismatchError) as e:
        probe.fetch_server_certificate("127.0.0.1", server.port, DOMAIN, timeout=5)
    assert isinstance(e.value, probe.NoTLSError)
    assert "offers no TLS" in e.value.message
    assert e.value.exit_code == EXIT_DATAERR


@pytest.mark.parametrize("server", ["failure"], indirect=True)
def test_server_refusing_starttls_is_refused(server):
    with pytest.raises(probe.NoTLSError):
        probe.fetch_server_certificate("127.0.0.1", server.port, DOMAIN, timeout=5)


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_silent_server_times_out_as_temporary(server):
    start = time.monotonic()
    with pytest.raises(UnreachableError) as e:
        probe.fetch_server_certificate("127.0.0.1", server.port, DOMAIN, timeout=0.5)
    assert time.monotonic() - start < 3
    assert e.value.exit_code == EXIT_TEMPFAIL


def test_nothing_listening_is_exit_75_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(UnreachableError) as e:
        probe.verify_pin("127.0.0.1", port, DOMAIN, "sha256:" + "0" * 64, timeout=5)
    assert time.monotonic() - start < 2
    assert e.value.exit_code == EXIT_TEMPFAIL
    assert "127.0.0.1:{}".format(port) in e.value.message
    assert str(port) in e.value.remedy and "open" in e.value.remedy


def test_not_xmpp_is_reported(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]

    def serve():
        conn, _ = sock.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n<html>")
        time.sleep(0.3)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with pytest.raises(UnreachableError) as e:
            probe.fetch_server_certificate("127.0.0.1", port, DOMAIN, timeout=3)
        assert "did not answer as expected" in e.value.message
    finally:
        t.join(2)
        sock.close()


def test_pinned_context_trusts_exactly_the_pin(server):
    # No name check: the chain must end in the pinned certificate itself (the session also compares
    # the DER), and slixmpp would check the name against the connect address, not the XMPP domain.
    context = probe.pinned_context(server.der, DOMAIN)
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_slixmpp_debug_records_are_filtered():
    import logging
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        session._quiet_slixmpp()
        assert logging.getLogger("slixmpp").getEffectiveLevel() >= logging.INFO
        record = logging.LogRecord("slixmpp.xmlstream", logging.DEBUG, "", 0, "SEND: <password>x</password>", None, None)
        assert not handler.filter(record)
        other = logging.LogRecord("jvbjoin", logging.DEBUG, "", 0, "fine", None, None)
        assert handler.filter(other)
    finally:
        root.removeHandler(handler)


def test_login_refuses_a_server_whose_certificate_is_not_the_pinned_one(server):
    other, _, _ = make_cert(DOMAIN)
    start = time.monotonic()
    with pytest.raises(PinMismatchError):
        session.check_login("127.0.0.1", server.port, DOMAIN, "jvb-x", "not-a-real-password", other, timeout=10)
    assert time.monotonic() - start < 5
    # Nothing but the stream header and <starttls/> reached the server in clear text.
    assert not any(b"not-a-real-password" in chunk or b"<auth" in chunk for chunk in server.seen)


def test_login_to_a_closed_port_is_temporary_and_quick():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    der, _, _ = make_cert(DOMAIN)
    start = time.monotonic()
    with pytest.raises(UnreachableError) as e:
        session.check_login("127.0.0.1", port, DOMAIN, "jvb-x", "secret-x", der, timeout=5)
    assert time.monotonic() - start < 5
    assert e.value.exit_code == EXIT_TEMPFAIL
    assert "secret-x" not in e.value.message
