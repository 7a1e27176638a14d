"""The bridge's colibri websocket port (token create --colibri-ws): open in ufw to the server's
address only, since nginx on the server is the one client the bridge's public HTTP server has.

The rule carries its own comment, so a later join with a token without websockets, or a token
naming another server address, takes the old rule away, and ``leave`` finds it.
"""

import socket

from jvbjoin.system import files
from jvbjoin.formats import hocon
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import StepError
from jvbjoin.steps import firewall
from jvbjoin.system.run import run
from jvbjoin.bridge.steps.config import WEBSOCKET_PORT
from jvbjoin.system.ufw import RULE_FILES, allowed, commented_tuples

COMMENT = "jvb-join colibri-ws"


def websocket_rules(text, comment=COMMENT):
    """``[(port, proto, source)]`` of the incoming allow rules of a ``user.rules`` text that carry
    ``comment``."""
    found = []
    for fields in commented_tuples(text, comment):
        if (fields[2], fields[1], fields[5]) not in found:
            found.append((fields[2], fields[1], fields[5]))
    return found


def current_rules(paths):
    found = []
    for name in RULE_FILES:
        for rule in websocket_rules(files.read_text(paths(name)) or ""):
            if rule not in found:
                found.append(rule)
    return found


def allow_argv(source, port=WEBSOCKET_PORT, proto="tcp"):
    return ["ufw", "allow", "from", source, "to", "any", "port", str(port), "proto", proto, "comment", COMMENT]


def delete_argv(source, port=WEBSOCKET_PORT, proto="tcp"):
    return ["ufw", "delete", "allow", "from", source, "to", "any", "port", str(port), "proto", proto]


def _ufw(argv, what):
    result = run(argv, check=False, timeout=120)
    output = result.stdout + result.stderr
    # In a container ufw cannot set its sysctls and says so, yet changes the rule.
    if not result.ok and "problem running sysctl" not in output:
        raise StepError("{} failed: {}".format(" ".join(argv), output.strip()[-300:]),
                        "Check ufw (ufw status verbose), then run {} again.".format(what))


def _change(summary, port, proto, source, make, undo):
    return Change("firewall", "{}/{} from {}".format(port, proto, source), summary.format(port, proto, source),
                  data=(make(source, port, proto), undo(source, port, proto)))


class _RuleStep(Step):
    """Makes jvb-join's websocket rules exactly ``wanted(ctx)``, each change with its undo."""

    again = "jvb-join"

    def wanted(self, ctx):
        raise NotImplementedError

    def check(self, ctx):
        if not ctx.run.firewall:
            return []
        want = self.wanted(ctx)
        have = current_rules(ctx.paths)
        changes = []
        for port, proto, source in have:
            if (port, proto, source) not in want:
                changes.append(_change("close {}/{} to {} (colibri websockets, opened by jvb-join)",
                                       port, proto, source, delete_argv, allow_argv))
        for port, proto, source in want:
            if (port, proto, source) not in have:
                changes.append(_change("allow {}/{} from the server {} only (colibri websockets)",
                                       port, proto, source, allow_argv, delete_argv))
        return changes

    def apply(self, ctx, changes, journal):
        saved = [files.FileState.read(ctx.paths(name)) for name in RULE_FILES]
        backups = ctx.run.backups
        for state in saved:
            if state.exists and backups is not None:
                backups.save(state.path)
        journal.record("restore ufw's rule files", lambda: [files.restore(state) for state in saved])
        for change in changes:
            argv, undo = change.data
            journal.record(" ".join(undo), lambda undo=undo: run(undo, check=False, timeout=60))
            _ufw(argv, self.again)


def configured_port(paths):
    """The port of the bridge's public HTTP server when the bridge's own configuration turns colibri
    websockets on, whoever wrote it (an admin following the tutorials does, in jvb.conf); else None."""
    try:
        conf = hocon.load(paths.jvb_conf)
    except (OSError, hocon.HoconError):
        return None
    if hocon.get(conf, "videobridge.websockets.enabled") not in (True, "true"):
        return None
    try:
        port = int(hocon.get(conf, "videobridge.http-servers.public.port", -1))
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def server_address(host):
    """The server's IPv4 address as this host resolves its name (None when it does not resolve)."""
    try:
        return socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except (OSError, IndexError):
        return None


class CloseWebsocketPort(_RuleStep):
    """Leave: the websocket rules jvb-join opened are closed."""

    name = "websocket-port"
    title = "colibri websocket port (ufw)"
    again = "'jvb-join leave'"
    leave_order = 4

    def wanted(self, ctx):
        return []


class WebsocketPort(_RuleStep):
    """Join: the websocket port reachable from the server's address only: 9090/tcp when the token asks
    for websockets; the port the bridge's own configuration uses when an admin turned them on by hand
    and no rule lets the server in yet (so that turning ufw on does not cut it). Else none."""

    name = "websocket-port"
    title = "colibri websocket port (ufw)"
    inverse = CloseWebsocketPort

    def wanted(self, ctx):
        token = ctx.run.token
        source = getattr(token, "wsfrom", None)
        if source:
            return [(str(WEBSOCKET_PORT), "tcp", source)]
        port = configured_port(ctx.paths)
        if port is None or token is None:
            return []
        mine = [rule for rule in current_rules(ctx.paths) if rule[0] == str(port)]
        if mine:
            return mine
        state = firewall.ufw_state(ctx.paths)
        address = server_address(token.host)
        if state is None or address is None or allowed(state[1], port, "tcp"):
            return []
        return [(str(port), "tcp", address)]

    def check(self, ctx):
        token = ctx.run.token
        if getattr(token, "wsfrom", None) and not ctx.run.firewall:
            ctx.add_degraded("--no-firewall: let only the server {} reach {}/tcp (colibri websockets) "
                             "through this host's firewall".format(token.wsfrom, WEBSOCKET_PORT))
        return super().check(ctx)
