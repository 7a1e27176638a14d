"""Relays between bridge stand-ins: jicofo's colibri2 allocations (jicofo_colibri) handled by the
bridge's colibri2 (colibri) and ICE over UDP on loopback (relay). No root; real sockets on 127.0.0.1."""

import asyncio
import socket
import threading
import time

import pytest

import colibri
import jicofo_colibri as jc
import jicofo_model as model
import jicofo_selector as selection
import relay as ice

ROOM = "jvbbrewery@internal.auth.meet.example.com"


class Log(object):
    def __init__(self):
        self.lines = []

    def info(self, source, message, context=None, thread=1):
        self.lines.append(message)


class FakeBridge(object):
    """What colibri.Conferences reads of jvb.Bridge."""

    def __init__(self, relays=True):
        self.log = Log()
        self.lock = threading.Lock()
        self.conferences = []
        self.totals = {"total_conferences_created": 0, "total_conferences_completed": 0, "total_participants": 0}
        self.graceful_shutdown = self.shutting_down = self.drain = False
        self.mapping_harvesters = []

        class Settings(object):
            relay = {"enabled": relays, "region": None, "relay_id": "x" if relays else None}
        self.settings = Settings()

    def healthcheck_error(self):
        return None


async def _bridge(relays=True):
    b = FakeBridge(relays)
    b.colibri = colibri.Conferences(b)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    b.colibri.single_port = await ice.open_port(asyncio.get_event_loop(), sock)
    b.colibri.addresses = ["127.0.0.1"]
    return b


def jicofo_bridge(nick, region):
    b = model.Bridge("%s/%s" % (ROOM, nick))
    b.stats = {"stress_level": "0.1", "version": "2.3.312-ga29d97d13", "region": region, "relay_id": nick}
    return b


class Brewery(object):
    def __init__(self, bridges):
        self.lock = threading.Lock()
        self.bridges = dict((b.jid, b) for b in bridges)


async def _fleet(relays=True):
    """jicofo's conferences over three bridge stand-ins (eu1, eu2, us1) reached in-process."""
    bridges = {}
    for nick in ("eu1", "eu2", "us1"):
        bridges["%s/%s" % (ROOM, nick)] = await _bridge(relays)
    sent = []

    async def send(jid, element):
        sent.append((jid.rpartition("/")[2], element))
        try:
            return await bridges[jid].colibri.handle(element)
        except colibri.IqError as exc:
            raise jc.ColibriError("%s: %s" % (exc.condition, exc.text))
    selector = selection.Selector({"bridge.selection-strategy": "RegionBasedBridgeSelectionStrategy",
                                   "octo.enabled": True, "local-region": "eu"})
    brewery = Brewery([jicofo_bridge("eu1", "eu"), jicofo_bridge("eu2", "eu"), jicofo_bridge("us1", "us")])
    return jc.Conferences(selector, brewery, send, "meet.example.com", lambda *a: None), bridges, sent


def relays_of(bridge):
    return [(conf["relays"][rid]["ice_transport"], rid)
            for conf in bridge.colibri.debug_state(full=True)["conferences"].values() for rid in conf["relays"]]


async def _until(predicate, seconds):
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def run(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_stun_integrity_holds_with_the_password_only():
    data = ice.encode(ice.BINDING, b"t" * 12, [(ice.USERNAME, b"a:b")], b"secret")
    mtype, tid, attrs, mi_at = ice.decode(data)
    assert (mtype, tid, attrs[ice.USERNAME]) == (ice.BINDING, b"t" * 12, b"a:b")
    assert ice.integrity_ok(data, mi_at, b"secret") and not ice.integrity_ok(data, mi_at, b"other")
    assert ice.decode(b"\x17\x03\x03" + b"\0" * 30) is None  # DTLS/RTP is not STUN


def test_a_conference_of_two_regions_gets_a_relay_that_connects_on_both_bridges():
    async def scenario():
        jicofo, bridges, sent = await _fleet()
        doc = await jicofo.create(["eu", "us", "eu"])
        eu, us = bridges[ROOM + "/eu1"], bridges[ROOM + "/us1"]
        assert [p["bridge"].rpartition("/")[2] for p in doc["participants"]] == ["eu1", "us1", "eu1"]
        assert doc["relays"] == [[ROOM + "/eu1", ROOM + "/us1"]] and not doc["errors"]
        await _until(lambda: all(r[0]["iceConnected"] for r in relays_of(eu) + relays_of(us)) and
                     relays_of(eu) and relays_of(us), 10)
        assert [r[1] for r in relays_of(eu)] == ["us1"] and [r[1] for r in relays_of(us)] == ["eu1"]
        assert not relays_of(bridges[ROOM + "/eu2"])
        # the bridge first in the conference initiates: a unique port; the other the single port
        sessions = doc["colibri_session_manager"]["sessions"]
        assert sessions["eu1"]["relays"]["us1"]["use_unique_port"] is True
        assert sessions["us1"]["relays"]["eu1"]["dtls_setup"] == "passive"
        short = eu.colibri.debug_state()["conferences"]
        assert [c["relays"] for c in short.values()] == [{"us1": "us1"}]
        assert (eu.colibri.relays_created, eu.colibri.relays_ice_failed) == (1, 0)
        # the third participant's endpoint is announced to us1's relay
        assert any(who == "us1" and el.find(jc._q("relay")) is not None and
                   el.find(jc._q("relay")).find(jc._q("transport")) is None for who, el in sent)
        ended = await jicofo.expire(doc["name"])
        assert ended is not None and not eu.colibri.debug_state()["conferences"]
        assert eu.conferences == [] and eu.totals["total_conferences_completed"] == 1
    run(scenario())


def test_a_relay_whose_peer_never_answers_fails_after_the_ice_timeout(monkeypatch):
    monkeypatch.setattr(ice, "CHECK_WAITS", (0.01,) * 7)
    monkeypatch.setattr(ice, "CHECK_LIST_FAIL_DELAY", 0.05)

    async def scenario():
        b = await _bridge()
        mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a peer whose port drops everything
        mute.bind(("127.0.0.1", 0))
        await b.colibri.handle(jc.modify("m1", "c@conference.x", create=True))
        answer = await b.colibri.handle(jc.relay_create("m1", "peer", True, []))
        assert answer.find(jc._q("relay")).find(jc._q("transport")) is not None
        peer = answer.find(jc._q("relay")).find(jc._q("transport")).find("{%s}transport" % jc.ICE_UDP)
        for cand in peer.findall("{%s}candidate" % jc.ICE_UDP):
            cand.set("port", str(mute.getsockname()[1]))
        await b.colibri.handle(jc.relay_transport("m1", "peer", peer, False))
        await _until(lambda: relays_of(b)[0][0]["iceFailed"], 5)
        assert not relays_of(b)[0][0]["iceConnected"] and b.colibri.relays_ice_failed == 1
        assert mute.recv(1500)  # the checks went out on the media port
        mute.close()
    run(scenario())


def test_a_check_with_a_wrong_password_is_refused():
    async def scenario():
        b = await _bridge()
        await b.colibri.handle(jc.modify("m1", "c@conference.x", create=True))
        await b.colibri.handle(jc.relay_create("m1", "peer", False, []))
        agent = b.colibri.by_meeting["m1"]["relays"]["peer"]["ice"]
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(2)
        request = ice.encode(ice.BINDING, b"x" * 12, [(ice.USERNAME, ("%s:zz" % agent.ufrag).encode())], b"wrong")
        probe.sendto(request, ("127.0.0.1", agent.port.port()))
        await asyncio.sleep(0.1)
        answer = ice.decode(probe.recv(1500))
        assert answer[0] == ice.ERROR and not agent.nominated
        probe.close()
    run(scenario())


@pytest.mark.parametrize("request_of, condition", [
    (lambda: jc.modify("nope"), "item-not-found"),
    (lambda: jc.relay_create("nope", "r", True, []), "item-not-found"),
])
def test_a_modify_of_an_unknown_conference_is_not_found(request_of, condition):
    async def scenario():
        b = await _bridge()
        with pytest.raises(colibri.IqError) as found:
            await b.colibri.handle(request_of())
        assert found.value.condition == condition
    run(scenario())


def test_relays_off_second_creates_and_unknown_relays_are_refused_as_the_bridge_does():
    async def scenario():
        off = await _bridge(relays=False)
        await off.colibri.handle(jc.modify("m", "c@conference.x", create=True))
        with pytest.raises(colibri.IqError) as found:
            await off.colibri.handle(jc.relay_create("m", "r", True, []))
        assert (found.value.condition, found.value.text) == ("feature-not-implemented",
                                                             "Octo is disabled in configuration.")
        on = await _bridge()
        await on.colibri.handle(jc.modify("m", "c@conference.x", create=True))
        with pytest.raises(colibri.IqError) as found:
            await on.colibri.handle(jc.modify("m", "c@conference.x", create=True))
        assert found.value.condition == "conflict"
        await on.colibri.handle(jc.relay_create("m", "r", True, []))
        with pytest.raises(colibri.IqError) as found:
            await on.colibri.handle(jc.relay_create("m", "r", True, []))
        assert found.value.condition == "conflict"
        update = jc.modify("m")
        update.append(jc.ET.Element(jc._q("relay"), {"id": "other"}))
        with pytest.raises(colibri.IqError) as found:
            await on.colibri.handle(update)
        assert found.value.condition == "bad-request"
    run(scenario())


def test_no_new_conference_in_graceful_shutdown_and_an_unknown_endpoint_is_not_found():
    async def scenario():
        b = await _bridge()
        await b.colibri.handle(jc.modify("m", "c@conference.x", create=True))
        update = jc.modify("m")
        update.append(jc.ET.Element(jc._q("endpoint"), {"id": "nobody"}))
        with pytest.raises(colibri.IqError) as found:
            await b.colibri.handle(update)
        assert (found.value.condition, found.value.text) == ("item-not-found", "Endpoint not found for ID: nobody")
        b.graceful_shutdown = True
        with pytest.raises(colibri.IqError) as found:
            await b.colibri.handle(jc.modify("m2", "d@conference.x", create=True))
        assert (found.value.condition, found.value.text) == ("service-unavailable", "In graceful shutdown")
        assert b.totals["total_conferences_created"] == 1
    run(scenario())
