"""Configuration, log format and stats of the jitsi-videobridge2 lab stand-in (pure logic, no I/O
beyond reading the config files).

Lab stand-in only, never shipped. Facts: /work/shared/reference/jitsi-packages.md §2.1, §3.3, §3.4,
§4.1, §4.3.
"""

import datetime
import json
import os
import subprocess

VERSION = "2.3.312-ga29d97d13"  # §0: runtime version major.minor.buildId

CONFIG_ERROR_EXIT = 78  # §3.1: RestartPreventExitStatus=78

# §2.1 "Key reference.conf defaults" (jvb reference.conf 2026 + jicoco's private port 8080).
REFERENCE_CONF = """
videobridge {
  apis {
    rest { enabled = false }
    xmpp-client {
      presence-interval = ${videobridge.stats.interval}
      configs {}
    }
  }
  rest {
    debug.enabled = true
    drain.enabled = true
    health.enabled = true
    prometheus.enabled = true
    rtcstats.enabled = true
    version.enabled = true
    shutdown.enabled = false
  }
  http-servers {
    public { port = -1, tls-port = -1 }
    private { host = 127.0.0.1, port = 8080, tls-port = 8443 }
  }
  websockets { enabled = false, server-id = "default-id", domains = [], relay-domains = [] }
  ice { udp { port = 10000 } }
  stats { interval = 5 seconds }
  shutdown {
    graceful-shutdown-max-duration = 24 hours
    graceful-shutdown-min-participants = 0
    shutting-down-delay = 1 minutes
  }
  health { interval = 1 minute, timeout = 90 seconds, require-valid-address = true }
}
"""

# Typesafe config (the Java library) is ported to Ruby as ruby-hocon, which the real package already
# Depends on (§5.1). The stand-in uses it so includes, substitutions and merging behave like the
# Java library: relative includes resolve against the including file's folder.
# ruby-hocon 1.3.1 (Debian 13) resolves includes with File.exists?, which Ruby 3.2 removed: without
# this alias every jvb.conf with an include fails to parse there, which the Java library never does.
# ruby-hocon 1.3.1 also turns every number token into an Integer first (Float#to_i), which raises
# FloatDomainError for a token too big for a double, where the Java library keeps a double. The
# package's own jvb.conf has MUC_NICKNAME=<uuidgen output> unquoted, and a last group such as
# "-012e456789ab" starts with such a token: about one host in a hundred would then fail to start
# here, never with the real bridge. Non-finite numbers are kept as doubles, as in Java.
_RUBY_PARSE = r'''
class << File
  alias_method :exists?, :exist? unless File.respond_to?(:exists?)
end
require "hocon"
require "hocon/config_factory"
require "hocon/config_render_options"
require "hocon/impl/config_number"
class << Hocon::Impl::ConfigNumber
  alias_method :new_number_as_in_ruby, :new_number
  def new_number(origin, number, original_text)
    if number.is_a?(Float) && !number.finite?
      return Hocon::Impl::ConfigDouble.new(origin, number, original_text)
    end
    new_number_as_in_ruby(origin, number, original_text)
  end
end
ref = Hocon::ConfigFactory.parse_string(STDIN.read)
conf = ARGV[0].nil? ? Hocon::ConfigFactory.parse_string("") : Hocon::ConfigFactory.parse_file(ARGV[0])
puts conf.with_fallback(ref).resolve.root.render(Hocon::ConfigRenderOptions.concise)
'''

LEGACY_CLIENT_PREFIX = "org.jitsi.videobridge.xmpp.user."
REQUIRED_CLIENT_KEYS = ("HOSTNAME", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class ConfigError(Exception):
    """A configuration the real bridge refuses to start with (exit 78)."""


def parse_sys_props(args):
    """-Dkey=value words (JAVA_SYS_PROPS) to a dict."""
    props = {}
    for word in args:
        if word.startswith("-D"):
            key, _, value = word[2:].partition("=")
            props[key] = value
    return props


def load_hocon(path):
    """Parse path (or nothing) over the built-in reference.conf; ConfigError if it does not parse."""
    argv = ["ruby", "-e", _RUBY_PARSE]
    if path:
        if not os.path.exists(path):
            # Typesafe config treats a missing config.file as empty.
            path = None
        else:
            argv.append(path)
    try:
        proc = subprocess.run(argv, input=REFERENCE_CONF, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    except OSError as exc:
        raise ConfigError("cannot run the HOCON parser: %s" % exc)
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        first = lines[0] if lines else "error"
        # drop the Ruby backtrace location: keep "<file>: <line>: <message> (<error class>)"
        if "': " in first:
            first = first.split("': ", 1)[1]
        raise ConfigError(first)
    return json.loads(proc.stdout)


def parse_properties(text):
    """java.util.Properties text to a dict (comments, ':'/'=' separators, line continuation)."""
    props = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        key_end = len(line)
        for i, ch in enumerate(line):
            if ch in "=: \t" and (i == 0 or line[i - 1] != "\\"):
                key_end = i
                break
        key = line[:key_end].replace("\\", "")
        rest = line[key_end:].lstrip(" \t")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t")
        props[key] = rest.replace("\\:", ":").replace("\\=", "=").replace("\\\\", "\\")
    return props


def load_legacy_properties(sys_props):
    """sip-communicator.properties from SC_HOME_DIR_LOCATION/SC_HOME_DIR_NAME (§2.1), or {}."""
    loc = sys_props.get("net.java.sip.communicator.SC_HOME_DIR_LOCATION")
    name = sys_props.get("net.java.sip.communicator.SC_HOME_DIR_NAME")
    if not loc or not name:
        return {}
    path = os.path.join(loc, name, "sip-communicator.properties")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return parse_properties(fh.read())
    except OSError:
        return {}


def _as_str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_str(v) for v in value)
    return str(value)


class ClientConfig(object):
    """One MucClientConfiguration: keys upper-cased as setProperty() does (§2.1)."""

    def __init__(self, client_id, props):
        self.id = client_id
        self.props = dict((k.upper(), _as_str(v)) for k, v in props.items())

    def get(self, key, default=None):
        value = self.props.get(key)
        return default if value is None else value

    def is_complete(self):
        return all(self.props.get(k) for k in REQUIRED_CLIENT_KEYS)

    @property
    def hostname(self):
        return self.get("HOSTNAME")

    @property
    def port(self):
        return int(self.get("PORT", "5222"))

    @property
    def domain(self):
        return self.get("DOMAIN") or self.hostname

    @property
    def username(self):
        return self.get("USERNAME")

    @property
    def password(self):
        return self.get("PASSWORD")

    @property
    def muc_jids(self):
        return [j.strip() for j in self.get("MUC_JIDS", "").split(",") if j.strip()]

    @property
    def nickname(self):
        return self.get("MUC_NICKNAME")

    @property
    def disable_certificate_verification(self):
        return self.get("DISABLE_CERTIFICATE_VERIFICATION", "false").strip().lower() == "true"

    @property
    def security_mode(self):
        """required / ifpossible / disabled; unset: ifpossible on loopback, else required (§2.1)."""
        mode = self.get("SECURITY_MODE")
        if mode:
            return mode.strip().lower()
        return "ifpossible" if self.hostname in LOOPBACK_HOSTS else "required"

    def describe(self):
        """The MucClientConfiguration toString of §4.3 line 1 (no password)."""
        return ("[ org.jitsi.xmpp.mucclient.MucClientConfiguration id=%s domain=%s hostname=%s "
                "port=%s username=%s mucs=[%s] mucNickname=%s disableCertificateVerification=%s]"
                % (self.id, self.get("DOMAIN"), self.hostname, self.get("PORT", "null"),
                   self.username, ", ".join(self.muc_jids), self.nickname,
                   "true" if self.disable_certificate_verification else "false"))


def legacy_clients(legacy_props):
    grouped = {}
    for key, value in legacy_props.items():
        if key.startswith(LEGACY_CLIENT_PREFIX):
            rest = key[len(LEGACY_CLIENT_PREFIX):]
            client_id, dot, prop = rest.partition(".")
            if dot and prop:
                grouped.setdefault(client_id, {})[prop] = value
    return [ClientConfig(cid, props) for cid, props in sorted(grouped.items())]


def hocon_clients(conf):
    configs = get_path(conf, "videobridge.apis.xmpp-client.configs", {}) or {}
    clients = []
    for cid in sorted(configs):
        if isinstance(configs[cid], dict):
            clients.append(ClientConfig(cid, configs[cid]))
    return clients


def xmpp_clients(conf, legacy_props):
    """XmppClientConnectionConfig.clientConfigs (§2.1 precedence): legacy first; if it yields at
    least one complete client, jvb.conf's configs are ignored entirely. Incomplete ones dropped."""
    legacy = [c for c in legacy_clients(legacy_props) if c.is_complete()]
    if legacy:
        return legacy, "legacy"
    return [c for c in hocon_clients(conf) if c.is_complete()], "new"


def get_path(conf, path, default=None):
    node = conf
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


_UNITS = {
    "ms": 0.001, "milli": 0.001, "millis": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1, "second": 1, "seconds": 1, "m": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
}


def parse_duration(value):
    """HOCON duration to seconds; a bare number is milliseconds as in Typesafe config."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000.0
    text = str(value).strip()
    num = text.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = text[len(num):].strip()
    try:
        number = float(num)
    except ValueError:
        raise ConfigError("Invalid duration: %s" % value)
    if not unit:
        return number / 1000.0
    if unit not in _UNITS:
        raise ConfigError("Invalid duration unit: %s" % value)
    return number * _UNITS[unit]


def _bool(value):
    return str(value).strip().lower() == "true"


class Settings(object):
    """The effective bridge settings from jvb.conf + reference.conf + legacy properties."""

    def __init__(self, conf, legacy_props):
        self.conf = conf
        self.legacy = legacy_props
        self.clients, self.client_source = xmpp_clients(conf, legacy_props)
        g = lambda p, d=None: get_path(conf, "videobridge." + p, d)
        try:
            self.private_host = str(g("http-servers.private.host", "127.0.0.1"))
            self.private_port = int(g("http-servers.private.port", 8080))
            self.udp_port = int(g("ice.udp.port", 10000))
            self.stats_interval = parse_duration(g("stats.interval", "5 seconds"))
            self.presence_interval = parse_duration(
                g("apis.xmpp-client.presence-interval", self.stats_interval * 1000))
            self.colibri_rest = _bool(g("apis.rest.enabled", False))
            self.rest = dict((name, _bool(g("rest.%s.enabled" % name, default)))
                             for name, default in (("debug", True), ("drain", True),
                                                   ("health", True), ("prometheus", True),
                                                   ("rtcstats", True), ("version", True),
                                                   ("shutdown", False)))
            self.graceful_max = parse_duration(g("shutdown.graceful-shutdown-max-duration", "24 hours"))
            self.graceful_min_participants = int(g("shutdown.graceful-shutdown-min-participants", 0))
            self.shutting_down_delay = parse_duration(g("shutdown.shutting-down-delay", "1 minutes"))
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc))
        # Legacy properties that still apply (§2.1, §3.3).
        lp = legacy_props
        if "org.jitsi.videobridge.rest.private.jetty.port" in lp:
            self.private_port = int(lp["org.jitsi.videobridge.rest.private.jetty.port"])
        if "org.jitsi.videobridge.rest.private.jetty.host" in lp:
            self.private_host = lp["org.jitsi.videobridge.rest.private.jetty.host"]
        if "org.jitsi.videobridge.ENABLE_REST_SHUTDOWN" in lp:
            self.rest["shutdown"] = _bool(lp["org.jitsi.videobridge.ENABLE_REST_SHUTDOWN"])
        if not _bool(lp.get("org.jitsi.videobridge.ENABLE_REST_COLIBRI", "true")):
            self.colibri_rest = False  # the legacy flag can only veto the COLIBRI API
        if "org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT" in lp:
            self.udp_port = int(lp["org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT"])
        self.static_mappings = static_mappings(conf, lp)
        self.public_port, self.public_host = public_server(conf, lp)
        self.websockets = websockets(conf, lp)
        self.relay = relay(conf, lp)


def relay(conf, legacy_props):
    """RelayConfig (jvb, 2026): each value from the first source that has it. enabled: octo.enabled,
    then relay.enabled; region: the legacy org.jitsi.videobridge.REGION, then octo.region, then
    relay.region; relay-id: octo.relay-id, relay.relay-id, then octo.bind-address. An enabled relay
    with no relay-id anywhere is refused (the real bridge fails when it first reads it)."""
    def first(*paths):
        for path in paths:
            value = get_path(conf, "videobridge." + path)
            if value is not None:
                return value
        return None

    enabled = first("octo.enabled", "relay.enabled")
    region = legacy_props.get("org.jitsi.videobridge.REGION")
    if region is None:
        region = first("octo.region", "relay.region")
    relay_id = first("octo.relay-id", "relay.relay-id", "octo.bind-address")
    out = {"enabled": _bool(enabled) if enabled is not None else False,
           "region": None if region is None else _as_str(region),
           "relay_id": None if relay_id is None else _as_str(relay_id)}
    if out["enabled"] and not out["relay_id"]:
        raise ConfigError("No value found for videobridge.relay.relay-id (relays are enabled)")
    return out


def public_server(conf, legacy_props):
    """jicoco's JettyBundleActivatorConfig("org.jitsi.videobridge.rest", "videobridge.http-servers.public"):
    the legacy jetty.port first, then the new key; -1 (the reference.conf default) means no server.
    No host: every interface."""
    port = legacy_props.get("org.jitsi.videobridge.rest.jetty.port")
    if port is None:
        port = get_path(conf, "videobridge.http-servers.public.port", -1)
    host = legacy_props.get("org.jitsi.videobridge.rest.jetty.host")
    if host is None:
        host = get_path(conf, "videobridge.http-servers.public.host")
    try:
        return int(port), (str(host) if host is not None else None)
    except (TypeError, ValueError):
        raise ConfigError("Invalid value for videobridge.http-servers.public.port: %s" % port)


def websockets(conf, legacy_props):
    """WebsocketServiceConfig (jvb, 2026): each value from the legacy property first, then jvb.conf;
    the legacy single domain (COLIBRI_WS_DOMAIN, then websockets.domain) is put first in domains
    unless it is there already. server-id and tls are read only when websockets are enabled."""
    lp = legacy_props
    g = lambda p, d=None: get_path(conf, "videobridge.websockets." + p, d)
    if "org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE" in lp:
        enabled = not _bool(lp["org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE"])
    else:
        enabled = _bool(g("enabled", False))
    domain = lp.get("org.jitsi.videobridge.rest.COLIBRI_WS_DOMAIN", g("domain"))
    domains = [str(d) for d in (g("domains", []) or [])]
    if domain is not None and str(domain) not in domains:
        domains.insert(0, str(domain))
    out = {"enabled": enabled, "domains": domains, "server_id": None, "tls": None}
    if enabled:
        out["server_id"] = str(lp.get("org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID",
                                      g("server-id", "default-id")))
        tls = lp.get("org.jitsi.videobridge.rest.COLIBRI_WS_TLS", g("tls"))
        out["tls"] = None if tls is None else _bool(tls)
    return out


def websocket_base_urls(ws, webserver_is_tls=False):
    """ColibriWebSocketService's base URLs: wss when tls (default: as the public server), one per domain."""
    if not ws["enabled"]:
        return []
    protocol = "wss" if (ws["tls"] if ws["tls"] is not None else webserver_is_tls) else "ws"
    return ["%s://%s/colibri-ws/%s" % (protocol, d, ws["server_id"]) for d in ws["domains"]]


def websocket_answer(ws, path, upgrade):
    """What the bridge's public server answers for a request path: ``(status, message, log)``.

    ColibriWebSocketServlet (jvb): only a websocket upgrade reaches its checks; a plain request to
    its paths gets the servlet's 405. The checks: /colibri-ws/<server-id>/<conference>/<endpoint>,
    404 "invalid path" when shorter, 404 "server ID mismatch" for another server-id (logged), 403
    "authentication failed" for a conference the bridge does not have (logged; the same message as a
    bad password, so as not to say which). The lab bridge has no colibri conferences, so a
    well-formed request ends there; paths outside the servlet get Jetty's 404."""
    prefixes = ("/colibri-ws/", "/colibri-relay-ws/")
    if not ws["enabled"] or not path.startswith(prefixes):
        return 404, "Not Found", None
    if not upgrade:
        return 405, "HTTP method GET is not supported by this URL", None
    if not path.startswith("/colibri-ws/"):
        return 404, "invalid path", None
    ids = path[len("/colibri-ws/"):].split("/")
    if len(ids) < 3:
        return 404, "invalid path", None
    if ids[0] != ws["server_id"]:
        return 404, "server ID mismatch", ("Received request with a mismatching server ID (expected '%s', "
                                           "received '%s')." % (ws["server_id"], ids[0]))
    return 403, "authentication failed", "Received request for an nonexistent conference: %s" % ids[1]


def jetty_error_page(status, message, uri):
    """The HTML body Jetty's ErrorHandler sends with response.sendError(status, message)."""
    from xml.sax.saxutils import escape
    return ("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
            "<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d %s</h2>\n<table>\n"
            "<tr><th>URI:</th><td>%s</td></tr>\n<tr><th>STATUS:</th><td>%d</td></tr>\n"
            "<tr><th>MESSAGE:</th><td>%s</td></tr>\n</table>\n\n</body>\n</html>\n"
            % (status, escape(message), status, escape(message), escape(uri), status, escape(message)))


def static_mappings(conf, legacy_props):
    """ice4j's HarvestConfig.staticMappings: the legacy NAT_HARVESTER pair (when both are set)
    first, then every ice4j.harvest.mapping.static-mappings entry; local-port and public-port both
    present or both absent. Each is a dict with the keys of the Kotlin data class."""
    mappings = []
    local = legacy_props.get("org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS")
    public = legacy_props.get("org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS")
    if local is not None and public is not None:
        mappings.append({"localAddress": local, "publicAddress": public, "localPort": None,
                         "publicPort": None, "name": None})
    entries = get_path(conf, "ice4j.harvest.mapping.static-mappings", [])
    if not isinstance(entries, list):
        raise ConfigError("ice4j.harvest.mapping.static-mappings must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or "local-address" not in entry or "public-address" not in entry:
            raise ConfigError("No configuration setting found for key 'local-address'")
        local_port, public_port = entry.get("local-port"), entry.get("public-port")
        if (local_port is None) != (public_port is None):
            raise ConfigError("Inconsistent value for local-port and public-port, both must be "
                              "present or both missing.")
        mapping = {"localAddress": str(entry["local-address"]),
                   "publicAddress": str(entry["public-address"]),
                   "localPort": None if local_port is None else int(local_port),
                   "publicPort": None if public_port is None else int(public_port),
                   "name": entry.get("name")}
        if mapping not in mappings:  # a Kotlin Set of data classes
            mappings.append(mapping)
    return mappings


def mapping_text(mapping):
    """The Kotlin data class toString() of HarvestConfig.StaticMapping."""
    return "StaticMapping(%s)" % ", ".join(
        "%s=%s" % (key, "null" if mapping[key] is None else mapping[key])
        for key in ("localAddress", "publicAddress", "localPort", "publicPort", "name"))


def load_settings(sys_props):
    conf = load_hocon(sys_props.get("config.file"))
    return Settings(conf, load_legacy_properties(sys_props))


def program_name(logging_properties_path):
    """JitsiLogFormatter.programname from logging.properties; absent → no prefix (§2.1)."""
    if not logging_properties_path:
        return ""
    try:
        with open(logging_properties_path, encoding="utf-8", errors="replace") as fh:
            props = parse_properties(fh.read())
    except OSError:
        return ""
    return props.get("org.jitsi.utils.logging2.JitsiLogFormatter.programname", "")


def format_log_line(program, when, level, thread, context, source, message):
    """§4.1: <Program> <yyyy-MM-dd HH:mm:ss.SSS> <LEVEL>: [<thread>] [<ctx>] <Class>.<method>#<line>: <msg>"""
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (when.microsecond // 1000)
    parts = []
    if program:
        parts.append(program + " ")
    parts.append("%s %s: [%s] " % (stamp, level, thread))
    if context:
        parts.append("[%s] " % " ".join("%s=%s" % kv for kv in context))
    parts.append("%s: %s" % (source, message))
    return "".join(parts)


def utc_timestamp(now=None):
    now = now or datetime.datetime.utcnow()
    return now.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000)


def stats_dict(state, now=None):
    """VideobridgeStatisticsShim keys (§3.4) from the bridge state dict."""
    participants = int(state.get("participants", 0))
    conferences = int(state.get("conferences", 0))
    stats = [
        ("stress_level", "%.1f" % (participants * 0.01) if participants else "0.0"),
        ("average_participant_stress", "0.01"),
        ("conferences", conferences),
        ("participants", participants),
        ("endpoints", participants),
        ("local_endpoints", participants),
        ("largest_conference", participants if conferences else 0),
        ("inactive_conferences", 0),
        ("p2p_conferences", 0),
        ("octo_conferences", 0),
        ("octo_endpoints", 0),
        ("receive_only_endpoints", 0),
        ("inactive_endpoints", 0),
        ("endpoints_sending_audio", 0),
        ("endpoints_sending_video", 0),
        ("bit_rate_download", 0),
        ("bit_rate_upload", 0),
        ("packet_rate_download", 0),
        ("packet_rate_upload", 0),
        ("rtt_aggregate", "0.0"),
        ("total_conferences_created", int(state.get("total_conferences_created", 0))),
        ("total_conferences_completed", int(state.get("total_conferences_completed", 0))),
        ("total_participants", int(state.get("total_participants", 0))),
        ("threads", int(state.get("threads", 1))),
        ("graceful_shutdown", bool(state.get("graceful_shutdown", False))),
        ("shutting_down", bool(state.get("shutting_down", False))),
        ("drain", bool(state.get("drain", False))),
        ("current_timestamp", utc_timestamp(now)),
        ("version", VERSION),
        ("healthy", bool(state.get("healthy", True))),
        ("muc_clients_configured", int(state.get("muc_clients_configured", 0))),
        ("muc_clients_connected", int(state.get("muc_clients_connected", 0))),
        ("mucs_configured", int(state.get("mucs_configured", 0))),
        ("mucs_joined", int(state.get("mucs_joined", 0))),
    ]
    # VideobridgeStatisticsShim: relay_id while relays are enabled, region whenever one is set
    if state.get("relay_id"):
        stats.append(("relay_id", state["relay_id"]))
    if state.get("region"):
        stats.append(("region", state["region"]))
    return [(k, ("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in stats]


STATS_NS = "http://jitsi.org/protocol/colibri"


def stats_xml(state, now=None):
    """<stats xmlns="http://jitsi.org/protocol/colibri"><stat name= value=/>... (§3.4)."""
    from xml.sax.saxutils import quoteattr
    return "<stats xmlns=\"%s\">%s</stats>" % (STATS_NS, "".join(
        "<stat name=%s value=%s/>" % (quoteattr(k), quoteattr(v)) for k, v in stats_dict(state, now)))


def stats_json(state, now=None):
    """/colibri/stats: the same keys as the presence, typed as the real JSON."""
    out = {}
    for key, value in stats_dict(state, now):
        if value in ("true", "false"):
            out[key] = value == "true"
        else:
            try:
                out[key] = int(value)
            except ValueError:
                try:
                    out[key] = float(value) if key != "version" else value
                except ValueError:
                    out[key] = value
    return out


# Prometheus names: the real bridge exports its metrics with the jitsi_jvb_ prefix.
_METRICS = (
    ("conferences", "gauge", "Number of conferences."),
    ("participants", "gauge", "Number of participants (endpoints)."),
    ("endpoints", "gauge", "Number of endpoints."),
    ("stress", "gauge", "Current stress (0-1)."),
    ("healthy", "gauge", "Whether the bridge is healthy."),
    ("graceful_shutdown", "gauge", "Whether the bridge is in graceful shutdown."),
    ("shutting_down", "gauge", "Whether the bridge is shutting down."),
    ("drain", "gauge", "Whether the bridge is in drain mode."),
    ("muc_clients_configured", "gauge", "Number of configured XMPP clients."),
    ("muc_clients_connected", "gauge", "Number of connected XMPP clients."),
    ("mucs_configured", "gauge", "Number of configured MUCs."),
    ("mucs_joined", "gauge", "Number of joined MUCs."),
    ("conferences_created", "counter", "Number of conferences created."),
    # VideobridgeMetrics.totalRelays and relaysIceFailed
    ("relays", "counter", "The total number of relays created."),
    ("relays_ice_failed", "counter", "Number of relays for which ICE failed to establish."),
)


def metrics_text(state):
    stats = dict(stats_dict(state))
    values = dict(stats)
    values["stress"] = stats["stress_level"]
    values["conferences_created"] = stats["total_conferences_created"]
    values["relays"] = int(state.get("relays", 0))
    values["relays_ice_failed"] = int(state.get("relays_ice_failed", 0))
    lines = []
    for name, kind, help_text in _METRICS:
        value = values[name]
        if value in ("true", "false"):
            value = "1" if value == "true" else "0"
        full = "jitsi_jvb_" + name + ("_total" if kind == "counter" else "")
        lines.append("# HELP %s %s" % (full, help_text))
        lines.append("# TYPE %s %s" % (full, kind))
        lines.append("%s %s" % (full, float(value)))
    return "\n".join(lines) + "\n"
