"""What the bridge checks share: the join's record, the bridge's effective XMPP client settings as it
merges them (jvb.conf with jvb-join.conf, sip-communicator.properties), its REST answers and the
server's certificate, each read once per run; and the words the checks' remedies use."""

from jvbjoin.formats import hocon, javaprops
from jvbjoin.system import files
from jvbjoin.xmpp import probe
from jvbjoin.doctor.core import skipped
from jvbjoin.bridge import shards
from jvbjoin.bridge.api import BridgeAPI
from jvbjoin.bridge.model import read_state
from jvbjoin.bridge.steps.config import LEGACY_PREFIX, complete_clients, legacy_clients

UNIT = "jitsi-videobridge2.service"
PACKAGE = "jitsi-videobridge2"
RESTART = "systemctl restart jitsi-videobridge2"
REJOIN = ("On the server: jvb-join token create; then here: jvb-join <token> "
          "(it rewrites jvb-join's settings and keeps yours)")
UDP_BUFFERS = "/etc/sysctl.d/20-jvb-udp-buffers.conf"


def restore_conffile(path):
    """The command that brings back a file the package ships as a conffile. A plain
    ``apt-get install --reinstall`` does not: dpkg keeps an admin's deletion of a conffile (and an
    emptied one is the admin's version), so the file goes first and dpkg is told to put missing
    conffiles back."""
    return "rm -f {}; apt-get install --reinstall -o Dpkg::Options::=--force-confmiss {}".format(path, PACKAGE)


def state(facts):
    return facts.get("bridge-state", lambda: read_state(facts.paths))


NOT_JOINED = "not joined by jvb-join (see xmpp-config)"


def need_state(facts):
    """``(state, None)`` on a host jvb-join joined; else ``(None, skipped)``: a host it did not join
    (a bridge set up by hand, or none yet) is said once, by the xmpp-config check."""
    st = state(facts)
    if not st.get("server"):
        return None, skipped(NOT_JOINED)
    return st, None


def own_settings(facts):
    """``(server, nickname)`` of the XMPP client the bridge logs in with when jvb-join did not write
    it (the hand procedure's sip-communicator.properties or jvb.conf); Nones when it has none."""
    text = legacy_text(facts) or ""
    ids = complete_clients(legacy_clients(text))
    if ids:
        prefix = (LEGACY_PREFIX + ids[0] + ".").lower()
        values = {k[len(prefix):].upper(): v for k, v in javaprops.parse(text).items() if k.lower().startswith(prefix)}
        return values.get("HOSTNAME"), values.get("MUC_NICKNAME")
    try:
        clients = hocon_clients(bridge_conf(facts))
    except (hocon.HoconError, OSError):
        return None, None
    client = clients[sorted(clients)[0]] if clients else {}
    return client.get("HOSTNAME"), client.get("MUC_NICKNAME")


def effective_client(facts):
    """``(source, client)``: which settings the bridge logs in with, as the bridge picks them.

    A complete legacy client in sip-communicator.properties wins over all of jvb.conf (§2.1 of the
    package reference), so it is looked at first.
    """
    legacy = complete_clients(legacy_clients(legacy_text(facts)))
    if legacy:
        return "legacy", {"ids": legacy}
    clients = hocon_clients(bridge_conf(facts))
    return "hocon", clients


def our_client(facts):
    """The client jvb-join wrote for the server of ``facts.paths`` (the first's id is the
    package's ``shard``; a further server's is its own, bridge.shards)."""
    source, clients = effective_client(facts)
    domain = getattr(facts.paths, "server_domain", None)
    return clients.get(shards.config_id(domain) if domain else "shard") if source == "hocon" else None


# --- the bridge's config files and REST API -----------------------------------------------------

REQUIRED_CLIENT_KEYS = ("HOSTNAME", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")
CLIENTS_KEY = "videobridge.apis.xmpp-client.configs"


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
        return BridgeAPI(timeout=2.0).metrics_or_raise()
    return facts.get("metrics", compute)


def bridge_health(facts):
    def compute():
        return BridgeAPI(timeout=2.0).health()
    return facts.get("health", compute)


def server_certificate(facts, host, port, domain, timeout=2.5):
    """The DER the XMPP server shows after STARTTLS (fetched once; not verified here)."""
    return facts.get("server-cert", lambda: probe.fetch_server_certificate(host, port, domain, timeout=timeout))
