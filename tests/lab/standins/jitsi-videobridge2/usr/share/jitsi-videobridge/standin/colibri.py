"""colibri2 of the jitsi-videobridge2 lab stand-in: the conferences jicofo allocates over XMPP
(conference-modify IQs), their endpoints and relays, and the bridge's debug state of them.

Facts (jitsi-videobridge a29d97d13; tests/lab/standins/FIDELITY.md): Videobridge.handleConferenceModifyIq
and getOrCreateConference with colibri2/Colibri2Util.kt's errors (conflict for a second create,
service-unavailable for a create in graceful shutdown, item-not-found for a modify of an unknown
meeting id or endpoint; the colibri2 <error reason=> extension is not sent), Colibri2ConferenceHandler (a relay with relays off: feature-not-implemented "Octo is
disabled in configuration."; a second create of a relay: conflict; a create without <transport>
and an unknown relay: bad-request; a created relay answers with its transport; a conference left
with no endpoint and no relay expires), Relay.debugState, Conference.getDebugState (SHORT lists a
relay's id only, FULL its ice_transport), Videobridge.getDebugState and rest/root/debug/Debug.java
(/debug is SHORT unless ?full=true, /debug/<conference id> FULL unless ?full=false).
Endpoints are counted, never connected (the lab has no clients): their transports are not modelled.
"""

import asyncio
import hashlib
import os
import random
import time
import xml.etree.ElementTree as ET

import relay as ice

COLIBRI2 = "jitsi:colibri2"
ICE_UDP = "urn:xmpp:jingle:transports:ice-udp:1"
DTLS = "urn:xmpp:jingle:apps:dtls:0"


class IqError(Exception):
    def __init__(self, condition, text):
        Exception.__init__(self, text)
        self.condition = condition
        self.text = text


def _true(el, name):
    return el is not None and el.get(name) in ("true", "1")


def _fingerprint():
    """The fingerprint of the bridge's DTLS certificate (a new one per start, as the real bridge's)."""
    digest = hashlib.sha256(os.urandom(64)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


class Conferences(object):
    """The colibri2 conferences of one bridge (``bridge``: jvb.Bridge)."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.log = bridge.log
        self.by_meeting = {}
        self.single_port = None
        self.addresses = None
        self.fingerprint = _fingerprint()
        self.relays_created = 0
        self.relays_ice_failed = 0

    # -- conference-modify ---------------------------------------------------------------------
    async def handle(self, req):
        """The <conference-modified/> answer to a <conference-modify/>, or IqError."""
        b = self.bridge
        meeting_id = req.get("meeting-id")
        if _true(req, "create"):
            with b.lock:
                if meeting_id in self.by_meeting:
                    raise IqError("conflict", "Conference already exists for ID: %s" % meeting_id)
                if b.graceful_shutdown or b.shutting_down:
                    raise IqError("service-unavailable", "In graceful shutdown")
                conf = {"id": "%016x" % random.getrandbits(64), "meeting_id": meeting_id, "name": req.get("name"),
                        "participants": 0, "endpoints": [], "relays": {}, "created": int(time.time() * 1000)}
                self.by_meeting[meeting_id] = conf
                b.conferences.append(conf)
                b.totals["total_conferences_created"] += 1
            self.log.info("Videobridge.createConference#259", "create_conf, id=%s meeting_id=%s"
                          % (conf["id"], meeting_id))
        else:
            conf = self.by_meeting.get(meeting_id)
            if conf is None:
                raise IqError("item-not-found", "Conference not found for ID: %s" % meeting_id)
        out = ET.Element("{%s}conference-modified" % COLIBRI2)
        if _true(req, "expire"):
            self.expire(conf)
            return out
        for ep in req.findall("{%s}endpoint" % COLIBRI2):
            self._endpoint(conf, ep, out)
        for rel in req.findall("{%s}relay" % COLIBRI2):
            if not self.bridge.settings.relay["enabled"]:
                raise IqError("feature-not-implemented", "Octo is disabled in configuration.")
            out.append(await self._relay(conf, rel))
        if not _true(req, "create") and not conf["endpoints"] and not conf["relays"]:
            self.log.info("Colibri2ConferenceHandler.handleConferenceModifyIQ#104",
                          "All endpoints and relays removed, expiring.")
            self.expire(conf)
        return out

    def _endpoint(self, conf, ep, out):
        eid = ep.get("id")
        with self.bridge.lock:
            if _true(ep, "expire"):
                if eid in conf["endpoints"]:
                    conf["endpoints"].remove(eid)
            elif _true(ep, "create"):
                if eid in conf["endpoints"]:
                    raise IqError("conflict", "Endpoint with ID %s already exists" % eid)
                conf["endpoints"].append(eid)
                self.bridge.totals["total_participants"] += 1
            elif eid not in conf["endpoints"]:
                raise IqError("item-not-found", "Endpoint not found for ID: %s" % eid)
            conf["participants"] = len(conf["endpoints"])
        ET.SubElement(out, "{%s}endpoint" % COLIBRI2, {"id": eid})

    async def _relay(self, conf, rel):
        rid = rel.get("id")
        answer = ET.Element("{%s}relay" % COLIBRI2, {"id": rid})
        if _true(rel, "expire"):
            found = conf["relays"].pop(rid, None)
            if found is not None:
                found["ice"].close()
            return answer
        transport = rel.find("{%s}transport" % COLIBRI2)
        if _true(rel, "create"):
            if rid in conf["relays"]:
                raise IqError("conflict", "Relay with ID %s already exists" % rid)
            if transport is None:
                raise IqError("bad-request", "Attempt to create relay %s with no <transport>" % rid)
            entry = await self._create_relay(conf, rid, rel.get("mesh-id"), _true(transport, "ice-controlling"),
                                             _true(transport, "use-unique-port"))
        else:
            entry = conf["relays"].get(rid)
            if entry is None:
                raise IqError("bad-request", "Unknown relay %s" % rid)
        remote = transport.find("{%s}transport" % ICE_UDP) if transport is not None else None
        if remote is not None:
            cands = [dict(c.attrib) for c in remote.findall("{%s}candidate" % ICE_UDP)]
            self.log.info("Relay.setTransportInfo#520", "Setting transport info for relay %s: %d candidates"
                          % (rid, len(cands)))
            entry["ice"].set_remote(remote.get("ufrag"), remote.get("pwd"), cands)
        if _true(rel, "create"):
            answer.append(self._describe(entry["ice"]))
        return answer

    async def _create_relay(self, conf, rid, mesh_id, controlling, unique):
        loop = asyncio.get_event_loop()
        if unique:
            port = await ice.open_port(loop)
        elif self.single_port is not None:
            port = self.single_port
        else:
            raise IqError("internal-server-error", "Failed to create the relay's ICE transport")
        if self.addresses is None:
            self.addresses = ice.local_addresses()
        agent = ice.RelayIce(loop, port, controlling, unique, self._ice_changed)
        entry = {"ice": agent, "mesh_id": mesh_id, "id": rid, "conference": conf}
        with self.bridge.lock:
            conf["relays"][rid] = entry
            self.relays_created += 1
        self.log.info("Conference.createRelay#1137", "Creating relay %s (controlling=%s, unique port=%s, port %d)"
                      % (rid, "true" if controlling else "false", "true" if unique else "false", port.port()),
                      context=(("confId", conf["id"]), ("relayId", rid)))
        return entry

    def _describe(self, agent):
        wrap = ET.Element("{%s}transport" % COLIBRI2)
        tr = ET.SubElement(wrap, "{%s}transport" % ICE_UDP, {"ufrag": agent.ufrag, "pwd": agent.pwd})
        fp = ET.SubElement(tr, "{%s}fingerprint" % DTLS, {"hash": "sha-256", "setup": "actpass"})
        fp.text = self.fingerprint
        mappings = self.bridge.mapping_harvesters
        for i, cand in enumerate(agent.candidates(self.addresses or [], mappings)):
            cand["id"] = "%x%d" % (random.getrandbits(32), i)
            ET.SubElement(tr, "{%s}candidate" % ICE_UDP, cand)
        return wrap

    def _ice_changed(self, agent, what):
        entry = None
        for conf in list(self.by_meeting.values()):
            for rel in conf["relays"].values():
                if rel["ice"] is agent:
                    entry = rel
        if entry is None:
            return
        ctx = (("confId", entry["conference"]["id"]), ("relayId", entry["id"]))
        if what == "connected":
            self.log.info("Relay$setupIceTransport$2.writeable#397", "ICE connected", context=ctx)
        else:
            with self.bridge.lock:
                self.relays_ice_failed += 1
            self.log.info("ConnectivityCheckClient$1.run#478", "CheckList for stream stream-%s FAILED" % entry["id"],
                          context=ctx)

    def expire(self, conf):
        with self.bridge.lock:
            self.by_meeting.pop(conf["meeting_id"], None)
            if conf in self.bridge.conferences:
                self.bridge.conferences.remove(conf)
                self.bridge.totals["total_conferences_completed"] += 1
            relays = list(conf["relays"].values())
            conf["relays"] = {}
        for entry in relays:
            entry["ice"].close()
        self.log.info("Conference.expire#789", "Expiring.", context=(("confId", conf["id"]),))

    # -- debug state -----------------------------------------------------------------------------
    def debug_state(self, conf_id=None, full=False):
        """Videobridge.getDebugState: the bridge's state and its conferences (or one of them)."""
        b = self.bridge
        state = "SHUTTING_DOWN" if b.shutting_down else "GRACEFUL_SHUTDOWN" if b.graceful_shutdown else "RUNNING"
        doc = {"shutdown_state": state, "drain": b.drain, "time": int(time.time() * 1000), "conferences": {}}
        with b.lock:
            confs = [c for c in b.conferences if "meeting_id" in c]
            for conf in confs:
                if conf_id is not None and conf["id"] != conf_id:
                    continue
                doc["conferences"][conf["id"]] = self._conference_state(conf, full)
        if conf_id is not None and conf_id not in doc["conferences"]:
            doc["conferences"][conf_id] = "null"
        return doc

    def _conference_state(self, conf, full):
        out = {"id": conf["id"], "rtcstatsEnabled": False, "meeting_id": conf["meeting_id"]}
        if conf["name"]:
            out["name"] = conf["name"]
        if full:
            out.update({"expired": False, "creation_time": conf["created"]})
        out["endpoints"] = dict((e, {} if full else e) for e in conf["endpoints"])
        relays = {}
        for rid, entry in conf["relays"].items():
            relays[rid] = rid if not full else {"ice_transport": entry["ice"].debug_state(),
                                                "mesh_id": entry["mesh_id"]}
        out["relays"] = relays
        return out
