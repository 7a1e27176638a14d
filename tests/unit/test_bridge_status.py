"""`jvb-join status` on a bridge that serves two servers: a `servers` list, each server with its
account, brewery and whether the bridge is in it; the top-level keys stay the first server's."""

import json

import pytest

from jvbjoin.bridge import brewery, shards, status
from jvbjoin.cli.output import status_table

from helpers import DOMAIN, MUC, NICK, write

SECOND_MUC = "jvbbrewery@internal.auth.meet2.example.com"


class FakeAPI:
    metrics = None

    def __init__(self, timeout=None):
        pass

    def metrics_or_raise(self):
        if self.metrics is None:
            raise OSError("connection refused")
        return self.metrics


@pytest.fixture
def two(host, monkeypatch):
    sub = shards.ServerPaths(host, "auth.meet2.example.com")
    write(sub.bridge_state, json.dumps({"server": "meet2.example.com", "port": 5222, "domain": "auth.meet2.example.com",
                                        "meet": "meet2.example.com", "muc": SECOND_MUC, "user": "jvb-def",
                                        "pin": "x", "password_changed": True}))
    write(sub.jvb_fragment, 'PASSWORD = "second"\n')
    write(host.jvb_log, "JVB 2026-12-07 10:00:00.000 INFO: [1] Joined MUC: {}\n"
                        "JVB 2026-12-07 11:00:00.000 INFO: [1] Joined MUC: {}\n".format(MUC, SECOND_MUC))
    monkeypatch.setattr(status, "unit_state", lambda name: {"ActiveState": "active", "SubState": "running"})
    monkeypatch.setattr(status, "BridgeAPI", FakeAPI)
    return host


def metrics(monkeypatch, joined, configured):
    monkeypatch.setattr(FakeAPI, "metrics", {"jitsi_jvb_mucs_joined": joined, "jitsi_jvb_mucs_configured": configured,
                                             "jitsi_jvb_muc_clients_connected": joined})


def test_a_bridge_in_both_breweries_lists_both_servers_in_them(two, monkeypatch):
    metrics(monkeypatch, 2, 2)
    monkeypatch.setattr(brewery.Server, "occupants", lambda self, timeout=20: pytest.fail("no server is asked"))
    info = status.bridge_status(two)
    assert [(s["server"], s["address"], s["account"], s["brewery"], s["in_brewery"], s["in_brewery_since"])
            for s in info["servers"]] == [
        (DOMAIN, DOMAIN + ":5222", "jvb-abc@auth.meet.example.com", MUC, True, "2026-12-07 10:00:00"),
        ("meet2.example.com", "meet2.example.com:5222", "jvb-def@auth.meet2.example.com", SECOND_MUC, True,
         "2026-12-07 11:00:00")]
    assert all(s["nickname"] == NICK for s in info["servers"])
    # the keys of a single-server bridge are the first server's
    assert (info["server"], info["account"], info["brewery"], info["in_brewery"]) == \
        (DOMAIN + ":5222", "jvb-abc@auth.meet.example.com", MUC, True)
    text = status_table(info)
    assert "servers       2" in text and "meet2.example.com  meet2.example.com:5222" in text


def test_in_one_brewery_of_two_each_server_is_asked(two, monkeypatch):
    metrics(monkeypatch, 1, 2)
    asked = []

    def occupants(self, timeout=20):
        asked.append((self.name, self.password))
        return {NICK} if self.name == DOMAIN else {"another-bridge"}
    monkeypatch.setattr(brewery.Server, "occupants", occupants)
    info = status.bridge_status(two)
    assert [s["in_brewery"] for s in info["servers"]] == [True, False]
    assert info["in_brewery"] is True and info["servers"][1]["in_brewery_since"] is None
    assert asked == [(DOMAIN, "s3cret-password"), ("meet2.example.com", "second")]


def test_a_bridge_that_does_not_answer_is_in_no_brewery(two, monkeypatch):
    metrics(monkeypatch, None, None)
    monkeypatch.setattr(FakeAPI, "metrics", None)
    info = status.bridge_status(two)
    assert [s["in_brewery"] for s in info["servers"]] == [False, False] and info["in_brewery"] is False


def test_a_single_server_bridge_has_a_list_of_one_and_its_keys_as_before(host, monkeypatch):
    monkeypatch.setattr(status, "unit_state", lambda name: {"ActiveState": "active", "SubState": "running"})
    monkeypatch.setattr(status, "BridgeAPI", FakeAPI)
    metrics(monkeypatch, 1, 1)
    info = status.bridge_status(host)
    assert [s["server"] for s in info["servers"]] == [DOMAIN] and info["in_brewery"] is True
    assert "servers" not in status_table(info)
