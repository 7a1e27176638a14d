"""Pure logic of the jicofo lab stand-in: config, log format, bridges and the brewery.

Nothing here does I/O except through the callables it is given, so it is unit tested without
a network (tests/lab/standins/tests/test_jicofo_standin.py). Facts and their sources are in
reference/jitsi-packages.md; section numbers are cited below.
"""
import json
import subprocess
import threading
import time

COLIBRI_NS = "http://jitsi.org/protocol/colibri"
HEALTHCHECK_NS = "http://jitsi.org/protocol/healthcheck"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"


# --- configuration (section 2.2: reference.conf defaults, jicofo.conf written by postinst) ---

DEFAULTS = {
    "xmpp.client.enabled": True,
    "xmpp.client.hostname": "localhost",
    "xmpp.client.port": 5222,
    "xmpp.client.username": "focus",
    "xmpp.client.reply-timeout": 15.0,
    "xmpp.client.disable-certificate-verification": False,
    "xmpp.client.use-tls": True,
    "bridge.health-checks.enabled": True,
    "bridge.health-checks.interval": 10.0,
    "rest.enabled": True,
    "rest.port": 8888,
    "rest.host": "127.0.0.1",
    "rest.debug.enabled": True,
}

# jicofo.bridge.stress-threshold (jicofo-selector reference.conf): Bridge.isOverloaded
STRESS_THRESHOLD = 0.8


class ConfigError(Exception):
    """The configuration cannot be used; jicofo would not start."""


def parse_duration(value):
    """HOCON durations as jicofo uses them ("10 seconds", "15 s", "1 minute", 10) -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    units = [("milliseconds", 0.001), ("millis", 0.001), ("ms", 0.001),
             ("seconds", 1.0), ("second", 1.0), ("secs", 1.0), ("sec", 1.0), ("s", 1.0),
             ("minutes", 60.0), ("minute", 60.0), ("mins", 60.0), ("min", 60.0), ("m", 60.0),
             ("hours", 3600.0), ("hour", 3600.0), ("h", 3600.0)]
    for suffix, factor in units:
        if text.endswith(suffix):
            number = text[: -len(suffix)].strip()
            try:
                return float(number) * factor
            except ValueError:
                break
    try:
        return float(text) / 1000.0  # a bare number is milliseconds in HOCON durations
    except ValueError:
        raise ConfigError("not a duration: %r" % (value,))


def _lookup(tree, dotted):
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _as_bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "on", "1")


def settings_from_tree(jicofo_tree):
    """The `jicofo { ... }` tree (a dict, as `hocon -j get jicofo` prints it) -> settings."""
    tree = jicofo_tree or {}
    s = {}
    for key, default in DEFAULTS.items():
        value = _lookup(tree, key)
        s[key] = default if value is None else value
    for key in ("xmpp.client.enabled", "xmpp.client.disable-certificate-verification",
                "xmpp.client.use-tls", "bridge.health-checks.enabled", "rest.enabled",
                "rest.debug.enabled"):
        s[key] = _as_bool(s[key])
    for key in ("xmpp.client.port", "rest.port"):
        s[key] = int(s[key])
    s["xmpp.client.reply-timeout"] = parse_duration(s["xmpp.client.reply-timeout"])
    s["bridge.health-checks.interval"] = parse_duration(s["bridge.health-checks.interval"])
    for key in ("xmpp.client.xmpp-domain", "xmpp.client.domain", "xmpp.client.password",
                "bridge.brewery-jid"):
        value = _lookup(tree, key)
        s[key] = None if value is None else str(value)
    # bridge selection (jicofo-selector BridgeConfig, jicofo-common OctoConfig and JicofoConfig)
    strategy = _lookup(tree, "bridge.selection-strategy")
    s["bridge.selection-strategy"] = "SingleBridgeSelectionStrategy" if strategy is None else str(strategy)
    region = _lookup(tree, "local-region")
    s["local-region"] = None if region is None else str(region)
    s["bridge.region-groups"] = _lookup(tree, "bridge.region-groups") or []
    for key in ("octo.enabled", "octo.allow-mixed-versions"):
        s[key] = _as_bool(_lookup(tree, key) or False)
    # the login domain: "domain", else the xmpp-domain (XmppClientConnectionConfig)
    if not s["xmpp.client.domain"]:
        s["xmpp.client.domain"] = s["xmpp.client.xmpp-domain"]
    return s


# jicofo reads its config.file with Typesafe config, which follows includes (relative to the including
# file) and resolves substitutions. ruby-hocon's library (a jicofo Depends, section 5.2) is its port and
# does the same; its `hocon -f FILE get` command does not follow includes, so it is not used here.
# ruby-hocon 1.3.1 resolves includes with File.exists?, which Ruby 3.2 (Debian 13) removed: aliased.
RUBY_READ = r'''
class << File
  alias_method :exists?, :exist? unless File.respond_to?(:exists?)
end
require "hocon"
require "hocon/config_factory"
require "hocon/config_render_options"
abort("#{ARGV[0]}: No such file") unless File.exist?(ARGV[0])
conf = Hocon::ConfigFactory.parse_file(ARGV[0]).resolve
puts conf.has_path?("jicofo") ? conf.get_value("jicofo").render(Hocon::ConfigRenderOptions.concise) : "{}"
'''


def read_hocon_tree(config_file, runner=None):
    """The `jicofo` tree of a HOCON file, includes followed. The path goes on the command line,
    never a secret."""
    runner = runner or subprocess.run
    proc = runner(["ruby", "-e", RUBY_READ, config_file],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else proc.stderr
        lines = [l for l in (err or "").splitlines() if l.strip()]
        first = lines[0] if lines else "error"
        if "': " in first:  # drop the Ruby backtrace location
            first = first.split("': ", 1)[1]
        raise ConfigError("cannot read %s: %s" % (config_file, first.strip()))
    out = proc.stdout.decode("utf-8") if isinstance(proc.stdout, bytes) else proc.stdout
    return json.loads(out) if out.strip() else {}


def legacy_bridge_muc(properties_text):
    """org.jitsi.jicofo.BRIDGE_MUC of a legacy sip-communicator.properties, if set (2.2)."""
    return legacy_property(properties_text, "org.jitsi.jicofo.BRIDGE_MUC")


# Legacy properties jicofo reads before jicofo.conf (BridgeConfig.selectionStrategy, JicofoConfig.localRegion).
LEGACY_SELECTION = (("org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY", "bridge.selection-strategy"),
                    ("org.jitsi.jicofo.BridgeSelector.LOCAL_REGION", "local-region"))


def apply_legacy_selection(settings, properties_text):
    for prop, key in LEGACY_SELECTION:
        value = legacy_property(properties_text, prop)
        if value is not None:
            settings[key] = value
    return settings


def legacy_property(properties_text, name):
    for line in properties_text.splitlines():
        line = line.strip()
        if line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.strip() == name and value.strip():
            return value.strip()
    return None


# --- log format (section 4.1, JitsiLogFormatter) ---

class JitsiLogFormat(object):
    """`<program> <yyyy-MM-dd HH:mm:ss.SSS> <LEVEL>: [<thread>] [<ctx>] <Class>.<method>#<line>: <msg>`"""

    def __init__(self, program="Jicofo", clock=time.time, localtime=time.localtime):
        self.program = program
        self.clock = clock
        self.localtime = localtime

    def line(self, level, thread, ctx, where, message):
        now = self.clock()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.localtime(now))
        stamp += ".%03d" % int((now - int(now)) * 1000)
        parts = ["%s %s %s: [%d]" % (self.program, stamp, level, thread)]
        if ctx:
            parts.append("[%s]" % " ".join("%s=%s" % kv for kv in ctx))
        parts.append("%s: %s" % (where, message))
        return " ".join(parts)


# --- bridges (section 3.4, 4.2, 7.3) ---

def parse_stats(stat_pairs):
    """[(name, value)] of a <stats xmlns=colibri> element -> dict of str."""
    stats = {}
    for name, value in stat_pairs:
        if name:
            stats[name] = "" if value is None else value
    return stats


def _float(value, default=0.0):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _java(value):
    return "null" if value is None else value


class Bridge(object):
    def __init__(self, jid, clock=time.time):
        self.jid = jid
        self.clock = clock
        self.stats = {}
        self.real_jid = None
        self.last_presence = None
        self.operational = True
        self.health_failures = 0
        self.last_health_check = None
        self.last_health_result = None

    # Bridge.kt setStats(): the values jicofo reads
    @property
    def version(self):
        return self.stats.get("version") or None

    @property
    def region(self):
        return self.stats.get("region") or None

    @property
    def relay_id(self):
        return self.stats.get("relay_id") or None

    @property
    def stress(self):
        return _float(self.stats.get("stress_level"))

    def flag(self, name):
        return str(self.stats.get(name, "false")).strip().lower() == "true"

    @property
    def graceful_shutdown(self):
        return self.flag("graceful_shutdown")

    @property
    def shutting_down(self):
        return self.flag("shutting_down")

    @property
    def drain(self):
        return self.flag("drain")

    def __str__(self):
        # since 2025-02: correctedStress; with no conferences it is the reported stress
        # Java prints a missing value as "null"
        return "Bridge[jid=%s, version=%s, relayId=%s, region=%s, correctedStress=%.2f]" % (
            self.jid, _java(self.version), _java(self.relay_id), _java(self.region), self.stress)

    def as_json(self):
        return {
            "jid": self.jid,
            "nickname": self.jid.split("/", 1)[1] if "/" in self.jid else "",
            "real_jid": self.real_jid,
            "version": self.version,
            "region": self.region,
            "relay_id": self.relay_id,
            "stress": self.stress,
            "drain": self.drain,
            "graceful_shutdown": self.graceful_shutdown,
            "shutting_down": self.shutting_down,
            "healthy": self.operational,
            "healthy_in_presence": (self.flag("healthy") if "healthy" in self.stats else None),
            "last_presence": self.last_presence,
            "last_health_check": self.last_health_check,
            "last_health_result": self.last_health_result,
            "stats": dict(self.stats),
        }


    def debug_state(self):
        """Bridge.kt debugState: what GET /debug shows per bridge under bridge_selector.bridge.
        jicofo allocates no endpoints here (no conferences), so endpoints and restart requests
        are 0 and the stress is the reported one."""
        return {
            "drain": self.flag("drain") if "drain" in self.stats else True,
            "endpoints": 0,
            "endpoint-restart-requests": 0,
            "graceful-shutdown": self.graceful_shutdown,
            "healthy": self.flag("healthy") if "healthy" in self.stats else True,
            "operational": self.operational,
            "overloaded": self.stress >= STRESS_THRESHOLD,
            "region": _java(self.region),
            "relay-id": _java(self.relay_id),
            "release": _java(self.stats.get("release") or None),
            "shutting-down": self.shutting_down,
            "stress": self.stress,
            "version": _java(self.version),
        }


class Brewery(object):
    """The bridge brewery as jicofo's BaseBrewery + BridgeSelector + JvbDoctor see it.

    `log(level, thread, ctx, where, message)` writes one log line. Line numbers in `where` are
    fixed, like a given jicofo build's.
    """

    SMACK_THREAD = 28
    DOCTOR_THREAD = 37

    def __init__(self, room_jid, log, clock=time.time):
        self.room_jid = room_jid
        self.room_name = room_jid.split("@", 1)[0].lower()
        self.ctx = (("type", "bridge"), ("brewery", self.room_name))
        self.log = log
        self.clock = clock
        self.bridges = {}
        self.lost_bridges = 0
        self.lock = threading.RLock()

    def on_presence(self, occupant_jid, available, stat_pairs, real_jid=None):
        """A presence from a brewery occupant. stat_pairs is None when it has no <stats>."""
        with self.lock:
            bridge = self.bridges.get(occupant_jid)
            if not available:
                if bridge is not None:
                    self._remove(bridge)
                return
            if stat_pairs is None:
                # BaseBrewery.processMemberPresence: members without stats are not bridges (3.4)
                return
            stats = parse_stats(stat_pairs)
            if bridge is None:
                bridge = Bridge(occupant_jid, clock=self.clock)
                bridge.stats = stats
                bridge.real_jid = real_jid
                bridge.last_presence = self.clock()
                self.bridges[occupant_jid] = bridge
                self.log("INFO", self.SMACK_THREAD, self.ctx, "BaseBrewery.addInstance#281",
                         "Added brewery instance: %s" % occupant_jid)
                self.log("INFO", self.SMACK_THREAD, (), "BridgeSelector.addJvbAddress#95",
                         "Added new videobridge: %s" % bridge)
                self.log("INFO", self.DOCTOR_THREAD, (), "JvbDoctor.bridgeAdded#84",
                         "Scheduled health-check task for: %s" % bridge)
                return
            was_shutting_down = bridge.shutting_down
            bridge.stats = stats
            bridge.last_presence = self.clock()
            if real_jid:
                bridge.real_jid = real_jid
            if bridge.shutting_down and not was_shutting_down:
                self.log("INFO", self.SMACK_THREAD, (), "Bridge.setStats#154",
                         "%s entered SHUTTING_DOWN" % bridge.jid)

    def on_left(self, occupant_jid):
        self.on_presence(occupant_jid, False, None)

    def _remove(self, bridge):
        del self.bridges[bridge.jid]
        self.log("INFO", self.SMACK_THREAD, self.ctx, "BaseBrewery.removeInstance#353",
                 "Removed brewery instance: %s" % bridge.jid)
        self.log("INFO", self.SMACK_THREAD, (), "BridgeSelector.removeJvbAddress#114",
                 "Removing JVB: %s" % bridge.jid)
        # since 2022-07 a bridge that was shutting down is not "lost" (7.3)
        if not bridge.graceful_shutdown and not bridge.shutting_down:
            self.lost_bridges += 1
            self.log("WARNING", self.SMACK_THREAD, (), "BridgeSelector.removeJvbAddress#119",
                     "Lost a bridge: %s" % bridge.jid)
        self.log("INFO", self.DOCTOR_THREAD, (), "JvbDoctor.bridgeRemoved#103",
                 "Stopping health-check task for: %s" % bridge)

    def clear(self):
        """The focus left the room (disconnect): every bridge is gone as jicofo sees it."""
        with self.lock:
            for bridge in list(self.bridges.values()):
                self._remove(bridge)

    # JvbDoctor results (3.4): an error response -> failed, non-operational (and its conferences
    # would move); a timeout is retried once (the next round), then non-operational only
    def health_result(self, occupant_jid, outcome):
        with self.lock:
            bridge = self.bridges.get(occupant_jid)
            if bridge is None:
                return
            bridge.last_health_check = self.clock()
            bridge.last_health_result = outcome
            if outcome == "ok":
                bridge.health_failures = 0
                bridge.operational = True
            elif outcome == "error":
                bridge.operational = False
                self.log("WARNING", self.DOCTOR_THREAD, (), "JvbDoctor$HealthCheckTask.doHealthCheck#245",
                         "Health check failed for: %s" % bridge)
            elif outcome == "timeout":
                bridge.health_failures += 1
                if bridge.health_failures >= 2:
                    bridge.operational = False
                    self.log("WARNING", self.DOCTOR_THREAD, (), "JvbDoctor$HealthCheckTask.doHealthCheck#232",
                             "Health check timed out for: %s" % bridge)

    # BridgeSelector counts
    def counts(self):
        with self.lock:
            bridges = list(self.bridges.values())
        operational = [b for b in bridges if b.operational and not b.graceful_shutdown
                       and not b.shutting_down]
        return {
            "bridge_count": len(bridges),
            "operational_bridge_count": len(operational),
            "in_shutdown_bridge_count": len([b for b in bridges if b.graceful_shutdown or b.shutting_down]),
            "lost_bridges": self.lost_bridges,
        }

    def debug_state(self, strategy="SingleBridgeSelectionStrategy"):
        """BridgeSelector.kt debugState: the strategy and every bridge by its occupant JID."""
        with self.lock:
            bridges = {b.jid: b.debug_state() for b in self.bridges.values()}
        return {"strategy": strategy, "bridge": bridges}

    def snapshot(self):
        with self.lock:
            return [b.as_json() for b in sorted(self.bridges.values(), key=lambda b: b.jid)]


def health(connected, joined, counts):
    """(status, body) of GET /about/health, as JicofoHealthChecker decides (hard failure=500)."""
    if counts["operational_bridge_count"] <= 0:
        return 500, "No operational bridges available (total bridge count: %d)" % counts["bridge_count"]
    if not connected or not joined:
        return 503, "XMPP ping failed: not connected"
    return 200, ""


def metrics_text(counts, connected):
    """Prometheus text of the bridge selector metrics (jitsi_jicofo_ prefix)."""
    rows = [
        ("bridge_selector_bridge_count", "gauge", "The current number of bridges",
         counts["bridge_count"]),
        ("bridge_selector_operational_bridge_count", "gauge",
         "The current number of operational bridges", counts["operational_bridge_count"]),
        ("bridge_selector_in_shutdown_bridge_count", "gauge",
         "The number of bridges in graceful shutdown", counts["in_shutdown_bridge_count"]),
        ("bridge_selector_lost_bridges_total", "counter",
         "Number of bridges which disconnected unexpectedly", counts["lost_bridges"]),
        ("healthy", "gauge", "Whether jicofo is healthy or not.",
         1 if (connected and counts["operational_bridge_count"] > 0) else 0),
    ]
    out = []
    for name, kind, help_text, value in rows:
        full = "jitsi_jicofo_" + name
        out.append("# HELP %s %s" % (full, help_text))
        out.append("# TYPE %s %s" % (full, kind))
        out.append("%s %s" % (full, value))
    return "\n".join(out) + "\n"
