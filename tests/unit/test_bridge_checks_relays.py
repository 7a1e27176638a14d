"""Doctor's check of a bridge's relays (regions): skipped while relays are off, ok while they connect,
and a relay whose ICE failed named by its relay id (the peer bridge's nickname) with the media port.
The debug state is shaped as jitsi-videobridge's (Videobridge.getDebugState, Conference.getDebugState,
Relay.debugState, IceTransport.getDebugState at a29d97d13)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from jvbjoin.bridge.api import BridgeAPI
from jvbjoin.bridge.checks import relays
from jvbjoin.bridge.steps.config import relay_text

from helpers import facts_for

CONF_ID = "5d4c3b2a1f0e9d8c"


def ice(connected=False, failed=False):
    return {"keepAliveStrategy": "SELECTED_ONLY", "nominationStrategy": "NominateFirstHostOrReflexiveValid",
            "advertisePrivateCandidates": True, "closed": False, "iceWriteable": connected,
            "iceConnected": connected, "iceFailed": failed, "localUfrag": "3k9f1", "iceGeneration": 0,
            "restartPending": False}


def short(relay_ids):
    return {"shutdown_state": "RUNNING", "drain": False, "time": 1796000000000,
            "load_management": {"state": "NOT_OVERLOADED"},
            "conferences": {CONF_ID: {"id": CONF_ID, "rtcstatsEnabled": False, "name": "room1@conference.meet.x",
                                      "meeting_id": "8d6f-4e", "endpoints": {"a1b2c3d4": "Anna-x1"},
                                      "relays": dict((r, r) for r in relay_ids)}} if relay_ids is not None else {},
            "health": {"success": True, "hardFailure": False, "responseCode": 200, "message": None}}


def full(states):
    return {"conferences": {CONF_ID: {"id": CONF_ID, "rtcstatsEnabled": False, "name": "room1@conference.meet.x",
                                      "meeting_id": "8d6f-4e", "expired": False, "creation_time": 1796000000000,
                                      "endpoints": {"a1b2c3d4": {}},
                                      "relays": dict((r, {"ice_transport": s, "dtls_transport": {}, "mesh_id": "0",
                                                          "message_transport": {}}) for r, s in states.items())}}}


class Bridge(BaseHTTPRequestHandler):
    """The bridge's private REST server answering /debug as the real one (404 with the debug API off)."""
    states = {}
    debug_on = True
    asked = []

    def do_GET(self):
        self.asked.append(self.path)
        if not self.debug_on:
            self.send_response(404)
            self.end_headers()
            return
        if self.path == "/debug":
            doc = short(list(self.states) if self.states else None)
        elif self.path == "/debug/" + CONF_ID:
            doc = full(self.states)
        else:
            doc = {"error": self.path}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bridge_api():
    server = HTTPServer(("127.0.0.1", 0), Bridge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Bridge.asked, Bridge.debug_on = [], True
    yield BridgeAPI("http://127.0.0.1:%d" % server.server_address[1])
    server.shutdown()
    server.server_close()


def with_region(host):
    with open(host("/etc/jitsi/videobridge/jvb-join.conf"), "a") as f:
        f.write(relay_text("eu", "jvb-nick-1") + "\n")


def check(host, api):
    facts = facts_for(host)
    facts.put("relays", relays.relay_states(api))
    return relays.check_relays(facts)


def test_skipped_quietly_while_relays_are_off(host):
    result = relays.check_relays(facts_for(host))
    assert result.status == "skipped" and "relays are off" in result.detail


def test_a_failed_relay_is_named_with_the_media_port(host, bridge_api):
    with_region(host)
    Bridge.states = {"jvb-us-3": ice(failed=True), "jvb-eu-2": ice(connected=True)}
    result = check(host, bridge_api)
    assert result.status == "fail"
    assert "relay to jvb-us-3" in result.detail and "10000/udp" in result.detail and "jvb-eu-2" not in result.detail
    assert "ufw allow from" in result.remedy and "port 10000 proto udp" in result.remedy
    assert result.details == ["conference room1@conference.meet.x: relay to jvb-us-3: ICE failed"]
    # the short state names the conferences with relays, the full one is read for those only
    assert Bridge.asked == ["/debug", "/debug/" + CONF_ID]


def test_connected_and_connecting_relays_are_ok(host, bridge_api):
    with_region(host)
    Bridge.states = {"jvb-us-3": ice(connected=True), "jvb-eu-2": ice()}
    result = check(host, bridge_api)
    assert result.status == "ok" and "connected to jvb-us-3" in result.detail
    assert "still connecting to jvb-eu-2" in result.detail


def test_no_conference_no_relay_is_ok(host, bridge_api):
    with_region(host)
    Bridge.states = {}
    result = check(host, bridge_api)
    assert result.status == "ok" and "no relay open now" in result.detail
    assert Bridge.asked == ["/debug"]


def test_with_the_debug_api_off_the_relays_cannot_be_seen(host, bridge_api):
    with_region(host)
    Bridge.debug_on = False
    result = check(host, bridge_api)
    assert result.status == "skipped" and "videobridge.rest.debug.enabled" in result.detail


def test_a_bridge_that_does_not_answer_is_skipped(host):
    with_region(host)

    def refused():
        raise OSError("connection refused")
    result = relays.check_relays(_facts_raising(host, refused))
    assert result.status == "skipped" and "does not answer" in result.detail


def _facts_raising(host, compute):
    facts = facts_for(host)
    original = facts.get

    def get(key, fn):
        return original(key, compute if key == "relays" else fn)
    facts.get = get
    return facts


def test_the_older_octo_key_is_read_first(host):
    with_region(host)
    with open(host("/etc/jitsi/videobridge/jvb.conf"), "a") as f:
        f.write("videobridge.octo.enabled = false\n")
    assert relays.check_relays(facts_for(host)).status == "skipped"
