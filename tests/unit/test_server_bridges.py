"""`jvb-join bridges`: jicofo's debug state read as the real jicofo writes it, joined with prosody's
brewery occupants and the token store; the server's own units (expiry timer, local bridge)."""

import io
import json
import os
import urllib.error

import pytest

from jvbjoin.cli import main as cli
from jvbjoin.cli.output import bridges_table
from jvbjoin.server import bridges, jicofo, model, tokens

from helpers import bridge_state, debug_doc

DOMAIN = "meet.example.com"
ROOM = "jvbbrewery@internal.auth.{}".format(DOMAIN)


def test_parse_bridges_reads_the_real_keys_and_nulls():
    out = jicofo.parse_bridges(debug_doc(b=bridge_state(drain=True, region="eu-west"), a=bridge_state()))
    assert [b["nickname"] for b in out] == ["a", "b"]
    a, b = out
    assert a["version"] == "2.3.312-ga29d97d13" and a["region"] is None and a["relay_id"] is None
    assert a["stress"] == 0.05 and a["drain"] is False and a["brewery"] == ROOM
    assert b["drain"] is True and b["region"] == "eu-west"
    assert bridges.bridge_state(b) == "draining" and bridges.bridge_state(a) == "ok"


def test_no_bridge_selector_means_no_bridges():
    assert jicofo.parse_bridges({"focus_manager": {}}) == []


@pytest.mark.parametrize("flags,word", [({"shutting-down": True, "graceful-shutdown": True}, "shutting-down"),
                                        ({"graceful-shutdown": True}, "graceful-shutdown"),
                                        ({"operational": False}, "unhealthy"),
                                        ({"overloaded": True}, "overloaded")])
def test_state_word_puts_the_most_important_first(flags, word):
    (bridge,) = jicofo.parse_bridges(debug_doc(a=bridge_state(**flags)))
    assert bridges.bridge_state(bridge) == word


def test_rest_url_defaults_and_jicofo_conf(paths):
    assert jicofo.rest_url(paths) == "http://127.0.0.1:8888"
    os.makedirs(paths("/etc/jitsi/jicofo"))
    with open(paths("/etc/jitsi/jicofo/jicofo.conf"), "w") as f:
        f.write('jicofo {\n  xmpp: { client: { port: 5222 } }\n'
                '  rest {\n    port = 8899\n    host = "0.0.0.0"\n  }\n}\n')
    assert jicofo.rest_url(paths) == "http://127.0.0.1:8899"


def test_jicofo_not_running_is_a_clear_error(monkeypatch):
    def refused(*a, **k):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    monkeypatch.setattr(jicofo.urllib.request, "urlopen", refused)
    with pytest.raises(jicofo.JicofoError) as err:
        jicofo.read_debug("http://127.0.0.1:8888")
    assert "does not answer on http://127.0.0.1:8888" in err.value.message
    assert "systemctl status jicofo" in err.value.remedy


def test_debug_interface_off_names_the_key(monkeypatch):
    def not_found(*a, **k):
        raise urllib.error.HTTPError("http://127.0.0.1:8888/debug", 404, "Not Found", {}, io.BytesIO(b""))
    monkeypatch.setattr(jicofo.urllib.request, "urlopen", not_found)
    with pytest.raises(jicofo.JicofoError) as err:
        jicofo.read_debug("http://127.0.0.1:8888")
    assert "jicofo.rest.debug.enabled = true" in err.value.remedy


def test_parse_occupants_takes_only_marked_lines():
    text = ("Prosody was unable to find lua-unbound\n"
            "| jvb-join-occupant\t{0}/nick-a\tjvb-abc@auth.{1}/res1\t198.51.100.7\n"
            "jvb-join-occupant\t{0}/focus\tfocus@auth.{1}/focus\t::1\n"
            "jvb-join-occupant\tbroken line\n"
            "Result: nil\n").format(ROOM, DOMAIN)
    from jvbjoin.server import prosody
    out = prosody.parse_occupants(text)
    assert out == {"nick-a": {"account": "jvb-abc@auth." + DOMAIN, "address": "198.51.100.7"},
                   "focus": {"account": "focus@auth." + DOMAIN, "address": "::1"}}


@pytest.fixture
def server(paths, monkeypatch):
    os.makedirs(paths("/etc/prosody/conf.avail"))
    with open(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN)), "w") as f:
        f.write('Component "internal.auth.{}" "muc"\n'.format(DOMAIN))
    monkeypatch.setattr(tokens.os, "geteuid", lambda: 0)
    records = [
        {"id": "aaaa1111", "name": "first", "user": "jvb-aaaa1111", "domain": "auth." + DOMAIN, "created": 1,
         "exp": 2, "joined": 5},
        {"id": "bbbb2222", "name": "second", "user": "jvb-bbbb2222", "domain": "auth." + DOMAIN, "created": 1,
         "exp": 2, "joined": 5},
        {"id": "cccc3333", "name": "gone", "user": "jvb-cccc3333", "domain": "auth." + DOMAIN, "created": 1,
         "exp": 2, "revoked": 9},
    ]
    records.append({"id": "dddd4444", "name": "left", "user": "jvb-dddd4444", "domain": "auth." + DOMAIN,
                    "created": 1, "exp": 2, "joined": 5})  # its bridge left: no account any more
    model.TokenStore(paths).save(records)
    # prosody's accounts of the two joined tokens (only the SCRAM stored_key is read)
    folder = paths("/var/lib/prosody", "auth%2emeet%2eexample%2ecom", "accounts")
    os.makedirs(folder)
    for user in ("jvb%2daaaa1111", "jvb%2dbbbb2222"):
        with open(os.path.join(folder, user + ".dat"), "w") as f:
            f.write('return {\n\t["stored_key"] = "00ff";\n};\n')
    return paths


def test_fleet_names_the_token_behind_each_bridge(server, monkeypatch):
    paths = server
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("http://127.0.0.1:8888", jicofo.parse_bridges(
        debug_doc(nick1=bridge_state(), local=bridge_state(stress=0.5)))))
    monkeypatch.setattr(bridges, "occupants", lambda d: {
        "nick1": {"account": "jvb-aaaa1111@auth." + DOMAIN, "address": "198.51.100.7"},
        "local": {"account": "jvb@auth." + DOMAIN, "address": "127.0.0.1"}})
    doc = bridges.fleet(paths, now=10)
    by_nick = {b["nickname"]: b for b in doc["bridges"]}
    assert by_nick["nick1"]["token"] == "aaaa1111" and by_nick["nick1"]["token_name"] == "first"
    assert by_nick["nick1"]["address"] == "198.51.100.7"
    assert by_nick["local"]["token"] is None and by_nick["local"]["token_name"] == "(shared jvb account)"
    # the second token's account is not in the brewery; the revoked and left ones are not listed
    assert [t["token"] for t in doc["not_connected"]] == ["bbbb2222"]
    # the nickname is remembered for `token list`
    stored = {r["id"]: r for r in model.TokenStore(paths).load()}
    assert stored["aaaa1111"]["nickname"] == "nick1" and "nickname" not in stored["bbbb2222"]
    text = bridges_table(doc)
    assert "nick1" in text and "aaaa1111 (first)" in text and "Token accounts not in the brewery:" in text
    json.dumps(doc)


def test_fleet_marks_an_occupant_that_is_not_a_fleet_account(server, monkeypatch):
    # a guest got in (an open brewery), and a revoked token's account is still in the room
    paths = server
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("u", jicofo.parse_bridges(
        debug_doc(rogue=bridge_state(), stale=bridge_state(), nick1=bridge_state()))))
    monkeypatch.setattr(bridges, "occupants", lambda d: {
        "rogue": {"account": "abc123@" + DOMAIN, "address": "203.0.113.9"},
        "stale": {"account": "jvb-cccc3333@auth." + DOMAIN, "address": "198.51.100.9"},
        "nick1": {"account": "jvb-aaaa1111@auth." + DOMAIN, "address": "198.51.100.7"}})
    by_nick = {b["nickname"]: b for b in bridges.fleet(paths, now=10)["bridges"]}
    assert by_nick["rogue"]["state"] == "not-a-fleet-account"
    assert by_nick["stale"]["state"] == "not-a-fleet-account" and by_nick["stale"]["token"] is None
    assert by_nick["nick1"]["state"] == "ok"
    assert "not-a-fleet-account" in bridges_table(bridges.fleet(paths, now=10))


def test_fleet_without_prosody_answers_falls_back_to_remembered_nicknames(server, monkeypatch):
    paths = server
    store = model.TokenStore(paths)
    records = store.load()
    records[1]["nickname"] = "nick2"
    store.save(records)
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("u", jicofo.parse_bridges(debug_doc(nick2=bridge_state()))))
    monkeypatch.setattr(bridges, "occupants", lambda d: {})
    (item,) = bridges.fleet(paths, now=10)["bridges"]
    assert item["token"] == "bbbb2222" and item["account"] == "jvb-bbbb2222@auth." + DOMAIN


def test_bridges_on_a_host_that_is_not_a_server(paths, monkeypatch, capsys):
    monkeypatch.setattr(tokens.os, "geteuid", lambda: 0)
    import jvbjoin.system.paths
    monkeypatch.setattr(jvbjoin.system.paths, "Paths", lambda root="/": paths)
    code = cli.main(["bridges"])
    _, err = capsys.readouterr()
    assert code == 1 and "not a Jitsi Meet server" in err and "server install" in err


def test_expire_notices_a_bridge_that_left_and_closes_what_its_token_opened(server, monkeypatch):
    """The bridge of 'dddd4444' left (its account is gone): the timer's run notes it, takes its
    account out of prosody's rights and closes its 5222 rule unless a live token shares the source;
    an unused token past expiry loses its account and rule the same way."""
    paths = server
    from jvbjoin.server import rights
    store = model.TokenStore(paths)
    records = store.load()
    for r, source in zip(records, ("198.51.100.7/32", "198.51.100.8/32", None, "198.51.100.9/32")):
        if source:
            r["allow_from"] = source
    records.append({"id": "eeee5555", "name": "unused", "user": "jvb-eeee5555", "domain": "auth." + DOMAIN,
                    "created": 1, "exp": 2, "allow_from": "198.51.100.7/32"})  # shares jvb1's source
    records.append({"id": "ffff6666", "name": "unused2", "user": "jvb-ffff6666", "domain": "auth." + DOMAIN,
                    "created": 1, "exp": 2, "allow_from": "198.51.100.10/32"})
    # not expired, never seen joined, and its account deleted (by hand, or a join and leave
    # between two runs of the timer): it cannot log in any more either
    records.append({"id": "gggg7777", "name": "deleted", "user": "jvb-gggg7777", "domain": "auth." + DOMAIN,
                    "created": 1, "exp": 100, "allow_from": "198.51.100.11/32"})
    store.save(records)
    folder = paths("/var/lib/prosody", "auth%2emeet%2eexample%2ecom", "accounts")
    for user in ("jvb%2deeee5555", "jvb%2dffff6666"):
        with open(os.path.join(folder, user + ".dat"), "w") as f:
            f.write('return {\n\t["stored_key"] = "abcd";\n};\n')
    deleted, closed, synced = [], [], []
    monkeypatch.setattr(tokens, "delete_account", deleted.append)
    monkeypatch.setattr(tokens, "kick_sessions", lambda jid: None)
    monkeypatch.setattr(tokens, "run", lambda argv, **kw: closed.append(argv))
    monkeypatch.setattr(rights, "sync", lambda p, d, recs: synced.append(rights.live_accounts(recs)))
    from jvbjoin.server import prosody
    monkeypatch.setattr(prosody, "brewery_accounts", lambda domain: set())
    expired = tokens.expire(paths, now=10)
    assert expired == ["eeee5555", "ffff6666"]
    assert deleted == ["jvb-eeee5555@auth." + DOMAIN, "jvb-ffff6666@auth." + DOMAIN]
    stored = {r["id"]: r for r in store.load()}
    assert stored["dddd4444"]["account_gone"] == 10 and "account_gone" not in stored["aaaa1111"]
    # 198.51.100.7 stays open for the joined bridge aaaa1111; the left and the expired ones close
    assert [a[4] for a in closed] == ["198.51.100.10/32", "198.51.100.11/32", "198.51.100.9/32"] and closed[0][:3] == ["ufw", "delete", "allow"]
    assert synced == [["jvb-aaaa1111@auth." + DOMAIN, "jvb-bbbb2222@auth." + DOMAIN]]
    # a second run finds nothing more to do
    deleted[:], closed[:], synced[:] = [], [], []
    assert tokens.expire(paths, now=20) == [] and not deleted and not closed and not synced


def _token_world(paths, monkeypatch, in_brewery):
    """One token (exp 100) with an account; prosody's brewery as ``in_brewery()`` says."""
    from jvbjoin.server import prosody, rights
    os.makedirs(paths("/etc/prosody/conf.avail"), exist_ok=True)
    with open(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN)), "w") as f:
        f.write('Component "internal.auth.{}" "muc"\n'.format(DOMAIN))
    monkeypatch.setattr(tokens.os, "geteuid", lambda: 0)
    model.TokenStore(paths).save([{"id": "tok12345", "name": "", "user": "jvb-tok12345", "domain": "auth." + DOMAIN,
                                    "meet": DOMAIN, "created": 1, "exp": 100}])
    deleted = []
    monkeypatch.setattr(tokens, "delete_account", deleted.append)
    monkeypatch.setattr(tokens, "kick_sessions", lambda jid: None)
    monkeypatch.setattr(tokens, "run", lambda argv, **kw: None)
    monkeypatch.setattr(rights, "sync", lambda p, d, recs: None)
    monkeypatch.setattr(prosody, "brewery_accounts", lambda domain: in_brewery())
    return deleted


def _stored_key(paths, key):
    folder = paths("/var/lib/prosody", "auth%2emeet%2eexample%2ecom", "accounts")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "jvb%2dtok12345.dat"), "w") as f:
        f.write('return {\n\t["stored_key"] = "%s";\n};\n' % key)


def test_a_token_is_joined_once_its_account_is_seen_in_the_brewery_and_stays_past_expiry(paths, monkeypatch):
    seen = {"now": {"jvb-tok12345@auth." + DOMAIN}}
    deleted = _token_world(paths, monkeypatch, lambda: seen["now"])
    _stored_key(paths, "b1")  # the bridge's own password
    assert tokens.expire(paths, now=50) == []
    assert model.TokenStore(paths).load()[0]["joined"] == 50
    seen["now"] = set()  # the bridge restarts, past the token's expiry: its account stays
    assert tokens.expire(paths, now=200) == [] and deleted == []
    assert model.token_state(model.TokenStore(paths).load()[0], paths, now=200) == "joined"


def test_a_rolled_back_join_ends_at_expiry_even_after_a_glimpse_of_the_brewery(paths, monkeypatch):
    seen = {"now": {"jvb-tok12345@auth." + DOMAIN}}
    deleted = _token_world(paths, monkeypatch, lambda: seen["now"])
    _stored_key(paths, "b1")
    tokens.expire(paths, now=50)  # the timer ran while the failing join's bridge was briefly in
    seen["now"] = set()
    _stored_key(paths, "c2")  # the rollback set the token's password again: another stored key
    assert tokens.expire(paths, now=60) == []
    record = model.TokenStore(paths).load()[0]
    assert "joined" not in record and model.token_state(record, paths, now=60) == "unused"
    assert tokens.expire(paths, now=101) == ["tok12345"]
    assert deleted == ["jvb-tok12345@auth." + DOMAIN]


def test_a_changed_password_with_no_bridge_in_the_brewery_is_not_a_join(paths, monkeypatch):
    deleted = _token_world(paths, monkeypatch, lambda: set())
    _stored_key(paths, "cc")
    assert tokens.expire(paths, now=101) == ["tok12345"] and deleted == ["jvb-tok12345@auth." + DOMAIN]


def test_no_account_is_removed_while_prosody_cannot_say_who_is_in_the_brewery(paths, monkeypatch):
    deleted = _token_world(paths, monkeypatch, lambda: None)
    _stored_key(paths, "d1")
    assert tokens.expire(paths, now=101) == [] and deleted == []


def test_fleet_shows_region_and_relay_id_per_bridge(server, monkeypatch):
    paths = server
    monkeypatch.setattr(jicofo, "bridges", lambda p: ("http://127.0.0.1:8888", jicofo.parse_bridges(debug_doc(
        nick1=bridge_state(region="eu", **{"relay-id": "nick1"}), local=bridge_state()))))
    monkeypatch.setattr(bridges, "occupants", lambda d: {})
    doc = bridges.fleet(paths, now=10)
    by_nick = {b["nickname"]: b for b in doc["bridges"]}
    assert (by_nick["nick1"]["region"], by_nick["nick1"]["relay_id"]) == ("eu", "nick1")
    assert (by_nick["local"]["region"], by_nick["local"]["relay_id"]) == (None, None)
    lines = bridges_table(doc).splitlines()
    assert lines[0].split()[-3:] == ["REGION", "RELAY", "ID"]
    assert [line.split()[-2:] for line in lines[1:3]] == [["-", "-"], ["eu", "nick1"]]
    no_regions = dict(doc, bridges=[by_nick["local"]])
    assert "REGION" not in bridges_table(no_regions)
