"""Joins with no one at the keyboard: the options file unattended runs read, and the token file a
golden image's first boot joins from (jvb-join-firstboot.service)."""

import os
import stat
import time

from jvbjoin.system import files
from jvbjoin.errors import InputError, OptionsFileError, TemporaryError

# Options a provisioning system may set once in /etc/jvb-join/options for every later `join` and
# `server install` (a preseeded or first-boot join has no command line to carry them).
OPTION_TYPES = {
    "jitsi-repo-url": str,
    "jitsi-repo-suite": str,
    "jitsi-repo-components": str,
    "jitsi-repo-key": str,
    "lock-timeout": float,
    "no-firewall": bool,
    "no-ssh": bool,
    "allow-unsupported-release": bool,
    "firewall-cut-ok": bool,
    # join only (Debian 10's Java): server install ignores them
    "adoptium-repo-url": str,
    "adoptium-repo-key": str,
}
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")

# At first boot unattended-upgrades often holds the dpkg lock for a while.
UNATTENDED_LOCK_TIMEOUT = 3600.0

# The commands the options file gives defaults to (a nested dict for a command group's commands).
OPTIONS_FILE_COMMANDS = {"join": True, "server": {"install": True}}

# A server not reachable yet at first boot, or a busy dpkg lock, is worth waiting for: the token
# file is already gone, so giving up early would leave the host for a person to join.
FIRST_BOOT_PATIENCE = 900.0
FIRST_BOOT_RETRY_SECONDS = 30


def parse_options(text, where):
    """``{python option name: typed value}`` from ``key = value`` lines; '#' starts a comment."""
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        kind = OPTION_TYPES.get(key)
        if not sep or kind is None:
            raise OptionsFileError(where, number, "'{}' is not an option jvb-join reads there".format(key or line),
                                   "the known options are {}".format(", ".join(sorted(OPTION_TYPES))))
        if kind is bool:
            if value.lower() not in _TRUE + _FALSE:
                raise OptionsFileError(where, number, "{} must be true or false".format(key),
                                       "write '{} = true' or '{} = false'".format(key, key))
            typed = value.lower() in _TRUE
        elif kind is float:
            try:
                typed = float(value)
            except ValueError:
                raise OptionsFileError(where, number, "{} must be a number of seconds".format(key),
                                       "for example '{} = 600'".format(key)) from None
        else:
            typed = value
        values[key.replace("-", "_")] = typed
    return values


def read_options(paths):
    """The options file's values, or ``{}`` when there is none."""
    text = files.read_text(paths.options_file)
    return parse_options(text, paths.options_file) if text else {}


class OptionsFileDefaults(dict):
    """Click's defaults for the commands that read the options file (``join``, ``server install``),
    read when one of them is parsed: a mistake in the file stops those commands, not the others
    (doctor reports it as a check)."""

    def __init__(self, paths, commands):
        super().__init__()
        self.paths = paths
        self.commands = commands  # {command name: True for its options, or a nested dict}

    def get(self, name, default=None):
        wanted = self.commands.get(name)
        if wanted is None:
            return default
        if isinstance(wanted, dict):
            return OptionsFileDefaults(self.paths, wanted)
        return read_options(self.paths) or default


def options_file_defaults(paths):
    """The defaults the options file gives the commands that read it (see OptionsFileDefaults)."""
    return OptionsFileDefaults(paths, OPTIONS_FILE_COMMANDS)


def first_boot_options(paths):
    """The join options of a first-boot join: an hour for the dpkg lock, then the options file.

    Read before the token file is taken, so a mistake there stops the join with the token file
    still in place (the file is read only when there is a token to join with)."""
    return dict({"lock_timeout": UNATTENDED_LOCK_TIMEOUT},
                **(read_options(paths) if os.path.lexists(paths.firstboot_token) else {}))


def join_with_retries(join_once, retrying):
    """Call ``join_once()`` until it does not raise TemporaryError or FIRST_BOOT_PATIENCE has passed;
    ``retrying(error, seconds)`` is told of each wait. Returns what ``join_once`` returned; the
    error of the last try is raised."""
    deadline = time.monotonic() + FIRST_BOOT_PATIENCE
    while True:
        try:
            return join_once()
        except TemporaryError as err:
            if time.monotonic() > deadline:
                raise
            retrying(err, FIRST_BOOT_RETRY_SECONDS)
            time.sleep(FIRST_BOOT_RETRY_SECONDS)


def take_token_file(paths):
    """Read the first-boot token and delete it, so it is on disk no longer than needed.

    Returns the token text, or None when there is no token file. A token file others can read
    has leaked on this host: it is deleted and refused.
    """
    path = paths.firstboot_token
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symbolic link (O_NOFOLLOW) or not a file: removed, never followed
        if os.path.islink(path):
            os.unlink(path)
        raise InputError("Cannot read the token file {}: {}".format(path, exc.strerror),
                         "Write the token as a regular file, mode 0600, owned by root.") from None
    try:
        info = os.fstat(fd)
        with os.fdopen(fd, encoding="utf-8") as handle:
            fd = None
            text = handle.read()
    finally:
        if fd is not None:
            os.close(fd)
        os.unlink(path)
    exposed = not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or \
        (os.geteuid() == 0 and info.st_uid != 0)
    if exposed:
        raise InputError("The token file {} was readable or writable by others than root (mode {:o}); "
                         "it was deleted and not used.".format(path, stat.S_IMODE(info.st_mode)),
                         "Create a new token with 'jvb-join token create' and write it with mode 0600.")
    return text
