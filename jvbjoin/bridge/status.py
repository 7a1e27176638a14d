"""`jvb-join status`: one screen about this bridge (server, nickname, service, brewery, load, drain)
or this server (the bridges jicofo sees, the tokens). Read-only, like doctor."""

import json
import os
import re
import time

from jvbjoin.system import files
from jvbjoin.errors import JvbJoinError

_JOINED = re.compile(r"^(?:JVB )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ .*Joined MUC: (\S+)")
LOG_TAIL = 512 * 1024


def joined_since(paths, muc):
    """When the bridge last joined ``muc``, from its log (the local time the bridge wrote), or None."""
    try:
        with open(paths.jvb_log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - LOG_TAIL))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    since = None
    for line in text.splitlines():
        match = _JOINED.match(line)
        if match and match.group(2).lower() == (muc or "").lower():
            since = match.group(1)
    return since


def _unit(name):
    try:
        from jvbjoin.system.systemd import Systemd
        with Systemd(connect_timeout=2.0) as systemd:
            return systemd.unit_state(name)
    except Exception as exc:
        return {"error": str(exc)}


def _service_text(unit):
    if "error" in unit:
        return "unknown ({})".format(unit["error"])
    text = "{}/{}".format(unit.get("ActiveState"), unit.get("SubState"))
    since = (unit.get("ActiveEnterTimestamp") or 0) / 1e6
    if unit.get("ActiveState") == "active" and since:
        text += " since {}".format(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)))
    if unit.get("NRestarts"):
        text += ", {} automatic restart(s)".format(unit["NRestarts"])
    return text


def bridge_status(paths):
    from jvbjoin.bridge.api import BridgeAPI
    from jvbjoin.bridge.steps.account import read_state
    st = read_state(paths)
    try:
        nickname = json.loads(files.read_text(paths.nickname_file) or "{}").get("nickname")
    except ValueError:
        nickname = None
    unit = _unit("jitsi-videobridge2.service")
    api = BridgeAPI(timeout=2.0)
    try:
        metrics = api.metrics_or_raise()
    except (OSError, ValueError):
        metrics = None
    in_brewery = bool(metrics) and metrics.get("jitsi_jvb_mucs_joined", metrics.get("jitsi_jvb_muc_clients_connected", 0)) >= 1
    out = {
        "role": "bridge",
        "server": "{}:{}".format(st["server"], st.get("port") or 5222) if st.get("server") else None,
        "meet": st.get("meet"),
        "account": "{}@{}".format(st["user"], st["domain"]) if st.get("user") else None,
        "brewery": st.get("muc"),
        "nickname": nickname,
        "service": _service_text(unit),
        "in_brewery": in_brewery,
        "in_brewery_since": joined_since(paths, st.get("muc")) if in_brewery else None,
        "conferences": None if metrics is None else int(metrics.get("jitsi_jvb_conferences", 0)),
        "participants": None if metrics is None else int(metrics.get("jitsi_jvb_participants", 0)),
        "drain": None if metrics is None else bool(metrics.get("jitsi_jvb_drain", 0)),
        "graceful_shutdown": None if metrics is None else bool(metrics.get("jitsi_jvb_graceful_shutdown", 0)),
    }
    return out


def server_status(paths):
    from jvbjoin.server.checks.services import token_states
    from jvbjoin.doctor.core import Facts
    from jvbjoin.server import jicofo, tokens
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
        "jicofo": _jicofo_text(paths),
        "prosody": _service_text(_unit("prosody.service")),
        "local_bridge": _service_text(_unit("jitsi-videobridge2.service")),
        "bridges_seen_by_jicofo": counts.get("bridge_count"),
        "bridges_operational": counts.get("operational_bridge_count"),
        "jicofo_error": counts.get("error"),
        "tokens": items,
    }


def _jicofo_text(paths):
    """jicofo's unit state, and whether its daemon lives: its SysV unit says active after the daemon died."""
    from jvbjoin.server import jicofo
    unit = _unit("jicofo.service")
    text = _service_text(unit)
    if unit.get("ActiveState") == "active" and jicofo.daemon_state(paths).state == jicofo.DEAD:
        text += ", but its daemon is dead (systemctl restart jicofo)"
    return text


def _yes_no(value):
    return "-" if value is None else ("yes" if value else "no")


def render_text(info):
    if info["role"] == "bridge":
        rows = [
            ("role", "bridge"),
            ("server", "{} ({})".format(info["server"], info["meet"]) if info["server"] else "not joined"),
            ("account", info["account"] or "-"),
            ("nickname", info["nickname"] or "-"),
            ("service", info["service"]),
            ("in brewery", "yes, since {}".format(info["in_brewery_since"]) if info["in_brewery"] and info["in_brewery_since"]
             else _yes_no(info["in_brewery"]) + ("" if info["in_brewery"] else "   (see: jvb-join doctor)")),
            ("conferences", "-" if info["conferences"] is None else str(info["conferences"])),
            ("participants", "-" if info["participants"] is None else str(info["participants"])),
            ("drain", _yes_no(info["drain"])),
        ]
        if info["graceful_shutdown"]:
            rows.append(("shutdown", "graceful shutdown in progress"))
    else:
        seen = info["bridges_seen_by_jicofo"]
        rows = [
            ("role", "server"),
            ("domain", info["domain"]),
            ("prosody", info["prosody"]),
            ("jicofo", info["jicofo"]),
            ("local bridge", info["local_bridge"]),
            ("bridges", "jicofo does not answer ({})".format(info["jicofo_error"]) if seen is None
             else "{} seen by jicofo, {} operational".format(seen, info["bridges_operational"])),
        ]
        counts = {}
        for item in info["tokens"]:
            counts[item["state"]] = counts.get(item["state"], 0) + 1
        rows.append(("tokens", ", ".join("{} {}".format(n, s) for s, n in sorted(counts.items())) or "none"))
        for item in info["tokens"]:
            if item["state"] in ("unused", "joined"):
                rows.append(("", "{} {:<8} {} {}".format(item["id"], item["state"], item["user"], item["name"]).rstrip()))
    width = max(len(k) for k, _ in rows)
    return "\n".join("{:<{w}}  {}".format(k, v, w=width) for k, v in rows)


def command(opts):
    """Run `jvb-join status`; return its exit code."""
    import click
    from jvbjoin.doctor.facts import detect_role
    from jvbjoin.system.paths import Paths

    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join status reads root-only files.", "Run it again with sudo.")
    paths = Paths("/")
    role = detect_role(paths)
    if role is None:
        raise JvbJoinError("This host is neither a bridge nor a Jitsi Meet server jvb-join knows about.",
                           "Join it with 'jvb-join <token>', or make it a server with 'jvb-join server install --domain D'.")
    info = bridge_status(paths) if role == "bridge" else server_status(paths)
    click.echo(json.dumps(info, indent=2, sort_keys=True) if opts.as_json else render_text(info))
    return 0
