"""The server's own units as `server install` leaves them: the token expiry timer, and the local
bridge that --no-local-bridge turns off only once another bridge is in the brewery."""

import os

from jvbjoin.engine.core import Context
from jvbjoin.server import jicofo, services

from helpers import Clock, bridge_state, debug_doc



def test_expiry_timer_enabled_and_started_when_off(paths, monkeypatch):
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "disabled",
                                                               "ActiveState": "inactive"})
    ctx = Context(paths, progress=lambda *a: None)
    assert [c.data for c in services.ExpiryTimer().check(ctx)] == ["enable", "start"]
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "enabled",
                                                               "ActiveState": "active"})
    assert services.ExpiryTimer().check(ctx) == []


def write_jvb_conf(paths, nick):
    os.makedirs(paths("/etc/jitsi/videobridge"))
    with open(paths("/etc/jitsi/videobridge/jvb.conf"), "w") as f:
        f.write('videobridge {{ apis.xmpp-client.configs {{ shard {{ MUC_NICKNAME={} }} }} }}\n'.format(nick))


def test_no_local_bridge_waits_for_an_external_bridge(paths, monkeypatch):
    write_jvb_conf(paths, "local-uuid")
    assert services.local_nickname(paths) == "local-uuid"
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "enabled",
                                                               "ActiveState": "active"})
    ctx = Context(paths, progress=lambda *a: None)
    only_local = jicofo.parse_bridges(debug_doc(**{"local-uuid": bridge_state()}))
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("u", only_local))
    changes = services.LocalBridge(False, True).check(ctx)
    assert [c.data for c in changes] == ["record"]  # only the choice is remembered
    assert any("no other bridge is in the brewery yet" in line for line in ctx.degraded)

    ctx = Context(paths, progress=lambda *a: None)
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("u", jicofo.parse_bridges(
        debug_doc(**{"local-uuid": bridge_state(), "ext": bridge_state()}))))
    changes = services.LocalBridge(False, True).check(ctx)
    assert [c.data for c in changes] == ["record", "off", "close"] and not ctx.degraded
    assert "ext in the brewery" in changes[1].summary


def test_local_bridge_choice_is_remembered(paths):
    assert services.recorded_choice(paths) is None
    os.makedirs(paths.server_state)
    with open(os.path.join(paths.server_state, "local-bridge"), "w") as f:
        f.write("off\n")
    assert services.recorded_choice(paths) is False


def test_local_bridge_turned_back_on_when_stopped(paths, monkeypatch):
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "disabled",
                                                               "ActiveState": "inactive"})
    ctx = Context(paths, progress=lambda *a: None)
    assert [c.data for c in services.LocalBridge(True, True).check(ctx)] == ["record", "on"]
    # not asked for explicitly (a plain re-run): nothing to remember
    assert [c.data for c in services.LocalBridge(True, False).check(ctx)] == ["on"]


def test_no_local_bridge_closes_the_port_of_a_bridge_stopped_by_hand(paths, monkeypatch):
    from jvbjoin.system.run import Result
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "disabled",
                                                               "ActiveState": "inactive"})
    status = "Status: active\n\nTo Action From\n-- ------ ----\n22/tcp ALLOW Anywhere\n10000/udp ALLOW Anywhere\n"
    monkeypatch.setattr(services, "run", lambda argv, **kw: Result(argv, 0, status, ""))
    ctx = Context(paths, progress=lambda *a: None)
    assert [c.data for c in services.LocalBridge(False, False).check(ctx)] == ["close"]
    monkeypatch.setattr(services, "run", lambda argv, **kw: Result(argv, 0, status.replace("10000/udp", "443/tcp"), ""))
    assert services.LocalBridge(False, False).check(ctx) == []


# --- jicofo's daemon under an active SysV unit --------------------------------------------------------

def jicofo_process(paths, pid, cmdline=b"/usr/bin/java\0-jar\0/usr/share/jicofo/jicofo.jar\0"):
    os.makedirs(paths("/var/run"), exist_ok=True)
    with open(paths(jicofo.PIDFILE), "w") as f:
        f.write("{}\n".format(pid))
    if cmdline is not None:
        os.makedirs(paths("/proc/{}".format(pid)), exist_ok=True)
        with open(paths("/proc/{}/cmdline".format(pid)), "wb") as f:
            f.write(cmdline)


def refused(timeout=2.0):
    raise ConnectionRefusedError(111, "Connection refused")


def test_the_daemon_state_comes_from_jicofo_itself_not_its_unit(paths, monkeypatch):
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: (200, "OK"))
    assert jicofo.daemon_state(paths).state == jicofo.HEALTHY
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: (500, "No operational bridges available"))
    assert jicofo.daemon_state(paths).state == jicofo.NO_BRIDGE and jicofo.daemon_state(paths).answers
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: (503, "not connected"))
    assert jicofo.daemon_state(paths).state == jicofo.NOT_CONNECTED
    monkeypatch.setattr(jicofo, "health", refused)
    assert jicofo.daemon_state(paths).state == jicofo.DEAD  # no pid file
    jicofo_process(paths, 4321, cmdline=None)  # a stale pid file: the daemon exited
    assert jicofo.daemon_state(paths).state == jicofo.DEAD
    jicofo_process(paths, 4321, cmdline=b"/usr/sbin/sshd\0")  # its pid reused by another program
    assert jicofo.daemon_state(paths).state == jicofo.DEAD
    jicofo_process(paths, 4321)
    state = jicofo.daemon_state(paths)
    assert state.state == jicofo.NOT_ANSWERING and state.pid == 4321


def test_waiting_for_jicofo_stops_once_it_answers_or_stays_dead(paths, monkeypatch):
    answers = iter([refused, refused, lambda timeout=2.0: (200, "OK")])
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: next(answers)(timeout))
    clock = Clock()
    assert jicofo.wait_answering(paths, 60, clock=clock, sleep=clock.sleep).state == jicofo.HEALTHY
    monkeypatch.setattr(jicofo, "health", refused)
    clock = Clock()
    assert jicofo.wait_answering(paths, 60, clock=clock, sleep=clock.sleep).state == jicofo.DEAD
    assert 5 <= clock.now < 10  # a dead daemon is not waited for the whole minute


def _install_verify(paths, monkeypatch, after_restart):
    """ensure_jicofo_answers with a dead daemon; ``after_restart`` is what health says once restarted."""
    calls, said = [], []
    monkeypatch.setattr(jicofo, "health", refused)
    monkeypatch.setattr(jicofo, "wait_answering", lambda p, t: jicofo.daemon_state(p))

    def systemd_call(verb, unit):
        calls.append((verb, unit))
        monkeypatch.setattr(jicofo, "health", after_restart)

    monkeypatch.setattr(services, "_systemd_call", systemd_call)
    try:
        return services.ensure_jicofo_answers(paths, said.append), calls, said
    except Exception as exc:
        return exc, calls, said


def test_server_install_restarts_a_daemon_that_lost_the_restart_race_once(paths, monkeypatch):
    state, calls, said = _install_verify(paths, monkeypatch, lambda timeout=2.0: (200, "OK"))
    assert state.state == jicofo.HEALTHY
    assert calls == [("restart", "jicofo.service")]  # restart, not start: the unit is still active
    assert any("restarting jicofo once" in line for line in said)


def test_server_install_fails_clearly_when_jicofo_stays_dead(paths, monkeypatch):
    from jvbjoin.errors import VerifyError
    error, calls, _ = _install_verify(paths, monkeypatch, refused)
    assert isinstance(error, VerifyError) and calls == [("restart", "jicofo.service")]
    assert "unit is active but its daemon is dead" in error.message and "systemctl restart jicofo" in error.remedy


def test_doctor_tells_a_dead_daemon_under_an_active_unit_apart(paths, monkeypatch):
    from jvbjoin.server.checks import services as server
    from jvbjoin.doctor.core import Facts
    facts = Facts(paths)
    facts.put("unit:jicofo.service", {"LoadState": "loaded", "ActiveState": "active", "SubState": "exited"})
    monkeypatch.setattr(jicofo, "health", refused)
    jicofo_process(paths, 4321, cmdline=None)
    result = server.check_jicofo(facts)
    assert result.status == "fail" and "unit is active but its daemon is dead" in result.detail
    assert result.remedy.startswith("systemctl restart jicofo")
    jicofo_process(paths, 4321)
    result = server.check_jicofo(facts)
    assert result.status == "fail" and "(pid 4321) runs but" in result.detail
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: (500, "No operational bridges available"))
    assert server.check_jicofo(facts).status == "ok"


def test_status_says_when_jicofo_is_active_but_its_daemon_dead(paths, monkeypatch):
    from jvbjoin.server import status
    monkeypatch.setattr(status, "unit_state", lambda name: {"ActiveState": "active", "SubState": "exited"})
    monkeypatch.setattr(jicofo, "health", refused)
    assert status.jicofo_text(paths) == "active/exited, but its daemon is dead (systemctl restart jicofo)"
    monkeypatch.setattr(jicofo, "health", lambda timeout=2.0: (200, "OK"))
    assert status.jicofo_text(paths) == "active/exited"


def test_doctor_names_a_pid_file_left_under_a_failed_jicofo_unit_with_a_remedy_that_removes_it(paths, monkeypatch):
    """jicofo's init script does not start while its pid file exists and removes it only in its stop,
    which systemd does not run for a failed unit: 'systemctl start jicofo' alone fails again."""
    from jvbjoin.server.checks import services as server
    from jvbjoin.doctor.core import Facts
    facts = Facts(paths)
    facts.put("unit:jicofo.service", {"LoadState": "loaded", "ActiveState": "failed", "SubState": "failed"})
    result = server.check_jicofo(facts)  # no pid file: a plain start
    assert result.status == "fail" and result.remedy.startswith("systemctl start jicofo")
    jicofo_process(paths, 4321, cmdline=None)  # stale
    result = server.check_jicofo(facts)
    assert result.status == "fail" and "/var/run/jicofo.pid is left by a jicofo that is gone (pid 4321)" in result.detail
    assert result.remedy == "rm -f /var/run/jicofo.pid; systemctl start jicofo"
    jicofo_process(paths, 4321)  # a jicofo still runs, outside its unit: it goes first
    result = server.check_jicofo(facts)
    assert "still runs outside its unit (pid 4321)" in result.detail
    assert result.remedy == ("kill 4321; while kill -0 4321 2>/dev/null; do sleep 1; done; "
                             "rm -f /var/run/jicofo.pid; systemctl start jicofo")
    facts = Facts(paths)
    facts.put("unit:jicofo.service", {"LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead"})
    assert "is not installed" in server.check_jicofo(facts).detail
