"""`jvb-join status` of a bridge: server, nickname, service, brewery, load, drain. Read-only, like
doctor; jvbjoin/server/status.py has the server's, and the command line renders both."""

import json
import os
import re
import time

from jvbjoin.system import files
from jvbjoin.system.systemd import Systemd
from jvbjoin.errors import JvbJoinError
from jvbjoin.bridge import brewery
from jvbjoin.bridge.api import BridgeAPI
from jvbjoin.bridge.model import read_state

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


def unit_state(name):
    """A systemd unit's state, or ``{"error": why}`` when systemd cannot be asked."""
    try:
        with Systemd(connect_timeout=2.0) as systemd:
            return systemd.unit_state(name)
    except Exception as exc:
        return {"error": str(exc)}


def service_text(unit):
    """A unit's state in a few words: active/running since when, and its automatic restarts."""
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
    st = read_state(paths)
    try:
        nickname = json.loads(files.read_text(paths.nickname_file) or "{}").get("nickname")
    except ValueError:
        nickname = None
    unit = unit_state("jitsi-videobridge2.service")
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
        "service": service_text(unit),
        "in_brewery": in_brewery,
        "in_brewery_since": joined_since(paths, st.get("muc")) if in_brewery else None,
        "conferences": None if metrics is None else int(metrics.get("jitsi_jvb_conferences", 0)),
        "participants": None if metrics is None else int(metrics.get("jitsi_jvb_participants", 0)),
        "drain": None if metrics is None else bool(metrics.get("jitsi_jvb_drain", 0)),
        "graceful_shutdown": None if metrics is None else bool(metrics.get("jitsi_jvb_graceful_shutdown", 0)),
    }
    out["servers"] = servers_status(paths, metrics, nickname)
    if out["servers"]:
        # the top-level keys are the first server's, as they were before a bridge had several
        out["in_brewery"] = out["servers"][0]["in_brewery"]
        out["in_brewery_since"] = out["servers"][0]["in_brewery_since"]
    return out


def servers_status(paths, metrics, nickname):
    """One entry per server the bridge serves (bridge.shards): which, with which account and
    brewery, and whether the bridge is in it. The bridge's metrics count the breweries it is in;
    only when that count leaves a doubt (in some but not all) is each server asked."""
    served = brewery.served(paths)
    joined = int((metrics or {}).get("jitsi_jvb_mucs_joined", 0) or 0)
    configured = int((metrics or {}).get("jitsi_jvb_mucs_configured", 0) or 0)
    out = []
    for server in served:
        record = server.record
        entry = {
            "server": server.name,
            "address": "{}:{}".format(record["server"], server.port),
            "meet": record.get("meet"),
            "account": "{}@{}".format(record["user"], record["domain"]) if record.get("user") else None,
            "brewery": record.get("muc"),
            "nickname": nickname,
        }
        if joined < 1:
            entry["in_brewery"] = False
        elif len(served) == 1 or joined >= max(configured, len(served)):
            entry["in_brewery"] = True
        else:
            entry["in_brewery"] = asked_in_brewery(server, nickname, entry)
        entry["in_brewery_since"] = joined_since(paths, record.get("muc")) if entry["in_brewery"] else None
        out.append(entry)
    return out


def asked_in_brewery(server, nickname, entry):
    if not (nickname and server.password):
        return False
    try:
        return nickname in server.occupants(timeout=5)
    except (JvbJoinError, OSError) as exc:
        entry["error"] = getattr(exc, "message", str(exc))
        return False
