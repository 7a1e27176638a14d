"""The join's proof: it waits for the brewery, and a bridge that dies meanwhile ends the wait at once."""

import time
import types

import pytest

from jvbjoin.bridge import api as bridge_api, join
from jvbjoin.system import systemd
from jvbjoin.errors import StepError, VerifyError
from jvbjoin.bridge import model as nickname

from helpers import join_run, make_token


class FakeSystemd:
    states = []

    def __enter__(self):
        return self

    def unit_state(self, name):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def close(self):
        FakeSystemd.closed = True


class NeverHealthy:
    def health(self):
        return False, "the bridge's health check does not answer yet"


def make_ctx(tmp_path, watch):
    run = join_run(make_token(muc="jvbbrewery@internal.auth.meet.example.com"), verify_timeout=1.5)
    if watch:
        run.bridge_watch = systemd.Watch("jitsi-videobridge2.service", {"ActiveState": "active", "NRestarts": 0})
    return types.SimpleNamespace(run=run, progress=lambda message: None,
                                 paths=types.SimpleNamespace(jvb_log=str(tmp_path / "jvb.log")))


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(systemd, "Systemd", FakeSystemd)
    monkeypatch.setattr(bridge_api, "BridgeAPI", NeverHealthy)
    monkeypatch.setattr(nickname, "bridge_nickname", lambda ctx: "jvb-host-0123abcd")
    FakeSystemd.closed = False


def test_a_bridge_that_fails_while_the_join_waits_ends_the_wait_at_once(tmp_path, fakes):
    FakeSystemd.states = [{"ActiveState": "active", "NRestarts": 0},
                          {"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": 78}]
    started = time.monotonic()
    with pytest.raises(StepError) as e:
        join.verify_in_brewery(make_ctx(tmp_path, watch=True), None)
    assert time.monotonic() - started < 1.4  # not the whole verify timeout
    assert "rejected its configuration" in e.value.message
    assert FakeSystemd.closed


def test_a_bridge_that_stays_up_but_never_joins_times_out_with_the_last_reason(tmp_path, fakes):
    FakeSystemd.states = [{"ActiveState": "active", "NRestarts": 0}]
    with pytest.raises(VerifyError) as e:
        join.verify_in_brewery(make_ctx(tmp_path, watch=True), None)
    assert "health check does not answer" in e.value.message


def test_without_a_restart_in_this_run_systemd_is_not_asked(tmp_path, fakes):
    FakeSystemd.states = [{"ActiveState": "failed"}]  # would fail if it were asked
    with pytest.raises(VerifyError):
        join.verify_in_brewery(make_ctx(tmp_path, watch=False), None)
    assert not FakeSystemd.closed


def test_the_failure_shows_the_bridge_log_before_the_rollback_can_purge_it(tmp_path, fakes):
    (tmp_path / "jvb.log").write_text("starting\nSEVERE: Invalid duration unit: 5 fortnights\n")
    FakeSystemd.states = [{"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": 78}]
    with pytest.raises(StepError) as e:
        join.verify_in_brewery(make_ctx(tmp_path, watch=True), None)
    assert "Invalid duration unit: 5 fortnights" in e.value.message
    assert "journalctl" in e.value.remedy


def test_a_token_of_another_server_of_a_served_domain_is_refused_before_anything_is_written(paths):
    import json
    import os
    from jvbjoin.errors import DomainServedError
    from helpers import write
    served = make_token()
    write(paths.bridge_state, json.dumps({"server": served.host, "port": 5222, "domain": served.domain,
                                          "token_id": served.id, "password_changed": True}))
    write(paths.jvb_fragment, 'PASSWORD = "p"\n')
    listing = sorted(os.walk(paths.root))
    with pytest.raises(DomainServedError):
        join.join(served.replace(host="other.example.net", id="zzz99999"), join.JoinOptions(dry_run=True), paths,
                  lambda line: None)
    assert sorted(os.walk(paths.root)) == listing
