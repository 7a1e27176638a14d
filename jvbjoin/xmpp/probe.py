"""The XMPP server's certificate, with the stdlib only: STARTTLS on the client port, fetch, verify the pin.

fetch_server_certificate/verify_pin use only the stdlib (socket, ssl, an incremental XML parser):
they run before anything is installed, with bounded reads and a deadline. pinned_context is the TLS
context the slixmpp sessions (jvbjoin.xmpp.session) use: it trusts exactly the pinned certificate.
"""

import socket
import ssl
import time
import xml.etree.ElementTree as ET

from jvbjoin.errors import PinMismatchError, UnreachableError
from jvbjoin.formats import pin

STREAMS = "http://etherx.jabber.org/streams"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
MAX_BYTES = 65536


class NoTLSError(PinMismatchError):
    """The server does not offer STARTTLS on its client port."""

    error_id = "no-starttls"

    default_remedy = ("jvb-join only talks to servers with TLS: check c2s_require_encryption and the "
                      "certificate of the XMPP domain in the server's prosody config.")


def unreachable(host, port, why):
    return UnreachableError(
        "Cannot reach the XMPP server at {}:{}: {}.".format(host, port, why),
        "Check that TCP port {} on the server is open to this host (firewall, security group), "
        "then run the same command again.".format(port))


def _protocol_error(host, port, why):
    return UnreachableError("The XMPP server at {}:{} did not answer as expected: {}.".format(host, port, why),
                            "Check that {}:{} is the Jitsi Meet server's prosody client port.".format(host, port))


def _read_until(sock, parser, host, port, deadline, wanted, budget):
    """Feed the parser until an end event of one of the `wanted` tags; returns (element, bytes used)."""
    used = 0
    while True:
        try:
            events = list(parser.read_events())
        except ET.ParseError as e:
            raise _protocol_error(host, port, "not XMPP ({})".format(e))
        for _event, elem in events:
            if elem.tag in wanted:
                return elem, used
            if elem.tag == "{%s}error" % STREAMS:
                raise _protocol_error(host, port, "stream error {}".format(
                    ", ".join(child.tag.split("}")[-1] for child in elem) or "(none)"))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise unreachable(host, port, "no answer in time")
        sock.settimeout(remaining)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            raise unreachable(host, port, "no answer in time")
        except OSError as e:
            raise unreachable(host, port, e.strerror or str(e))
        if not data:
            raise _protocol_error(host, port, "the server closed the connection")
        used += len(data)
        if used > budget:
            raise _protocol_error(host, port, "too much data before TLS")
        try:
            parser.feed(data)
        except ET.ParseError as e:
            raise _protocol_error(host, port, "not XMPP ({})".format(e))


def fetch_server_certificate(host, port, domain, timeout=10):
    """The DER of the certificate the server shows after STARTTLS for `domain` (not verified here)."""
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    except socket.timeout:
        raise unreachable(host, port, "the connection timed out")
    except OSError as e:
        raise unreachable(host, port, e.strerror or str(e))
    try:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        header = ("<?xml version='1.0'?><stream:stream to='{}' version='1.0' xml:lang='en' "
                  "xmlns='jabber:client' xmlns:stream='{}'>").format(_xml_attr(domain), STREAMS)
        try:
            sock.sendall(header.encode("utf-8"))
        except OSError as e:
            raise unreachable(host, port, e.strerror or str(e))
        parser = ET.XMLPullParser(events=("end",))
        features, used = _read_until(sock, parser, host, port, deadline, ("{%s}features" % STREAMS,), MAX_BYTES)
        if features.find("{%s}starttls" % TLS_NS) is None:
            raise NoTLSError("The XMPP server at {}:{} offers no TLS (no STARTTLS for {}); "
                             "jvb-join refuses to use it.".format(host, port, domain))
        try:
            sock.sendall(("<starttls xmlns='%s'/>" % TLS_NS).encode("ascii"))
        except OSError as e:
            raise unreachable(host, port, e.strerror or str(e))
        answer, _ = _read_until(sock, parser, host, port, deadline,
                                ("{%s}proceed" % TLS_NS, "{%s}failure" % TLS_NS), MAX_BYTES - used)
        if answer.tag != "{%s}proceed" % TLS_NS:
            raise NoTLSError("The XMPP server at {}:{} refused to start TLS.".format(host, port))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # verified by pin by the caller, not by a CA
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            tls = context.wrap_socket(sock, server_hostname=domain)
        except socket.timeout:
            raise unreachable(host, port, "the TLS handshake timed out")
        except (ssl.SSLError, OSError) as e:
            raise _protocol_error(host, port, "TLS handshake failed ({})".format(e))
        try:
            der = tls.getpeercert(binary_form=True)
        finally:
            _close(tls)
        if not der:
            raise _protocol_error(host, port, "no certificate in the TLS handshake")
        return der
    finally:
        _close(sock)


def _close(sock):
    try:
        sock.close()
    except OSError:
        pass


def _xml_attr(value):
    return (str(value).replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def verify_pin(host, port, domain, expected_pin, timeout=10):
    """The server's certificate DER if its SPKI pin is `expected_pin`; PinMismatchError otherwise."""
    der = fetch_server_certificate(host, port, domain, timeout)
    seen = pin.spki_pin(der)
    if not pin.pins_equal(seen, expected_pin):
        try:
            summary = pin.cert_summary(der)
        except Exception:
            summary = "unreadable certificate"
        raise PinMismatchError(
            "The certificate of {}:{} ({}) does not match the token.\n  expected {}\n  seen     {}".format(
                host, port, summary, expected_pin, seen))
    return der


def pinned_context(cadata_der, domain):
    """An ssl context that trusts exactly the pinned certificate and checks the hostname `domain`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    # The chain must end in exactly the pinned certificate, and the session compares the DER it got
    # with the pinned one; a name check would be weaker and wrong here, because slixmpp checks the
    # name against the address it connects to (the token's host), not the XMPP domain.
    context.check_hostname = False
    # PEM text rather than DER: Python 3.7 built against OpenSSL 3 misreads the end of DER cadata.
    context.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(bytes(cadata_der)))
    context.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0x80000)
    return context
