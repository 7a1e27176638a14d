"""The bridge service step: it restarts the bridge only for a reason, and says which one."""

from jvbjoin.engine.core import Context, Journal
from jvbjoin.bridge.steps import service


class FakeSystemd:
    state = {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def unit_state(self, name):
        return dict(self.state)


def summaries(ctx, monkeypatch):
    from jvbjoin.system import systemd
    monkeypatch.setattr(systemd, "Systemd", FakeSystemd)
    return [c.summary for c in service.BridgeService().check(ctx)]


def test_a_running_bridge_whose_inputs_did_not_change_is_not_restarted(paths, monkeypatch):
    assert summaries(Context(paths), monkeypatch) == []


def test_a_restart_names_the_steps_that_changed_what_the_bridge_reads(paths, monkeypatch):
    ctx = Context(paths, restart_file=paths("/var/lib/jvb-join/restart-pending"))
    ctx.needs_restart("bridge", Journal(), "packages")
    ctx.needs_restart("bridge", Journal(), "Java runtime")
    assert summaries(ctx, monkeypatch) == [
        "restart jitsi-videobridge2.service (changed: packages, Java runtime)"]


def test_a_restart_left_by_a_stopped_run_says_so(paths, monkeypatch):
    pending = paths("/var/lib/jvb-join/restart-pending")
    Context(paths, restart_file=pending).needs_restart("bridge", Journal(), "bridge configuration")
    assert summaries(Context(paths, restart_file=pending), monkeypatch) == [
        "restart jitsi-videobridge2.service (left pending by an earlier run that was stopped)"]
