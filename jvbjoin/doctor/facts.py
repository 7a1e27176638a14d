"""Read-only facts the doctor's checks share: unit states, the bridge's REST answers, the bridge's
effective XMPP client settings, listening sockets, ufw's saved rules. Nothing here writes."""

import os

from jvbjoin.system import files, netinfo, ufw
from jvbjoin.formats import hocon

REQUIRED_CLIENT_KEYS = ("HOSTNAME", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")
CLIENTS_KEY = "videobridge.apis.xmpp-client.configs"


def unit_state(facts, unit):
    """systemd's view of ``unit`` over D-Bus (one connection per unit, asked once per run)."""
    def compute():
        from jvbjoin.system.systemd import Systemd
        with Systemd(connect_timeout=2.0) as systemd:
            return systemd.unit_state(unit)
    return facts.get("unit:" + unit, compute)


def bridge_conf(facts):
    """jvb.conf as the bridge's config library merges it (with jvb-join.conf included)."""
    return facts.get("jvb.conf", lambda: hocon.load(facts.paths.jvb_conf))


def hocon_clients(conf):
    """``{id: {KEY: value}}`` of the complete XMPP clients in a merged bridge config (keys are
    upper-cased as the bridge does; incomplete entries are dropped, as the bridge drops them)."""
    configs = hocon.get(conf, CLIENTS_KEY, {})
    out = {}
    if not isinstance(configs, dict):
        return out
    for name, fields in configs.items():
        if not isinstance(fields, dict):
            continue
        upper = {str(k).upper(): v for k, v in fields.items()}
        if all(upper.get(k) not in (None, "") for k in REQUIRED_CLIENT_KEYS):
            out[name] = upper
    return out


def legacy_text(facts):
    return facts.get("legacy", lambda: files.read_text(facts.paths.jvb_legacy_properties) or "")


def bridge_metrics(facts):
    """The bridge's /metrics as ``{name: value}``; raises OSError when the REST API does not answer."""
    def compute():
        from jvbjoin.bridge.api import BridgeAPI
        return BridgeAPI(timeout=2.0).metrics_or_raise()
    return facts.get("metrics", compute)


def bridge_health(facts):
    def compute():
        from jvbjoin.bridge.api import BridgeAPI
        return BridgeAPI(timeout=2.0).health()
    return facts.get("health", compute)


def server_certificate(facts, host, port, domain, timeout=2.5):
    """The DER the XMPP server shows after STARTTLS (fetched once; not verified here)."""
    from jvbjoin.xmpp import session as xmpp
    return facts.get("server-cert", lambda: xmpp.fetch_server_certificate(host, port, domain, timeout=timeout))


# --- sockets -----------------------------------------------------------------------------------

def tcp_listeners(facts):
    return facts.get("listeners", lambda: netinfo.tcp_listeners(facts.paths))



# --- ufw -----------------------------------------------------------------------------------------

def firewall_base(facts, missing_hint):
    """What bridge and server firewall checks share: ``(result, rules, problems, remedies, ssh)``;
    ``result`` is a warning when ufw is not installed (then the rest is empty)."""
    from jvbjoin.system import host
    from jvbjoin.doctor.core import warn
    installed, enabled, rules = ufw.saved(facts.paths)
    if not installed:
        return warn("ufw is not installed: " + missing_hint, "apt-get install ufw"), [], [], [], []
    problems, remedies = [], []
    if not enabled:
        problems.append("ufw is not enabled")
    ssh = host.ssh_ports() if facts.paths.root == "/" else []
    for port in ssh:
        if not ufw.allowed(rules, port, "tcp"):
            problems.append("SSH port {}/tcp is not allowed".format(port))
            remedies.append("ufw allow {}/tcp".format(port))
    return None, rules, problems, remedies, ssh


def firewall_result(problems, remedies, enabled_fix, fine):
    from jvbjoin.doctor.core import fail, ok
    if enabled_fix:
        remedies = remedies + ["ufw enable"]
    if problems:
        return fail("; ".join(problems), "; ".join(remedies))
    return ok(fine)


def in_container(facts):
    def compute():
        from jvbjoin.system import host
        return host.in_container(facts.paths)
    return facts.get("container", compute)


def exists(paths, path):
    return os.path.exists(paths(path))
