"""`jvb-join status` of a server: the services, the bridges jicofo sees, the tokens. Read-only."""

from jvbjoin.bridge.status import service_text, unit_state
from jvbjoin.doctor.core import Facts
from jvbjoin.server import jicofo, tokens
from jvbjoin.server.checks.services import token_states


def server_status(paths):
    """The document `status` shows on a server."""
    facts = Facts(paths)
    try:
        counts = jicofo.bridge_counts()
    except OSError as exc:
        counts = {"error": str(exc)}
    items = []
    for record, state in token_states(facts):
        items.append({"id": record["id"], "name": record.get("name") or "", "user": record["user"],
                      "state": state, "expires": record["exp"]})
    return {
        "role": "server",
        "domain": tokens.server_domain(paths),
        "jicofo": jicofo_text(paths),
        "prosody": service_text(unit_state("prosody.service")),
        "local_bridge": service_text(unit_state("jitsi-videobridge2.service")),
        "bridges_seen_by_jicofo": counts.get("bridge_count"),
        "bridges_operational": counts.get("operational_bridge_count"),
        "jicofo_error": counts.get("error"),
        "tokens": items,
    }


def jicofo_text(paths):
    """jicofo's unit state, and whether its daemon lives: its SysV unit says active after the daemon died."""
    unit = unit_state("jicofo.service")
    text = service_text(unit)
    if unit.get("ActiveState") == "active" and jicofo.daemon_state(paths).state == jicofo.DEAD:
        text += ", but its daemon is dead (systemctl restart jicofo)"
    return text
