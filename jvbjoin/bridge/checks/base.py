"""The checks of a bridge host: the package and its service, and the XMPP client settings the
bridge really uses. The way to the server is in ``link``, the host around the bridge in ``host``;
``checks()`` lists them all in report order.
"""

import json
import os
import time

from jvbjoin.formats import hocon, javaprops
from jvbjoin.system import apt, files, host
from jvbjoin.doctor.core import Check, fail, ok, warn
from jvbjoin.doctor import facts as F
from jvbjoin.bridge import shards
from jvbjoin.bridge.api import BridgeAPI
from jvbjoin.bridge.checks import host as host_checks, link, nat, relays, servers, websockets
from jvbjoin.bridge.checks.facts import (PACKAGE, REJOIN, RESTART, UNIT, bridge_conf, effective_client,
                                         hocon_clients, legacy_text, need_state, our_client, own_settings,
                                         restore_conffile, state)
from jvbjoin.bridge.steps.config import has_include
from jvbjoin.bridge.steps.logging_level import FILE_HANDLER

LEGACY_DISABLE = "org.jitsi.videobridge.xmpp.user."
JVB_LOGGING = "/etc/jitsi/videobridge/logging.properties"


def _not_joined(facts):
    server, nickname = own_settings(facts)
    if server is None:
        return fail("this host has not joined a server ({} is missing)".format(facts.paths.bridge_state),
                    "jvb-join <token>   (make the token on the server with 'jvb-join token create')")
    return fail("this bridge was set up without jvb-join: it logs in to {} as {} with settings made by hand, "
                "so jvb-join cannot check its account, server certificate or nickname".format(
                    server, nickname or "(no nickname)"),
                "To have it checked and its account of its own: " + REJOIN)


# --- package, Java, service ------------------------------------------------------------------------

def check_package(facts):
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
        if is_clone(facts):
            return fail("{} is held back on purpose: this host is a copy of a joined bridge (another machine-id), "
                        "and started it would take the original's account and nickname".format(UNIT),
                        "Join this copy with a token of its own: " + REJOIN)
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

def check_xmpp_config(facts):
    st, missing = need_state(facts)
    if missing:
        return _not_joined(facts)
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
    # the clients of the further servers jvb-join joined (bridge.shards) are its own too
    mine = {"shard"} | {shards.config_id(domain) for domain in shards.further_domains(facts.paths)}
    others = sorted(name for name in clients if name not in mine)
    if others:
        return warn("the bridge also logs in to other servers (clients {})".format(", ".join(others)),
                    "Remove them from {} unless this bridge serves those servers too".format(facts.paths.jvb_conf),
                    details)
    return ok("jvb.conf with jvb-join.conf: {}@{} via {}:{}".format(
        ours.get("USERNAME"), ours.get("DOMAIN"), ours.get("HOSTNAME"), seen["PORT"]), details)


def check_cert_verification(facts):
    found = []
    try:
        for name, client in hocon_clients(bridge_conf(facts)).items():
            if str(client.get("DISABLE_CERTIFICATE_VERIFICATION")).lower() == "true" or \
                    client.get("DISABLE_CERTIFICATE_VERIFICATION") is True:
                found.append("client '{}' in {}".format(name, facts.paths.jvb_conf))
    except hocon.HoconError:
        pass
    for key, value in javaprops.parse(legacy_text(facts)).items():
        if key.lower().startswith(LEGACY_DISABLE) and \
                key.upper().endswith(".DISABLE_CERTIFICATE_VERIFICATION") and value.strip().lower() == "true":
            found.append(facts.paths.jvb_legacy_properties)
    if found:
        return fail("TLS certificate verification is turned off ({}): anyone on the path can read the "
                    "bridge's password".format("; ".join(found)),
                    "Remove DISABLE_CERTIFICATE_VERIFICATION = true (jvb-join trusts the server's pinned "
                    "certificate instead), then: {}".format(RESTART))
    return ok("the bridge verifies the server's TLS certificate")


def stored_nickname(facts):
    """jvb-join's record of the nickname and the machine-id it was made for, or None."""
    try:
        stored = json.loads(files.read_text(facts.paths.nickname_file) or "")
    except ValueError:
        return None
    return stored if isinstance(stored, dict) and stored.get("nickname") else None


def is_clone(facts):
    """A host made from an image of a joined bridge: its nickname was made for another machine-id."""
    stored = stored_nickname(facts)
    return stored is not None and stored.get("machine_id") != host.machine_id(facts.paths)


def check_nickname(facts):
    path = facts.paths.nickname_file
    stored = stored_nickname(facts)
    if stored is None:
        st, missing = need_state(facts)
        return missing or fail("no nickname stored in {}".format(path), REJOIN)
    machine = host.machine_id(facts.paths)
    if stored.get("machine_id") != machine:
        return fail("the nickname {} was made for another machine-id: this host looks cloned, and two bridges "
                    "with one nickname are one bridge to jicofo".format(stored["nickname"]),
                    "Give each clone its own account: " + REJOIN)
    try:
        client = our_client(facts)
    except hocon.HoconError:
        client = None
    if client is not None and client.get("MUC_NICKNAME") != stored["nickname"]:
        return fail("the bridge joins as {!r}, but its nickname is {!r}".format(
            client.get("MUC_NICKNAME"), stored["nickname"]),
            "jvb-join <token> puts it back; or set MUC_NICKNAME = \"{}\" in {}, then: {}".format(
                stored["nickname"], facts.paths.jvb_fragment, RESTART))
    return ok("{} (made for this machine-id)".format(stored["nickname"]))


def check_logging(facts):
    text = files.read_text(facts.paths.jvb_logging)
    if text is None:
        return warn("{} is missing".format(facts.paths.jvb_logging), restore_conffile(JVB_LOGGING))
    # read as the join's logging step reads it: "handlers: x" and "handlers x" are "handlers=x" too
    values = javaprops.parse(text)
    handlers = [h for h in values.get("handlers", "").replace(",", " ").split() if h]
    level = values[".level"].strip().upper() if ".level" in values else None
    problems = []
    if FILE_HANDLER in handlers:
        problems.append("the bridge also logs to a file (FileHandler)")
    if level in ("FINE", "FINER", "FINEST", "ALL"):
        problems.append("log level {} writes a line per packet event".format(level))
    if problems:
        return warn("; ".join(problems), "jvb-join <token> --log-level INFO   (or edit {}), then: {}".format(
            facts.paths.jvb_logging, RESTART))
    return ok("console logging at {}".format(level or "INFO"))


GROUP_SERVICE = "Bridge package and service"
GROUP_CONFIG = "Bridge configuration"
GROUP_SERVER = "Server and brewery"
GROUP_HOST = "Host"
GROUP_EXTRAS = "Extras"


def checks(paths=None):
    """Every bridge check in report order (a check comes after the checks it requires); with the
    host's ``paths``, the way to each further server and its brewery too (checks.servers)."""
    return servers.per_server(paths, base_checks())


def base_checks():
    return [
        Check("package", "bridge package", GROUP_SERVICE, check_package),
        Check("java", "Java runtime", GROUP_SERVICE, check_java),
        Check("service", "bridge service", GROUP_SERVICE, check_service),
        Check("xmpp-config", "XMPP client settings", GROUP_CONFIG, check_xmpp_config),
        Check("cert-verification", "TLS verification", GROUP_CONFIG, check_cert_verification),
        Check("nickname", "nickname", GROUP_CONFIG, check_nickname),
        Check("logging", "logging", GROUP_CONFIG, check_logging),
        Check("server-reachable", "server reachable", GROUP_SERVER, link.check_server_reachable),
        Check("server-certificate", "server certificate", GROUP_SERVER, link.check_server_certificate,
              requires=("server-reachable",)),
        Check("trust-store", "trust stores", GROUP_SERVER, link.check_trust_store),
        Check("account-login", "account login", GROUP_SERVER, link.check_account_login,
              requires=("service", "xmpp-config", "server-reachable", "server-certificate"), timeout=4.5),
        Check("brewery", "in the brewery", GROUP_SERVER, link.check_brewery,
              requires=("service", "xmpp-config", "account-login", "trust-store", "cert-verification")),
        Check("rest-loopback", "REST API bound to loopback", GROUP_HOST, host_checks.check_rest_loopback),
        Check("firewall", "firewall", GROUP_HOST, host_checks.check_firewall),
        Check("udp-buffers", "UDP buffers", GROUP_HOST, host_checks.check_udp_buffers),
        Check("swappiness", "swappiness", GROUP_HOST, host_checks.check_swappiness),
        Check("clock", "clock", GROUP_HOST, link.check_clock),
        Check("disk-space", "disk space", GROUP_HOST, host_checks.check_disk_space),
        Check("options-file", "options file", GROUP_HOST, host_checks.check_options_file),
        Check("bridge-nat", "public address behind NAT", GROUP_EXTRAS, nat.check_nat),
        Check("bridge-stun", "STUN mapping", GROUP_EXTRAS, nat.check_stun, requires=("bridge-nat",), timeout=3.5),
        Check("bridge-websockets", "colibri websockets", GROUP_EXTRAS, websockets.check_bridge_websockets,
              requires=("service",)),
        Check("relays", "relays to other bridges", GROUP_EXTRAS, relays.check_relays, requires=("service",),
              timeout=4.5),
    ]
