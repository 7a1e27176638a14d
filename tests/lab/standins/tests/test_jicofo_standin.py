"""Unit tests of the jicofo stand-in's pure logic: config, log format, brewery, health, metrics."""
import json
import subprocess
import time

import pytest

import jicofo_model as model

ROOM = "jvbbrewery@internal.auth.meet.example.com"
STATS = [("stress_level", "0.05"), ("version", "2.3.312-ga29d97d13"), ("healthy", "true")]


class Recorder(object):
    def __init__(self):
        self.lines = []
        self.fmt = model.JitsiLogFormat("Jicofo", clock=lambda: 1795222741.5, localtime=time.gmtime)

    def __call__(self, level, thread, ctx, where, message):
        self.lines.append(self.fmt.line(level, thread, ctx, where, message))

    def messages(self):
        return [l.split(": ", 2)[-1] for l in self.lines]


def brewery():
    rec = Recorder()
    return model.Brewery("JvbBrewery@internal.auth.meet.example.com", rec, clock=lambda: 100.0), rec


def test_log_line_has_the_jitsi_format():
    fmt = model.JitsiLogFormat("Jicofo", clock=lambda: 1795222741.967, localtime=time.gmtime)
    line = fmt.line("INFO", 28, (("type", "bridge"), ("brewery", "jvbbrewery")),
                    "BaseBrewery.addInstance#281", "Added brewery instance: x/y")
    assert line == ("Jicofo 2026-11-21 00:59:01.967 INFO: [28] [type=bridge brewery=jvbbrewery] "
                    "BaseBrewery.addInstance#281: Added brewery instance: x/y")


def test_log_line_without_context_has_no_brackets():
    fmt = model.JitsiLogFormat("Jicofo", clock=lambda: 0.25, localtime=time.gmtime)
    assert fmt.line("WARNING", 7, (), "A.b#1", "m") == "Jicofo 1970-01-01 00:00:00.250 WARNING: [7] A.b#1: m"


def test_bridge_join_logs_the_real_lines_in_order():
    b, rec = brewery()
    b.on_presence(ROOM + "/jvb-1", True, STATS, "jvb@auth.meet.example.com/x")
    msgs = rec.messages()
    assert msgs[0] == "Added brewery instance: %s/jvb-1" % ROOM
    assert msgs[1] == ("Added new videobridge: Bridge[jid=%s/jvb-1, version=2.3.312-ga29d97d13, "
                       "relayId=null, region=null, correctedStress=0.05]" % ROOM)
    assert msgs[2].startswith("Scheduled health-check task for: Bridge[")
    assert "[type=bridge brewery=jvbbrewery] BaseBrewery.addInstance#" in rec.lines[0]
    assert "] BridgeSelector.addJvbAddress#" in rec.lines[1]
    assert b.snapshot()[0]["real_jid"] == "jvb@auth.meet.example.com/x"


def test_member_without_stats_is_not_a_bridge():
    b, rec = brewery()
    b.on_presence(ROOM + "/observer", True, None)
    b.on_left(ROOM + "/observer")
    assert rec.lines == []
    assert b.counts()["bridge_count"] == 0


def test_repeated_presence_updates_without_new_lines():
    b, rec = brewery()
    b.on_presence(ROOM + "/jvb-1", True, STATS)
    b.on_presence(ROOM + "/jvb-1", True, [("stress_level", "0.5"), ("drain", "true")])
    assert len(rec.lines) == 3
    snap = b.snapshot()[0]
    assert snap["stress"] == 0.5 and snap["drain"] is True


def test_leave_is_a_lost_bridge_unless_shutting_down():
    b, rec = brewery()
    b.on_presence(ROOM + "/jvb-1", True, STATS)
    b.on_left(ROOM + "/jvb-1")
    msgs = rec.messages()[3:]
    assert msgs[0] == "Removed brewery instance: %s/jvb-1" % ROOM
    assert msgs[1] == "Removing JVB: %s/jvb-1" % ROOM
    assert msgs[2] == "Lost a bridge: %s/jvb-1" % ROOM
    assert " WARNING: " in rec.lines[5]
    assert msgs[3].startswith("Stopping health-check task for: Bridge[")
    assert b.counts()["lost_bridges"] == 1


def test_shutting_down_bridge_is_logged_and_not_lost():
    b, rec = brewery()
    b.on_presence(ROOM + "/jvb-1", True, STATS)
    b.on_presence(ROOM + "/jvb-1", True, STATS + [("shutting_down", "true")])
    assert rec.messages()[-1] == "%s/jvb-1 entered SHUTTING_DOWN" % ROOM
    assert b.counts()["in_shutdown_bridge_count"] == 1
    assert b.counts()["operational_bridge_count"] == 0
    b.on_left(ROOM + "/jvb-1")
    assert not any("Lost a bridge" in m for m in rec.messages())
    assert b.counts()["lost_bridges"] == 0


def test_graceful_shutdown_is_not_lost_either():
    b, rec = brewery()
    b.on_presence(ROOM + "/jvb-1", True, STATS + [("graceful_shutdown", "true")])
    b.on_left(ROOM + "/jvb-1")
    assert not any("Lost a bridge" in m for m in rec.messages())


def test_health_check_error_and_timeouts():
    b, _ = brewery()
    b.on_presence(ROOM + "/a", True, STATS)
    b.on_presence(ROOM + "/b", True, STATS)
    b.health_result(ROOM + "/a", "error")
    b.health_result(ROOM + "/b", "timeout")
    assert b.counts()["operational_bridge_count"] == 1  # one timeout is retried
    b.health_result(ROOM + "/b", "timeout")
    assert b.counts()["operational_bridge_count"] == 0
    b.health_result(ROOM + "/b", "ok")
    assert b.counts()["operational_bridge_count"] == 1


def test_health_endpoint_decision():
    counts = {"bridge_count": 0, "operational_bridge_count": 0}
    assert model.health(True, True, counts) == (
        500, "No operational bridges available (total bridge count: 0)")
    counts = {"bridge_count": 1, "operational_bridge_count": 1}
    assert model.health(True, True, counts) == (200, "")
    assert model.health(False, False, counts)[0] == 503


def test_metrics_text():
    b, _ = brewery()
    b.on_presence(ROOM + "/a", True, STATS)
    text = model.metrics_text(b.counts(), True)
    assert "jitsi_jicofo_bridge_selector_bridge_count 1\n" in text
    assert "jitsi_jicofo_bridge_selector_operational_bridge_count 1\n" in text
    assert "# TYPE jitsi_jicofo_bridge_selector_lost_bridges_total counter" in text


def test_debug_state_has_the_real_bridge_selector_shape():
    b, _ = brewery()
    b.on_presence(ROOM + "/a", True, STATS + [("drain", "false"), ("region", "eu")])
    state = b.debug_state()
    assert state["strategy"] == "SingleBridgeSelectionStrategy"
    bridge = state["bridge"][ROOM + "/a"]
    # Bridge.kt debugState keys, dashes and all; unknown values are the string "null"
    assert sorted(bridge) == sorted(["drain", "endpoints", "endpoint-restart-requests", "graceful-shutdown",
                                     "healthy", "operational", "overloaded", "region", "relay-id", "release",
                                     "shutting-down", "stress", "version"])
    assert bridge["region"] == "eu" and bridge["relay-id"] == "null" and bridge["release"] == "null"
    assert bridge["drain"] is False and bridge["stress"] == 0.05 and bridge["overloaded"] is False
    b.on_presence(ROOM + "/a", False, None)
    assert b.debug_state()["bridge"] == {}


def test_a_bridge_drains_until_its_presence_says_otherwise():
    b, _ = brewery()
    b.on_presence(ROOM + "/a", True, STATS)
    assert b.debug_state()["bridge"][ROOM + "/a"]["drain"] is True  # Bridge.kt: isDraining = true


def test_settings_defaults_and_values():
    s = model.settings_from_tree({
        "xmpp": {"client": {"xmpp-domain": "meet.example.com", "domain": "auth.meet.example.com",
                            "username": "focus", "password": "secret"}},
        "bridge": {"brewery-jid": "JvbBrewery@internal.auth.meet.example.com",
                   "health-checks": {"interval": "3 seconds"}},
    })
    assert s["xmpp.client.hostname"] == "localhost" and s["xmpp.client.port"] == 5222
    assert s["xmpp.client.use-tls"] is True
    assert s["xmpp.client.disable-certificate-verification"] is False
    assert s["bridge.health-checks.interval"] == 3.0
    assert s["xmpp.client.reply-timeout"] == 15.0
    assert s["rest.host"] == "127.0.0.1" and s["rest.port"] == 8888
    assert s["bridge.brewery-jid"] == "JvbBrewery@internal.auth.meet.example.com"


def test_login_domain_falls_back_to_xmpp_domain():
    s = model.settings_from_tree({"xmpp": {"client": {"xmpp-domain": "meet.example.com"}}})
    assert s["xmpp.client.domain"] == "meet.example.com"


@pytest.mark.parametrize("text,seconds", [("10 seconds", 10.0), ("15 s", 15.0), ("1 minute", 60.0),
                                          ("500 ms", 0.5), (20, 20.0), ("2000", 2.0)])
def test_durations(text, seconds):
    assert model.parse_duration(text) == seconds


def test_legacy_bridge_muc():
    text = "# c\norg.jitsi.jicofo.BRIDGE_MUC=JvbBrewery@internal.auth.m.test\nx=y\n"
    assert model.legacy_bridge_muc(text) == "JvbBrewery@internal.auth.m.test"
    assert model.legacy_bridge_muc("x=y\n") is None


def test_read_hocon_tree_uses_the_file_path_only():
    seen = {}

    def runner(argv, **kwargs):
        seen["argv"] = argv
        return subprocess.CompletedProcess(argv, 0, stdout=json.dumps({"bridge": {}}).encode(), stderr=b"")

    assert model.read_hocon_tree("/etc/jitsi/jicofo/jicofo.conf", runner=runner) == {"bridge": {}}
    assert seen["argv"] == ["ruby", "-e", model.RUBY_READ, "/etc/jitsi/jicofo/jicofo.conf"]


def test_read_hocon_tree_follows_includes_as_jicofo_does(tmp_path):
    # Typesafe config follows `include` relative to the including file; a later key wins
    (tmp_path / "jicofo.conf").write_text('jicofo {\n  octo { enabled = false }\n  bridge { brewery-jid = "b@x" }\n}\n'
                                          'include "extra.conf"\n')
    (tmp_path / "extra.conf").write_text('jicofo.octo.enabled = true\njicofo.local-region = "eu"\n')
    tree = model.read_hocon_tree(str(tmp_path / "jicofo.conf"))
    assert tree == {"octo": {"enabled": True}, "local-region": "eu", "bridge": {"brewery-jid": "b@x"}}
    (tmp_path / "bad.conf").write_text("jicofo { x\n")
    with pytest.raises(model.ConfigError) as caught:
        model.read_hocon_tree(str(tmp_path / "bad.conf"))
    assert "bad.conf: 2" in str(caught.value)
    with pytest.raises(model.ConfigError):
        model.read_hocon_tree(str(tmp_path / "missing.conf"))


def test_read_hocon_tree_error_is_a_config_error():
    def runner(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, stdout=b"", stderr=b"Error: no such file")

    with pytest.raises(model.ConfigError):
        model.read_hocon_tree("/nope", runner=runner)


# --- bridge selection (jicofo_selector) ---------------------------------------------------------

import jicofo_selector as selection  # noqa: E402

V1, V2 = "2.3.312-ga29d97d13", "2.3.300-gaaaaaaaa"


def bridge_of(nick, region=None, relay=True, stress="0.1", version=V1, **flags):
    b = model.Bridge("%s/%s" % (ROOM, nick))
    b.stats = {"stress_level": stress, "version": version}
    if region:
        b.stats["region"] = region
    if relay:
        b.stats["relay_id"] = nick
    for key, value in flags.items():
        b.stats[key] = "true" if value else "false"
    return b


REGIONS = {"bridge.selection-strategy": "RegionBasedBridgeSelectionStrategy", "octo.enabled": True,
           "local-region": "eu"}


def placed(selector, bridges, regions):
    doc = selector.place(bridges, regions)
    return [p["bridge"].split("/")[1] if p["bridge"] else None for p in doc["participants"]], doc


def test_region_based_puts_each_participant_near_and_joins_the_regions_by_a_relay():
    bridges = [bridge_of("eu1", "eu", stress="0.2"), bridge_of("eu2", "eu", stress="0.1"),
               bridge_of("us1", "us")]
    where, doc = placed(selection.Selector(REGIONS), bridges, ["eu", "us", "eu", "us"])
    assert where == ["eu2", "us1", "eu2", "us1"]  # the least loaded in the region, then kept
    assert doc["relays"] == [[ROOM + "/eu2", ROOM + "/us1"]]
    assert doc["strategy"] == "RegionBasedBridgeSelectionStrategy"


def test_without_octo_or_a_relay_id_the_conference_stays_on_its_first_bridge():
    bridges = [bridge_of("eu1", "eu"), bridge_of("us1", "us")]
    no_octo = dict(REGIONS, **{"octo.enabled": False})
    assert placed(selection.Selector(no_octo), bridges, ["eu", "us"])[0] == ["eu1", "eu1"]
    no_relay = [bridge_of("eu1", "eu", relay=False), bridge_of("us1", "us")]
    assert placed(selection.Selector(REGIONS), no_relay, ["eu", "us"])[0] == ["eu1", "eu1"]


def test_bridges_of_another_version_are_not_mixed_into_a_conference():
    bridges = [bridge_of("eu1", "eu"), bridge_of("us1", "us", version=V2)]
    where, doc = placed(selection.Selector(REGIONS), bridges, ["eu", "us"])
    assert where == ["eu1", "eu1"] and doc["relays"] == []
    mixed = dict(REGIONS, **{"octo.allow-mixed-versions": True})
    assert placed(selection.Selector(mixed), bridges, ["eu", "us"])[0] == ["eu1", "us1"]


def test_a_region_without_bridges_goes_to_the_local_region_and_the_first_pick_prefers_it_in_its_group():
    bridges = [bridge_of("eu1", "eu"), bridge_of("us1", "us", stress="0.0")]
    assert placed(selection.Selector(REGIONS), bridges, ["ap", None])[0] == ["eu1", "eu1"]
    grouped = dict(REGIONS, **{"bridge.region-groups": [["eu", "us"]]})
    # the first participant is from us, but eu (local) is in its group: the local region first
    assert placed(selection.Selector(grouped), bridges, ["us"])[0] == ["eu1"]
    assert placed(selection.Selector(REGIONS), bridges, ["us"])[0] == ["us1"]


def test_overloaded_draining_and_shutting_down_bridges_are_passed_over():
    bridges = [bridge_of("eu1", "eu", stress="0.9"), bridge_of("eu2", "eu", stress="0.5"),
               bridge_of("eu3", "eu", stress="0.0", drain=True), bridge_of("eu4", "eu", shutting_down=True)]
    assert placed(selection.Selector(REGIONS), bridges, ["eu"])[0] == ["eu2"]


def test_single_strategy_never_uses_two_bridges():
    bridges = [bridge_of("eu1", "eu"), bridge_of("us1", "us")]
    single = dict(REGIONS, **{"bridge.selection-strategy": "SingleBridgeSelectionStrategy"})
    assert placed(selection.Selector(single), bridges, ["us", "eu"])[0] == ["us1", "us1"]


@pytest.mark.parametrize("name, simple", [
    ("RegionBasedBridgeSelectionStrategy", "RegionBasedBridgeSelectionStrategy"),
    ("org.jitsi.jicofo.bridge.SingleBridgeSelectionStrategy", "SingleBridgeSelectionStrategy")])
def test_strategy_names(name, simple):
    assert selection.strategy_name(name) == simple


@pytest.mark.parametrize("name", ["RegionBased", "regionbasedbridgeselectionstrategy", "x.RegionBasedBridgeSelectionStrategy"])
def test_an_unknown_strategy_stops_jicofo(name):
    with pytest.raises(selection.UnknownStrategy):
        selection.strategy_name(name)


def test_selection_settings_and_the_legacy_properties_that_win():
    s = model.settings_from_tree({"octo": {"enabled": "true"}, "local-region": "eu",
                                  "bridge": {"selection-strategy": "RegionBasedBridgeSelectionStrategy"}})
    assert (s["octo.enabled"], s["local-region"], s["bridge.selection-strategy"]) == (
        True, "eu", "RegionBasedBridgeSelectionStrategy")
    d = model.settings_from_tree({})
    assert (d["octo.enabled"], d["local-region"], d["bridge.selection-strategy"]) == (
        False, None, "SingleBridgeSelectionStrategy")
    legacy = "org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY=SplitBridgeSelectionStrategy\n"
    assert model.apply_legacy_selection(s, legacy)["bridge.selection-strategy"] == "SplitBridgeSelectionStrategy"
