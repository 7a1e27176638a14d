"""The systemd facade's logic against a fake bus: job ordering, results, timeouts, settling."""

import asyncio

import pytest

from jvbjoin.system import systemd as sd
from jvbjoin.errors import StepError


class FakeManager:
    def __init__(self, bus):
        self.bus = bus
        self.calls = []
        self.handlers = []

    async def call_subscribe(self):
        self.calls.append("Subscribe")

    def on_job_removed(self, cb):
        self.calls.append("on_job_removed")
        self.handlers.append(cb)

    def off_job_removed(self, cb):
        self.calls.append("off_job_removed")
        self.handlers.remove(cb)

    async def call_load_unit(self, name):
        return "/unit/" + name

    async def call_reload(self):
        self.calls.append("Reload")

    async def call_enable_unit_files(self, names, runtime, force):
        self.calls.append(("EnableUnitFiles", tuple(names), runtime, force))
        return [True, []]

    async def call_mask_unit_files(self, names, runtime, force):
        self.calls.append(("MaskUnitFiles", tuple(names), runtime, force))
        return []

    async def call_unmask_unit_files(self, names, runtime):
        self.calls.append(("UnmaskUnitFiles", tuple(names), runtime))
        return []

    async def call_disable_unit_files(self, names, runtime):
        self.calls.append(("DisableUnitFiles", tuple(names), runtime))
        return []

    async def _job(self, verb, name, mode):
        self.calls.append((verb, name, mode))
        self.bus.job_count += 1
        path = "/job/{}".format(self.bus.job_count)
        behaviour = self.bus.job_behaviour
        if behaviour == "immediate":
            # The job ends before the method reply reaches us: only an early subscription sees it.
            for cb in list(self.handlers):
                cb(self.bus.job_count, path, name, self.bus.job_result)
        elif behaviour == "later":
            loop = asyncio.get_event_loop()
            loop.call_later(0.01, lambda: [cb(self.bus.job_count, path, name, self.bus.job_result)
                                           for cb in list(self.handlers)])
            loop.call_soon(lambda: [cb(99, "/job/other", "other.service", "failed") for cb in list(self.handlers)])
        self.bus.after_job(verb, name)
        return path

    async def call_start_unit(self, name, mode):
        return await self._job("StartUnit", name, mode)

    async def call_restart_unit(self, name, mode):
        return await self._job("RestartUnit", name, mode)

    async def call_stop_unit(self, name, mode):
        return await self._job("StopUnit", name, mode)

    async def call_reload_or_restart_unit(self, name, mode):
        return await self._job("ReloadOrRestartUnit", name, mode)


class FakeBus:
    def __init__(self, states=None, job_behaviour="later", job_result="done", fail_connects=0):
        self.manager = FakeManager(self)
        self.states = list(states or [{"ActiveState": "active", "SubState": "running", "NRestarts": 0}])
        self.job_behaviour = job_behaviour
        self.job_result = job_result
        self.job_count = 0
        self.cancelled = []
        self.fail_connects = fail_connects
        self.connects = 0
        self.disconnected = False
        self.reads = 0

    async def connect(self):
        self.connects += 1
        if self.connects <= self.fail_connects:
            raise FileNotFoundError("/run/dbus/system_bus_socket")
        return self.manager

    def after_job(self, verb, name):
        pass

    async def get_all(self, path, interface):
        state = self.states[min(self.reads, len(self.states) - 1)]
        if interface == sd.SERVICE:  # read after the Unit interface for the same snapshot
            self.reads += 1
        full = {"LoadState": "loaded", "UnitFileState": "enabled", "MainPID": 42, "Result": "success",
                "ActiveEnterTimestamp": 1, "NRestarts": 0, "SubState": "running"}
        full.update(state)
        return full

    async def cancel_job(self, path):
        self.cancelled.append(path)

    def disconnect(self):
        self.disconnected = True


def test_job_removed_subscription_comes_before_the_manager_call():
    bus = FakeBus(job_behaviour="immediate")
    with sd.Systemd(bus=bus) as systemd:
        assert systemd.restart("jitsi-videobridge2.service", timeout=2) == "done"
    calls = bus.manager.calls
    assert calls[0] == "Subscribe"
    assert calls.index("on_job_removed") < calls.index(("RestartUnit", "jitsi-videobridge2.service", "replace"))
    assert calls[-1] == "off_job_removed"
    assert bus.manager.handlers == []
    assert bus.disconnected


def test_results_are_kept_by_job_path_other_jobs_do_not_count():
    bus = FakeBus(job_behaviour="later")
    with sd.Systemd(bus=bus) as systemd:
        assert systemd.start("x.service", timeout=2) == "done"


def test_done_but_not_active_is_a_failure():
    bus = FakeBus(states=[{"ActiveState": "inactive", "SubState": "dead"}])
    with sd.Systemd(bus=bus) as systemd:
        with pytest.raises(StepError) as e:
            systemd.start("x.service", timeout=2)
    assert "not running" in e.value.message
    assert "journalctl -u x.service -n 50" in e.value.remedy


def test_failed_job_result_is_a_failure_naming_the_result():
    bus = FakeBus(job_result="dependency", states=[{"ActiveState": "inactive"}])
    with sd.Systemd(bus=bus) as systemd:
        with pytest.raises(StepError) as e:
            systemd.restart("x.service", timeout=2)
    assert "'dependency'" in e.value.message


def test_job_timeout_cancels_the_job():
    bus = FakeBus(job_behaviour="never")
    with sd.Systemd(bus=bus) as systemd:
        with pytest.raises(StepError) as e:
            systemd.restart("x.service", timeout=0.1)
    assert bus.cancelled == ["/job/1"]
    assert "cancelled" in e.value.message and "within" in e.value.message
    assert bus.manager.handlers == []


def test_stop_wants_the_unit_inactive():
    bus = FakeBus(states=[{"ActiveState": "inactive", "SubState": "dead"}])
    with sd.Systemd(bus=bus) as systemd:
        assert systemd.stop("x.service", timeout=2) == "done"
    bus = FakeBus(states=[{"ActiveState": "active"}])
    with sd.Systemd(bus=bus) as systemd:
        with pytest.raises(StepError):
            systemd.stop("x.service", timeout=2)


def test_enable_then_reload_and_disable():
    bus = FakeBus()
    with sd.Systemd(bus=bus) as systemd:
        systemd.enable(["a.service"])
        systemd.disable(["a.service"])
    calls = [c for c in bus.manager.calls if c != "Subscribe"]
    assert calls == [("EnableUnitFiles", ("a.service",), False, True), "Reload",
                     ("DisableUnitFiles", ("a.service",), False), "Reload"]


def test_a_runtime_mask_and_its_unmask_are_runtime_only_and_reload():
    bus = FakeBus()
    with sd.Systemd(bus=bus) as systemd:
        systemd.mask_runtime(["a.service"])
        systemd.unmask_runtime(["a.service"])
    calls = [c for c in bus.manager.calls if c != "Subscribe"]
    # runtime=True: under /run/systemd/system, gone at the next boot; no force over an admin's file
    assert calls == [("MaskUnitFiles", ("a.service",), True, False), "Reload",
                     ("UnmaskUnitFiles", ("a.service",), True), "Reload"]


def test_unit_state_has_the_documented_keys():
    bus = FakeBus()
    with sd.Systemd(bus=bus) as systemd:
        state = systemd.unit_state("jitsi-videobridge2.service")
    assert set(state) == set(sd.STATE_KEYS)
    assert state["ActiveState"] == "active" and state["MainPID"] == 42


def test_wait_active_passes_when_restarts_stay_put():
    bus = FakeBus(states=[{"ActiveState": "activating", "SubState": "start"},
                          {"ActiveState": "active", "NRestarts": 3}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        state = systemd.wait_active("x.service", settle=0.05, timeout=2)
    assert state["ActiveState"] == "active"


def test_wait_active_fails_when_nrestarts_increases():
    bus = FakeBus(states=[{"ActiveState": "active", "NRestarts": 0},
                          {"ActiveState": "active", "NRestarts": 0},
                          {"ActiveState": "active", "NRestarts": 2}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        with pytest.raises(StepError) as e:
            systemd.wait_active("x.service", settle=5, timeout=10)
    assert "restart loop" in e.value.message and "2 time(s)" in e.value.message


def test_wait_active_fails_on_auto_restart_and_on_failed():
    bus = FakeBus(states=[{"ActiveState": "active"}, {"ActiveState": "activating", "SubState": "auto-restart",
                                                     "NRestarts": 0}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        with pytest.raises(StepError) as e:
            systemd.wait_active("x.service", settle=5, timeout=10)
    assert "restart loop" in e.value.message
    bus = FakeBus(states=[{"ActiveState": "failed", "Result": "exit-code"}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        with pytest.raises(StepError) as e:
            systemd.wait_active("x.service", settle=5, timeout=10)
    assert "exit-code" in e.value.message


def test_wait_active_times_out_naming_the_state():
    bus = FakeBus(states=[{"ActiveState": "activating", "SubState": "start"}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        with pytest.raises(StepError) as e:
            systemd.wait_active("x.service", settle=1, timeout=0.1)
    assert "activating/start" in e.value.message


def test_connect_retries_while_dbus_is_not_up_then_gives_up():
    bus = FakeBus(fail_connects=2)
    with sd.Systemd(bus=bus, connect_timeout=5) as systemd:
        systemd.daemon_reload()
    assert bus.connects == 3
    bus = FakeBus(fail_connects=100)
    with pytest.raises(StepError) as e:
        with sd.Systemd(bus=bus, connect_timeout=0.3):
            pass
    assert "D-Bus" in e.value.message


def test_is_systemd_running(tmp_path):
    assert not sd.is_systemd_running(str(tmp_path))
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    assert sd.is_systemd_running(str(tmp_path))


def test_only_this_module_imports_dbus_next():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    offenders = []
    for folder, _dirs, names in os.walk(os.path.join(root, "jvbjoin")):
        for n in names:
            if n.endswith(".py") and n != "systemd.py":
                with open(os.path.join(folder, n)) as f:
                    if "dbus_next" in f.read():
                        offenders.append(n)
    assert offenders == []


def test_wait_active_without_settle_returns_at_the_first_active_state():
    bus = FakeBus(states=[{"ActiveState": "activating", "SubState": "start"},
                          {"ActiveState": "active", "NRestarts": 1},
                          {"ActiveState": "failed", "Result": "exit-code"}])
    with sd.Systemd(bus=bus, poll=0.01) as systemd:
        state = systemd.wait_active("x.service", settle=0, timeout=2)
    assert state["ActiveState"] == "active" and state["NRestarts"] == 1


def test_watch_judges_later_states_against_the_one_it_started_from():
    watch = sd.Watch("x.service", {"ActiveState": "active", "NRestarts": 1}, since=100.0)
    watch.judge({"ActiveState": "active", "NRestarts": 1}, now=101.0)  # still up: no error
    cases = [({"ActiveState": "active", "NRestarts": 2}, "restarted 1 time(s) within 3 s"),
             ({"ActiveState": "activating", "SubState": "auto-restart", "NRestarts": 1,
               "Result": "exit-code", "ExecMainStatus": 78}, "rejected its configuration"),
             ({"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": 1}, "exit status 1"),
             ({"ActiveState": "inactive", "SubState": "dead", "Result": "success"}, "stopped running 3 s")]
    for state, words in cases:
        with pytest.raises(StepError) as e:
            watch.judge(state, now=103.0)
        assert words in e.value.message, e.value.message
        assert "journalctl" in e.value.remedy
