"""The server's own units as `server install` leaves them: the token expiry timer, and the local
bridge that --no-local-bridge turns off only once another bridge is in the brewery."""

import os

from jvbjoin.engine import Context
from jvbjoin.server import jicofo, services

from test_server_bridges import bridge_state, debug_doc



def test_expiry_timer_enabled_and_started_when_off(paths, monkeypatch):
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "disabled",
                                                               "ActiveState": "inactive"})
    ctx = Context(paths, {}, lambda *a: None)
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
    ctx = Context(paths, {}, lambda *a: None)
    only_local = jicofo.parse_bridges(debug_doc(**{"local-uuid": bridge_state()}))
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("u", only_local))
    changes = services.LocalBridge(False, True).check(ctx)
    assert [c.data for c in changes] == ["record"]  # only the choice is remembered
    assert any("no other bridge is in the brewery yet" in line for line in ctx.degraded)

    ctx = Context(paths, {}, lambda *a: None)
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
    ctx = Context(paths, {}, lambda *a: None)
    assert [c.data for c in services.LocalBridge(True, True).check(ctx)] == ["record", "on"]
    # not asked for explicitly (a plain re-run): nothing to remember
    assert [c.data for c in services.LocalBridge(True, False).check(ctx)] == ["on"]


def test_no_local_bridge_closes_the_port_of_a_bridge_stopped_by_hand(paths, monkeypatch):
    from jvbjoin.run import Result
    monkeypatch.setattr(services, "state_of", lambda unit: {"LoadState": "loaded", "UnitFileState": "disabled",
                                                               "ActiveState": "inactive"})
    status = "Status: active\n\nTo Action From\n-- ------ ----\n22/tcp ALLOW Anywhere\n10000/udp ALLOW Anywhere\n"
    monkeypatch.setattr(services, "run", lambda argv, **kw: Result(argv, 0, status, ""))
    ctx = Context(paths, {}, lambda *a: None)
    assert [c.data for c in services.LocalBridge(False, False).check(ctx)] == ["close"]
    monkeypatch.setattr(services, "run", lambda argv, **kw: Result(argv, 0, status.replace("10000/udp", "443/tcp"), ""))
    assert services.LocalBridge(False, False).check(ctx) == []
