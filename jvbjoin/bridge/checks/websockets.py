"""The bridge's doctor check of colibri websockets (token create --colibri-ws): the bridge uses the
server-id its token gave it and listens on 9090 for the server only. Skipped where websockets were
not asked for. The server's side (its nginx routes) is checked in jvbjoin.server.checks.websockets."""

from jvbjoin.formats import hocon, javaprops
from jvbjoin.system import files, ufw
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.doctor import facts as F
from jvbjoin.bridge.checks.facts import RESTART, bridge_conf, legacy_text
from jvbjoin.bridge.steps.config import LEGACY_WEBSOCKETS, WEBSOCKET_PORT
from jvbjoin.bridge.steps.websockets import configured_port, current_rules


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
    paths = facts.paths
    asked = asked_server_id(paths)
    if asked is None:
        return _configured_by_hand(facts)
    try:
        conf = bridge_conf(facts)
    except hocon.HoconError as exc:
        return fail("{} does not parse: {}".format(paths.jvb_conf, exc), "Fix the file, then: " + RESTART)
    legacy = javaprops.parse(legacy_text(facts))
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
