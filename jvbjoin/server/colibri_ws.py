"""Colibri websockets for servers that still use them: one nginx route per bridge.

Every bridge answers websockets only for its own ``videobridge.websockets.server-id``, and the
meet domain's nginx must send ``/colibri-ws/<server-id>/...`` to that bridge's port 9090 (reference
§2.4 "Per-bridge websocket routing", §8 item 5). The bridge cannot change the server's nginx, so
the server does it from what it already knows: ``token create --colibri-ws ADDRESS`` records the
bridge's address and its server-id with the token, and the token tells the bridge its server-id
and the server address that alone may reach its port 9090.

The routes follow the token store: a route exists while its token is unused or its bridge is
joined, and goes once the bridge left (its account is gone), the token was revoked or expired
unused. ``token create``, ``token revoke`` and ``token expire`` (every minute, from the timer)
bring nginx in line, and so does ``jvb-join server colibri-ws`` (with ``--dry-run``: the diffs).

jvb-join owns one file per bridge in ``/etc/nginx/jvb-join-colibri-ws/``; the site gets one
marked ``include`` line in its 443 server, before its first regex location (nginx tries regex
locations in order, and the site's last one takes any ``/<word>/...`` as a room of a tenant). The
line goes again with the last route, so the site is then byte for byte as before. ``nginx -t``
runs before any reload; a configuration it refuses puts every file back and says why.
"""

import ipaddress
import os
import re
import time

from jvbjoin.system import files
from jvbjoin.engine.core import Context, Engine
from jvbjoin.engine.run import Run
from jvbjoin.errors import JvbJoinError, StepError, UsageError
from jvbjoin.formats.token import valid_server_id
from jvbjoin.steps.base import WantedFile
from jvbjoin.bridge.nat import route_source
from jvbjoin.server.model import server_domain, token_state
from jvbjoin.server.nginx import NginxFiles

PORT = 9090
ROUTES_DIR = "/etc/nginx/jvb-join-colibri-ws"
INCLUDE_LINE = "include {}/*.conf;  # added by jvb-join: colibri websockets of its bridges".format(ROUTES_DIR)
LIVE_STATES = ("unused", "joined")


def site_path(paths, domain):
    return paths("/etc/nginx/sites-available/{}.conf".format(domain))


def routes_dir(paths):
    return paths(ROUTES_DIR)


def route_path(paths, server_id):
    return os.path.join(routes_dir(paths), "{}.conf".format(server_id))


# --- the site's include line -------------------------------------------------------------------

def _code(line):
    """A config line without its comment (a '#' outside quotes starts one)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _https_server(lines):
    return server_block(lines, 443)


def server_block(lines, port):
    """``(first regex location index or None, closing brace index)`` of the first ``server``
    block that listens on ``port``, or None."""
    listen = re.compile(r"(^|[\s:\]]){}(\s|;|$)".format(port))
    depth = 0
    start = listens = first_regex = None
    for index, line in enumerate(lines):
        code = _code(line)
        words = code.split()
        if depth == 0 and words[:1] == ["server"] and "{" in code:
            start, listens, first_regex = index, False, None
        elif start is not None and depth == 1 and words[:1] == ["listen"] and \
                listen.search(code):
            listens = True
        elif start is not None and depth == 1 and words[:1] == ["location"] and len(words) > 1 and \
                words[1].startswith("~") and first_regex is None:
            first_regex = index
        depth += code.count("{") - code.count("}")
        if start is not None and depth == 0 and index >= start and "}" in code:
            if listens:
                return first_regex, index
            start = None
    return None


def has_include(text):
    return any(line.strip() == INCLUDE_LINE for line in text.splitlines())


def add_include(text):
    """The site with jvb-join's include line in its 443 server; every other byte as it was."""
    if has_include(text):
        return text
    lines = text.splitlines(True)
    found = _https_server(lines)
    if found is None:
        raise StepError("The site has no server block that listens on 443.",
                        "Check the meet domain's nginx site (nginx -t), or give the routes by hand.")
    first_regex, closing = found
    at = first_regex if first_regex is not None else closing
    indent = re.match(r"[ \t]*", lines[at]).group(0) if first_regex is not None else "    "
    ending = "\r\n" if lines[at].endswith("\r\n") else "\n"
    lines.insert(at, indent + INCLUDE_LINE + ending)
    return "".join(lines)


def remove_include(text):
    return "".join(line for line in text.splitlines(True) if line.strip() != INCLUDE_LINE)


# --- one bridge's route --------------------------------------------------------------------------

def route_text(server_id, address, record):
    host = "[{}]".format(address) if ":" in address else address
    name = " ({})".format(record["name"]) if record.get("name") else ""
    return ("# Written by jvb-join for the bridge of token {id}{name}; removed when that bridge leaves, or its\n"
            "# token is revoked or expires unused. Colibri websockets of server-id {sid} go to that bridge.\n"
            "location ~ ^/colibri-ws/{sid}/(.*) {{\n"
            "    proxy_pass http://{host}:{port}/colibri-ws/{sid}/$1$is_args$args;\n"
            "    proxy_http_version 1.1;\n"
            "    proxy_set_header Upgrade $http_upgrade;\n"
            "    proxy_set_header Connection \"upgrade\";\n"
            "    tcp_nodelay on;\n"
            "}}\n").format(id=record["id"], name=name, sid=server_id, host=host, port=PORT)


_ROUTE_TARGET = re.compile(r"proxy_pass http://\[?([0-9A-Fa-f:.]+)\]?:(\d+)/colibri-ws/([a-z0-9-]+)/")


def route_target(text):
    """``(address, port, server_id)`` a route file sends to, or None."""
    match = _ROUTE_TARGET.search(text or "")
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def wanted_routes(paths, records, now=None):
    """``{server_id: (address, record)}`` of the tokens whose bridge may use websockets now."""
    out = {}
    for record in records:
        ws = record.get("colibri_ws")
        if ws and token_state(record, paths, now) in LIVE_STATES:
            out[ws["id"]] = (ws["address"], record)
    return out


class Routes(NginxFiles):
    what = "the colibri websocket routes"
    rerun = "jvb-join server colibri-ws"

    """The route files, the site's include line, ``nginx -t``, then a reload."""

    name = "colibri-ws"
    title = "colibri websocket routes (nginx)"

    def __init__(self, domain, records, now=None):
        self.domain, self.records, self.now = domain, records, now

    def wanted(self, ctx):
        paths = ctx.paths
        routes = wanted_routes(paths, self.records, self.now)
        out = []
        folder = routes_dir(paths)
        existing = sorted(n[:-len(".conf")] for n in (os.listdir(folder) if os.path.isdir(folder) else [])
                          if n.endswith(".conf"))
        for server_id in existing:
            if server_id not in routes:
                out.append(WantedFile(route_path(paths, server_id), None))
        for server_id, (address, record) in sorted(routes.items()):
            out.append(WantedFile(route_path(paths, server_id), route_text(server_id, address, record), 0o644))
        site = site_path(paths, self.domain)
        text = files.read_text(site)
        if text is None:
            if routes:
                raise StepError("{} does not exist.".format(site),
                                "Colibri websocket routes need the nginx site of jitsi-meet-web-config.")
            return out
        new = add_include(text) if routes else remove_include(text)
        if new != text:
            out.append(WantedFile(site, new))
        return out

    def before_reload(self, ctx):
        return nginx_workers(ctx.paths)

    def after_reload(self, ctx, before):
        wait_for_new_workers(ctx.paths, before)


def nginx_workers(paths):
    """The PIDs of nginx's worker processes (from /proc)."""
    pids = set()
    proc = paths("/proc")
    for name in (os.listdir(proc) if os.path.isdir(proc) else []):
        if name.isdigit():
            try:
                with open(os.path.join(proc, name, "cmdline"), "rb") as handle:
                    if handle.read().startswith(b"nginx: worker process"):
                        pids.add(name)
            except OSError:
                pass
    return pids


def wait_for_new_workers(paths, before, timeout=10.0):
    """A reload returns once nginx has the signal; the old workers accept connections until the
    master has started new ones with the new files. Wait for those, so that a route just removed
    is gone for the next request (a request to a bridge that left would hang until nginx's
    connect timeout)."""
    if not before:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nginx_workers(paths) - before:
            time.sleep(0.2)  # the master signals the old workers right after starting the new ones
            return
        time.sleep(0.1)


def sync(paths, records, progress=None, dry_run=False, now=None, domain=None):
    """Bring nginx's colibri websocket routes in line with ``records``; returns the report."""
    domain = domain or server_domain(paths)
    ctx = Context(paths, Run(dry_run=dry_run, backups=files.Backups(paths.backups, paths.root)), progress)
    return Engine([Routes(domain, records, now)], ctx).run("server colibri-ws", dry_run=dry_run)


def needed(paths, records):
    """Is there anything to keep in line (a websocket token, a route file, or the include line)?"""
    if any(r.get("colibri_ws") for r in records):
        return True
    folder = routes_dir(paths)
    return os.path.isdir(folder) and any(n.endswith(".conf") for n in os.listdir(folder))


# --- token create --colibri-ws ADDRESS ---------------------------------------------------------

def bridge_address(text):
    """The bridge's address as nginx reaches it: an IP literal (nginx resolves a name only at its
    start, and a proxy_pass with variables needs a resolver)."""
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        raise UsageError("--colibri-ws takes the bridge's IP address (as the server reaches it), not {!r}.".format(
            text)) from None
    if address.is_unspecified or address.is_multicast:
        raise UsageError("--colibri-ws {} is not a bridge's address.".format(address))
    return str(address)


def server_id_for(name, token_id, records):
    """The bridge's server-id: from the token's name when it has one, else ``jvb-<token id>``;
    unique among the routes of live tokens."""
    taken = {r["colibri_ws"]["id"] for r in records if r.get("colibri_ws") and not r.get("revoked")}
    if name:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32].strip("-")
        if valid_server_id(slug) and slug not in taken:
            return slug
    candidate = "jvb-{}".format(token_id)
    if candidate in taken:  # a token id is unique, so only a hand-edited store gets here
        raise JvbJoinError("The websocket server-id {} is taken already.".format(candidate))
    return candidate


def server_source(address):
    """The server's own address that reaches ``address``: where nginx's connections come from."""
    return route_source(address, PORT)


def check_web(paths, domain):
    """Refuse --colibri-ws where there is no nginx site to route from (Apache, no Jitsi site)."""
    if not os.path.isfile(site_path(paths, domain)):
        raise UsageError("--colibri-ws needs the nginx site {} (jvb-join routes colibri websockets with nginx "
                         "only).".format(site_path(paths, domain)),
                         "Install the server with '--web nginx', or leave websockets off (the default).")
