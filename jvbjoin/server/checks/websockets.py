"""The server's doctor check of colibri websockets (token create --colibri-ws): its nginx has a route
for every bridge that may use websockets, each to a bridge that is there. Skipped where no token asked
for websockets. The bridge's side is checked in jvbjoin.bridge.checks.websockets."""

import os
import socket

from jvbjoin.errors import JvbJoinError
from jvbjoin.system import files
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.server import colibri_ws
from jvbjoin.server.model import TokenStore, server_domain, token_state

SYNC = "jvb-join server colibri-ws   (the timer does it every minute)"


def _reaches(address, port, timeout=0.8):
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_server_colibri_ws(facts):
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
