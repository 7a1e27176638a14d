#!/usr/bin/python3
"""jicofo lab stand-in daemon: joins the bridge brewery as focus and reports the bridges.

Started by /usr/share/jicofo/jicofo.sh with jicofo's Java system properties
(-Dconfig.file=/etc/jitsi/jicofo/jicofo.conf ...). Logs in the JitsiLogFormatter format to
stderr, which the init script appends to /var/log/jitsi/jicofo.log. What it models and what it
does not: tests/lab/standins/README.md. Facts: reference/jitsi-packages.md 2.2, 3.4, 4.2, 7.3.
"""
import asyncio
import inspect
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jicofo_colibri as colibri  # noqa: E402
import jicofo_model as model  # noqa: E402
import jicofo_selector as selection  # noqa: E402

VERSION = "1.0-1196"
FOCUS_NICK = "focus"
MAIN_THREAD = 1
SMACK_THREAD = 28
# seconds from the daemon's start to its REST port bound (the JVM's start), and from SIGTERM to the
# port released (leaving the brewery, closing XMPP, stopping services)
JVM_START_SECONDS = 2.0
STOP_SECONDS = 0.5

_log_lock = threading.Lock()
_fmt = model.JitsiLogFormat("Jicofo")


def log(level, thread, ctx, where, message):
    line = _fmt.line(level, thread, ctx, where, message)
    with _log_lock:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def system_properties(argv):
    props, rest = {}, []
    for arg in argv:
        if arg.startswith("-D") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            props[key] = value
        else:
            rest.append(arg)
    return props, rest


class State(object):
    def __init__(self):
        self.connected = False
        self.joined = False
        self.stopping = False


class Handler(BaseHTTPRequestHandler):
    brewery = None
    state = None
    settings = {}
    selector = None
    conferences = None
    loop = None
    server_version = "Jetty(stand-in)"
    sys_version = ""

    def _send(self, status, body, ctype):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        counts = self.brewery.counts() if self.brewery else {
            "bridge_count": 0, "operational_bridge_count": 0,
            "in_shutdown_bridge_count": 0, "lost_bridges": 0}
        if path == "/about/health":
            status, body = model.health(self.state.connected, self.state.joined, counts)
            self._send(status, body, "application/json" if status == 200 else "text/plain")
        elif path == "/metrics":
            self._send(200, model.metrics_text(counts, self.state.connected),
                       "text/plain; version=0.0.4")
        elif path == "/debug" and self.settings.get("rest.debug.enabled", True):
            # JicofoServices.getDebugState: the real top-level keys; no conferences, jibri,
            # jigasi or moderation are modelled, so those parts are empty (3.4, 7.3)
            strategy = self.selector.strategy
            selector = (self.brewery.debug_state(strategy) if self.brewery
                        else {"strategy": strategy, "bridge": {}})
            doc = {"focus_manager": {}, "bridge_selector": selector, "jibri_detector": "null",
                   "sip_jibri_detector": "null", "jigasi_detector": "null", "av_moderation": {},
                   "conference_iq_handler": {}}
            self._send(200, json.dumps(doc), "application/json")
        elif path == "/debug/select" and self.settings.get("rest.debug.enabled", True):
            # stand-in only: the bridges the selector gives a conference whose participants, from
            # the regions in ?participants=eu,us,eu (empty: no region), join in that order
            query = parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
            regions = [r or None for r in ",".join(query.get("participants", [])).split(",")]
            bridges = list(self.brewery.bridges.values()) if self.brewery else []
            with (self.brewery.lock if self.brewery else threading.Lock()):
                doc = self.selector.place(bridges, regions)
            self._send(200, json.dumps(doc, indent=2, sort_keys=True) + "\n", "application/json")
        elif path.startswith("/debug/conference/") and self.settings.get("rest.debug.enabled", True):
            conf = self.conferences.conferences.get(path[len("/debug/conference/"):]) if self.conferences else None
            if conf is None:
                self._send(404, "Not Found\n", "text/plain")
            else:
                self._send(200, json.dumps(self.conferences.describe(conf), indent=2) + "\n", "application/json")
        elif path == "/debug/bridges":
            # stand-in only: the bridge list as the brewery shows it
            doc = {"brewery": self.brewery.room_jid if self.brewery else None,
                   "connected": self.state.connected, "joined": self.state.joined,
                   "bridges": self.brewery.snapshot() if self.brewery else []}
            doc.update(counts)
            self._send(200, json.dumps(doc, indent=2, sort_keys=True) + "\n", "application/json")
        else:
            self._send(404, "Not Found\n", "text/plain")

    do_HEAD = do_GET

    def _conference(self, make):
        """Stand-in only: start or end a conference on the bridges (jicofo_colibri), on the XMPP loop."""
        if self.conferences is None or self.loop is None or not self.settings.get("rest.debug.enabled", True):
            return self._send(404, "Not Found\n", "text/plain")
        if not self.state.connected:
            return self._send(503, "Not connected to XMPP\n", "text/plain")
        try:
            doc = asyncio.run_coroutine_threadsafe(make(), self.loop).result(120)
        except Exception as exc:  # noqa: BLE001 - the caller gets the reason
            return self._send(500, "%s\n" % exc, "text/plain")
        if doc is None:
            return self._send(404, "Not Found\n", "text/plain")
        self._send(200, json.dumps(doc, indent=2) + "\n", "application/json")

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path != "/debug/conference":
            return self._send(404, "Not Found\n", "text/plain")
        query = parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        regions = [r or None for r in ",".join(query.get("participants", [])).split(",")]
        self._conference(lambda: self.conferences.create(regions))

    def do_DELETE(self):
        path = self.path.split("?", 1)[0]
        if not path.startswith("/debug/conference/"):
            return self._send(404, "Not Found\n", "text/plain")
        name = path[len("/debug/conference/"):]
        self._conference(lambda: self.conferences.expire(name))

    def log_message(self, *args):  # no access log in jicofo.log
        pass


class RestServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_rest(settings, brewery, state, selector):
    Handler.selector = selector
    Handler.brewery = brewery
    Handler.state = state
    Handler.settings = settings
    host, port = settings["rest.host"], settings["rest.port"]
    if ":" in host:
        RestServer.address_family = socket.AF_INET6
    server = RestServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="rest", daemon=True).start()
    log("INFO", MAIN_THREAD, (), "JettyBundleActivator.start#63",
        "Started the REST server on %s:%d" % (host, port))
    return server


def make_client(settings, brewery, state, ca_file):
    import slixmpp
    from slixmpp.exceptions import IqError, IqTimeout

    class FocusClient(slixmpp.ClientXMPP):
        # Like Smack with setHost(hostname) + setXmppDomain(domain): connect to the configured
        # host and port with no DNS SRV games, but verify the TLS certificate against the XMPP
        # domain (auth.DOMAIN), not against "localhost". slixmpp would otherwise take the host
        # name as the domain to verify.
        async def _pick_dns_answer(self, domain, port=None):
            return None

        def connect_to(self, host, port):
            use_tls = settings["xmpp.client.use-tls"]
            if "force_starttls" in inspect.signature(self.connect).parameters:
                # slixmpp 1.7/1.8 (bullseye, bookworm)
                self.connect(address=(host, port), force_starttls=use_tls,
                             disable_starttls=not use_tls)
            else:
                # slixmpp 1.10 (trixie): STARTTLS switches are attributes
                self.enable_direct_tls = False
                self.enable_starttls = use_tls
                self.enable_plaintext = not use_tls
                self.connect(host, port)
            self.default_domain = self.boundjid.domain

        def on_tcp_connected(self, _event):
            # verify TLS against the XMPP domain from here on, whatever connect() set
            self.default_domain = self.boundjid.domain

    jid = "%s@%s/%s" % (settings["xmpp.client.username"], settings["xmpp.client.domain"], FOCUS_NICK)
    client = FocusClient(jid, settings["xmpp.client.password"] or "")
    client.register_plugin("xep_0030")
    client.register_plugin("xep_0045")
    client.register_plugin("xep_0199")
    if settings["xmpp.client.disable-certificate-verification"]:
        import ssl
        log("WARNING", MAIN_THREAD, (), "XmppProvider.<init>#143", "Disabling certificate verification!")
        client.ssl_context.check_hostname = False
        client.ssl_context.verify_mode = ssl.CERT_NONE
    elif ca_file:
        client.ca_certs = ca_file
    # XMPP nodeprep: "JvbBrewery@..." from the postinst is the room "jvbbrewery@..." (4.2)
    room = brewery.room_jid.lower() if brewery else None
    health_task = {"task": None}

    def on_session_start(_event):
        state.connected = True
        log("INFO", SMACK_THREAD, (), "XmppProvider$connectionListener.authenticated#235",
            "Authenticated, resumed=false")
        client.send_presence()
        if room:
            client.plugin["xep_0045"].join_muc(room, FOCUS_NICK)
        if brewery and settings["bridge.health-checks.enabled"] and health_task["task"] is None:
            health_task["task"] = asyncio.ensure_future(health_loop())

    def on_presence(pr):
        if not room or pr["from"].bare.lower() != room.lower():
            return
        nick = pr["from"].resource
        occupant = "%s/%s" % (pr["from"].bare, nick)
        ptype = pr["type"]
        if ptype == "error":
            log("WARNING", SMACK_THREAD, brewery.ctx, "BaseBrewery.joinRoom#168",
                "Failed to join the room: %s" % pr["error"]["condition"])
            return
        x = pr.xml.find("{%s}x" % model.MUC_USER_NS)
        codes = set()
        real_jid = None
        if x is not None:
            codes = set(s.get("code") for s in x.findall("{%s}status" % model.MUC_USER_NS))
            item = x.find("{%s}item" % model.MUC_USER_NS)
            if item is not None:
                real_jid = item.get("jid")
        if "110" in codes:
            if ptype != "unavailable" and not state.joined:
                state.joined = True
                log("INFO", SMACK_THREAD, brewery.ctx, "BaseBrewery.start#139", "Joined the room.")
            elif ptype == "unavailable":
                state.joined = False
            return
        if ptype == "unavailable":
            brewery.on_left(occupant)
            return
        stats = pr.xml.find("{%s}stats" % model.COLIBRI_NS)
        pairs = None
        if stats is not None:
            pairs = [(s.get("name"), s.get("value"))
                     for s in stats.findall("{%s}stat" % model.COLIBRI_NS)]
        brewery.on_presence(occupant, True, pairs, real_jid)

    async def check_one(occupant):
        iq = client.make_iq_get(ito=occupant)
        iq.append(ET.Element("{%s}healthcheck" % model.HEALTHCHECK_NS))
        try:
            await iq.send(timeout=settings["xmpp.client.reply-timeout"])
            brewery.health_result(occupant, "ok")
        except IqError:
            brewery.health_result(occupant, "error")
        except IqTimeout:
            brewery.health_result(occupant, "timeout")
        except Exception:  # disconnected in the middle: nothing to record
            pass

    async def health_loop():
        while not state.stopping:
            await asyncio.sleep(settings["bridge.health-checks.interval"])
            if state.connected:
                jids = [b["jid"] for b in brewery.snapshot()]
                if jids:
                    await asyncio.gather(*[check_one(j) for j in jids])

    def on_disconnected(_event):
        was = state.connected
        state.connected = False
        state.joined = False
        if brewery:
            brewery.clear()
        if state.stopping:
            return
        if was:
            log("WARNING", SMACK_THREAD, (), "XmppProvider$connectionListener.connectionClosedOnError#262",
                "XMPP connection closed on error")
        client.loop.call_later(5, reconnect)

    def on_failed(event):
        log("WARNING", SMACK_THREAD, (), "XmppProvider.doConnect#181",
            "Failed to connect/login: %s" % (event,))

    auth_failed = {"logged": False}

    def on_connecting(_event):
        auth_failed["logged"] = False

    def on_failed_auth(_event):
        # slixmpp reports each SASL mechanism it tried; jicofo logs one failed login
        if auth_failed["logged"]:
            return
        auth_failed["logged"] = True
        log("WARNING", SMACK_THREAD, (), "XmppProvider.doConnect#181",
            "Failed to connect/login: SASLError using SCRAM-SHA-1: not-authorized")

    def on_bad_cert(cert):
        log("WARNING", SMACK_THREAD, (), "XmppProvider.doConnect#181",
            "Failed to connect/login: javax.net.ssl.SSLHandshakeException: PKIX path building "
            "failed: unable to find valid certification path to requested target")

    def reconnect():
        if not state.stopping:
            client.connect_to(settings["xmpp.client.hostname"], settings["xmpp.client.port"])

    async def send_colibri(to, element):
        iq = client.make_iq_set(ito=to)
        iq.append(element)
        try:
            answer = await iq.send(timeout=settings["xmpp.client.reply-timeout"])
        except IqError as exc:
            raise colibri.ColibriError("%s: %s" % (exc.iq["error"]["condition"], exc.iq["error"]["text"]))
        except IqTimeout:
            raise colibri.ColibriError("timeout")
        return answer.xml.find("{%s}conference-modified" % colibri.COLIBRI2)

    client.send_colibri = send_colibri
    client.add_event_handler("connecting", on_connecting)
    client.add_event_handler("connected", client.on_tcp_connected)
    client.add_event_handler("session_start", on_session_start)
    client.add_event_handler("groupchat_presence", on_presence)
    client.add_event_handler("disconnected", on_disconnected)
    client.add_event_handler("connection_failed", on_failed)
    client.add_event_handler("failed_auth", on_failed_auth)
    client.add_event_handler("ssl_invalid_chain", on_bad_cert)
    client.add_event_handler("ssl_invalid_cert", on_bad_cert)
    return client, reconnect


def main(argv):
    # slixmpp's own warnings are not jicofo log lines: keep them out of jicofo.log
    logging.getLogger().addHandler(logging.NullHandler())
    logging.captureWarnings(True)
    props, rest = system_properties(argv)
    ca_file = None
    for arg in rest:
        # stand-in only, for tests off a Debian host: trust this CA file instead of the system store
        if arg.startswith("--standin-ca-file="):
            ca_file = arg.split("=", 1)[1]
    config_file = props.get("config.file", "/etc/jitsi/jicofo/jicofo.conf")
    log("INFO", MAIN_THREAD, (), "Main.main#58", "Starting Jicofo.")
    try:
        settings = model.settings_from_tree(model.read_hocon_tree(config_file))
    except (model.ConfigError, ValueError, OSError) as e:
        log("SEVERE", MAIN_THREAD, (), "Main.main#70", "Failed to load the configuration: %s" % e)
        return 1
    home = props.get("net.java.sip.communicator.SC_HOME_DIR_LOCATION", "/etc/jitsi")
    name = props.get("net.java.sip.communicator.SC_HOME_DIR_NAME", "jicofo")
    try:
        with open(os.path.join(home, name, "sip-communicator.properties")) as f:
            legacy = f.read()
    except OSError:
        legacy = ""
    # the legacy brewery only without one in jicofo.conf (as before); the legacy selection keys first
    brewery_jid = settings["bridge.brewery-jid"] or model.legacy_bridge_muc(legacy)
    model.apply_legacy_selection(settings, legacy)
    try:
        settings["bridge.selection-strategy"] = selection.strategy_name(settings["bridge.selection-strategy"])
    except selection.UnknownStrategy as e:
        log("SEVERE", MAIN_THREAD, (), "Main.main#78", "Failed to start jicofo: %s" % e)
        return 1
    selector = selection.Selector(settings)
    state = State()
    brewery = None
    if brewery_jid:
        brewery = model.Brewery(brewery_jid, log)
        log("INFO", MAIN_THREAD, brewery.ctx, "BaseBrewery.<init>#104",
            "Initialized with JID=%s" % brewery_jid)
    else:
        log("WARNING", MAIN_THREAD, (), "JicofoServices.<init>#120",
            "No bridge brewery configured (jicofo.bridge.brewery-jid).")
    log("INFO", MAIN_THREAD, (), "BridgeSelector.<init>#78",
        "Using %s%s" % (selection.PACKAGE, selector.strategy))
    rest = None
    if settings["rest.enabled"]:
        # The JVM and jicofo's services take a moment before ktor binds its port; a daemon that
        # finds the port taken (an old one still shutting down) fails to start and exits, while
        # the SysV unit stays active (jicofo Main.java: "Failed to start jicofo: ").
        time.sleep(JVM_START_SECONDS)
        log("INFO", MAIN_THREAD, (), "Application.start#86", "Starting ktor on port %d, host %s" % (
            settings["rest.port"], settings["rest.host"]))
        try:
            rest = start_rest(settings, brewery, state, selector)
        except OSError as e:
            log("SEVERE", MAIN_THREAD, (), "Main.main#78",
                "Failed to start jicofo: java.net.BindException: %s" % (e.strerror or e))
            return 1
    if not settings["xmpp.client.enabled"] or not settings["xmpp.client.domain"]:
        log("SEVERE", MAIN_THREAD, (), "Main.main#70", "No XMPP client connection configured.")
        return 1
    client, connect = make_client(settings, brewery, state, ca_file)
    loop = client.loop
    if brewery:
        domain = settings["xmpp.client.domain"]
        domain = domain[len("auth."):] if domain.startswith("auth.") else domain
        Handler.conferences = colibri.Conferences(selector, brewery, client.send_colibri, domain, log)
        Handler.loop = loop

    exit_status = [0]

    def stop(signum, _frame):
        log("INFO", MAIN_THREAD, (), "Main$main$1.run#84", "Caught signal %d, shutting down." % signum)
        exit_status[0] = 128 + signum
        state.stopping = True
        loop.call_soon_threadsafe(client.disconnect)
        loop.call_soon_threadsafe(loop.call_later, STOP_SECONDS, loop.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("INFO", MAIN_THREAD, (), "XmppProvider.doConnect#174",
        "Connecting to %s:%d as %s@%s" % (settings["xmpp.client.hostname"], settings["xmpp.client.port"],
                                         settings["xmpp.client.username"], settings["xmpp.client.domain"]))
    connect()
    loop.run_forever()
    # Like the JVM's: the REST port is held until the services are stopped, after the signal.
    log("INFO", MAIN_THREAD, (), "Main.main#113", "Stopping services.")
    if rest is not None:
        rest.shutdown()
        rest.server_close()
    log("INFO", MAIN_THREAD, (), "Main.main#116",
        "Jicofo has been stopped, exiting with exit code %d" % exit_status[0])
    return exit_status[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
