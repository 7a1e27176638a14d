"""Bridge checks of the way to the server and into its brewery: the server answers, shows the
pinned certificate, which the system and Java trust; the account logs in; the bridge is in the
brewery; the clocks agree.

Where the account's login is checked, doctor does not log in while the bridge itself is logged
in (its own gauge ``muc_clients_connected`` says so): that proves the password already, and a
second session of the same account is then not needed. When the bridge is not connected, doctor
logs in with the resource ``jvb-join``, never the bridge's, so even a racing reconnect of the
bridge is not thrown out by a resource conflict.
"""

import email.utils
import http.client
import ssl
import time

from jvbjoin.errors import TokenError
from jvbjoin.formats import pin
from jvbjoin.formats.pin import not_after, pem_certs
from jvbjoin.system import files
from jvbjoin.xmpp import session
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.bridge import brewery
from jvbjoin.bridge.model import stored_nickname
from jvbjoin.bridge.checks.facts import (REJOIN, RESTART, bridge_health, bridge_metrics, need_state, our_client,
                                         server_certificate)
from jvbjoin.bridge.steps.trust import cert_path

CLOCK_WARN, CLOCK_FAIL = 30, 300


def check_server_reachable(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    started = time.monotonic()
    server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    return ok("{}:{} answers with STARTTLS ({:.0f} ms)".format(
        st["server"], st.get("port") or 5222, (time.monotonic() - started) * 1000))


def check_server_certificate(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    der = server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    seen = pin.spki_pin(der)
    summary = pin.cert_summary(der)
    if not pin.pins_equal(seen, st.get("pin")):
        return fail("the server's certificate is not the one this bridge joined with (pin {} instead of {}); "
                    "the bridge will not log in".format(seen, st.get("pin")),
                    "If the server's certificate was replaced on purpose: " + REJOIN, [summary])
    expires = not_after(der)
    if expires is not None:
        days = (expires - time.time()) / 86400
        if days < 0:
            return fail("the server's certificate expired {:.0f} day(s) ago".format(-days),
                        "Renew the auth certificate on the server, then: " + REJOIN, [summary])
        if days < 14:
            return warn("the server's certificate expires in {:.0f} day(s)".format(days),
                        "Renew it on the server before then; the bridges need a new token afterwards", [summary])
    return ok("the server's certificate matches the pin", [summary])


def java_store_has(data, der):
    """Is ``der`` in Java's cacerts (PKCS#12 with the well-known password, or a JKS file)?"""
    if der in data:  # JKS keeps certificates as plain DER
        return True
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12
        store = pkcs12.load_pkcs12(data, b"changeit")
    except Exception:
        return False
    from cryptography.hazmat.primitives import serialization
    for item in store.additional_certs:
        if item.certificate.public_bytes(serialization.Encoding.DER) == der:
            return True
    return False


def check_trust_store(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    local = cert_path(facts.paths, st["domain"])
    text = files.read_text(local)
    fix = "jvb-join <token> installs it again; then: update-ca-certificates && " + RESTART
    if not text:
        return fail("{} is missing: the bridge's Java does not trust the server".format(local), fix)
    ders = pem_certs(text)
    if not ders or not pin.pins_equal(pin.spki_pin(ders[0]), st.get("pin")):
        return fail("{} is not the pinned certificate of the server".format(local), fix)
    bundle = files.read_bytes(facts.paths("/etc/ssl/certs/ca-certificates.crt")) or b""
    if ders[0] not in pem_certs(bundle.decode("ascii", "replace")):
        return fail("the server's certificate is not in the system CA bundle", "update-ca-certificates && " + RESTART)
    java = files.read_bytes(facts.paths.java_cacerts)
    if java is None:
        return warn("Java's CA store {} does not exist".format(facts.paths.java_cacerts),
                    "apt-get install ca-certificates-java && update-ca-certificates && " + RESTART)
    if not java_store_has(java, ders[0]):
        return fail("the server's certificate is not in Java's CA store {}".format(facts.paths.java_cacerts),
                    "update-ca-certificates -f && " + RESTART)
    return ok("the server's pinned certificate is trusted by the system and by Java")


def check_account_login(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    who = "{}@{}".format(st.get("user"), st.get("domain"))
    try:
        metrics = bridge_metrics(facts)
        # every client connected (one per server the bridge serves) proves each one's password
        connected = metrics.get("jitsi_jvb_muc_clients_connected", 0) >= \
            max(1, metrics.get("jitsi_jvb_muc_clients_configured", 1) or 1)
    except OSError:
        connected = False
    if connected:
        return ok("{} is logged in (the bridge's own gauge; no second login made)".format(who))
    client = our_client(facts) or {}
    password = client.get("PASSWORD")
    if not password:
        return fail("no password for {} in {}".format(who, facts.paths.jvb_fragment), REJOIN)
    der = server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    try:
        session.check_login(st["server"], st.get("port") or 5222, st["domain"], st["user"], password, der, timeout=3.5)
    except TokenError:
        return fail("the server refuses the login of {}: wrong password, or the account was revoked".format(who),
                    "If the token was revoked on purpose this bridge is out; otherwise: " + REJOIN)
    return ok("{} can log in (the bridge itself is not connected yet)".format(who))


def check_brewery(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    try:
        metrics = bridge_metrics(facts)
    except OSError as exc:
        return fail("the bridge's REST API on 127.0.0.1:8080 does not answer ({})".format(exc),
                    "journalctl -u jitsi-videobridge2 -n 50; then: " + RESTART)
    healthy, message = bridge_health(facts)
    connected = metrics.get("jitsi_jvb_muc_clients_connected")
    joined = metrics.get("jitsi_jvb_mucs_joined")
    details = ["/about/health: {}".format("200" if healthy else message),
               "muc_clients_connected={}, mucs_joined={}".format(connected, joined)]
    if connected is None:
        return warn("the bridge's metrics have no MUC gauge; cannot tell if it is in the brewery",
                    "Check that videobridge.rest.prometheus.enabled is not false in jvb.conf", details)
    if connected < 1:
        return fail("the bridge is not connected to {} (its gauge muc_clients_connected is 0, although "
                    "/about/health {})".format(st["server"], "says healthy" if healthy else "fails"),
                    "journalctl -u jitsi-videobridge2 -n 50   (or /var/log/jitsi/jvb.log)", details)
    if joined is not None and joined < 1:
        return fail("the bridge is connected but not in the brewery {}".format(st.get("muc")),
                    "journalctl -u jitsi-videobridge2 -n 50; a nickname taken by another bridge shows there",
                    details)
    configured = metrics.get("jitsi_jvb_mucs_configured")
    if joined is not None and configured and configured > 1 and joined < configured:
        # it serves several servers and is not in every brewery: this one's server says whether it is in its own
        server = brewery.Server(facts.paths, st)
        server.cert = server_certificate(facts, st["server"], server.port, st["domain"])
        if not pin.pins_equal(pin.spki_pin(server.cert), st.get("pin")):
            return fail("the server's certificate is not the one this bridge joined with", REJOIN, details)
        nickname = stored_nickname(facts.paths)
        if nickname not in server.occupants(timeout=2.5):
            return fail("the bridge is not in the brewery {} of {} (it is in {} of its {} breweries)".format(
                st.get("muc"), st.get("domain"), joined, configured),
                "journalctl -u jitsi-videobridge2 -n 50; the log names the client of {}".format(st.get("domain")),
                details)
    if not healthy:
        return fail("the bridge is in the brewery but says it is unhealthy: {}".format(message),
                    "journalctl -u jitsi-videobridge2 -n 50", details)
    return ok("in the brewery {}".format(st.get("muc")), details)


def server_time(host, timeout=2.0):
    """The server's clock from its web server's Date header (no secret is sent; the page is not trusted)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only the Date header is read, and only to compare clocks
    conn = http.client.HTTPSConnection(host, 443, timeout=timeout, context=context)
    try:
        conn.request("HEAD", "/")
        response = conn.getresponse()
        date = response.getheader("Date")
    finally:
        conn.close()
    if not date:
        raise OSError("no Date header")
    return email.utils.parsedate_to_datetime(date).timestamp()


def check_clock(facts):
    st, missing = need_state(facts)
    if missing:
        return missing
    target = st.get("meet") or st["server"]
    before = time.time()
    try:
        theirs = server_time(st["server"])
    except (OSError, ValueError, TypeError) as exc:
        return skipped("cannot read the server's time from https://{}/ ({})".format(st["server"], exc))
    ours = (before + time.time()) / 2
    offset = ours - theirs
    text = "this host's clock is {:+.0f} s from the server's ({})".format(offset, target)
    if abs(offset) > CLOCK_FAIL:
        return fail(text + ": TLS and token checks go wrong", "timedatectl set-ntp true   (and check the time zone is not set in the clock)")
    if abs(offset) > CLOCK_WARN:
        return warn(text, "timedatectl set-ntp true")
    return ok(text)
