"""Conferences of the jicofo lab stand-in: colibri2 allocations on the bridges the selector chose,
and the relays that join them.

The lab has no clients, so a conference is started by the stand-in-only ``POST
/debug/conference?participants=eu,us`` (one participant per region given, in that order) and ended
by ``DELETE /debug/conference/<name>``; what jicofo then does over XMPP is modelled on jicofo at
7ebb13dc3 (jicofo-selector/.../bridge/colibri/): ColibriV2SessionManager.doAllocate (one
Colibri2Session per bridge, its first allocation creates the colibri2 conference),
Cascade.addNodeToMesh with addLinkBetween (a new bridge gets a relay to each bridge of the mesh;
the bridge already there is the initiator: use-unique-port, ice-controlling, DTLS active),
Colibri2Session.Relay.start (relay create with the endpoints behind the other side) and setTransport
(the other side's transport, its DTLS setup turned from actpass into active or passive), and
Colibri2Session.expire (conference-modify expire='true'). jicofo learns nothing from the bridges when
a relay's ICE fails: the bridge counts it (relays_ice_failed) and shows it in its own debug state.
"""

import asyncio
import copy
import random
import uuid
import xml.etree.ElementTree as ET

COLIBRI2 = "jitsi:colibri2"
ICE_UDP = "urn:xmpp:jingle:transports:ice-udp:1"
DTLS = "urn:xmpp:jingle:apps:dtls:0"
MESH_ID = "0"  # SingleMeshTopologyStrategy


class ColibriError(Exception):
    """An IQ to a bridge answered with an error (or not at all)."""


def _q(tag):
    return "{%s}%s" % (COLIBRI2, tag)


def modify(meeting_id, name=None, create=False, expire=False):
    el = ET.Element(_q("conference-modify"), {"meeting-id": meeting_id})
    if create:
        el.set("create", "true")
        el.set("name", name)
    if expire:
        el.set("expire", "true")
    return el


def relay_create(meeting_id, relay_id, initiator, endpoints):
    el = modify(meeting_id)
    rel = ET.SubElement(el, _q("relay"), {"id": relay_id, "mesh-id": MESH_ID, "create": "true"})
    for media in ("audio", "video"):
        ET.SubElement(rel, _q("media"), {"type": media})
    eps = ET.SubElement(rel, _q("endpoints"))
    for eid in endpoints:
        ET.SubElement(eps, _q("endpoint"), {"id": eid, "create": "true"})
    ET.SubElement(rel, _q("transport"), {"use-unique-port": "true" if initiator else "false",
                                         "ice-controlling": "true" if initiator else "false"})
    return el


def relay_transport(meeting_id, relay_id, peer_transport, initiator):
    """Relay.setTransport: the peer's ice-udp transport, its fingerprint's setup active on the
    initiator's side and passive on the other (the bridge offers actpass)."""
    el = modify(meeting_id)
    rel = ET.SubElement(el, _q("relay"), {"id": relay_id})
    tr = copy.deepcopy(peer_transport)
    for fp in tr.findall("{%s}fingerprint" % DTLS):
        if fp.get("setup") != "actpass":
            raise ColibriError("Response has an unexpected dtls setup field: %s" % fp.get("setup"))
        fp.set("setup", "active" if initiator else "passive")
    ET.SubElement(rel, _q("transport")).append(tr)
    return el


class Session(object):
    """Colibri2Session: one bridge of one conference."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.jid = bridge.jid
        self.relay_id = bridge.relay_id
        self.id = "%x" % random.getrandbits(32)
        self.created = False
        self.participants = []
        self.relays = {}  # peer relay id -> {"initiator": bool}

    def to_json(self):
        """Colibri2Session.toJson and Relay.toJson (the keys jicofo's /debug/conference shows)."""
        return {"bridge": {"jid": self.jid, "relay_id": self.relay_id, "region": self.bridge.region},
                "id": self.id, "created": self.created, "participants": list(self.participants),
                "relays": dict((rid, {"id": rid, "use_unique_port": r["initiator"],
                                      "ice_controlling": r["initiator"],
                                      "dtls_setup": "active" if r["initiator"] else "passive",
                                      "mesh_id": MESH_ID}) for rid, r in self.relays.items())}


class Conferences(object):
    """The conferences started through the debug port. ``send(jid, element)`` is a coroutine that
    sends an IQ set and returns the answer's child element, or raises ColibriError."""

    def __init__(self, selector, brewery, send, domain, log):
        self.selector = selector
        self.brewery = brewery
        self.send = send
        self.domain = domain
        self.log = log
        self.conferences = {}
        self.count = 0

    async def create(self, regions):
        self.count += 1
        name = "lab%d-%s@conference.%s" % (self.count, uuid.uuid4().hex[:6], self.domain)
        conf = {"name": name, "meeting_id": str(uuid.uuid4()), "participants": [], "sessions": {}, "errors": []}
        self.conferences[name] = conf
        ctx = (("conference", name),)
        for region in regions:
            participant = {"id": "%08x" % random.getrandbits(32), "region": region, "bridge": None}
            conf["participants"].append(participant)
            with self.brewery.lock:
                bridges = list(self.brewery.bridges.values())
                counts = dict((s.bridge, len(s.participants)) for s in conf["sessions"].values())
                bridge = self.selector.select(bridges, counts, region)
            if bridge is None:
                conf["errors"].append("no bridge for participant %s (region %s)" % (participant["id"], region))
                self.log("WARNING", 40, ctx, "BridgeSelector.selectBridge#172", "Failed to select a bridge.")
                continue
            participant["bridge"] = bridge.jid
            try:
                await self._allocate(conf, bridge, participant, ctx)
            except ColibriError as exc:
                conf["errors"].append("%s: %s" % (bridge.jid, exc))
                self.log("SEVERE", 40, ctx, "Colibri2Session.sendRequest#461",
                         "Received error response for allocate, session failed: %s" % exc)
        return self.describe(conf)

    async def _allocate(self, conf, bridge, participant, ctx):
        session = conf["sessions"].get(bridge.jid)
        new = session is None
        if new:
            session = conf["sessions"][bridge.jid] = Session(bridge)
        self.log("INFO", 40, ctx, "ColibriV2SessionManager.doAllocate#568", "Selected %s for %s (session exists: %s)"
                 % (bridge.jid.rpartition("/")[2], participant["id"], "false" if new else "true"))
        request = modify(conf["meeting_id"], conf["name"], create=not session.created)
        ET.SubElement(request, _q("endpoint"), {"id": participant["id"], "create": "true"})
        session.created = True
        session.participants.append(participant["id"])
        await self.send(bridge.jid, request)
        others = [s for s in conf["sessions"].values() if s is not session]
        if new:
            for other in others:  # addNodeToMesh: the bridge already in the mesh initiates
                await self._link(conf, other, session, ctx)
        else:
            for other in others:
                if session.relay_id in other.relays:
                    update = modify(conf["meeting_id"])
                    rel = ET.SubElement(update, _q("relay"), {"id": session.relay_id})
                    ET.SubElement(ET.SubElement(rel, _q("endpoints")), _q("endpoint"),
                                  {"id": participant["id"], "create": "true"})
                    await self.send(other.jid, update)

    async def _link(self, conf, initiator, other, ctx):
        if initiator.relay_id is None or other.relay_id is None:
            raise ColibriError("Can not enable Octo: one of the selected bridges does not support Octo.")
        pairs = ((initiator, other, True), (other, initiator, False))
        answers = await asyncio.gather(*[self._create_relay(conf, a, b, flag, ctx) for a, b, flag in pairs])
        for (session, peer, flag), transport in zip(pairs, answers):
            # the transport session's bridge gave goes to the peer (ColibriV2SessionManager.setRelayTransport)
            self.log("INFO", 40, ctx, "ColibriV2SessionManager.setRelayTransport#972",
                     "Received transport from %s for relay %s" % (session.jid.rpartition("/")[2], peer.relay_id))
            await self.send(peer.jid, relay_transport(conf["meeting_id"], session.relay_id, transport, not flag))

    async def _create_relay(self, conf, session, peer, initiator, ctx):
        self.log("INFO", 40, ctx, "Colibri2Session.createRelay#360", "Creating relay %s (initiator=%s), initial "
                 "participants: %s" % (peer.relay_id, "true" if initiator else "false", peer.participants))
        session.relays[peer.relay_id] = {"initiator": initiator}
        answer = await self.send(session.jid, relay_create(conf["meeting_id"], peer.relay_id, initiator,
                                                           peer.participants))
        found = answer.find(_q("relay")) if answer is not None else None
        wrap = found.find(_q("transport")) if found is not None else None
        transport = wrap.find("{%s}transport" % ICE_UDP) if wrap is not None else None
        if transport is None:
            raise ColibriError("Response has no iceUdpTransport")
        return transport

    async def expire(self, name):
        conf = self.conferences.pop(name, None)
        if conf is None:
            return None
        for session in conf["sessions"].values():
            try:
                await self.send(session.jid, modify(conf["meeting_id"], expire=True))
            except ColibriError as exc:
                conf["errors"].append("%s: %s" % (session.jid, exc))
        return self.describe(conf)

    def describe(self, conf):
        relays = []
        for session in conf["sessions"].values():
            for peer, r in session.relays.items():
                if r["initiator"]:
                    relays.append([session.jid, next(s.jid for s in conf["sessions"].values() if s.relay_id == peer)])
        return {"name": conf["name"], "meeting_id": conf["meeting_id"], "participants": conf["participants"],
                "bridges": list(conf["sessions"]), "relays": relays, "errors": conf["errors"],
                "colibri_session_manager": {"sessions": dict(
                    (s.relay_id or s.jid, s.to_json()) for s in conf["sessions"].values())}}
