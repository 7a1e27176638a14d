"""``jvb-join server install --region R``: jicofo places each conference on bridges near its
participants and joins bridges of different regions by relays.

jicofo's side is three keys in a file jvb-join owns, ``/etc/jitsi/jicofo/jvb-join.conf``, included
by one marked line at the end of jicofo.conf (jicofo reads jicofo.conf with Typesafe config, which
follows includes; a later key wins): ``jicofo.octo.enabled``, ``jicofo.bridge.selection-strategy =
RegionBasedBridgeSelectionStrategy`` and ``jicofo.local-region``. jicofo has no configuration check
of its own: before the restart the files are read with ruby-hocon's library (a jicofo dependency,
the port of jicofo's Typesafe config), includes followed; after it, jicofo's own ``/debug`` must
name the strategy. Either failing rolls the files back and restarts jicofo as it was.

jicofo reads two legacy properties before jicofo.conf (BridgeConfig, JicofoConfig): a run whose
values they would silently replace is refused. The server's own bridge, when it runs one, gets the
relay block in a file of its own, included at the end of its jvb.conf, with its nickname as relay id.
"""

import json
import re
import time

from jvbjoin.system import files
from jvbjoin.formats import javaprops
from jvbjoin.formats.lines import with_line, without_line
from jvbjoin.engine.core import Change
from jvbjoin.errors import CommandError, JvbJoinError, StepError
from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge.steps.config import legacy_region, relay_text
from jvbjoin.bridge.steps.service import BRIDGE_UNIT
from jvbjoin.server import jicofo
from jvbjoin.server.services import ensure_jicofo_answers, local_nickname

STRATEGY = "RegionBasedBridgeSelectionStrategy"
JICOFO_DIR = "/etc/jitsi/jicofo"
JICOFO_FRAGMENT = JICOFO_DIR + "/jvb-join.conf"
JICOFO_INCLUDE = 'include "jvb-join.conf"  # added by jvb-join: regions and relays (server install --region)'
JICOFO_LEGACY = JICOFO_DIR + "/sip-communicator.properties"
LEGACY_KEYS = (("org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY", "selection-strategy", STRATEGY),
               ("org.jitsi.jicofo.BridgeSelector.LOCAL_REGION", "local-region", None))
BRIDGE_FRAGMENT = "/etc/jitsi/videobridge/jvb-join-relay.conf"
BRIDGE_INCLUDE = 'include "jvb-join-relay.conf"  # added by jvb-join: relays (server install --region)'

# What jicofo will read, by ruby-hocon's library; only the three keys are printed (jicofo.conf holds
# jicofo's password). ruby-hocon 1.3.1 calls File.exists?, which Ruby 3.2 removed.
_READ = r'''
class << File
  alias_method :exists?, :exist? unless File.respond_to?(:exists?)
end
require "hocon"
require "hocon/config_factory"
require "json"
conf = Hocon::ConfigFactory.parse_file(ARGV[0]).resolve
out = {}
["jicofo.octo.enabled", "jicofo.bridge.selection-strategy", "jicofo.local-region",
 "jicofo.bridge.region-groups"].each do |key|
  out[key] = conf.has_path?(key) ? conf.get_value(key).unwrapped : nil
end
puts JSON.generate(out)
'''


def jicofo_fragment(region, groups=()):
    text = ("# Written by jvb-join (server install --region); jicofo.conf includes it on its last line.\n"
            "# jicofo places each conference on bridges in its participants' region, this server's\n"
            "# region when they have none, and joins bridges of different regions by relays.\n"
            "jicofo.octo.enabled = true\n"
            "jicofo.bridge.selection-strategy = {}\n"
            "jicofo.local-region = {}\n").format(STRATEGY, json.dumps(region))
    if groups:
        text += ("# Regions near each other (--region-group): a participant's group comes before other regions.\n"
                 "jicofo.bridge.region-groups = {}\n").format(json.dumps([list(g) for g in groups]))
    return text


def fragment_groups(text):
    """The region groups of jvb-join's own fragment (``[]`` without them): kept when a later run
    gives --region without --region-group."""
    match = re.search(r"^jicofo\.bridge\.region-groups = (.*)$", text or "", re.MULTILINE)
    if not match:
        return []
    try:
        groups = json.loads(match.group(1))
    except ValueError:
        return []
    return [list(g) for g in groups if isinstance(g, list)] if isinstance(groups, list) else []


def wanted_keys(region, groups=()):
    """What jicofo must read after jvb-join's include; region groups only when jvb-join sets them
    (without them, the admin's own, if any, stay theirs)."""
    keys = {"jicofo.octo.enabled": True, "jicofo.bridge.selection-strategy": STRATEGY, "jicofo.local-region": region}
    if groups:
        keys["jicofo.bridge.region-groups"] = [list(g) for g in groups]
    return keys


def read_jicofo_keys(path):
    """The three keys as jicofo will read them from ``path``; StepError when it does not parse.
    None when ruby-hocon is not there to ask (jicofo's /debug is still asked after the restart)."""
    try:
        result = run(["ruby", "-e", _READ, path], check=False, timeout=120)
    except CommandError as exc:
        if exc.returncode == 127:
            return None
        raise
    if not result.ok:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        first = (lines[0] if lines else "exit {}".format(result.returncode)).split("': ", 1)[-1]
        raise StepError("{} does not parse with jvb-join's changes: {}".format(path, first[:300]),
                        "Fix {} (jicofo would not start with it), then run again.".format(path))
    return json.loads(result.stdout)


def refuse_legacy_overrides(paths, region):
    values = javaprops.parse(files.read_text(paths(JICOFO_LEGACY)) or "")
    for key, what, wanted in LEGACY_KEYS:
        value = (values.get(key) or "").strip()
        if value and value.rsplit(".", 1)[-1] != (wanted or region):
            raise StepError("{} sets {}={}, which jicofo reads before jicofo.conf: its {} would stay {}".format(
                JICOFO_LEGACY, key, value, what, value),
                "Remove the {} line from {}, then run again.".format(key, JICOFO_LEGACY))


class JicofoRegions(FileStep):
    """jicofo: region-based selection, relays and the server's region, in jvb-join's own file;
    with no region (``--no-regions``) that file and its include line taken out again."""

    name = "jicofo-regions"

    def __init__(self, region, groups=None):
        self.region = region
        #: the region groups (--region-group), or None: those of jvb-join's fragment stay
        self.groups = groups
        self.title = "jicofo: regions and relays" if region else "jicofo: regions and relays off"

    def wanted_groups(self, ctx):
        if self.groups is not None:
            return self.groups
        return fragment_groups(files.read_text(ctx.paths(JICOFO_FRAGMENT)))

    def wanted(self, ctx):
        main = files.read_text(ctx.paths(jicofo.JICOFO_CONF))
        if main is None:
            return []
        if not self.region:
            return [WantedFile(ctx.paths(JICOFO_FRAGMENT), None),
                    WantedFile(ctx.paths(jicofo.JICOFO_CONF), without_line(main, JICOFO_INCLUDE))]
        return [WantedFile(ctx.paths(JICOFO_FRAGMENT), jicofo_fragment(self.region, self.wanted_groups(ctx)),
                           0o644, 0, 0),
                WantedFile(ctx.paths(jicofo.JICOFO_CONF), with_line(main, JICOFO_INCLUDE))]

    def check(self, ctx):
        if not self.region:
            return super().check(ctx)
        refuse_legacy_overrides(ctx.paths, self.region)
        if files.read_text(ctx.paths(jicofo.JICOFO_CONF)) is None:
            return [Change("file", ctx.paths(JICOFO_FRAGMENT), "jicofo: region {}, relays (after jicofo is "
                           "installed)".format(self.region), data=None)]
        return super().check(ctx)

    def apply(self, ctx, changes, journal):
        if any(change.data is None for change in changes):
            raise StepError("{} does not exist".format(ctx.paths(jicofo.JICOFO_CONF)),
                            "Check that jicofo is installed (apt-get install --reinstall jicofo), then run again.")
        restart = lambda: run(["systemctl", "try-restart", "jicofo"], check=False, timeout=120)  # noqa: E731
        journal.record("restart jicofo with its earlier configuration", restart)
        wanted = wanted_keys(self.region, self.wanted_groups(ctx))
        super().apply(ctx, changes, journal)
        if not self.region:
            restart()
            if self.restarted_strategy(ctx) == STRATEGY:
                raise StepError("jicofo still selects bridges by region after jvb-join's file was taken out",
                                "Look for jicofo.bridge.selection-strategy in {} and {}.".format(
                                    jicofo.JICOFO_CONF, JICOFO_LEGACY))
            return
        found = read_jicofo_keys(ctx.paths(jicofo.JICOFO_CONF))
        wrong = sorted(k for k, v in wanted.items() if found is not None and found.get(k) != v)
        if wrong:
            raise StepError("jicofo would read {} from {} after jvb-join's include, not jvb-join's values".format(
                ", ".join("{} = {}".format(k, json.dumps(found.get(k))) for k in wrong), jicofo.JICOFO_CONF),
                "Remove those keys from {} (a key after the include line wins), then run again.".format(
                    jicofo.JICOFO_CONF))
        restart()
        strategy = self.restarted_strategy(ctx)
        if strategy is None:  # /debug turned off by the admin: the files were checked above
            ctx.add_degraded("jicofo's /debug does not answer: its bridge selection was not confirmed")
        elif strategy != STRATEGY:
            raise StepError("jicofo restarted with strategy {}, not {}".format(strategy, STRATEGY),
                            "See /var/log/jitsi/jicofo.log and {}.".format(JICOFO_LEGACY))

    #: how long the restarted jicofo has to show the strategy in /debug
    wait = 60.0

    def restarted_strategy(self, ctx, clock=time.monotonic, sleep=time.sleep):
        """The strategy jicofo's /debug shows once the restarted daemon answers (region-based with
        regions on, any other with them off). jicofo's SysV stop only signals: the old daemon
        answers for a moment after the restart, with the old strategy."""
        deadline = clock() + self.wait
        while True:
            ensure_jicofo_answers(ctx.paths, ctx.progress)
            try:
                doc = jicofo.read_debug(jicofo.rest_url(ctx.paths))
            except JvbJoinError:
                doc = None
            strategy = (doc or {}).get("bridge_selector", {}).get("strategy") if doc else None
            if (strategy == STRATEGY) == bool(self.region) or clock() >= deadline:
                return strategy
            sleep(1.0)


class LocalBridgeRelay(FileStep):
    """The server's own bridge: the relay block with the server's region, its nickname as relay id;
    with no region (``--no-regions``) that block and its include line taken out again."""

    name = "local-bridge-relay"

    def __init__(self, region):
        self.region = region
        self.title = "the server's own bridge: relays" if region else "the server's own bridge: relays off"

    def wanted(self, ctx):
        conf = files.read_text(ctx.paths.jvb_conf)
        if conf is not None and not self.region:
            return [WantedFile(ctx.paths(BRIDGE_FRAGMENT), None),
                    WantedFile(ctx.paths.jvb_conf, without_line(conf, BRIDGE_INCLUDE))]
        nickname = local_nickname(ctx.paths)
        if conf is None or not nickname:
            return []
        return [WantedFile(ctx.paths(BRIDGE_FRAGMENT), relay_text(self.region, nickname), 0o644, 0, 0),
                WantedFile(ctx.paths.jvb_conf, with_line(conf, BRIDGE_INCLUDE))]

    def check(self, ctx):
        if not self.region:
            return super().check(ctx)
        legacy = javaprops.parse(files.read_text(ctx.paths.jvb_legacy_properties) or "")
        legacy_region(ctx.paths.jvb_legacy_properties, legacy, self.region)
        if files.read_text(ctx.paths.jvb_conf) is None:
            return [Change("file", ctx.paths(BRIDGE_FRAGMENT), "the server's own bridge: relays in region {} "
                           "(after jitsi-videobridge2 is installed)".format(self.region), data=None)]
        if not local_nickname(ctx.paths):
            ctx.add_degraded("the server's own bridge has no nickname in {}: it got no relay settings".format(
                ctx.paths.jvb_conf))
        return super().check(ctx)

    def apply(self, ctx, changes, journal):
        if any(change.data is None for change in changes):
            raise StepError("{} does not exist".format(ctx.paths.jvb_conf),
                            "Check that jitsi-videobridge2 is installed, then run again.")
        restart = lambda: run(["systemctl", "try-restart", BRIDGE_UNIT], check=False, timeout=120)  # noqa: E731
        journal.record("restart the server's own bridge with its earlier configuration", restart)
        super().apply(ctx, changes, journal)
        restart()


def region_steps(region, local_bridge, off=False, groups=None):
    """The steps of ``server install --region`` (or ``--no-regions``, ``off``): none without either
    option (what an earlier run set stays). Turning regions off takes jvb-join's files out of jicofo
    and of the server's own bridge; bridges joined with a region keep announcing it, which jicofo
    then ignores."""
    if off:
        return [JicofoRegions(None), LocalBridgeRelay(None)]
    if not region:
        return []
    return [JicofoRegions(region, groups)] + ([LocalBridgeRelay(region)] if local_bridge else [])
