"""The steps of a further server's join and leave (bridge.shards): its fragment, its include line
in jvb.conf and its record, and the wrapper that runs a step on one further server's files."""

import contextlib
import os

import jinja2

from jvbjoin.formats import hocon
from jvbjoin.formats.lines import with_line, without_line
from jvbjoin.engine.core import Step
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge import shards
from jvbjoin.bridge.model import bridge_nickname
from jvbjoin.bridge.steps.trust import RemoveTrust
from jvbjoin.bridge.steps.config import EditStep, RemoveFragment, fragment_mask, jitsi_gid, owner

_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "templates")


def render_server_fragment(token, password, nickname):
    """The further server's client block, under its own id."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    values = {"hostname": token.host, "domain": token.domain, "username": token.user, "password": password,
              "muc_jids": token.muc, "nickname": nickname}
    quoted = {k: hocon.quote(v) for k, v in values.items()}
    return env.get_template("jvb-join-server.conf.j2").render(
        port=int(token.port), config_id=shards.config_id(token.domain), server=token.domain.lower(), **quoted)


class DropServerFragment(RemoveFragment):
    """Leave of one server: its fragment, so the bridge starts again without its client."""

    restarts = "bridge"


class ServerFragment(FileStep):
    """/etc/jitsi/videobridge/jvb-join-DOMAIN.conf: a further server's client.

    The nickname is the bridge's one (model.bridge_nickname), the same in every server's brewery:
    it is unique per host already, so no brewery can hold it twice; it is the relay id jicofo's of
    every shard knows the bridge by; and one name per bridge is what its log, jicofo's logs and
    'jvb-join bridges' on each server show, so an operator finds the same bridge under one name."""

    name = "bridge-config"
    title = "bridge XMPP client settings for a further server"
    owns_files = True
    restarts = "bridge"
    inverse = DropServerFragment

    def wanted(self, ctx):
        password = ctx.run.bridge_password
        if password is None:
            return []
        content = render_server_fragment(ctx.run.token, password, bridge_nickname(ctx))
        uid, gid = owner(jitsi_gid())
        return [WantedFile(ctx.paths.jvb_fragment, content, 0o640, uid, gid, secret=fragment_mask())]


def add_server_include(domain):
    line = shards.include_line(domain)
    return lambda text: with_line(text, line)


def remove_server_include(domain):
    line = shards.include_line(domain)
    return lambda text: without_line(text, line)


class RemoveServerInclude(EditStep):
    """Leave of one server: its include line out of jvb.conf, every other byte kept."""

    name = "bridge-config-include"
    title = "include of a further server's settings in jvb.conf"
    path_name = "jvb_conf"
    required = False
    restarts = "bridge"

    def edit(self, ctx, text):
        return remove_server_include(ctx.paths.server_domain)(text)


class ServerInclude(EditStep):
    """Its own marked line at the end of jvb.conf, after the first server's."""

    name = "bridge-config-include"
    title = "include of a further server's settings in jvb.conf"
    path_name = "jvb_conf"
    missing_summary = "add include line to jvb.conf"
    restarts = "bridge"
    inverse = RemoveServerInclude

    def edit(self, ctx, text):
        return add_server_include(ctx.paths.server_domain)(text)


class RemoveServerRecord(FileStep):
    """Leave of one server: jvb-join's record of it (the host's nickname and its other servers stay)."""

    name = "join-record"
    title = "jvb-join's record of a further server"

    def wanted(self, ctx):
        return [WantedFile(ctx.paths.bridge_state, None)]


class OnServer(Step):
    """Runs ``inner`` on one server's files (and its record, password and certificate in the run),
    within a run that covers several servers. ``server`` has ``paths``, ``record``, ``password``,
    ``cert`` and ``name`` (bridge.brewery.Server)."""

    def __init__(self, inner, server):
        self.inner = inner
        self.server = server
        self.name = inner.name
        self.title = "{} ({})".format(inner.title, server.name)
        self.restarts = inner.restarts

    @contextlib.contextmanager
    def _on(self, ctx):
        saved = (ctx.paths, ctx.run.record, ctx.run.bridge_password, ctx.run.server_cert_der)
        ctx.paths = self.server.paths
        ctx.run.record, ctx.run.bridge_password, ctx.run.server_cert_der = \
            self.server.record, self.server.password, self.server.cert
        try:
            yield
        finally:
            ctx.paths, ctx.run.record, ctx.run.bridge_password, ctx.run.server_cert_der = saved

    def check(self, ctx):
        with self._on(ctx):
            return list(self.inner.check(ctx))

    def apply(self, ctx, changes, journal):
        with self._on(ctx):
            self.inner.apply(ctx, changes, journal)


def further_leave_steps():
    """What leaving one further server undoes, in order (its account goes last, after the restart)."""
    return [DropServerFragment(), RemoveServerInclude(), RemoveTrust(), RemoveServerRecord()]

