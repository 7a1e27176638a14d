"""The releases jvb-join supports, for which role, and the Java versions each one's archive offers.

The README's support table is this table in words. Java majors are those the release's own archive
(main, or universe on Ubuntu) ships as ``openjdk-N-jre-headless``; a release whose archive has no
Java the Jitsi packages accept gets Eclipse Temurin from Adoptium instead (Debian 10 only).
"""

from jvbjoin.system import files
from jvbjoin.system.host import parse_os_release
from jvbjoin.errors import UsageError


class Release:
    """One row of the support table."""

    def __init__(self, os_id, version, name, codename, bridge, server, java, adoptium=False, note=""):
        self.ident = (os_id, version)
        self.name = name
        self.codename = codename
        self.bridge = bridge
        self.server = server
        self.java = tuple(java)
        self.adoptium = adoptium
        self.note = note

    def __repr__(self):
        return "Release({} {})".format(*self.ident)


TABLE = [
    Release("debian", "10", "Debian 10", "buster", bridge=True, server=False, java=(11,), adoptium=True,
            note="no OpenJDK 17 in buster: Temurin 17 from Adoptium; prosody 0.11 is too old for a server"),
    Release("debian", "11", "Debian 11", "bullseye", bridge=True, server=False, java=(11, 17),
            note="prosody 0.11.9 is too old for a server: jitsi-meet-prosody needs 0.12"),
    Release("debian", "12", "Debian 12", "bookworm", bridge=True, server=True, java=(17,)),
    Release("debian", "13", "Debian 13", "trixie", bridge=True, server=True, java=(21,),
            note="OpenJDK 21 only: needs jitsi-videobridge2 and jicofo from 2026-02 or later"),
    Release("ubuntu", "20.04", "Ubuntu 20.04", "focal", bridge=True, server=False, java=(11, 17),
            note="OpenJDK 17 is in universe; prosody 0.11 is too old for a server"),
    Release("ubuntu", "22.04", "Ubuntu 22.04", "jammy", bridge=True, server=False, java=(11, 17, 21),
            note="OpenJDK 17 and 21 are in universe; prosody 0.11.13 is too old for a server: "
                 "jitsi-meet-prosody needs 0.12"),
    Release("ubuntu", "24.04", "Ubuntu 24.04", "noble", bridge=True, server=True, java=(17, 21)),
]


def os_release(paths):
    """This host's os-release (``/etc/os-release``, else ``/usr/lib/os-release``) as a dict."""
    text = files.read_text(paths.os_release) or files.read_text(paths("/usr/lib/os-release")) or ""
    return parse_os_release(text)


def lookup(release):
    """The table row for an os-release dict, or None."""
    ident = (release.get("ID", ""), release.get("VERSION_ID", ""))
    for row in TABLE:
        if row.ident == ident:
            return row
    return None


def _supported_names(role):
    return ", ".join(row.name for row in TABLE if getattr(row, role))


def check_supported(release, role, allow_unsupported=False):
    """The table row for this host in ``role`` ("bridge" or "server").

    Raises UsageError on a release jvb-join does not support for that role, unless the operator
    allowed it; then returns a row guessed from the release (its codename, the newest Java) and
    the caller reports the run as degraded.
    """
    row = lookup(release)
    name = "{} {}".format(release.get("NAME") or release.get("ID") or "this system",
                          release.get("VERSION_ID", "")).strip()
    if row is not None and getattr(row, role):
        return row
    why = row.note if row is not None and row.note else "it is not in jvb-join's support table"
    if not allow_unsupported:
        raise UsageError("{} is not a release jvb-join supports as a {} ({}).".format(name, role, why),
                         "Use {}, or pass --allow-unsupported-release at your own risk.".format(
                             _supported_names(role)))
    if row is not None:
        return row
    guess = Release(release.get("ID", "unknown"), release.get("VERSION_ID", ""), name,
                    release.get("VERSION_CODENAME", ""), bridge=True, server=True, java=(17, 21))
    guess.note = "unsupported: Java guessed"
    return guess
