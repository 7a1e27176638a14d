"""The doctor check of a bridge's relays to other bridges (regions, token create --region).

jicofo joins the bridges of a conference that spans regions by relays, bridge to bridge over ICE on
the media port: the bridge that was in the conference first checks from a port of its own (jicofo
asks it for a unique port) to the other's media port, the other answers from that port. A firewall
between the two that drops the media port makes the relay's ICE fail after about eleven seconds,
and nothing tells jicofo: the bridge only counts it (jitsi_jvb_relays_ice_failed_total) and shows
it in its own debug state (``iceFailed`` of the relay's ``ice_transport`` under
/debug/<conference id>). So this check reads the bridge's debug state over its private REST API and
names each relay whose ICE failed by its relay id, which jvb-join makes the peer bridge's nickname.
"""

from jvbjoin.formats import hocon
from jvbjoin.doctor.core import fail, ok, skipped
from jvbjoin.bridge.api import BridgeAPI
from jvbjoin.bridge.checks.facts import bridge_conf

MEDIA_PORT = 10000


def relays_enabled(conf):
    """Whether the bridge's relays are on, as RelayConfig reads it (videobridge.octo.enabled first)."""
    for key in ("videobridge.octo.enabled", "videobridge.relay.enabled"):
        value = hocon.get(conf, key)
        if value is not None:
            return str(value).strip().lower() == "true"
    return False


def relay_states(api):
    """``[(conference name, relay id, ice_transport)]`` of the bridge's relays now, or None when its
    debug API is off. The short /debug lists each conference's relay ids only, so the conferences
    with relays are read again in full."""
    short = api.debug_state()
    if short is None:
        return None
    found = []
    for conf_id, conf in sorted((short.get("conferences") or {}).items()):
        if not isinstance(conf, dict) or not conf.get("relays"):
            continue
        full = (api.debug_state(conf_id, full=True) or {}).get("conferences", {}).get(conf_id)
        if not isinstance(full, dict):
            continue  # ended meanwhile
        name = full.get("name") or full.get("meeting_id") or conf_id
        for relay_id, relay in sorted((full.get("relays") or {}).items()):
            ice = relay.get("ice_transport") if isinstance(relay, dict) else None
            found.append((name, relay_id, ice if isinstance(ice, dict) else {}))
    return found


def check_relays(facts):
    try:
        conf = bridge_conf(facts)
    except (hocon.HoconError, OSError):
        return skipped("the bridge's config does not parse (see xmpp-config)")
    if not relays_enabled(conf):
        return skipped("relays are off (no region: 'token create --region' gives a bridge one, "
                       "'server install --region' the server's own)")
    port = hocon.get(conf, "videobridge.ice.udp.port", MEDIA_PORT)
    try:
        relays = facts.get("relays", lambda: relay_states(BridgeAPI(timeout=2.0)))
    except (OSError, ValueError) as exc:
        return skipped("the bridge's REST API does not answer ({})".format(exc))
    if relays is None:
        return skipped("the bridge's debug API is off (videobridge.rest.debug.enabled): its relays cannot be seen")
    failed = [(name, rid) for name, rid, ice in relays if ice.get("iceFailed")]
    if failed:
        peers = sorted({rid for _name, rid in failed})
        return fail("ICE failed on the relay to {}: this bridge and {} do not reach each other on the media "
                    "port ({}/udp), so conferences across them lose media".format(
                        ", ".join(peers), "that bridge" if len(peers) == 1 else "those bridges", port),
                    "Let the bridges reach each other on UDP {port} both ways: on each, 'ufw allow from "
                    "<the other's address> to any port {port} proto udp' (or 10000/udp open to all, as "
                    "jvb-join opens it), and the same in any firewall or security group between them. "
                    "'jvb-join bridges' on the server lists each bridge's address and relay id.".format(port=port),
                    details=["conference {}: relay to {}: ICE failed".format(n, r) for n, r in failed])
    connected = sorted({rid for _n, rid, ice in relays if ice.get("iceConnected")})
    pending = sorted({rid for _n, rid, ice in relays if not ice.get("iceConnected")})
    if not relays:
        return ok("relays on; no relay open now")
    return ok("{} relay(s): connected to {}{}".format(
        len(relays), ", ".join(connected) or "none",
        "; still connecting to " + ", ".join(pending) if pending else ""))
