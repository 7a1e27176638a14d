"""doctor's server-regions check: with regions on, one version, a region and a relay id of its own
on every bridge; skipped while regions are off."""

import pytest

from jvbjoin.doctor.core import Facts
from jvbjoin.errors import JvbJoinError
from jvbjoin.server import jicofo, model
from jvbjoin.server.checks import regions as check
from jvbjoin.server.regions import JICOFO_FRAGMENT

from helpers import bridge_state, debug_doc, write

OLD = "2.3.300-gaaaaaaaa"


def facts_with(paths, monkeypatch, regions_on=True, **table):
    if regions_on:
        write(paths(JICOFO_FRAGMENT), "jicofo.octo.enabled = true\n")
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("http://127.0.0.1:8888",
                                                      jicofo.parse_bridges(debug_doc(**table))))
    return Facts(paths)


def relay(region, relay_id, **over):
    return bridge_state(region=region, **dict({"relay-id": relay_id}, **over))


def test_skipped_while_regions_are_off(paths, monkeypatch):
    result = check.check_server_regions(facts_with(paths, monkeypatch, regions_on=False, a=bridge_state()))
    assert result.status == "skipped"


def test_a_token_with_a_region_turns_the_check_on_and_jicofo_must_select_by_region(paths, monkeypatch):
    facts = facts_with(paths, monkeypatch, regions_on=False, a=relay("eu", "a"))
    model.TokenStore(paths).save([{"id": "aaaa1111", "region": "eu", "exp": 2 ** 40, "created": 0,
                                   "user": "jvb-aaaa1111", "domain": "auth.x"}])
    result = check.check_server_regions(facts)
    assert result.status == "warn" and "jicofo does not select bridges by region" in result.detail
    assert "server install --domain DOMAIN --region REGION" in result.remedy
    write(paths(JICOFO_FRAGMENT), "jicofo.octo.enabled = true\n")
    assert check.check_server_regions(facts).status == "ok"


def test_a_healthy_fleet_of_two_regions(paths, monkeypatch):
    result = check.check_server_regions(facts_with(paths, monkeypatch, a=relay("eu", "a"), b=relay("eu", "b"),
                                                   c=relay("us", "c")))
    assert result.status == "ok" and "3 bridge(s) in 2 region(s)" in result.detail


@pytest.mark.parametrize("table, words", [
    ({"a": relay("eu", "a"), "b": relay("us", "b", version=OLD)}, ["different versions", OLD + " on b"]),
    ({"a": relay("eu", "a"), "b": bridge_state(**{"relay-id": "b"})}, ["b announces no region"]),
    ({"a": relay("eu", "a"), "b": bridge_state()}, ["b announces no region and no relay id"]),
    ({"a": relay("eu", "x"), "b": relay("us", "x")}, ["a and b share the relay id x"]),
])
def test_each_fleet_problem_is_a_warning_that_names_the_bridge(paths, monkeypatch, table, words):
    result = check.check_server_regions(facts_with(paths, monkeypatch, **table))
    assert result.status == "warn"
    for word in words:
        assert word in result.detail
    assert result.remedy


def test_jicofo_not_answering_fails(paths, monkeypatch):
    write(paths(JICOFO_FRAGMENT), "x\n")

    def down(p):
        raise jicofo.JicofoError("jicofo does not answer", "systemctl restart jicofo")
    monkeypatch.setattr(jicofo, "bridges", down)
    assert check.check_server_regions(Facts(paths)).status == "fail"
    assert issubclass(jicofo.JicofoError, JvbJoinError)
