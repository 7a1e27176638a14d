"""Doctor checks of colibri websockets (token create --colibri-ws), on both sides: the bridge uses
the server-id its token gave it and listens on 9090 for the server only; the server's nginx has a
route for every bridge that may use websockets, each to a bridge that is there. Both are skipped
where websockets were not asked for."""

import os
import socket

from jvbjoin.system import files, ufw
from jvbjoin.formats import hocon, javaprops
from jvbjoin.doctor import facts as F
from jvbjoin.doctor.core import fail, ok, skipped, warn

RESTART = "systemctl restart jitsi-videobridge2"
SYNC = "jvb-join server colibri-ws   (the timer does it every minute)"


def asked_server_id(paths):
    """The server-id jvb-join's fragment gives this bridge, or None (websockets not asked for)."""
    text = files.read_text(paths.jvb_fragment)
    if not text:
        return None
    try:
        conf = hocon.loads(text, paths.jvb_dir)
    except hocon.HoconError:
        return None
    if hocon.get(conf, "videobridge.websockets.enabled") not in (True, "true"):
        return None
    value = hocon.get(conf, "videobridge.websockets.server-id")
    return str(value) if value is not None else None


def check_bridge_websockets(facts):
    from jvbjoin.bridge.steps.config import LEGACY_WEBSOCKETS, WEBSOCKET_PORT
    from jvbjoin.bridge.steps.websockets import current_rules
    paths = facts.paths
    asked = asked_server_id(paths)
    if asked is None:
        return _configured_by_hand(facts)
    try:
        conf = F.bridge_conf(facts)
    except hocon.HoconError as exc:
        return fail("{} does not parse: {}".format(paths.jvb_conf, exc), "Fix the file, then: " + RESTART)
    legacy = javaprops.parse(F.legacy_text(facts))
    overriding = [key for key in LEGACY_WEBSOCKETS if key in legacy]
    if overriding:
        return fail("{} sets {}, which the bridge reads before jvb.conf".format(
            paths.jvb_legacy_properties, ", ".join(overriding)),
            "Remove it there, then: " + RESTART)
    enabled = hocon.get(conf, "videobridge.websockets.enabled") in (True, "true")
    effective = hocon.get(conf, "videobridge.websockets.server-id", "default-id")
    if not enabled or str(effective) != asked:
        return fail("the bridge's websockets are {} with server-id {}, not {} as the server routes them".format(
            "on" if enabled else "off", effective, asked),
            "Remove the websockets settings after jvb-join's include line in {}, then: {}".format(
                paths.jvb_conf, RESTART))
    port = hocon.get(conf, "videobridge.http-servers.public.port", -1)
    if str(port) != str(WEBSOCKET_PORT):
        return fail("the bridge's public HTTP server is on port {}, the server's nginx sends to {}".format(
            port, WEBSOCKET_PORT), "Remove videobridge.http-servers.public.port from {}, then: {}".format(
                paths.jvb_conf, RESTART))
    if not any(p == WEBSOCKET_PORT for _a, p in F.tcp_listeners(facts)):
        return fail("nothing listens on {}/tcp: the server cannot reach this bridge's websockets".format(
            WEBSOCKET_PORT), RESTART + "; then see /var/log/jitsi/jvb.log")
    sources = sorted({source for port, proto, source in current_rules(paths)})
    _installed, _enabled, rules = ufw.saved(paths)
    if ufw.allowed(rules, WEBSOCKET_PORT, "tcp", from_anywhere=True):
        return warn("{}/tcp is open to everyone; only the server's nginx needs it".format(WEBSOCKET_PORT),
                    "ufw delete allow {}/tcp".format(WEBSOCKET_PORT))
    return ok("server-id {}; {}/tcp listening, allowed from {}".format(
        asked, WEBSOCKET_PORT, ", ".join(sources) or "(no ufw rule of jvb-join)"))


def _configured_by_hand(facts):
    """Websockets the token did not ask for but the bridge's own config turns on (an admin following
    the tutorials): the port must listen, and ufw, when on, must let someone in (the server)."""
    from jvbjoin.bridge.steps.websockets import configured_port
    port = configured_port(facts.paths)
    if port is None:
        return skipped("colibri websockets are off (neither the token nor the bridge's config turns them on)")
    if not any(p == port for _a, p in F.tcp_listeners(facts)):
        return fail("the bridge's config turns colibri websockets on, but nothing listens on {}/tcp".format(port),
                    RESTART + "; then see /var/log/jitsi/jvb.log")
    installed, enabled, rules = ufw.saved(facts.paths)
    if installed and enabled and not ufw.allowed(rules, port, "tcp"):
        return fail("ufw keeps the server from the bridge's colibri websockets on {}/tcp".format(port),
                    "ufw allow from SERVER-ADDRESS to any port {} proto tcp".format(port))
    return ok("colibri websockets on {}/tcp, set in the bridge's own config; {}".format(
        port, "ufw lets them in" if installed and enabled else "ufw is off"))


def _reaches(address, port, timeout=0.8):
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_server_colibri_ws(facts):
    from jvbjoin.server import colibri_ws
    from jvbjoin.server.tokens import TokenStore, server_domain, token_state
    from jvbjoin.errors import JvbJoinError
    paths = facts.paths
    try:
        records = TokenStore(paths).load()
    except JvbJoinError as exc:
        return fail(exc.message, exc.remedy)
    if not colibri_ws.needed(paths, records):
        return skipped("no token asked for colibri websockets (token create --colibri-ws)")
    try:
        domain = server_domain(paths)
    except JvbJoinError as exc:
        return fail(exc.message, exc.remedy)
    wanted = colibri_ws.wanted_routes(paths, records)
    folder = colibri_ws.routes_dir(paths)
    stale = sorted(n[:-len(".conf")] for n in (os.listdir(folder) if os.path.isdir(folder) else [])
                   if n.endswith(".conf") and n[:-len(".conf")] not in wanted)
    site = files.read_text(colibri_ws.site_path(paths, domain)) or ""
    if not wanted and not stale and not colibri_ws.has_include(site):
        return skipped("no bridge uses colibri websockets now")
    problems, details = [], []
    if wanted and not colibri_ws.has_include(site):
        problems.append("the site {} does not include the routes".format(colibri_ws.site_path(paths, domain)))
    for server_id, (address, record) in sorted(wanted.items()):
        target = colibri_ws.route_target(files.read_text(colibri_ws.route_path(paths, server_id)))
        if target != (address, colibri_ws.PORT, server_id):
            problems.append("no route for {} (token {})".format(server_id, record["id"]))
            continue
        state = token_state(record, paths)
        if state == "joined" and not _reaches(address, colibri_ws.PORT):
            problems.append("{} routes to {}:{}, which does not answer".format(server_id, address, colibri_ws.PORT))
        details.append("{} -> {}:{} ({})".format(server_id, address, colibri_ws.PORT,
                                                 "bridge joined" if state == "joined" else "token unused yet"))
    if stale:
        problems.append("routes to bridges that are gone: {}".format(", ".join(stale)))
    if problems:
        return warn("; ".join(problems), SYNC, details)
    return ok("{} route(s), one per websocket bridge (nginx -t: see web-server)".format(len(wanted)), details)
