"""``jvb-join server tune``: the client settings the tutorials change in the meet domain's config.js
and in interface_config.js, each one line marked as jvb-join's; every other line stays byte for byte.

A marked line is a whole statement after the file's own object, ``config.resolution = 480; // ...``,
so the browser applies it last and the admin's own settings above it are left untouched. Running the
command again with the same settings changes nothing; ``--unset KEY`` removes jvb-join's line.
"""

import glob
import json
import os
import re

from jvbjoin.system import files
from jvbjoin.engine.core import Context, Engine
from jvbjoin.engine.run import Run
from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.steps.base import FileStep, WantedFile

MARK = "// set by 'jvb-join server tune'"
_KEY_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")

# config.js keys that tutorials still name but the web client no longer reads: a line setting one
# changes nothing. Setting one is refused; removing jvb-join's old line (--unset) is not.
OBSOLETE_CONFIG = {
    "openBridgeChannel": (
        "config.js openBridgeChannel was dropped from Jitsi Meet at the end of 2020: the client always opens "
        "its channel to the bridge, over a websocket unless config.bridgeChannel.preferSctp is true.",
        "Leave it out (a websocket is the default). For an SCTP data channel set preferSctp: true in the "
        "bridgeChannel block of the config.js file by hand."),
}


def obsolete_problem(key):
    """``(what, remedy)`` when the web client no longer reads config.js ``key``, else None."""
    return OBSOLETE_CONFIG.get(key)


def js_value(value):
    """A JavaScript literal for a JSON-compatible value. ``<`` and ``>`` are escaped too: nginx runs
    SSI over config.js, and a ``<!--#`` in a value must stay text."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def parse_setting(text, option):
    """``KEY=VALUE`` from the command line: VALUE is JSON (true, 480, "x", [..]) or else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not _KEY_RE.match(key):
        raise UsageError("{} {!r} is not KEY=VALUE with a plain key name.".format(option, text),
                         "Write it like {} startAudioOnly=true or {} defaultLanguage=fr.".format(option, option))
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def check_key(key, option):
    if not _KEY_RE.match(key):
        raise UsageError("{} {!r} is not a plain key name.".format(option, key))
    return key


def marked_key(line, obj):
    """The key of a line jvb-join wrote for ``obj``, or None for any other line."""
    body = line.rstrip("\r\n")
    if not body.endswith(MARK):
        return None
    match = re.match(r"^{}\.([A-Za-z_$][A-Za-z0-9_$]*) = ".format(re.escape(obj)), body)
    return match.group(1) if match else None


def tune_text(text, obj, settings):
    """``text`` with jvb-join's line for each key of ``settings`` (a JS literal, or None to remove it):
    replaced where it is, appended at the end when new; every other line byte for byte."""
    out, seen = [], set()
    for line in text.splitlines(True):
        key = marked_key(line, obj)
        if key is None or key not in settings:
            out.append(line)
            continue
        seen.add(key)
        if settings[key] is not None:
            ending = line[len(line.rstrip("\r\n")):]
            out.append("{}.{} = {}; {}{}".format(obj, key, settings[key], MARK, ending))
    new = "".join(out)
    for key, literal in settings.items():
        if key in seen or literal is None:
            continue
        if new and not new.endswith("\n"):
            new += "\n"
        new += "{}.{} = {}; {}\n".format(obj, key, literal, MARK)
    return new


def marked_settings(text, obj):
    """``{key: literal}`` of the lines jvb-join wrote (for doctor and status)."""
    found = {}
    for line in (text or "").splitlines():
        key = marked_key(line, obj)
        if key is not None:
            found[key] = line.split(" = ", 1)[1].rsplit("; " + MARK, 1)[0]
    return found


class TuneFile(FileStep):
    """One web client file, tuned by marked lines."""

    restarts = None

    def __init__(self, name, title, path, obj, settings):
        self.name, self.title = name, title
        self.path, self.obj, self.settings = path, obj, settings

    def wanted(self, ctx):
        current = files.FileState.read(self.path)
        if not self.settings or not current.exists:
            return []
        text = current.content.decode("utf-8", errors="surrogateescape")
        new = tune_text(text, self.obj, self.settings)
        return [] if new == text else [WantedFile(self.path, new)]


def record_path(paths):
    """What 'server tune' set, kept so that doctor can tell a line that was taken out by hand."""
    return os.path.join(paths.server_state, "tune.json")


def read_record(paths):
    """``{"config": {key: literal}, "interface": {key: literal}}`` as 'server tune' last left it."""
    try:
        record = json.loads(files.read_text(record_path(paths)) or "{}")
    except ValueError:
        record = {}
    record = record if isinstance(record, dict) else {}
    return {obj: dict(record.get(obj) or {}) for obj in ("config", "interface")}


class TuneRecord(FileStep):
    """jvb-join's record of the settings it set (see :func:`record_path`)."""

    name = "tune-record"
    title = "record of the tuned settings"
    owns_files = True
    restarts = None

    def __init__(self, config, interface):
        self.settings = {"config": config, "interface": interface}

    def wanted(self, ctx):
        record = read_record(ctx.paths)
        for obj, settings in self.settings.items():
            for key, literal in settings.items():
                if literal is None:
                    record[obj].pop(key, None)
                else:
                    record[obj][key] = literal
        content = json.dumps(record, indent=2, sort_keys=True) + "\n"
        current = files.read_text(record_path(ctx.paths))
        if current == content or (current is None and not any(record.values())):
            return []
        return [WantedFile(record_path(ctx.paths), content, 0o644)]


class TuneOptions:
    def __init__(self, domain=None, config=None, interface=None, dry_run=False):
        self.domain = domain
        self.config = dict(config or {})        # key -> JS literal, or None to remove jvb-join's line
        self.interface = dict(interface or {})
        self.dry_run = dry_run

    def as_dict(self):
        return dict(vars(self))


def config_js(paths, domain):
    return paths("/etc/jitsi/meet/{}-config.js".format(domain))


def interface_config_js(paths):
    return paths("/usr/share/jitsi-meet/interface_config.js")


def find_domain(paths, given):
    """The meet domain: ``--domain``, or the only ``/etc/jitsi/meet/<domain>-config.js``."""
    if given:
        if not os.path.isfile(config_js(paths, given)):
            raise JvbJoinError("{} does not exist: is {} the meet domain of this server?".format(
                config_js(paths, given), given),
                "Check the domain, or run 'jvb-join server install --domain {}' first.".format(given))
        return given
    found = sorted(os.path.basename(p)[:-len("-config.js")]
                   for p in glob.glob(paths("/etc/jitsi/meet/*-config.js")))
    if len(found) == 1:
        return found[0]
    if not found:
        raise JvbJoinError("No /etc/jitsi/meet/<domain>-config.js here: this is not a Jitsi Meet server yet.",
                           "Run 'jvb-join server install --domain DOMAIN' first.")
    raise UsageError("This server has several meet domains ({}).".format(", ".join(found)),
                     "Say which one with --domain.")


def tune(opts, paths, progress):
    if not opts.config and not opts.interface:
        raise UsageError("Nothing to tune.", "Give at least one setting; see 'jvb-join server tune --help'.")
    for key, literal in sorted(opts.config.items()):
        problem = obsolete_problem(key)
        if problem is not None and literal is not None:
            raise UsageError(*problem)
    domain = find_domain(paths, opts.domain)
    ctx = Context(paths, Run(opts, opts.dry_run, files.Backups(paths.backups, paths.root)), progress)
    interface_path = interface_config_js(paths)

    def preflight(c):
        if os.geteuid() != 0 and not opts.dry_run:
            raise JvbJoinError("jvb-join server tune must run as root.", "Run it again with sudo.")
        if opts.interface and not os.path.isfile(interface_path):
            raise JvbJoinError("{} does not exist.".format(interface_path),
                               "Check that jitsi-meet-web is installed (apt-get install jitsi-meet-web).")

    return Engine(tune_steps(paths, domain, opts), ctx, preflight=preflight).run("server tune", dry_run=opts.dry_run)


def tune_steps(paths, domain, opts):
    return [TuneFile("tune-config", "client settings in config.js", config_js(paths, domain), "config",
                     opts.config),
            TuneFile("tune-interface", "interface settings in interface_config.js", interface_config_js(paths),
                     "interfaceConfig", opts.interface),
            TuneRecord(opts.config, opts.interface)]
