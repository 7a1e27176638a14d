"""The jitsi-videobridge2 lab stand-in daemon: an XMPP brewery client, the private REST server,
the ICE/UDP port and the shutdown states of the real bridge.

Lab stand-in only, never shipped. It reproduces the observable behaviour of the real bridge as
described in /work/shared/reference/jitsi-packages.md §2.1 (config precedence), §3 (runtime, REST,
brewery presence), §4.3 (log lines), §7 (graceful shutdown, signals), §8 (common failures).

Usage (from jvb.sh): jvb.py --java-home DIR [-Dkey=value ...]

Lab-only addition, not in the real bridge: on the private REST server (with rest.debug.enabled,
the default), POST /debug/lab/conference {"participants": N, "leave_every_seconds": S} adds a
simulated conference whose participants leave one by one every S seconds (never if S is 0 or
absent). It shows in the stats presence, /colibri/stats and /metrics, so drain and graceful
shutdown can be tested without media. For a quick lab shutdown, set
videobridge.shutdown.shutting-down-delay (default 1 minute) in jvb.conf.
"""

import asyncio
import datetime
import inspect
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colibri  # noqa: E402
import jvbconfig  # noqa: E402
import relay  # noqa: E402

HEALTH_NS = "http://jitsi.org/protocol/healthcheck"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"


class Log(object):
    """JitsiLogFormatter-style lines on stdout (jvb.sh's output is appended to jvb.log)."""

    def __init__(self, program):
        self.program = program
        self.lock = threading.Lock()

    def line(self, level, thread, context, source, message):
        text = jvbconfig.format_log_line(self.program, datetime.datetime.now(), level, thread,
                                         context, source, message)
        with self.lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def info(self, source, message, context=None, thread=1):
        self.line("INFO", thread, context, source, message)

    def warn(self, source, message, context=None, thread=1):
        self.line("WARNING", thread, context, source, message)

    def severe(self, source, message, context=None, thread=1):
        self.line("SEVERE", thread, context, source, message)


def java_truststore_pem(java_home):
    """The CA certificates the JVM at java_home trusts (<java.home>/lib/security/cacerts), as PEM.

    Read once at start-up, as the JVM loads its default trust store once."""
    store = os.path.join(java_home or "", "lib", "security", "cacerts")
    keytool = os.path.join(java_home or "", "bin", "keytool")
    if not os.path.exists(keytool):
        keytool = "keytool"
    try:
        proc = subprocess.run([keytool, "-list", "-rfc", "-keystore", store, "-storepass", "changeit"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return ""
    pem, inside = [], False
    for line in proc.stdout.splitlines():
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            inside = True
        if inside:
            pem.append(line)
        if line.startswith("-----END CERTIFICATE-----"):
            inside = False
    return "\n".join(pem) + ("\n" if pem else "")


class Bridge(object):
    """State shared by the XMPP clients, the REST server and the shutdown manager."""

    def __init__(self, settings, log, trust_pem):
        self.settings = settings
        self.log = log
        self.trust_pem = trust_pem
        self.lock = threading.Lock()
        self.loop = None
        self.clients = []
        self.conferences = []  # each: {"participants": n}
        self.totals = {"total_conferences_created": 0, "total_conferences_completed": 0,
                       "total_participants": 0}
        self.drain = False
        self.graceful_shutdown = False
        self.shutting_down = False
        self.health_error = None
        self.udp_socket = None
        self.mapping_harvesters = []
        self.stop_future = None
        self.exit_code = 0
        self.colibri = colibri.Conferences(self)

    # -- state ---------------------------------------------------------------------------------
    def participants(self):
        return sum(c["participants"] for c in self.conferences)

    def state(self):
        with self.lock:
            state = dict(self.totals)
            state.update({
                "participants": self.participants(),
                "conferences": len(self.conferences),
                "drain": self.drain,
                "graceful_shutdown": self.graceful_shutdown,
                "shutting_down": self.shutting_down,
                "healthy": self.health_error is None,
                "threads": threading.active_count(),
                "muc_clients_configured": len(self.clients),
                "muc_clients_connected": sum(1 for c in self.clients if c.connected),
                "mucs_configured": sum(len(c.config.muc_jids) for c in self.clients),
                "mucs_joined": sum(len(c.joined) for c in self.clients),
                "region": self.settings.relay["region"],
                "relay_id": self.settings.relay["relay_id"] if self.settings.relay["enabled"] else None,
                "relays": self.colibri.relays_created,
                "relays_ice_failed": self.colibri.relays_ice_failed,
            })
        return state

    # -- ICE/UDP ---------------------------------------------------------------------------------
    def bind_udp(self):
        port = self.settings.udp_port
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            sock.close()
            self.log.warn("SinglePortUdpHarvester.<init>#85",
                          "Failed to bind single-port harvester on port %d: %s" % (port, exc))
            self.health_error = "Failed to bind single-port"
            return
        self.udp_socket = sock
        self.log.info("SinglePortUdpHarvester.<init>#93",
                      "Initialized SinglePortUdpHarvester with address 0.0.0.0:%d/udp" % port)

    # -- mapping harvesters (ice4j MappingCandidateHarvesters.initialize) -----------------------
    def init_mapping_harvesters(self):
        """The static mappings ice4j logs at start-up, and which it keeps: a mapping whose public
        address equals its local one, or repeats a kept pair of addresses, is discarded. The
        AWS and STUN harvesters are not modelled (the lab has no route to a STUN server)."""
        source = "MappingCandidateHarvesters.%s"
        kept = []
        for mapping in self.settings.static_mappings:
            self.log.info(source % "initialize#108", "Adding a static mapping: %s"
                          % jvbconfig.mapping_text(mapping))
            face = _transport_address(mapping["localAddress"], mapping["localPort"])
            mask = _transport_address(mapping["publicAddress"], mapping["publicPort"])
            text = "org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=%s, mask=%s)" % (face, mask)
            if face is None or mask is None or face == mask:
                self.log.info(source % "maybeAdd#185", "Discarding a mapping harvester: %s" % text)
                continue
            same = [k for k in kept if k[0].rsplit(":", 1)[0] == face.rsplit(":", 1)[0]
                    and k[1].rsplit(":", 1)[0] == mask.rsplit(":", 1)[0]]
            if same:
                self.log.info(source % "maybeAdd#194", "Discarding a mapping harvester with duplicate "
                              "addresses: %s. Kept: %s" % (text, same[0][2]))
                continue
            kept.append((face, mask, text))
        for _face, _mask, text in kept:
            self.log.info(source % "initialize#145", "Using %s" % text)
        self.mapping_harvesters = [(face, mask) for face, mask, _text in kept]

    # -- conferences (lab simulation) ------------------------------------------------------------
    def add_lab_conference(self, participants, leave_every):
        conf = {"participants": max(0, int(participants))}
        with self.lock:
            self.conferences.append(conf)
            self.totals["total_conferences_created"] += 1
            self.totals["total_participants"] += conf["participants"]
        self.log.info("Videobridge.createConference#259",
                      "Lab: created a simulated conference with %d participants."
                      % conf["participants"])
        if leave_every and leave_every > 0:
            self.loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(self._participants_leave(conf, float(leave_every))))
        return conf

    async def _participants_leave(self, conf, every):
        while True:
            await asyncio.sleep(every)
            with self.lock:
                if conf not in self.conferences:
                    return
                if conf["participants"] > 0:
                    conf["participants"] -= 1
                if conf["participants"] == 0:
                    self.conferences.remove(conf)
                    self.totals["total_conferences_completed"] += 1
                    ended = True
                else:
                    ended = False
            if ended:
                self.log.info("Conference.expire#789", "Lab: simulated conference expired.")
                return

    # -- drain and shutdown (§7.2) -------------------------------------------------------------
    def set_drain(self, value):
        with self.lock:
            changed = self.drain != value
            self.drain = value
        if changed:
            self.log.info("Videobridge.setDrainMode#299", "Received drain request. enable=%s"
                          % ("true" if value else "false"))
            self.loop.call_soon_threadsafe(self.publish_all)

    def shutdown_request(self, graceful):
        self.log.info("ShutdownManager.initiateShutdown#64",
                      "Received shutdown request, graceful=%s" % ("true" if graceful else "false"))
        self.loop.call_soon_threadsafe(
            lambda: asyncio.ensure_future(self._shutdown(graceful)))

    async def _shutdown(self, graceful):
        if self.graceful_shutdown or self.shutting_down:
            return
        if graceful:
            with self.lock:
                self.graceful_shutdown = True
            self.log.info("ShutdownManager.initiateShutdown#71",
                          "Entered graceful shutdown mode, will stay in this mode for up to %s"
                          % _human(self.settings.graceful_max))
            self.publish_all()
            deadline = self.loop.time() + self.settings.graceful_max
            while self.participants() > self.settings.graceful_min_participants:
                if self.loop.time() >= deadline:
                    break
                await asyncio.sleep(0.5)
        with self.lock:
            self.shutting_down = True
        self.log.info("ShutdownManager.maybeShutdown#95",
                      "Entering SHUTTING_DOWN with %d participants." % self.participants())
        self.log.info("ShutdownManager.maybeShutdown#97",
                      "Will shut down in %s" % _human(self.settings.shutting_down_delay))
        self.publish_all()
        await asyncio.sleep(self.settings.shutting_down_delay)
        self.log.info("ShutdownManager$shutdownNow#118", "Videobridge is shutting down NOW")
        await self.stop(0)

    def healthcheck_error(self):
        return self.health_error

    # -- XMPP ------------------------------------------------------------------------------------
    def publish_all(self):
        for client in self.clients:
            client.publish()

    async def presence_loop(self):
        while True:
            await asyncio.sleep(self.settings.presence_interval)
            self.publish_all()

    async def stop(self, code):
        self.exit_code = code
        for client in self.clients:
            client.stop()
        await asyncio.sleep(0.5)
        if self.stop_future and not self.stop_future.done():
            self.stop_future.set_result(code)


def _transport_address(address, port):
    """ice4j TransportAddress.toString() for a UDP address (9, "discard", when no port is set);
    None when the address does not resolve."""
    try:
        info = socket.getaddrinfo(address, None, 0, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError):
        return None
    host = info[0][4][0].split("%")[0]
    if info[0][0] == socket.AF_INET6:
        host = "[%s]" % host
    return "%s:%d/udp" % (host, 9 if port is None else port)


def _human(seconds):
    """Short duration text as in the §7.2 log lines: 1m, 24h, 3s."""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%gs" % seconds


class MucClient(object):
    """One XMPP client connection (jicoco MucClient, §4.3) with reconnects."""

    _next_thread = 30

    def __init__(self, bridge, config):
        self.bridge = bridge
        self.config = config
        self.log = bridge.log
        self.ctx = (("hostname", config.hostname), ("id", config.id))
        self.thread = MucClient._next_thread
        MucClient._next_thread += 1
        self.xmpp = None
        self.connected = False
        self.joined = set()
        self.stopping = False
        self.attempt_done = None

    def _l(self, level, source, message):
        self.log.line(level, self.thread, self.ctx, source, message)

    def ssl_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.config.disable_certificate_verification:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.check_hostname = True
            if self.bridge.trust_pem:
                ctx.load_verify_locations(cadata=self.bridge.trust_pem)
        return ctx

    async def run(self):
        self._l("INFO", "MucClientManager.addMucClient#118",
                "Initializing a new MucClient for " + self.config.describe())
        if self.config.disable_certificate_verification:
            self._l("WARNING", "MucClient.createXMPPTCPConnectionConfiguration#262",
                    "Disabling certificate verification!")
        if self.config.security_mode == "disabled":
            self._l("WARNING", "MucClient.createXMPPTCPConnectionConfiguration#274",
                    "XMPP security is disabled!")
        failures = 0
        while not self.stopping:
            self._l("INFO", "MucClient.initializeConnectAndJoin#333",
                    "Dispatching a thread to connect and login.")
            ok = await self.attempt()
            if self.stopping:
                break
            failures = 0 if ok else failures + 1
            # Smack's ReconnectionManager keeps trying; a short backoff keeps the lab fast.
            await asyncio.sleep(min(2 * max(failures, 1), 10))

    async def attempt(self):
        """One connection; returns when it ends (True if it had joined)."""
        import slixmpp
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        loop = asyncio.get_event_loop()
        self.attempt_done = loop.create_future()
        jid = "%s@%s" % (self.config.username, self.config.domain)
        xmpp = slixmpp.ClientXMPP(jid, self.config.password)
        self.xmpp = xmpp
        xmpp.ssl_context = self.ssl_context()
        xmpp.register_plugin("xep_0030")
        xmpp.register_plugin("xep_0199")
        had_joined = [False]
        tls_used = [False]

        def finish():
            self.connected = False
            self.joined.clear()
            if not self.attempt_done.done():
                self.attempt_done.set_result(had_joined[0])

        def on_connected(_event):
            # TCP is up; from here on TLS verification is against the XMPP domain, as Smack does.
            xmpp.default_domain = self.config.domain
            if self.config.security_mode == "disabled":
                self._connected_lines()

        def on_tls(_event):
            tls_used[0] = True
            self._connected_lines()

        def on_invalid_chain(exc):
            code = getattr(exc, "verify_code", None)
            if code == 62:
                why = ("javax.net.ssl.SSLHandshakeException: No subject alternative DNS name "
                       "matching %s found." % self.config.domain)
            elif code in (18, 19, 20, 21, 2):
                why = ("javax.net.ssl.SSLHandshakeException: PKIX path building failed: "
                       "sun.security.provider.certpath.SunCertPathBuilderException: unable to "
                       "find valid certification path to requested target")
            else:
                why = "javax.net.ssl.SSLHandshakeException: %s" % exc
            self._l("SEVERE", "MucClient.lambda$initializeConnectAndJoin$2#345",
                    "Failed to connect/login: " + why)
            xmpp.abort()
            finish()

        def on_conn_failed(exc):
            self._l("SEVERE", "MucClient.lambda$initializeConnectAndJoin$2#345",
                    "Failed to connect/login: java.net.ConnectException: %s" % exc)
            xmpp.cancel_connection_attempt()
            finish()

        def on_failed_auth(_stanza):
            self._l("SEVERE", "MucClient.lambda$initializeConnectAndJoin$2#345",
                    "Failed to connect/login: SASLError using SCRAM-SHA-1: not-authorized")
            self._l("WARNING", "MucClient.login#430",
                    "Failed to login. Disconnecting to trigger a re-connect.")
            xmpp.disconnect(wait=0)

        def on_session_start(_event):
            self.connected = True
            self._l("INFO", "MucClient$2.authenticated#203", "Authenticated, resumed=false")
            for room in self.config.muc_jids:
                self._send_presence(room, join=True)

        def on_presence(pres):
            room = pres["from"].bare
            if room not in [r.lower() for r in self.config.muc_jids] and \
                    room not in self.config.muc_jids:
                return
            if pres["type"] == "error":
                self._l("SEVERE", "MucClient.joinMucs#470", "Failed to join the MUCs.")
                return
            codes = [s.get("code") for s in pres.xml.findall(
                "{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))]
            if "110" in codes and pres["type"] != "unavailable" and room not in self.joined:
                self.joined.add(room)
                had_joined[0] = True
                # jxmpp normalises the localpart (nodeprep), so JvbBrewery@… is logged lowercase
                self._l("INFO", "MucClient$MucWrapper.join#776", "Joined MUC: " + room.lower())
            elif "110" in codes and pres["type"] == "unavailable":
                self.joined.discard(room)

        def on_healthcheck(iq):
            if iq["type"] != "get":
                return
            error = self.bridge.healthcheck_error()
            if error is None:
                iq.reply(clear=True).send()
            else:
                reply = iq.reply(clear=True)
                reply["type"] = "error"
                reply["error"]["type"] = "cancel"
                reply["error"]["condition"] = "internal-server-error"
                reply["error"]["text"] = error
                reply.send()

        def on_disconnected(_event):
            if self.connected and not self.stopping:
                self._l("WARNING", "MucClient$3.connectionClosedOnError#233",
                        "Closed on error: connection lost")
            finish()

        xmpp.add_event_handler("connected", on_connected)
        xmpp.add_event_handler("tls_success", on_tls)
        xmpp.add_event_handler("ssl_invalid_chain", on_invalid_chain)
        xmpp.add_event_handler("connection_failed", on_conn_failed)
        xmpp.add_event_handler("failed_auth", on_failed_auth)
        xmpp.add_event_handler("session_start", on_session_start)
        xmpp.add_event_handler("presence", on_presence)
        xmpp.add_event_handler("disconnected", on_disconnected)
        def on_colibri(iq):
            request = iq.xml.find("{%s}conference-modify" % colibri.COLIBRI2)
            if iq["type"] != "set" or request is None:
                return

            async def answer():
                try:
                    found = await self.bridge.colibri.handle(request)
                except colibri.IqError as exc:
                    reply = iq.reply(clear=True)
                    reply["type"] = "error"
                    reply["error"]["type"] = "cancel"
                    reply["error"]["condition"] = exc.condition
                    reply["error"]["text"] = exc.text
                    reply.send()
                    return
                reply = iq.reply(clear=True)
                reply.append(found)
                reply.send()
            asyncio.ensure_future(answer())

        xmpp.register_handler(Callback(
            "jvb colibri2", MatchXPath("{jabber:client}iq/{%s}conference-modify" % colibri.COLIBRI2),
            on_colibri))
        xmpp.register_handler(Callback(
            "jvb healthcheck", MatchXPath("{jabber:client}iq/{%s}healthcheck" % HEALTH_NS),
            on_healthcheck))

        self._connect(xmpp)
        try:
            return await self.attempt_done
        finally:
            self.xmpp = None

    def _connect(self, xmpp):
        """Connect to HOSTNAME:PORT as configured (Smack does no DNS SRV lookup here), with STARTTLS
        per SECURITY_MODE. slixmpp changed its connect() between 1.8 (bookworm) and 1.10 (trixie)."""
        mode = self.config.security_mode
        if "force_starttls" in inspect.signature(xmpp.connect).parameters:
            async def no_srv(*_args, **_kwargs):
                return None
            xmpp._pick_dns_answer = no_srv
            xmpp.connect(address=(self.config.hostname, self.config.port),
                         force_starttls=(mode == "required"),
                         disable_starttls=(mode == "disabled"))
        else:
            xmpp.enable_direct_tls = False
            xmpp.enable_starttls = mode != "disabled"
            xmpp.enable_plaintext = mode != "required"
            xmpp.connect(self.config.hostname, self.config.port)

    def _connected_lines(self):
        self._l("INFO", "MucClient$2.connected#189",
                "Connected. isSmEnabled:false isSmAvailable:false isSmResumptionPossible:false")
        self._l("INFO", "MucClient.login#413", "Logging in.")

    def _send_presence(self, room, join=False, leave=False):
        from slixmpp.xmlstream import ET
        xmpp = self.xmpp
        if xmpp is None:
            return
        pres = xmpp.make_presence(pto="%s/%s" % (room, self.config.nickname))
        if leave:
            pres["type"] = "unavailable"
        else:
            if join:
                pres.append(ET.Element("{%s}x" % MUC_NS))
            pres.append(ET.fromstring(jvbconfig.stats_xml(self.bridge.state())))
        pres.send()

    def publish(self):
        for room in list(self.joined):
            self._send_presence(room)

    def stop(self):
        self.stopping = True
        xmpp = self.xmpp
        if xmpp is None:
            return
        for room in list(self.joined):
            self._send_presence(room, leave=True)
        self.joined.clear()
        try:
            xmpp.disconnect(wait=0.3)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def _json(obj):
    """Compact JSON, as Jackson writes it."""
    return json.dumps(obj, separators=(",", ":"))


class RestHandler(BaseHTTPRequestHandler):
    """The private HTTP server (§3.3)."""

    bridge = None
    server_version = "Jetty(9.4.56.v20240826)"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep jvb.log free of access-log noise
        return

    def _send(self, code, body=b"", ctype="application/json"):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            return None

    def _route(self):
        b = self.bridge
        s = b.settings
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        method = self.command
        if path == "/about/health" and s.rest["health"] and method == "GET":
            error = b.healthcheck_error()
            if error is None:
                return self._send(200)
            return self._send(500, error, "text/plain")
        if path == "/about/version" and s.rest["version"] and method == "GET":
            return self._send(200, _json({"name": "JVB", "version": jvbconfig.VERSION,
                                               "os": "Linux"}))
        if path == "/metrics" and s.rest["prometheus"] and method == "GET":
            return self._send(200, jvbconfig.metrics_text(b.state()),
                              "text/plain; version=0.0.4; charset=utf-8")
        if path.startswith("/colibri/drain") and s.rest["drain"]:
            if path == "/colibri/drain" and method == "GET":
                return self._send(200, _json({"drain": b.drain}))
            if path == "/colibri/drain/enable" and method == "POST":
                b.set_drain(True)
                return self._send(200)
            if path == "/colibri/drain/disable" and method == "POST":
                b.set_drain(False)
                return self._send(200)
            if path == "/colibri/drain" and method == "POST":
                body = self._body()
                if not isinstance(body, dict) or "drain" not in body:
                    return self._send(400)
                b.set_drain(bool(body["drain"]))
                return self._send(200)
        if path == "/colibri/stats" and s.colibri_rest and method == "GET":
            return self._send(200, _json(jvbconfig.stats_json(b.state())))
        if path == "/colibri/shutdown" and s.colibri_rest and s.rest["shutdown"] \
                and method == "POST":
            body = self._body()
            if not isinstance(body, dict) or "graceful-shutdown" not in body:
                return self._send(400)
            graceful = str(body["graceful-shutdown"]).lower() == "true"
            b.shutdown_request(graceful)
            return self._send(200)
        # Videobridge debug state (rest/root/debug/Debug.java): /debug SHORT unless ?full=true, with the
        # health result; /debug/<conference id> FULL unless ?full=false
        if path.startswith("/debug") and s.rest["debug"] and method == "GET" and not path.startswith("/debug/lab"):
            query = self.path.split("?", 1)[1] if "?" in self.path else ""
            flags = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            parts = [p for p in path.split("/") if p]
            if len(parts) == 1:
                doc = b.colibri.debug_state(full=flags.get("full", "false") == "true")
                error = b.healthcheck_error()
                doc["health"] = {"success": error is None, "hardFailure": error is not None,
                                 "responseCode": 200 if error is None else 500, "message": error}
                return self._send(200, _json(doc))
            if len(parts) == 2:
                return self._send(200, _json(b.colibri.debug_state(parts[1], flags.get("full", "true") == "true")))
        # Lab only: simulate a conference so drain and shutdown can be tested without media.
        if path == "/debug/lab/conference" and s.rest["debug"] and method == "POST":
            body = self._body()
            if not isinstance(body, dict):
                return self._send(400)
            b.add_lab_conference(body.get("participants", 1), body.get("leave_every_seconds", 0))
            return self._send(200, _json(jvbconfig.stats_json(b.state())))
        return self._send(404, "", "text/plain")

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()


class PublicHandler(BaseHTTPRequestHandler):
    """The public HTTP server (http-servers.public): the colibri websocket servlet when websockets
    are enabled (jvbconfig.websocket_answer), Jetty's 404 for anything else."""

    bridge = None
    server_version = RestHandler.server_version
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        return

    def _answer(self):
        path = self.path.split("?", 1)[0]
        upgrade = (self.headers.get("Upgrade", "").lower() == "websocket"
                   and "upgrade" in self.headers.get("Connection", "").lower()
                   and self.headers.get("Sec-WebSocket-Key") is not None)
        status, message, warning = jvbconfig.websocket_answer(self.bridge.settings.websockets, path, upgrade)
        if warning:
            self.bridge.log.warn("ColibriWebSocketServlet.createWebSocket#136", warning)
        body = jvbconfig.jetty_error_page(status, message, path).encode("utf-8")
        self.send_response(status)
        self.send_header("Cache-Control", "must-revalidate,no-cache,no-store")
        self.send_header("Content-Type", "text/html;charset=iso-8859-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_rest(bridge):
    s = bridge.settings
    RestHandler.bridge = bridge
    family = socket.AF_INET6 if ":" in s.private_host else socket.AF_INET
    _Server.address_family = family
    server = _Server((s.private_host, s.private_port), RestHandler)
    thread = threading.Thread(target=server.serve_forever, name="jetty", daemon=True)
    thread.start()
    bridge.log.info("AbstractConnector.doStart#333", "Started ServerConnector@%x{HTTP/1.1, "
                    "(http/1.1)}{%s:%d}" % (id(server) & 0xffffffff, s.private_host, s.private_port))
    return server


def start_public(bridge):
    """The public server and the websocket service's start-up lines (jvb Main.kt, ColibriWebSocketService)."""
    s = bridge.settings
    ws = s.websockets
    if s.public_port == -1:
        bridge.log.info("MainKt.main#134", "Not starting public http server")
        return None
    bridge.log.info("MainKt.main#120", "Starting public http server")
    if ws["enabled"]:
        urls = jvbconfig.websocket_base_urls(ws)
        # Relays are off (videobridge.relay.enabled = false), so the relay list is empty and the
        # real service always takes this branch.
        bridge.log.warn("ColibriWebSocketService.<init>#57", "Websockets enabled, but no domains specified: "
                        "URLs=[%s], Relay URLs=[]" % ", ".join(urls))
        bridge.log.info("ColibriWebSocketService.registerServlet#92", "Registering servlet with baseUrls = "
                        "[%s], relayBaseUrls = []" % ", ".join(urls))
    else:
        bridge.log.info("ColibriWebSocketService.<init>#63", "WebSockets are not enabled")
        bridge.log.info("ColibriWebSocketService.registerServlet#104", "Disabled, not registering servlet")
    PublicHandler.bridge = bridge
    host = s.public_host or "0.0.0.0"

    class Public(ThreadingMixIn, HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = Public((host, s.public_port), PublicHandler)
    threading.Thread(target=server.serve_forever, name="jetty-public", daemon=True).start()
    bridge.log.info("AbstractConnector.doStart#333", "Started ServerConnector@%x{HTTP/1.1, "
                    "(http/1.1)}{%s:%d}" % (id(server) & 0xffffffff, host, s.public_port))
    return server


def main(argv):
    java_home = None
    args = list(argv)
    if len(args) >= 2 and args[0] == "--java-home":
        java_home = args[1]
        args = args[2:]
    props = jvbconfig.parse_sys_props(args)
    # slixmpp's own logging stays out of jvb.log: the bridge logs its own lines in its own format.
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger("slixmpp").propagate = False
    logging.getLogger("slixmpp").addHandler(logging.NullHandler())
    log = Log(jvbconfig.program_name(props.get("java.util.logging.config.file")))
    log.info("MainKt.main#78", "Starting jitsi-videobridge version %s" % jvbconfig.VERSION)
    try:
        settings = jvbconfig.load_settings(props)
    except jvbconfig.ConfigError as exc:
        log.severe("MainKt.main#90", "Config error: %s" % exc)
        return jvbconfig.CONFIG_ERROR_EXIT
    trust_pem = "" if not any(not c.disable_certificate_verification for c in settings.clients) \
        else java_truststore_pem(java_home)
    bridge = Bridge(settings, log, trust_pem)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    bridge.loop = loop
    bridge.stop_future = loop.create_future()
    bridge.bind_udp()
    if bridge.udp_socket is not None:
        # the single port harvester's socket: answers relay checks, drops anything else as before
        bridge.colibri.single_port = loop.run_until_complete(relay.open_port(loop, bridge.udp_socket))
    bridge.init_mapping_harvesters()

    def on_signal(signum):
        log.info("MainKt$main$1.handle#110",
                 "Caught signal %s, shutting down." % signal.Signals(signum).name[3:])
        asyncio.ensure_future(bridge.stop(128 + signum))

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)

    try:
        public = start_public(bridge)
    except OSError as exc:
        log.severe("MainKt.main#128", "Failed to start the public http server: %s" % exc)
        return 1
    log.info("MainKt.main#140", "Starting private http server")
    try:
        server = start_rest(bridge)
    except OSError as exc:
        log.severe("MainKt.main#145", "Failed to start the private http server: %s" % exc)
        return 1
    for config in settings.clients:
        bridge.clients.append(MucClient(bridge, config))
    tasks = [asyncio.ensure_future(c.run()) for c in bridge.clients]
    tasks.append(asyncio.ensure_future(bridge.presence_loop()))
    code = loop.run_until_complete(bridge.stop_future)
    pending = [t for t in asyncio_all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    server.shutdown()
    if public is not None:
        public.shutdown()
    return code


def asyncio_all_tasks(loop):
    if hasattr(asyncio, "all_tasks"):
        return asyncio.all_tasks(loop)
    return asyncio.Task.all_tasks(loop)  # Python < 3.7 spelling


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
