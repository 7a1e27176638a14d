"""server install --region: jicofo's regions file and its include, checked before the restart and
confirmed by jicofo's /debug after it, rolled back on either failure; the server's own bridge's
relay block; legacy properties that would win are refused."""

import json
import os

import pytest

from jvbjoin.engine.core import Context, Journal
from jvbjoin.errors import StepError, UsageError
from jvbjoin.server import install, regions
from jvbjoin.system.run import run as real_run

from helpers import read, run_step, write

CONF = 'jicofo {\n  bridge: { brewery-jid: "JvbBrewery@internal.auth.meet.example.com" }\n}\n'
JICOFO_CONF = "/etc/jitsi/jicofo/jicofo.conf"


class Jicofo:
    """systemctl and jicofo's REST API, faked; ruby runs for real (the check jicofo has none of)."""

    def __init__(self, monkeypatch, strategy=regions.STRATEGY):
        self.calls = []
        self.strategy = strategy
        monkeypatch.setattr(regions, "run", self.run)
        monkeypatch.setattr(regions, "ensure_jicofo_answers", lambda paths, progress: None)
        monkeypatch.setattr(regions.jicofo, "read_debug",
                            lambda url: {"bridge_selector": {"strategy": self.strategy, "bridge": {}}})

    def run(self, argv, **kwargs):
        if argv[0] == "ruby":
            return real_run(argv, **kwargs)
        self.calls.append(argv)
        return real_run(["true"])


def as_the_engine_runs(step, ctx):
    """Check and apply ``step``; on a failure its journal is rolled back, as the engine does."""
    journal = Journal()
    try:
        step.apply(ctx, step.check(ctx), journal)
    except StepError:
        journal.rollback()
        raise


def server(paths, conf=CONF):
    write(paths(JICOFO_CONF), conf)
    return Context(paths)


@pytest.mark.real_programs
def test_regions_file_and_include_then_a_second_run_changes_nothing_and_rollback_restores(paths, monkeypatch):
    fake = Jicofo(monkeypatch)
    ctx = server(paths)
    step = regions.JicofoRegions("eu")
    changes = step.check(ctx)
    assert [c.target for c in changes] == [paths(regions.JICOFO_FRAGMENT), paths(JICOFO_CONF)]
    journal = Journal()
    step.apply(ctx, changes, journal)
    assert read(paths(JICOFO_CONF)) == CONF + regions.JICOFO_INCLUDE + "\n"  # the admin's bytes kept
    assert 'jicofo.local-region = "eu"' in read(paths(regions.JICOFO_FRAGMENT))
    assert regions.read_jicofo_keys(paths(JICOFO_CONF)) == dict(regions.wanted_keys("eu"),
                                                                **{"jicofo.bridge.region-groups": None})
    assert fake.calls == [["systemctl", "try-restart", "jicofo"]]
    assert regions.JicofoRegions("eu").check(ctx) == []
    assert len(regions.JicofoRegions("us").check(ctx)) == 1  # another region: the fragment only
    journal.rollback()
    assert read(paths(JICOFO_CONF)) == CONF and not os.path.exists(paths(regions.JICOFO_FRAGMENT))
    assert fake.calls[-1] == ["systemctl", "try-restart", "jicofo"]


@pytest.mark.real_programs
def test_a_key_after_the_include_would_win_so_the_run_fails_before_the_restart(paths, monkeypatch):
    fake = Jicofo(monkeypatch)
    ctx = server(paths)
    run_step(regions.JicofoRegions("eu"), ctx)
    # the admin appends a key after jvb-join's include: the next run cannot make jicofo read "us"
    write(paths(JICOFO_CONF), read(paths(JICOFO_CONF)) + 'jicofo.local-region = "ap"\n')
    fake.calls.clear()
    with pytest.raises(StepError) as caught:
        as_the_engine_runs(regions.JicofoRegions("us"), ctx)
    assert 'jicofo.local-region = "ap"' in caught.value.message
    assert "a key after the include line wins" in caught.value.remedy
    assert fake.calls == [["systemctl", "try-restart", "jicofo"]]  # only the rollback's restart
    assert 'jicofo.local-region = "eu"' in read(paths(regions.JICOFO_FRAGMENT))  # rolled back


@pytest.mark.real_programs
def test_a_config_that_does_not_parse_is_refused_before_the_restart(paths, monkeypatch):
    fake = Jicofo(monkeypatch)
    ctx = server(paths, CONF + "jicofo { x\n")
    with pytest.raises(StepError) as caught:
        as_the_engine_runs(regions.JicofoRegions("eu"), ctx)
    assert "does not parse" in caught.value.message and "jicofo.conf: 5" in caught.value.message
    assert read(paths(JICOFO_CONF)) == CONF + "jicofo { x\n"
    assert fake.calls == [["systemctl", "try-restart", "jicofo"]]


@pytest.mark.real_programs
def test_jicofo_restarted_with_another_strategy_is_rolled_back(paths, monkeypatch):
    Jicofo(monkeypatch, strategy="SingleBridgeSelectionStrategy")
    ctx = server(paths)
    step = regions.JicofoRegions("eu")
    step.wait = 0.0
    with pytest.raises(StepError) as caught:
        as_the_engine_runs(step, ctx)
    assert "SingleBridgeSelectionStrategy" in caught.value.message
    assert read(paths(JICOFO_CONF)) == CONF


@pytest.mark.parametrize("legacy, refused", [
    ("org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY=SplitBridgeSelectionStrategy\n", True),
    ("org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY="
     "org.jitsi.jicofo.bridge.RegionBasedBridgeSelectionStrategy\n", False),
    ("org.jitsi.jicofo.BridgeSelector.LOCAL_REGION=us\n", True),
    ("org.jitsi.jicofo.BridgeSelector.LOCAL_REGION=eu\n", False),
])
def test_legacy_properties_jicofo_reads_first(paths, legacy, refused):
    ctx = server(paths)
    write(paths(regions.JICOFO_LEGACY), legacy)
    if refused:
        with pytest.raises(StepError) as caught:
            regions.JicofoRegions("eu").check(ctx)
        assert "which jicofo reads before jicofo.conf" in caught.value.message
        assert caught.value.remedy.startswith("Remove the org.jitsi.jicofo.BridgeSelector.")
    else:
        assert len(regions.JicofoRegions("eu").check(ctx)) == 2


def test_before_jicofo_is_installed_the_plan_says_so_and_applying_refuses(paths):
    ctx = Context(paths)
    changes = regions.JicofoRegions("eu").check(ctx)
    assert changes[0].summary == "jicofo: region eu, relays (after jicofo is installed)"
    with pytest.raises(StepError):
        regions.JicofoRegions("eu").apply(ctx, changes, Journal())


LOCAL_JVB_CONF = 'videobridge { apis.xmpp-client.configs { shard { MUC_NICKNAME = 6a1f0c3e-aaaa } } }\n'


def local_bridge_with_relay(paths, monkeypatch):
    """The server's own bridge given the relay block; ``(ctx, restarts)``."""
    restarts = []
    monkeypatch.setattr(regions, "run", lambda argv, **kw: restarts.append(argv))
    write(paths.jvb_conf, LOCAL_JVB_CONF)
    ctx = Context(paths)
    run_step(regions.LocalBridgeRelay("eu"), ctx)
    return ctx, restarts


def test_the_servers_own_bridge_gets_the_relay_block_with_its_nickname(paths, monkeypatch):
    ctx, restarts = local_bridge_with_relay(paths, monkeypatch)
    conf = LOCAL_JVB_CONF
    assert read(paths.jvb_conf) == conf + regions.BRIDGE_INCLUDE + "\n"
    relay = read(paths(regions.BRIDGE_FRAGMENT))
    assert 'region = "eu"' in relay and 'relay-id = "6a1f0c3e-aaaa"' in relay
    assert restarts == [["systemctl", "try-restart", "jitsi-videobridge2.service"]]
    assert regions.LocalBridgeRelay("eu").check(ctx) == []
    write(paths.jvb_legacy_properties, "org.jitsi.videobridge.REGION=us\n")
    with pytest.raises(StepError):
        regions.LocalBridgeRelay("eu").check(ctx)


def test_server_install_takes_region_steps_only_when_asked(paths):
    def steps(**options):
        opts = install.ServerOptions("meet.example.com", **options)
        return [type(s) for s in install.server_steps(Context(paths, install.ServerRun(opts)))]
    assert regions.JicofoRegions not in steps(local_bridge=True)
    with_region = steps(local_bridge=True, region="eu")
    at = with_region.index(regions.JicofoRegions)
    assert with_region[at:at + 3] == [regions.JicofoRegions, regions.LocalBridgeRelay, install.ExpiryTimer]
    assert regions.LocalBridgeRelay not in steps(local_bridge=False, region="eu")
    with pytest.raises(UsageError):
        install.validate(install.ServerOptions("meet.example.com", region="Europe"))


def test_the_fragment_is_what_jicofo_reads(paths):
    text = regions.jicofo_fragment("us-east")
    assert "jicofo.bridge.selection-strategy = RegionBasedBridgeSelectionStrategy\n" in text
    assert 'jicofo.local-region = "us-east"\n' in text and "jicofo.octo.enabled = true\n" in text
    assert json.loads(json.dumps(regions.wanted_keys("us-east")))["jicofo.local-region"] == "us-east"


def test_the_old_daemon_answering_for_a_moment_after_the_restart_is_waited_out(paths, monkeypatch):
    answers = iter(["SingleBridgeSelectionStrategy", "SingleBridgeSelectionStrategy", regions.STRATEGY])
    monkeypatch.setattr(regions, "ensure_jicofo_answers", lambda paths, progress: None)
    monkeypatch.setattr(regions.jicofo, "read_debug", lambda url: {"bridge_selector": {"strategy": next(answers)}})
    slept = []
    step = regions.JicofoRegions("eu")
    assert step.restarted_strategy(Context(paths), clock=lambda: 0.0, sleep=slept.append) == regions.STRATEGY
    assert slept == [1.0, 1.0]


@pytest.mark.real_programs
def test_no_regions_takes_out_jvb_joins_file_and_line_only_and_a_second_run_changes_nothing(paths, monkeypatch):
    fake = Jicofo(monkeypatch)
    admin = CONF + "# the admin's own line after ours\n"
    ctx = server(paths, admin)
    as_the_engine_runs(regions.JicofoRegions("eu"), ctx)
    assert regions.JICOFO_INCLUDE in read(paths(JICOFO_CONF))
    fake.strategy = "SingleBridgeSelectionStrategy"
    off = regions.JicofoRegions(None)
    assert off.title.endswith("off")
    as_the_engine_runs(off, ctx)
    assert read(paths(JICOFO_CONF)) == admin and not os.path.exists(paths(regions.JICOFO_FRAGMENT))
    assert fake.calls[-1] == ["systemctl", "try-restart", "jicofo"]
    assert regions.JicofoRegions(None).check(ctx) == []


@pytest.mark.real_programs
def test_no_regions_fails_and_puts_the_files_back_when_jicofo_still_selects_by_region(paths, monkeypatch):
    fake = Jicofo(monkeypatch)  # jicofo keeps answering with the region-based strategy
    ctx = server(paths, CONF + regions.JICOFO_INCLUDE + "\n")
    write(paths(regions.JICOFO_FRAGMENT), regions.jicofo_fragment("eu"))
    step = regions.JicofoRegions(None)
    step.wait = 0.0
    with pytest.raises(StepError) as failed:
        as_the_engine_runs(step, ctx)
    assert "still selects bridges by region" in failed.value.message
    assert read(paths(JICOFO_CONF)) == CONF + regions.JICOFO_INCLUDE + "\n"
    assert read(paths(regions.JICOFO_FRAGMENT)) == regions.jicofo_fragment("eu")
    assert fake.calls == [["systemctl", "try-restart", "jicofo"]] * 2  # off, then back as it was


def test_no_regions_takes_the_relay_block_out_of_the_servers_own_bridge(paths, monkeypatch):
    ctx, restarts = local_bridge_with_relay(paths, monkeypatch)
    run_step(regions.LocalBridgeRelay(None), ctx)
    assert read(paths.jvb_conf) == LOCAL_JVB_CONF and not os.path.exists(paths(regions.BRIDGE_FRAGMENT))
    assert len(restarts) == 2 and regions.LocalBridgeRelay(None).check(ctx) == []


def test_server_install_no_regions_steps_and_its_contradiction_with_region(paths):
    opts = install.ServerOptions("meet.example.com", local_bridge=False, no_regions=True)
    kinds = [type(s) for s in install.server_steps(Context(paths, install.ServerRun(opts)))]
    assert regions.JicofoRegions in kinds and regions.LocalBridgeRelay in kinds  # an earlier local bridge's block too
    with pytest.raises(UsageError):
        install.validate(install.ServerOptions("meet.example.com", region="eu", no_regions=True))


@pytest.mark.real_programs
def test_region_groups_are_what_jicofo_reads_and_a_later_run_without_them_keeps_them(paths, monkeypatch):
    fake = Jicofo(monkeypatch)
    ctx = server(paths)
    groups = [["eu-west", "eu-central"], ["us-east", "us-west"]]
    as_the_engine_runs(regions.JicofoRegions("eu-west", groups), ctx)
    found = regions.read_jicofo_keys(paths(JICOFO_CONF))
    assert found == regions.wanted_keys("eu-west", groups) and found["jicofo.bridge.region-groups"] == groups
    assert regions.JicofoRegions("eu-west").check(ctx) == []  # --region alone: the groups stay
    as_the_engine_runs(regions.JicofoRegions("eu-west", [["eu-west", "uk"]]), ctx)
    assert regions.read_jicofo_keys(paths(JICOFO_CONF))["jicofo.bridge.region-groups"] == [["eu-west", "uk"]]
    assert len(fake.calls) == 2


@pytest.mark.real_programs
def test_the_admins_own_region_groups_stay_theirs_when_jvb_join_sets_none(paths, monkeypatch):
    Jicofo(monkeypatch)
    ctx = server(paths, CONF + 'jicofo.bridge.region-groups = [["a", "b"]]\n')
    as_the_engine_runs(regions.JicofoRegions("eu"), ctx)
    assert regions.read_jicofo_keys(paths(JICOFO_CONF))["jicofo.bridge.region-groups"] == [["a", "b"]]


@pytest.mark.parametrize("options", [
    dict(region_groups=[["eu", "uk"]]),                 # no --region
    dict(region="eu", region_groups=[["eu"]]),          # a group of one
    dict(region="eu", region_groups=[["eu", "Asia"]]),  # not a region name
])
def test_region_group_options_that_are_refused(options):
    with pytest.raises(UsageError):
        install.validate(install.ServerOptions("meet.example.com", **options))
