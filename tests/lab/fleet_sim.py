"""Simulated bridges for the fleet benchmark (B7), run inside a lab host by tests/lab/bench.py.

Each simulated bridge does on the server what a joined bridge does, over real XMPP (slixmpp, one
asyncio loop for all of them): it logs in with its token's account, changes the account's password in
band as the join does, joins the brewery with a bridge's colibri stats presence (the stand-in bridge's
keys), answers jicofo's health checks, and stays, sending its presence again every 5 seconds as jvb's
presence-interval does. All of them start at once.

    python3 fleet_sim.py TOKENS_FILE EVENTS_FILE

TOKENS_FILE holds one token per line (what `jvb-join token create --count N --output FILE` writes).
EVENTS_FILE gets one JSON line per event: {"nick", "event": "login"|"password"|"joined"|"failed", "t"} with
t from time.time(); the process runs until it is stopped (SIGTERM: every bridge leaves).
"""

import asyncio
import json
import secrets
import signal
import socket
import ssl
import sys
import time

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from jvbjoin.formats.token import decode

COLIBRI_NS = "http://jitsi.org/protocol/colibri"
HEALTH_NS = "http://jitsi.org/protocol/healthcheck"
MUC_NS = "http://jabber.org/protocol/muc"
PRESENCE_INTERVAL = 5.0
VERSION = "2.3.312-ga29d97d13"


# One context for every bridge, with no CA store loaded (a context per client would read the system's
# CA certificates 500 times). A load generator: the pin is the join's business, checked by the lab's
# other tests.
CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CONTEXT.check_hostname = False
CONTEXT.verify_mode = ssl.CERT_NONE


def stats_element():
    stats = ET.Element("{%s}stats" % COLIBRI_NS)
    for name, value in (("stress_level", "0.0"), ("conferences", "0"), ("participants", "0"),
                        ("endpoints", "0"), ("graceful_shutdown", "false"), ("shutting_down", "false"),
                        ("drain", "false"), ("healthy", "true"), ("version", VERSION),
                        ("current_timestamp", time.strftime("%Y-%m-%d %H:%M:%S.000", time.gmtime()))):
        ET.SubElement(stats, "{%s}stat" % COLIBRI_NS, name=name, value=value)
    return stats


class SimBridge(slixmpp.ClientXMPP):
    def __init__(self, token, nick, events):
        super().__init__("{}@{}".format(token.user, token.domain), token.password)
        self.token, self.nick, self.events = token, nick, events
        self.room = token.muc
        self.joined = False
        self.stopping = False
        self.add_event_handler("session_start", self.on_session)
        self.add_event_handler("failed_auth", lambda _e: self.record("failed", why="auth"))
        self.add_event_handler("presence", self.on_presence)
        self.register_handler(Callback("health", MatchXPath("{jabber:client}iq/{%s}healthcheck" % HEALTH_NS),
                                       self.on_health))

    async def _pick_dns_answer(self, domain, port=None):
        # connect to the address given, as a bridge configured with the server's host does: no SRV
        # lookups (the lab has no DNS server; each lookup would wait for its timeout)
        return None

    def get_ssl_context(self):
        return CONTEXT

    def record(self, event, **extra):
        extra.update(nick=self.nick, event=event, t=time.time())
        self.events.write(json.dumps(extra) + "\n")
        self.events.flush()

    async def on_session(self, _event):
        self.record("login")
        iq = self.Iq()
        iq["type"] = "set"
        iq["to"] = self.token.domain
        query = ET.Element("{jabber:iq:register}query")
        ET.SubElement(query, "{jabber:iq:register}username").text = self.token.user
        ET.SubElement(query, "{jabber:iq:register}password").text = secrets.token_urlsafe(24)
        iq.append(query)
        try:
            await iq.send(timeout=60)
        except Exception as exc:  # noqa: BLE001 - recorded, the bench counts it
            self.record("failed", why="password change: {}".format(exc))
            return
        self.record("password")
        self.send_stats(join=True)
        asyncio.ensure_future(self.presence_loop())

    def send_stats(self, join=False, leave=False):
        presence = self.make_presence(pto="{}/{}".format(self.room, self.nick))
        if leave:
            presence["type"] = "unavailable"
        else:
            if join:
                presence.append(ET.Element("{%s}x" % MUC_NS))
            presence.append(stats_element())
        presence.send()

    async def presence_loop(self):
        while not self.stopping:
            await asyncio.sleep(PRESENCE_INTERVAL)
            if self.joined and not self.stopping:
                self.send_stats()

    def on_presence(self, presence):
        if presence["from"].bare.lower() != self.room.lower() or presence["from"].resource != self.nick:
            return
        if presence["type"] == "error":
            self.record("failed", why="brewery: {}".format(presence["error"]["condition"]))
        elif presence["type"] != "unavailable" and not self.joined:
            self.joined = True
            self.record("joined")

    def on_health(self, iq):
        if iq["type"] == "get":
            iq.reply(clear=True).send()


def main(argv):
    tokens_file, events_file = argv[1], argv[2]
    with open(tokens_file) as handle:
        texts = [line.split()[-1] for line in handle if line.strip()]
    tokens = [decode(text, now=0) for text in texts]
    loop = asyncio.get_event_loop()
    events = open(events_file, "a")
    bridges = [SimBridge(token, "sim-{}".format(token.id), events) for token in tokens]
    addresses = {}
    for bridge in bridges:
        host = bridge.token.host
        if host not in addresses:
            addresses[host] = socket.gethostbyname(host)
        bridge.connect(address=(addresses[host], bridge.token.port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.run_until_complete(stop.wait())
    for bridge in bridges:
        bridge.stopping = True
        if bridge.joined:
            bridge.send_stats(leave=True)
        bridge.disconnect(wait=0.5)
    loop.run_until_complete(asyncio.sleep(2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
