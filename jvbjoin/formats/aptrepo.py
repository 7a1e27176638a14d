"""The text of a flat apt repository of ``Architecture: all`` packages, and the line that installs
from it (pure: no files, no programs).

One suite ``stable``, component ``main``; every architecture's ``Packages`` lists the same
packages, as reprepro writes an arch-all repository. apt trusts the repository by the signature of
``InRelease`` (made by gpg, outside this module), and each file by its SHA-256 in it.
"""

import gzip
import hashlib
import io
import re
import shlex

SUITE = "stable"
COMPONENT = "main"
# every Debian release architecture arch-all packages can run on
ARCHITECTURES = ("amd64", "arm64", "armel", "armhf", "i386", "mips64el", "ppc64el", "riscv64", "s390x")
KEY_IN_HOST = "/etc/apt/keyrings/jvb-join.asc"
SOURCE_IN_HOST = "/etc/apt/sources.list.d/jvb-join.sources"
APT_HELPER = "/usr/lib/apt/apt-helper"


def packages_stanza(control, filename, data):
    """A ``Packages`` stanza: the .deb's control fields, then where it is and its hashes."""
    lines = [line for line in control.strip("\n").splitlines() if line.strip()]
    lines += ["Filename: {}".format(filename), "Size: {}".format(len(data)),
              "MD5sum: {}".format(hashlib.md5(data).hexdigest()),
              "SHA256: {}".format(hashlib.sha256(data).hexdigest())]
    return "\n".join(lines) + "\n"


def control_field(control, name):
    match = re.search(r"^{}:[ \t]*(.*)$".format(re.escape(name)), control, re.MULTILINE)
    return match.group(1).strip() if match else None


def packages_index(stanzas):
    return "\n".join(stanzas).encode("utf-8")


def gzipped(data):
    """gzip without a name or a time in its header, so the same index gives the same bytes."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=out, mtime=0) as handle:
        handle.write(data)
    return out.getvalue()


def index_files(packages):
    """``{path under dists/SUITE/: bytes}`` for one ``Packages`` index."""
    out = {}
    for arch in ARCHITECTURES:
        folder = "{}/binary-{}/".format(COMPONENT, arch)
        out[folder + "Packages"] = packages
        out[folder + "Packages.gz"] = gzipped(packages)
        out[folder + "Release"] = ("Archive: {0}\nSuite: {0}\nComponent: {1}\nOrigin: jvb-join\nLabel: jvb-join\n"
                                   "Architecture: {2}\n".format(SUITE, COMPONENT, arch)).encode("utf-8")
    return out


def release_text(files, date, description):
    """The suite's ``Release``: what apt checks every index against. ``date`` as RFC 2822."""
    head = ("Origin: jvb-join\nLabel: jvb-join\nSuite: {suite}\nCodename: {suite}\nDate: {date}\n"
            "Architectures: {arches}\nComponents: {component}\nDescription: {description}\n").format(
        suite=SUITE, date=date, arches=" ".join(ARCHITECTURES), component=COMPONENT, description=description)
    out = [head]
    for title, algorithm in (("MD5Sum", hashlib.md5), ("SHA256", hashlib.sha256)):
        out.append("{}:\n".format(title))
        for name in sorted(files):
            out.append(" {} {:>8} {}\n".format(algorithm(files[name]).hexdigest(), len(files[name]), name))
    return "".join(out)


def source_text(url):
    """The deb822 source a host needs."""
    return "Types: deb\nURIs: {}\nSuites: {}\nComponents: {}\nSigned-By: {}\n".format(
        url, SUITE, COMPONENT, KEY_IN_HOST)


def join_line(url, key_sha256, token):
    """One POSIX shell line, for root on a bare Debian or Ubuntu host: fetch the key, refused
    unless its SHA-256 is ``key_sha256``; write the source; install jvb-join (apt checks the
    repository's signature and every file's hash); join, the token on stdin from the shell's own
    ``printf`` (a builtin: the token is on no process's command line)."""
    source = source_text(url).replace("\n", "\\n")
    steps = [
        "mkdir -p /etc/apt/keyrings",
        "{} download-file {} {} SHA256:{}".format(APT_HELPER, shlex.quote(url + "/jvb-join.asc"), KEY_IN_HOST,
                                                 key_sha256),
        "printf '{}' > {}".format(source, SOURCE_IN_HOST),
        "apt-get update",
        # without a terminal apt-get gives up at once on a dpkg lock held (first boot's upgrades)
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 jvb-join",
        "printf '%s\\n' {} | jvb-join join -".format(shlex.quote(token)),
    ]
    return " && ".join(steps)
