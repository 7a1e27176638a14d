"""The fleet's trust boundary on the Jitsi Meet server, set up by ``jvb-join server install``: the
closed brewery, and jicofo's REST port on loopback only.

jicofo sends conferences, with their media, to every occupant of the brewery room that presents
itself as a videobridge, and the packaged prosody lets any session into that room: a guest of the
meeting page included. The step below writes jvb-join's prosody file (server/rights.py) with the
brewery module and its list of accounts, joins it to prosody.cfg.lua by one marked line, and makes
the running prosody load the module (a reload cannot add a plugin path: the first time, prosody is
restarted). Token commands keep the list in step afterwards.

jicofo's REST API (``/debug``, ``/pin``, ``/move-endpoints``) listened on every interface before
jicofo 1.0-1138 (2025-06); since then it binds 127.0.0.1. Where the installed jicofo or its config
would still bind another address, one marked line at the end of jicofo.conf sets
``jicofo.rest.host`` to loopback (later values win in HOCON), and jicofo is restarted.
"""

import re

from jvbjoin.system import files
from jvbjoin.system.apt import installed_packages
from jvbjoin.formats import hocon
from jvbjoin.system.netinfo import is_loopback
from jvbjoin.engine.core import Change
from jvbjoin.errors import JvbJoinError
from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.server import rights
from jvbjoin.server.model import TokenStore


class ClosedBrewery(FileStep):
    name = "closed-brewery"
    title = "closed brewery (only jicofo and the fleet's accounts)"

    def __init__(self, domain):
        self.domain = domain

    def wanted(self, ctx):
        main = files.read_text(ctx.paths(rights.PROSODY_CFG))
        out = [WantedFile(ctx.paths(rights.FRAGMENT),
                          rights.fragment_text(ctx.paths, self.domain, TokenStore(ctx.paths).load()), 0o644, 0, 0)]
        if main is not None:
            out.append(WantedFile(ctx.paths(rights.PROSODY_CFG), rights.with_include(main)))
        return out

    def check(self, ctx):
        changes = super().check(ctx)
        if not changes and ctx.paths.root == "/" and rights.brewery_closed_in_prosody(self.domain) is False:
            changes.append(Change("service", "prosody", "load jvb-join's brewery module into prosody"))
        return changes

    def apply(self, ctx, changes, journal):
        was_loaded = rights.brewery_closed_in_prosody(self.domain)

        def undo():
            # runs after the files are back (recorded before them): prosody as it was
            if was_loaded:
                rights.reload_prosody(self.domain)
            else:
                run(["systemctl", "try-restart", "prosody"], check=False, timeout=120)

        journal.record("prosody with its earlier configuration", undo)
        super().apply(ctx, [c for c in changes if c.kind == "file"], journal)
        rights.reload_prosody(self.domain)
        how = rights.load_brewery_module(self.domain)
        if how == "restarted":
            ctx.progress("prosody restarted to load jvb-join's brewery module")
        if not rights.wait_brewery_closed(self.domain):
            raise JvbJoinError("prosody did not load jvb-join's brewery module {} from {}.".format(
                rights.MODULE, rights.PLUGIN_DIR),
                "Check that {}mod_{}.lua exists (reinstall jvb-join) and see /var/log/prosody/prosody.log.".format(
                    rights.PLUGIN_DIR, rights.MODULE))


JICOFO_CONF = "/etc/jitsi/jicofo/jicofo.conf"
REST_LINE = ('jicofo.rest.host = "127.0.0.1"  # added by jvb-join: jicofo\'s REST API (/debug, /pin, '
             '/move-endpoints) on loopback only')
LOOPBACK_SINCE = "1.0-1138"


def rest_bind_host(paths, version):
    """The address jicofo's REST API binds, from jicofo.conf and the installed version's default."""
    try:
        host = hocon.get(hocon.load(paths(JICOFO_CONF)), "jicofo.rest.host")
    except Exception:
        host = None
    if host is not None:
        return str(host)
    if version is None:
        return "127.0.0.1"
    return "127.0.0.1" if _build(version) >= _build(LOOPBACK_SINCE) else "0.0.0.0"


def _build(version):
    """``(1, 0, 1138)`` of jicofo's ``1.0-1138-1``: its builds are numbered inside the upstream part."""
    found = re.match(r"(\d+)\.(\d+)-(\d+)", version or "")
    return tuple(int(n) for n in found.groups()) if found else (0, 0, 0)


def is_loopback_host(host):
    return host == "localhost" or is_loopback(host)


class JicofoRestLocal(FileStep):
    name = "jicofo-rest"
    title = "jicofo's REST API on loopback only"

    def wanted(self, ctx):
        path = ctx.paths(JICOFO_CONF)
        text = files.read_text(path)
        version = installed_packages(ctx.paths).get("jicofo")
        if text is None or is_loopback_host(rest_bind_host(ctx.paths, version)):
            return []
        return [WantedFile(path, text + ("" if text.endswith("\n") or not text else "\n") + REST_LINE + "\n")]

    def apply(self, ctx, changes, journal):
        restart = lambda: run(["systemctl", "try-restart", "jicofo"], check=False, timeout=120)  # noqa: E731
        journal.record("restart jicofo with its earlier configuration", restart)
        super().apply(ctx, changes, journal)
        restart()
