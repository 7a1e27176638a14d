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
    assert seen["argv"] == ["hocon", "-f", "/etc/jitsi/jicofo/jicofo.conf", "-j", "get", "jicofo"]


def test_read_hocon_tree_error_is_a_config_error():
    def runner(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, stdout=b"", stderr=b"Error: no such file")

    with pytest.raises(model.ConfigError):
        model.read_hocon_tree("/nope", runner=runner)
