"""The checks of a bridge host: the package and its service, the XMPP client settings the bridge
really uses, the way to the server and into its brewery, and the host around the bridge.

Where the account's login is checked, doctor does not log in while the bridge itself is logged
in (its own gauge ``muc_clients_connected`` says so): that proves the password already, and a
second session of the same account is then not needed. When the bridge is not connected, doctor
logs in with the resource ``jvb-join``, never the bridge's, so even a racing reconnect of the
bridge is not thrown out by a resource conflict.
"""

import datetime
import json
import os
import ssl
import time

from .. import files, hocon
from ..steps.account import read_state
from . import facts as F
from .core import Check, fail, ok, skipped, warn

UNIT = "jitsi-videobridge2.service"
PACKAGE = "jitsi-videobridge2"
LEGACY_DISABLE = "org.jitsi.videobridge.xmpp.user."
RESTART = "systemctl restart jitsi-videobridge2"
REJOIN = ("On the server: jvb-join token create; then here: jvb-join <token> "
          "(it rewrites jvb-join's settings and keeps yours)")
UDP_BUFFERS = "/etc/sysctl.d/20-jvb-udp-buffers.conf"
CLOCK_WARN, CLOCK_FAIL = 30, 300


def state(facts):
    return facts.get("bridge-state", lambda: read_state(facts.paths))


def _need_state(facts):
    st = state(facts)
    if not st.get("server"):
        return None, fail("this host has not joined a server ({} is missing)".format(facts.paths.bridge_state),
                          "jvb-join <token>   (make the token on the server with 'jvb-join token create')")
    return st, None


# --- package, Java, service ------------------------------------------------------------------------

def check_package(facts):
    from .. import apt
    version = apt.installed_packages(facts.paths).get(PACKAGE)
    if not version:
        return fail("{} is not installed".format(PACKAGE), "jvb-join <token>   (it installs the bridge)")
    st = state(facts)
    fleet = st.get("jvb")
    if fleet and version != fleet:
        return warn("{} {} is installed, the fleet runs {}".format(PACKAGE, version, fleet),
                    "apt-get install {}={}".format(PACKAGE, fleet))
    running = None
    try:
        from ..bridge_api import BridgeAPI
        about = BridgeAPI(timeout=1.0).version() or {}
        running = about.get("version")
    except (OSError, ValueError):
        pass
    if running and runtime_version(version) != running:
        return warn("{} {} is installed but the bridge still runs {}".format(PACKAGE, version, running), RESTART)
    return ok("{} {}".format(PACKAGE, version) + (" (the fleet's version)" if fleet else ""))


def runtime_version(package_version):
    """The version the bridge reports for a package version: ``2.3-312-gabc-1`` runs as ``2.3.312-gabc``."""
    upstream = package_version.split(":", 1)[-1].rsplit("-", 1)[0]
    return upstream.replace("-", ".", 1)


def check_java(facts):
    # The unit runs jvb.sh with systemd's default PATH; these are its folders that hold a 'java'.
    candidates = [facts.paths(folder, "java") for folder in ("/usr/local/bin", "/usr/bin", "/bin")]
    java = next((c for c in candidates if os.path.lexists(c)), None)
    if not java:
        return fail("no 'java' on the PATH: the bridge cannot start",
                    "apt-get install --reinstall {}   (it pulls in a Java runtime)".format(PACKAGE))
    target = os.path.realpath(java)
    if not (os.path.isfile(target) and os.access(target, os.X_OK)):
        return fail("'java' points to {}, which cannot be run".format(target),
                    "update-alternatives --config java")
    return ok("java is {}".format(target))


def check_service(facts):
    unit = F.unit_state(facts, UNIT)
    active, sub = unit.get("ActiveState"), unit.get("SubState")
    restarts = unit.get("NRestarts") or 0
    where = "systemctl status jitsi-videobridge2; journalctl -u jitsi-videobridge2 -n 50"
    if unit.get("LoadState") == "not-found":
        return fail("{} is not installed".format(UNIT), "jvb-join <token>")
    if sub == "auto-restart" or (active == "activating" and restarts):
        return fail("{} is in a restart loop ({} automatic restarts so far)".format(UNIT, restarts),
                    "{}   (find why it exits, fix it, then: {})".format(where, RESTART))
    if active != "active":
        return fail("{} is not running ({}/{})".format(UNIT, active, sub),
                    "systemctl start jitsi-videobridge2   (if it stops again: {})".format(where))
    since = (unit.get("ActiveEnterTimestamp") or 0) / 1e6
    age = time.time() - since if since else None
    details = ["active since {}".format(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)))] if since else []
    if restarts and age is not None and age < 120:
        return fail("{} keeps restarting: systemd restarted it {} time(s), the last {:.0f} s ago".format(
            UNIT, restarts, age), where, details)
    enabled = unit.get("UnitFileState")
    if enabled not in ("enabled", "enabled-runtime", "static", "alias"):
        return warn("{} runs but does not start at boot ({})".format(UNIT, enabled),
                    "systemctl enable jitsi-videobridge2", details)
    if restarts:
        return warn("{} runs, but systemd restarted it {} time(s) after it exited".format(UNIT, restarts),
                    where, details)
    return ok("{} is active".format(UNIT), details)


# --- the XMPP client settings ---------------------------------------------------------------------

def effective_client(facts):
    """``(source, client)``: which settings the bridge logs in with, as the bridge picks them.

    A complete legacy client in sip-communicator.properties wins over all of jvb.conf (§2.1 of the
    package reference), so it is looked at first.
    """
    from ..steps.bridge_config import complete_clients, legacy_clients
    legacy = complete_clients(legacy_clients(F.legacy_text(facts)))
    if legacy:
        return "legacy", {"ids": legacy}
    clients = F.hocon_clients(F.bridge_conf(facts))
    return "hocon", clients


def check_xmpp_config(facts):
    from ..steps.bridge_config import has_include
    st, missing = _need_state(facts)
    if missing:
        return missing
    path = facts.paths.jvb_legacy_properties
    try:
        source, clients = effective_client(facts)
    except hocon.HoconError as exc:
        return fail("the bridge cannot read its configuration: {}".format(exc),
                    "Fix the line named above, then: {}".format(RESTART))
    if source == "legacy":
        return fail("{} has a complete legacy client block ({}); the bridge uses it and ignores jvb.conf".format(
            path, ", ".join(clients["ids"])),
            "jvb-join <token> comments it out with a marker; or comment out the "
            "org.jitsi.videobridge.xmpp.user.* lines yourself, then: {}".format(RESTART))
    if not has_include(files.read_text(facts.paths.jvb_conf) or ""):
        return fail("{} does not include jvb-join.conf: the bridge does not see the server's settings".format(
            facts.paths.jvb_conf), "echo 'include \"jvb-join.conf\"' >> {}; {}".format(facts.paths.jvb_conf, RESTART))
    ours = clients.get("shard")
    if ours is None:
        return fail("no complete XMPP client 'shard' in the bridge's configuration",
                    "Check {} (written by jvb-join); or run jvb-join <token> again".format(facts.paths.jvb_fragment))
    wanted = {"HOSTNAME": st.get("server"), "DOMAIN": st.get("domain"), "USERNAME": st.get("user"),
              "PORT": str(st.get("port") or 5222)}
    seen = dict(ours)
    seen["PORT"] = str(seen.get("PORT") or 5222)
    wrong = ["{} is {!r}, not {!r}".format(k, seen.get(k), v) for k, v in sorted(wanted.items())
             if v is not None and str(seen.get(k)) != str(v)]
    mucs = [m.strip().lower() for m in str(ours.get("MUC_JIDS", "")).split(",")]
    if st.get("muc") and st["muc"].lower() not in mucs:
        wrong.append("MUC_JIDS is {!r}, not {!r}".format(ours.get("MUC_JIDS"), st["muc"]))
    details = ["client 'shard': {}@{} via {}:{}, brewery {}, nickname {}".format(
        ours.get("USERNAME"), ours.get("DOMAIN"), ours.get("HOSTNAME"), seen["PORT"], ours.get("MUC_JIDS"),
        ours.get("MUC_NICKNAME"))]
    if wrong:
        return fail("the bridge's XMPP settings differ from the join: " + "; ".join(wrong),
                    "Put back jvb-join's values (grep -rn HOSTNAME /etc/jitsi/videobridge/), then: {}".format(RESTART),
                    details)
    others = sorted(name for name in clients if name != "shard")
    if others:
        return warn("the bridge also logs in to other servers (clients {})".format(", ".join(others)),
                    "Remove them from {} unless this bridge serves those servers too".format(facts.paths.jvb_conf),
                    details)
    return ok("jvb.conf with jvb-join.conf: {}@{} via {}:{}".format(
        ours.get("USERNAME"), ours.get("DOMAIN"), ours.get("HOSTNAME"), seen["PORT"]), details)


def _our_client(facts):
    source, clients = effective_client(facts)
    return clients.get("shard") if source == "hocon" else None


def check_cert_verification(facts):
    found = []
    try:
        for name, client in F.hocon_clients(F.bridge_conf(facts)).items():
            if str(client.get("DISABLE_CERTIFICATE_VERIFICATION")).lower() == "true" or \
                    client.get("DISABLE_CERTIFICATE_VERIFICATION") is True:
                found.append("client '{}' in {}".format(name, facts.paths.jvb_conf))
    except hocon.HoconError:
        pass
    for line in F.legacy_text(facts).splitlines():
        text = line.strip()
        if text.startswith(("#", "!")):
            continue
        key, _, value = text.replace(":", "=", 1).partition("=")
        if key.strip().lower().startswith(LEGACY_DISABLE) and \
                key.strip().upper().endswith(".DISABLE_CERTIFICATE_VERIFICATION") and value.strip().lower() == "true":
            found.append(facts.paths.jvb_legacy_properties)
    if found:
        return fail("TLS certificate verification is turned off ({}): anyone on the path can read the "
                    "bridge's password".format("; ".join(found)),
                    "Remove DISABLE_CERTIFICATE_VERIFICATION = true (jvb-join trusts the server's pinned "
                    "certificate instead), then: {}".format(RESTART))
    return ok("the bridge verifies the server's TLS certificate")


def check_nickname(facts):
    from .. import host
    path = facts.paths.nickname_file
    try:
        stored = json.loads(files.read_text(path) or "")
    except ValueError:
        stored = None
    if not isinstance(stored, dict) or not stored.get("nickname"):
        return fail("no nickname stored in {}".format(path), REJOIN)
    machine = host.machine_id(facts.paths)
    if stored.get("machine_id") != machine:
        return fail("the nickname {} was made for another machine-id: this host looks cloned, and two bridges "
                    "with one nickname are one bridge to jicofo".format(stored["nickname"]),
                    "Give each clone its own account: " + REJOIN)
    try:
        client = _our_client(facts)
    except hocon.HoconError:
        client = None
    if client is not None and client.get("MUC_NICKNAME") != stored["nickname"]:
        return fail("the bridge joins as {!r}, but its nickname is {!r}".format(
            client.get("MUC_NICKNAME"), stored["nickname"]),
            "jvb-join <token> puts it back; or set MUC_NICKNAME = \"{}\" in {}, then: {}".format(
                stored["nickname"], facts.paths.jvb_fragment, RESTART))
    return ok("{} (made for this machine-id)".format(stored["nickname"]))


# --- the way to the server -----------------------------------------------------------------------------

def _server(facts):
    st, missing = _need_state(facts)
    return st, missing


def check_server_reachable(facts):
    st, missing = _server(facts)
    if missing:
        return missing
    started = time.monotonic()
    F.server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    return ok("{}:{} answers with STARTTLS ({:.0f} ms)".format(
        st["server"], st.get("port") or 5222, (time.monotonic() - started) * 1000))


def check_server_certificate(facts):
    from .. import pin
    st, missing = _server(facts)
    if missing:
        return missing
    der = F.server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    seen = pin.spki_pin(der)
    summary = pin.cert_summary(der)
    if not pin.pins_equal(seen, st.get("pin")):
        return fail("the server's certificate is not the one this bridge joined with (pin {} instead of {}); "
                    "the bridge will not log in".format(seen, st.get("pin")),
                    "If the server's certificate was replaced on purpose: " + REJOIN, [summary])
    not_after = _not_after(der)
    if not_after is not None:
        days = (not_after - time.time()) / 86400
        if days < 0:
            return fail("the server's certificate expired {:.0f} day(s) ago".format(-days),
                        "Renew the auth certificate on the server, then: " + REJOIN, [summary])
        if days < 14:
            return warn("the server's certificate expires in {:.0f} day(s)".format(days),
                        "Renew it on the server before then; the bridges need a new token afterwards", [summary])
    return ok("the server's certificate matches the pin", [summary])


def _not_after(der):
    try:
        from cryptography import x509
        cert = x509.load_der_x509_certificate(bytes(der))
        moment = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(
            tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    except Exception:
        return None


def _pem_certs(text):
    out = []
    for block in text.split("-----BEGIN CERTIFICATE-----")[1:]:
        body = block.split("-----END CERTIFICATE-----")[0]
        try:
            out.append(ssl.PEM_cert_to_DER_cert("-----BEGIN CERTIFICATE-----" + body + "-----END CERTIFICATE-----\n"))
        except ValueError:
            continue
    return out


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
    from .. import pin
    from ..steps.trust import cert_path
    st, missing = _need_state(facts)
    if missing:
        return missing
    local = cert_path(facts.paths, st["domain"])
    text = files.read_text(local)
    fix = "jvb-join <token> installs it again; then: update-ca-certificates && " + RESTART
    if not text:
        return fail("{} is missing: the bridge's Java does not trust the server".format(local), fix)
    ders = _pem_certs(text)
    if not ders or not pin.pins_equal(pin.spki_pin(ders[0]), st.get("pin")):
        return fail("{} is not the pinned certificate of the server".format(local), fix)
    bundle = files.read_bytes(facts.paths("/etc/ssl/certs/ca-certificates.crt")) or b""
    if ders[0] not in _pem_certs(bundle.decode("ascii", "replace")):
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
    from .. import xmpp
    st, missing = _need_state(facts)
    if missing:
        return missing
    who = "{}@{}".format(st.get("user"), st.get("domain"))
    try:
        connected = F.bridge_metrics(facts).get("jitsi_jvb_muc_clients_connected", 0) >= 1
    except OSError:
        connected = False
    if connected:
        return ok("{} is logged in (the bridge's own gauge; no second login made)".format(who))
    client = _our_client(facts) or {}
    password = client.get("PASSWORD")
    if not password:
        return fail("no password for {} in {}".format(who, facts.paths.jvb_fragment), REJOIN)
    der = F.server_certificate(facts, st["server"], st.get("port") or 5222, st["domain"])
    try:
        xmpp.check_login(st["server"], st.get("port") or 5222, st["domain"], st["user"], password, der, timeout=3.5)
    except xmpp.TokenError:
        return fail("the server refuses the login of {}: wrong password, or the account was revoked".format(who),
                    "If the token was revoked on purpose this bridge is out; otherwise: " + REJOIN)
    return ok("{} can log in (the bridge itself is not connected yet)".format(who))


def check_brewery(facts):
    st, missing = _need_state(facts)
    if missing:
        return missing
    try:
        metrics = F.bridge_metrics(facts)
    except OSError as exc:
        return fail("the bridge's REST API on 127.0.0.1:8080 does not answer ({})".format(exc),
                    "journalctl -u jitsi-videobridge2 -n 50; then: " + RESTART)
    healthy, message = F.bridge_health(facts)
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
    if not healthy:
        return fail("the bridge is in the brewery but says it is unhealthy: {}".format(message),
                    "journalctl -u jitsi-videobridge2 -n 50", details)
    return ok("in the brewery {}".format(st.get("muc")), details)


# --- the host around the bridge ----------------------------------------------------------------

def check_rest_loopback(facts):
    conf = {}
    try:
        conf = F.bridge_conf(facts)
    except hocon.HoconError:
        pass
    ports = {8080, 8443}
    for key in ("videobridge.http-servers.private.port", "videobridge.http-servers.private.tls-port"):
        value = hocon.get(conf, key)
        if value is not None and str(value).lstrip("-").isdigit():
            ports.add(int(value))
    exposed = sorted({"{}:{}".format(a, p) for a, p in F.tcp_listeners(facts) if p in ports and not F.is_loopback(a)})
    if exposed:
        return fail("the bridge's private REST API (drain, shutdown, metrics) listens on {}".format(", ".join(exposed)),
                    "Remove videobridge.http-servers.private.host (or set it to 127.0.0.1) in {}, then: {}".format(
                        facts.paths.jvb_conf, RESTART))
    return ok("REST API and metrics listen on loopback only")


def check_firewall(facts):
    from ..steps.firewall import allowed
    missing, rules, problems, remedies, ssh = F.firewall_base(
        facts, "make sure this host's firewall lets 10000/udp in")
    if missing:
        return missing
    if not allowed(rules, 10000, "udp", from_anywhere=True):
        problems.append("10000/udp (media) is not allowed from anywhere")
        remedies.append("ufw allow 10000/udp")
    return F.firewall_result(problems, remedies, "ufw is not enabled" in problems,
                             "ufw is enabled; SSH ({}) and 10000/udp are allowed".format(
                                 ", ".join("{}/tcp".format(p) for p in ssh) or "no SSH port found"))


def _sysctl(paths, key):
    from ..steps.sysctl import proc_value
    return proc_value(paths, key)


def check_udp_buffers(facts):
    from ..steps.sysctl import parse_sysctl_conf
    text = files.read_text(facts.paths(UDP_BUFFERS))
    if not text:
        return warn("{} is missing (the package ships it)".format(UDP_BUFFERS),
                    "apt-get install --reinstall {}".format(PACKAGE))
    if F.in_container(facts):
        return skipped("in a container the host's kernel settings apply; on the host run: sysctl -p " + UDP_BUFFERS)
    low = []
    for key, value in sorted(parse_sysctl_conf(text).items()):
        current = _sysctl(facts.paths, key)
        try:
            if current is None or int(current) < int(value):
                low.append("{} is {} (wanted {})".format(key, current, value))
        except ValueError:
            if current != value:
                low.append("{} is {} (wanted {})".format(key, current, value))
    if low:
        return warn("; ".join(low), "sysctl -p " + UDP_BUFFERS)
    return ok("UDP buffers as {} asks".format(UDP_BUFFERS))


def check_swappiness(facts):
    from ..steps.sysctl import parse_sysctl_conf
    wanted = parse_sysctl_conf(files.read_text(facts.paths.sysctl_file) or "").get("vm.swappiness")
    if F.in_container(facts):
        return skipped("in a container the host's kernel settings apply")
    current = _sysctl(facts.paths, "vm.swappiness")
    if wanted is None:
        if current is not None and current.isdigit() and int(current) > 10:
            return warn("vm.swappiness is {}: a bridge under memory pressure swaps and stutters".format(current),
                        "jvb-join <token> sets it; or: sysctl -w vm.swappiness=1")
        return ok("vm.swappiness is {}".format(current))
    if current != wanted:
        return warn("vm.swappiness is {}, {} asks for {}".format(current, facts.paths.sysctl_file, wanted),
                    "sysctl -p {}".format(facts.paths.sysctl_file))
    return ok("vm.swappiness is {}".format(current))


def check_logging(facts):
    from ..steps.logging_level import FILE_HANDLER
    text = files.read_text(facts.paths.jvb_logging)
    if text is None:
        return warn("{} is missing".format(facts.paths.jvb_logging), "apt-get install --reinstall " + PACKAGE)
    handlers, level = [], None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.lstrip().startswith(("#", "!")):
            continue
        if key.strip() == "handlers":
            handlers = [h for h in value.replace(",", " ").split() if h]
        elif key.strip() == ".level":
            level = value.strip().upper()
    problems = []
    if FILE_HANDLER in handlers:
        problems.append("the bridge also logs to a file (FileHandler)")
    if level in ("FINE", "FINER", "FINEST", "ALL"):
        problems.append("log level {} writes a line per packet event".format(level))
    if problems:
        return warn("; ".join(problems), "jvb-join <token> --log-level INFO   (or edit {}), then: {}".format(
            facts.paths.jvb_logging, RESTART))
    return ok("console logging at {}".format(level or "INFO"))


def server_time(host, timeout=2.0):
    """The server's clock from its web server's Date header (no secret is sent; the page is not trusted)."""
    import email.utils
    import http.client
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
    st, missing = _need_state(facts)
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


def check_disk_space(facts):
    folder = facts.paths("/var/log")
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    total = stat.f_blocks * stat.f_frsize or 1
    text = "{:.1f} GiB free for logs in /var/log ({:.0f}%)".format(free / 2 ** 30, 100.0 * free / total)
    if free < 100 * 2 ** 20:
        return fail(text, "journalctl --vacuum-size=200M; apt-get clean; remove old files in /var/log/jitsi")
    if free < 2 ** 30 or free < total * 0.05:
        return warn(text, "journalctl --vacuum-size=500M; apt-get clean")
    return ok(text)


GROUP_SERVICE = "Bridge package and service"
GROUP_CONFIG = "Bridge configuration"
GROUP_SERVER = "Server and brewery"
GROUP_HOST = "Host"


def checks():
    """Every bridge check in report order (a check comes after the checks it requires)."""
    return [
        Check("package", "bridge package", GROUP_SERVICE, check_package),
        Check("java", "Java runtime", GROUP_SERVICE, check_java),
        Check("service", "bridge service", GROUP_SERVICE, check_service),
        Check("xmpp-config", "XMPP client settings", GROUP_CONFIG, check_xmpp_config),
        Check("cert-verification", "TLS verification", GROUP_CONFIG, check_cert_verification),
        Check("nickname", "nickname", GROUP_CONFIG, check_nickname),
        Check("logging", "logging", GROUP_CONFIG, check_logging),
        Check("server-reachable", "server reachable", GROUP_SERVER, check_server_reachable),
        Check("server-certificate", "server certificate", GROUP_SERVER, check_server_certificate,
              requires=("server-reachable",)),
        Check("trust-store", "trust stores", GROUP_SERVER, check_trust_store),
        Check("account-login", "account login", GROUP_SERVER, check_account_login,
              requires=("service", "xmpp-config", "server-reachable", "server-certificate"), timeout=4.5),
        Check("brewery", "in the brewery", GROUP_SERVER, check_brewery,
              requires=("service", "xmpp-config", "account-login", "trust-store", "cert-verification")),
        Check("rest-loopback", "REST API bound to loopback", GROUP_HOST, check_rest_loopback),
        Check("firewall", "firewall", GROUP_HOST, check_firewall),
        Check("udp-buffers", "UDP buffers", GROUP_HOST, check_udp_buffers),
        Check("swappiness", "swappiness", GROUP_HOST, check_swappiness),
        Check("clock", "clock", GROUP_HOST, check_clock),
        Check("disk-space", "disk space", GROUP_HOST, check_disk_space),
    ]
