"""The bridge's XMPP client settings: jvb-join's own fragment, one include line in jvb.conf, and
the legacy sip-communicator.properties client block put out of the way if it would win."""

import grp
import os
import re

import jinja2

from jvbjoin.system import files, host
from jvbjoin.formats import hocon, javaprops
from jvbjoin.formats.lines import without_line
from jvbjoin.formats.javaprops import split_lines
from jvbjoin.engine.core import Change
from jvbjoin.errors import StepError
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge.model import bridge_nickname

INCLUDE_LINE = 'include "jvb-join.conf"  # added by jvb-join; remove with \'jvb-join leave\''
_INCLUDE_RE = re.compile(r'^\s*include\s+(?:required\s*\(\s*)?(?:file\s*\(\s*)?"(?:[^"]*/)?jvb-join\.conf"')

LEGACY_PREFIX = "org.jitsi.videobridge.xmpp.user."
LEGACY_MARKER = "#jvb-join# "
LEGACY_REQUIRED = ("HOSTNAME", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")

_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "templates")


def jitsi_gid():
    try:
        return grp.getgrnam("jitsi").gr_gid
    except KeyError:
        return 0


def owner(gid=0):
    """``(uid, gid)`` for a file jvb-join writes: root's, or unset when not running as root
    (unit tests), so that the file keeps the current user's."""
    if os.geteuid() != 0:
        return None, None
    return 0, gid


class BridgeExtras:
    """What a join may add to the fragment beyond the XMPP client and the private REST API: static
    NAT mappings ``[(local, public)]``, the STUN servers (``None``: the package's list stays;
    ``[]``: no STUN), the colibri websocket server-id and advertised domain (``None``: off) and the
    relay region (``None``: no relays; the relay id is the bridge's nickname)."""

    def __init__(self, static_mappings=(), stun_servers=None, websocket_id=None, websocket_domain=None,
                 region=None):
        self.static_mappings = list(static_mappings)
        self.stun_servers = None if stun_servers is None else list(stun_servers)
        self.websocket_id = websocket_id
        self.websocket_domain = websocket_domain
        self.region = region


def render_fragment(token, password, nickname, extras=None):
    extras = extras or BridgeExtras()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    values = {
        "hostname": token.host, "port": int(token.port), "domain": token.domain,
        "username": token.user, "password": password, "muc_jids": token.muc, "nickname": nickname,
    }
    quoted = {k: (v if k == "port" else hocon.quote(v)) for k, v in values.items()}
    quoted["static_mappings"] = [(hocon.quote(local), hocon.quote(public))
                                 for local, public in extras.static_mappings]
    quoted["stun_servers"] = None if extras.stun_servers is None else [
        hocon.quote(server) for server in extras.stun_servers]
    quoted["websocket_id"] = hocon.quote(extras.websocket_id) if extras.websocket_id else None
    quoted["websocket_domain"] = hocon.quote(extras.websocket_domain) if extras.websocket_id else None
    quoted["websocket_port"] = WEBSOCKET_PORT
    quoted["relay"] = relay_text(extras.region, nickname) if extras.region else None
    return env.get_template("jvb-join.conf.j2").render(**quoted)


def relay_text(region, relay_id):
    """The bridge's relay settings: jicofo puts each conference on bridges near its participants and
    joins bridges of different regions by relays, bridge to bridge over the media port. The bridge
    reads the older ``videobridge.octo`` keys before ``videobridge.relay`` (RelayConfig), so both
    get the same values: an octo setting left in jvb.conf cannot override these."""
    region, relay_id = hocon.quote(region), hocon.quote(relay_id)
    lines = ["# Relays in region {}: bridges of other regions are reached over the media port.".format(region),
             "# The bridge reads videobridge.octo before videobridge.relay: both hold the same values."]
    for block in ("relay", "octo"):
        lines += ["videobridge.{} {{".format(block), "  enabled = true", "  region = {}".format(region),
                  "  relay-id = {}".format(relay_id), "}"]
    return "\n".join(lines) + "\n"


_PASSWORD_VALUE = re.compile(rb"^([ \t]*PASSWORD[ \t]*[=:][ \t]*).*$", re.MULTILINE)
HIDDEN_PASSWORD = b'"(hidden: made on this host at the join, never shown)"'


def fragment_mask(proposed_nickname=None):
    """What the plan shows of the fragment: the password hidden, and a nickname that is not made
    yet shown as its pattern (the join draws its random part; a dry run cannot know it)."""
    def mask(content):
        content = _PASSWORD_VALUE.sub(lambda m: m.group(1) + HIDDEN_PASSWORD, content)
        if proposed_nickname:
            pattern = "{}<8 random hex digits, made at the join>".format(proposed_nickname[:-8])
            content = content.replace(hocon.quote(proposed_nickname).encode("utf-8"),
                                      hocon.quote(pattern).encode("utf-8"))
        return content
    return mask


def bridge_extras(ctx):
    """The fragment extras from the join options, the token (colibri websockets) and what
    preflight found (the local address)."""
    opts, token = ctx.run.options, ctx.run.token
    mappings = []
    if opts.advertise_ip:
        mappings.append((ctx.run.local_ip, opts.advertise_ip))
    ws = getattr(token, "ws", None)
    # Clients reach the bridge's websocket through the meet domain's nginx on 443.
    return BridgeExtras(mappings, opts.stun_servers, ws,
                        "{}:443".format(token.meet) if ws else None, getattr(token, "region", None))


# The public HTTP server's port for colibri websockets, as the package's jvb.conf had it (§2.1).
WEBSOCKET_PORT = 9090

# A legacy property the bridge reads before jvb.conf, which would undo --stun-server.
_LEGACY_STUN = "org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES"
# Legacy websocket properties the bridge reads before jvb.conf's websockets block.
LEGACY_WEBSOCKETS = ("org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID", "org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE")


def legacy_overrides(ctx, extras):
    """Say (as degraded) which legacy sip-communicator.properties keys win over the fragment's."""
    text = files.read_text(ctx.paths.jvb_legacy_properties)
    if not text:
        return
    values = javaprops.parse(text)
    found = []
    if extras.stun_servers is not None and _LEGACY_STUN in values:
        found.append(_LEGACY_STUN)
    if extras.websocket_id:
        found.extend(key for key in LEGACY_WEBSOCKETS if key in values)
    for key in found:
        ctx.add_degraded("{} sets {}, which the bridge reads before jvb.conf: remove it there for "
                         "jvb-join's setting to apply".format(ctx.paths.jvb_legacy_properties, key))
    legacy_region(ctx.paths.jvb_legacy_properties, values, extras.region)


# The bridge's region as the legacy properties give it: read before any jvb.conf key (RelayConfig).
LEGACY_REGION = "org.jitsi.videobridge.REGION"


def legacy_region(path, values, region):
    """Refuse a join whose region a legacy property would silently replace."""
    legacy = (values.get(LEGACY_REGION) or "").strip()
    if region and legacy and legacy != region:
        raise StepError("{} sets {}={}, which the bridge reads before jvb.conf: this bridge would "
                        "announce region {} instead of the token's {}".format(path, LEGACY_REGION, legacy,
                                                                              legacy, region),
                        "Remove the {} line from {} (or create a token with --region {}), then run "
                        "again.".format(LEGACY_REGION, path, legacy))


class RemoveFragment(FileStep):
    """Leave: jvb-join's own bridge settings (they hold the account's password; the backup is root-only)."""

    name = "bridge-config"
    title = "jvb-join's bridge settings (jvb-join.conf)"
    leave_order = 1

    def wanted(self, ctx):
        return [WantedFile(ctx.paths.jvb_fragment, None, secret=True)]


class BridgeFragment(FileStep):
    """/etc/jitsi/videobridge/jvb-join.conf: the client block under the package's id ``shard``."""

    name = "bridge-config"
    title = "bridge XMPP client settings"
    owns_files = True
    restarts = "bridge"
    inverse = RemoveFragment

    def wanted(self, ctx):
        password = ctx.run.bridge_password
        if password is None:
            return []
        nickname = bridge_nickname(ctx)
        content = render_fragment(ctx.run.token, password, nickname, bridge_extras(ctx))
        uid, gid = owner(jitsi_gid())
        proposed = nickname if nickname == ctx.run.proposed_nickname else None
        return [WantedFile(ctx.paths.jvb_fragment, content, 0o640, uid, gid, secret=fragment_mask(proposed))]

    def check(self, ctx):
        changes = super().check(ctx)
        legacy_overrides(ctx, bridge_extras(ctx))
        if not os.path.isdir(ctx.paths.jvb_dir):
            for change in changes:
                change.summary += " (after jitsi-videobridge2 is installed)"
        return changes

    def apply(self, ctx, changes, journal):
        if not os.path.isdir(ctx.paths.jvb_dir):
            raise StepError("{} does not exist".format(ctx.paths.jvb_dir),
                            "Check that jitsi-videobridge2 is installed, then run again.")
        # The nickname and the joined-as mark of this machine-id are made here: undone with the rest.
        marks = [ctx.paths.nickname_file]
        machine = host.machine_id(ctx.paths)
        if machine:
            marks.append(os.path.join(ctx.paths.joined_as, machine))
        for path in marks:
            files.make_folders(os.path.dirname(path), journal)
            before = files.FileState.read(path)
            journal.record("restore {}".format(path), lambda state=before: files.restore(state))
        bridge_nickname(ctx, create=True)
        super().apply(ctx, changes, journal)


class EditStep(FileStep):
    """A step that edits an admin's file in place through ``edit(ctx, text)``."""

    path_name = None
    #: the file must exist when the step is applied (the package creates it)
    required = True
    missing_summary = None

    def path(self, ctx):
        return getattr(ctx.paths, self.path_name)

    def edit(self, ctx, text):
        raise NotImplementedError

    def wanted(self, ctx):
        current = files.FileState.read(self.path(ctx))
        if not current.exists:
            return []
        text = current.content.decode("utf-8", errors="surrogateescape")
        new = self.edit(ctx, text)
        if new == text:
            return []
        return [WantedFile(self.path(ctx), new)]

    def check(self, ctx):
        path = self.path(ctx)
        if self.required and not os.path.exists(path):
            return [Change("file", path, "{} (after jitsi-videobridge2 creates {})".format(
                self.missing_summary, path), data=None)]
        return super().check(ctx)

    def apply(self, ctx, changes, journal):
        if any(change.data is None for change in changes):
            raise StepError("{} does not exist".format(self.path(ctx)),
                            "Check that jitsi-videobridge2 is installed (apt-get install --reinstall "
                            "jitsi-videobridge2), then run again.")
        super().apply(ctx, changes, journal)


class UndoEdit(EditStep):
    """Leave: takes back what a join did to an admin's file, by the inverse of the join's edit."""

    required = False
    leave_order = 1
    #: the inverse of the join's edit, a function of the file's text
    undo = None

    def edit(self, ctx, text):
        return self.undo(text)


def undo_edit(class_name, doc, name, title, path_name, undo):
    """The leave step of a join's edit step: the same id, title and file, edited by ``undo``."""
    return type(class_name, (UndoEdit,), {"__doc__": doc, "__module__": __name__, "name": name, "title": title,
                                          "path_name": path_name, "undo": staticmethod(undo)})


def has_include(text):
    return any(_INCLUDE_RE.match(line) for line in split_lines(text))


def add_include(text):
    """jvb.conf with the include line at the end; every other byte as it was."""
    if has_include(text):
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + INCLUDE_LINE + "\n"


def remove_include(text):
    """What ``leave`` does to jvb.conf: the line jvb-join added removed, every other byte kept."""
    return without_line(text, INCLUDE_LINE)


class JvbConfInclude(EditStep):
    """One marked line at the end of jvb.conf, so the fragment's keys win the HOCON merge."""

    name = "bridge-config-include"
    title = "include of jvb-join's settings in jvb.conf"
    path_name = "jvb_conf"
    missing_summary = "add include line to jvb.conf"
    restarts = "bridge"
    inverse = undo_edit("RemoveInclude", "Leave: jvb.conf without the include line.",
                        name, title, path_name, remove_include)

    def edit(self, ctx, text):
        return add_include(text)


RemoveInclude = JvbConfInclude.inverse


# --- legacy sip-communicator.properties --------------------------------------------------------

def legacy_clients(text):
    """``{id: set(FIELDS)}`` of the legacy client keys in a sip-communicator.properties text."""
    clients = {}
    for group in javaprops.logical_lines(split_lines(text)):
        key = javaprops.key_of(group)
        if key is None or not key.lower().startswith(LEGACY_PREFIX):
            continue
        rest = key[len(LEGACY_PREFIX):]
        client, dot, field = rest.rpartition(".")
        if not dot or not client:
            continue
        clients.setdefault(client, set()).add(field.upper())
    return clients


def complete_clients(clients):
    return sorted(c for c, fields in clients.items() if all(f in fields for f in LEGACY_REQUIRED))


def comment_out_legacy(text):
    """Every legacy client line commented out with the marker; every other line byte for byte."""
    out = []
    for group in javaprops.logical_lines(split_lines(text)):
        key = javaprops.key_of(group)
        if key is not None and key.lower().startswith(LEGACY_PREFIX):
            out.extend(LEGACY_MARKER + line for line in group)
        else:
            out.extend(group)
    return "".join(out)


def restore_legacy(text):
    """What ``leave`` does: the marked lines back as they were."""
    return "".join(line[len(LEGACY_MARKER):] if line.startswith(LEGACY_MARKER) else line
                   for line in split_lines(text))


class LegacyClient(EditStep):
    """A complete client block in sip-communicator.properties makes the bridge ignore jvb.conf's."""

    name = "bridge-config-legacy"
    title = "legacy client settings in sip-communicator.properties"
    path_name = "jvb_legacy_properties"
    required = False
    restarts = "bridge"
    inverse = undo_edit("RestoreLegacy", "Leave: the legacy client lines the join commented out, back as they were.",
                        name, title, path_name, restore_legacy)

    def edit(self, ctx, text):
        clients = legacy_clients(text)
        complete = complete_clients(clients)
        if complete:
            return comment_out_legacy(text)
        if clients:
            ctx.add_degraded("{} has incomplete legacy client settings ({}); the bridge ignores "
                        "them, so they were left as they are".format(
                             self.path(ctx), ", ".join(sorted(clients))))
        return text


RestoreLegacy = LegacyClient.inverse

STEP_TYPES = (BridgeFragment, JvbConfInclude, LegacyClient)


def steps(ctx):
    """The bridge configuration steps, in order."""
    return [step() for step in STEP_TYPES]
