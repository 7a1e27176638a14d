"""The bridge service step: it restarts the bridge only for a reason, and says which one."""

import os

from jvbjoin.engine.core import Context, Journal
from jvbjoin.bridge.steps import service

from helpers import join_ctx


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


class HoldingSystemd:
    """A systemd that knows one unit: absent until the package is installed, masked at runtime on
    demand; it logs the calls."""

    def __init__(self, log, installed=False, masked=False, active=False):
        self.log, self.installed, self.masked, self.active = log, installed, masked, active

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def unit_state(self, name):
        if self.masked:
            return {"LoadState": "masked", "UnitFileState": "masked-runtime", "ActiveState": "inactive"}
        if not self.installed:
            return {"LoadState": "not-found", "UnitFileState": "", "ActiveState": "inactive"}
        return {"LoadState": "loaded", "UnitFileState": "enabled",
                "ActiveState": "active" if self.active else "inactive", "NRestarts": 0}

    def mask_runtime(self, names):
        self.log.append(("mask", tuple(names)))
        self.masked = True

    def unmask_runtime(self, names):
        self.log.append(("unmask", tuple(names)))
        self.masked = False

    def enable(self, names):
        self.log.append(("enable", tuple(names)))

    def restart(self, name, timeout=90):
        assert not self.masked, "a start while the unit is masked"
        self.log.append(("start", name))
        self.active = True

    def wait_active(self, name, settle=0.0, timeout=90):
        return self.unit_state(name)


def use(monkeypatch, fake):
    from jvbjoin.system import systemd
    monkeypatch.setattr(systemd, "Systemd", lambda: fake)
    return fake


def test_a_host_without_the_bridge_package_holds_its_start_under_run_with_a_marker(paths, monkeypatch):
    fake = use(monkeypatch, HoldingSystemd([]))
    step, journal = service.HoldFirstStart(), Journal()
    changes = step.check(join_ctx(paths))
    assert [c.summary for c in changes] == [
        "hold the package's start of jitsi-videobridge2.service until jvb-join's settings are written"]
    step.apply(join_ctx(paths), changes, journal)
    assert fake.log == [("mask", ("jitsi-videobridge2.service",))]
    assert paths.bridge_start_hold.startswith(paths("/run/"))
    with open(paths.bridge_start_hold) as handle:
        assert handle.read() == "jitsi-videobridge2.service\n"
    # a rollback lifts it, marker and all
    assert journal.rollback() == []
    assert fake.log[-1] == ("unmask", ("jitsi-videobridge2.service",)) and not fake.masked
    assert not os.path.exists(paths.bridge_start_hold)


def test_an_installed_bridge_is_not_held(paths, monkeypatch):
    use(monkeypatch, HoldingSystemd([], installed=True, active=True))
    assert service.HoldFirstStart().check(join_ctx(paths)) == []


def test_the_unit_state_read_as_the_join_began_is_used_without_asking_systemd_again(paths, monkeypatch):
    def no_second_connection():
        raise AssertionError("systemd asked again")
    from jvbjoin.system import systemd
    monkeypatch.setattr(systemd, "Systemd", no_second_connection)
    ctx = join_ctx(paths)
    ctx.run.unit_before = {"LoadState": "loaded", "ActiveState": "active"}
    assert service.HoldFirstStart().check(ctx) == []
    ctx.run.unit_before = {"LoadState": "not-found"}
    assert len(service.HoldFirstStart().check(ctx)) == 1


def test_the_service_step_lifts_the_hold_then_starts_the_bridge_once(paths, monkeypatch):
    fake = use(monkeypatch, HoldingSystemd([]))
    ctx = join_ctx(paths)
    hold = service.HoldFirstStart()
    hold.apply(ctx, hold.check(ctx), Journal())
    fake.installed = True  # the package came, and its start was skipped
    step = service.BridgeService()
    changes = step.check(ctx)
    assert [c.summary for c in changes] == ["enable and start jitsi-videobridge2.service once it is installed"]
    step.apply(ctx, changes, Journal())
    assert [entry[0] for entry in fake.log] == ["mask", "unmask", "enable", "start"]
    assert not os.path.exists(paths.bridge_start_hold)


def test_a_mask_that_is_not_jvb_join_s_is_left_alone(paths, monkeypatch):
    # an admin's mask: no marker, so neither the next run nor the service step lifts it
    fake = use(monkeypatch, HoldingSystemd([], installed=True, masked=True))
    service.release_stale_hold(paths, lambda message: None)
    assert service.release_hold(paths) is False
    assert fake.log == [] and fake.masked


def test_a_hold_a_killed_run_left_is_lifted_by_the_next_run(paths, monkeypatch):
    fake = use(monkeypatch, HoldingSystemd([]))
    ctx = join_ctx(paths)
    hold = service.HoldFirstStart()
    hold.apply(ctx, hold.check(ctx), Journal())  # ... and the run is killed here
    said = []
    service.release_stale_hold(paths, said.append)
    assert fake.log[-1] == ("unmask", ("jitsi-videobridge2.service",)) and not fake.masked
    assert not os.path.exists(paths.bridge_start_hold)
    assert said == ["lifting the hold on jitsi-videobridge2.service that a stopped run left"]


def test_a_kill_between_the_marker_and_the_mask_is_harmless(paths, monkeypatch):
    fake = use(monkeypatch, HoldingSystemd([]))
    os.makedirs(os.path.dirname(paths.bridge_start_hold))
    with open(paths.bridge_start_hold, "w") as handle:
        handle.write("jitsi-videobridge2.service\n")
    service.release_stale_hold(paths, lambda message: None)
    assert fake.log == [("unmask", ("jitsi-videobridge2.service",))]  # a no-op on an unmasked unit
    assert not os.path.exists(paths.bridge_start_hold)


def test_join_and_leave_lift_a_stale_hold_before_anything_else():
    import inspect
    from jvbjoin.bridge import join, leave
    assert "release_stale_hold" in inspect.getsource(join.join)
    assert "release_stale_hold" in inspect.getsource(leave.leave)
