"""Which Java a Jitsi package gets on this release, read from the package's own dependencies.

jitsi-videobridge2 and jicofo name the Java they accept in Pre-Depends/Depends, and the names have
changed over the years (openjdk-8/11, java11-runtime, openjdk-11/17, openjdk-17/21). The choice is
the first alternative the release's archive ships; on a release whose archive has none (Debian 10),
Eclipse Temurin from Adoptium, plus a small local package that provides the concrete OpenJDK name
when the Jitsi package asks for one (Temurin itself provides only ``javaN-runtime``).
"""

import re

from jvbjoin.errors import UsageError
from jvbjoin.system.run import run

JAVA_NAME = re.compile(r"^(?:openjdk-(?P<jdk>\d+)-jre(?:-headless)?|java(?P<rt>\d+)-runtime(?:-headless)?)$")


class JavaAlternative:
    """One name in the Java group of a dependency field."""

    __slots__ = ("name", "major", "virtual")

    def __init__(self, name, major, virtual):
        self.name, self.major, self.virtual = name, major, virtual

    def __repr__(self):
        return "JavaAlternative({})".format(self.name)


class JavaChoice:
    """What to install: ``package`` (and ``extra`` packages) from ``source`` ("archive" or "adoptium");
    ``shim_provides`` names the OpenJDK packages a local shim must provide ([] for none)."""

    def __init__(self, major, package, source, shim_provides=(), extra=()):
        self.major = major
        self.package = package
        self.source = source
        self.shim_provides = list(shim_provides)
        self.extra = list(extra)

    @property
    def shim_name(self):
        return "jvb-join-temurin-{}-compat".format(self.major) if self.shim_provides else None

    @property
    def jvm_dir(self):
        """Where the JRE lives, as the packages install it (amd64; other architectures by glob)."""
        if self.source == "adoptium":
            return "/usr/lib/jvm/{}-*".format(self.package)
        return "/usr/lib/jvm/java-{}-openjdk-*".format(self.major)

    def describe(self):
        text = "{} (Java {}, from {})".format(self.package, self.major,
                                             "Adoptium" if self.source == "adoptium" else "the release's archive")
        if self.shim_provides:
            text += " with {} providing {}".format(self.shim_name, ", ".join(self.shim_provides))
        return text

    def __repr__(self):
        return "JavaChoice({})".format(self.describe())


def _relations(text):
    from debian.deb822 import PkgRelation
    return PkgRelation.parse_relations(text or "")


def java_alternatives(control):
    """The Java group of a package's Pre-Depends (or Depends), in the package's order of preference.

    ``control`` is a mapping of control fields (a python-debian paragraph or a dict)."""
    for field in ("Pre-Depends", "Depends"):
        for group in _relations(control.get(field)):
            found = []
            for alternative in group:
                match = JAVA_NAME.match(alternative["name"])
                if match:
                    major = int(match.group("jdk") or match.group("rt"))
                    found.append(JavaAlternative(alternative["name"], major, bool(match.group("rt"))))
            if found:
                return found
    return []


def choose(release, control):
    """The Java to install for the package described by ``control`` on ``release`` (a
    :class:`releases.Release`). Raises UsageError when the release has no Java the package accepts."""
    package = control.get("Package", "the package")
    version = control.get("Version", "")
    alternatives = java_alternatives(control)
    if not alternatives:
        return None  # a package that does not name Java (a stand-in, a future change): leave it to apt
    majors = []
    for alt in alternatives:
        if alt.major not in majors:
            majors.append(alt.major)
    for major in majors:
        if major in release.java:
            return JavaChoice(major, "openjdk-{}-jre-headless".format(major), "archive")
    if release.adoptium:
        major = majors[0]
        same = [a for a in alternatives if a.major == major]
        provides = [] if any(a.virtual for a in same) else \
            sorted(set(a.name for a in same if not a.virtual))
        return JavaChoice(major, "temurin-{}-jre".format(major), "adoptium", provides, extra=["p11-kit"])
    raise UsageError(
        "{} {} needs Java {}, and {} ships only Java {}.".format(
            package, version, " or ".join(str(m) for m in majors), release.name,
            " and ".join(str(m) for m in release.java)),
        "Use a {} version made for {} (the token's --jvb-version), or a release from the README's "
        "support table that has Java {}.".format(package, release.name, majors[0]))


def candidate_control(package, version=None):
    """The control fields of the version apt would install (or of ``version``), from the package
    lists; None when apt does not know the package (its repository not added or not read yet)."""
    from debian.deb822 import Deb822
    spec = "{}={}".format(package, version) if version else package
    result = run(["apt-cache", "show", "--no-all-versions", spec], check=False, timeout=60)
    if not result.ok or not result.stdout.strip():
        return None
    for paragraph in Deb822.iter_paragraphs(result.stdout.splitlines(True)):
        if paragraph.get("Package") == package:
            return dict(paragraph)
    return None


def shim_control(choice):
    """The control file of the local package that lets a Jitsi package's OpenJDK dependency be met
    by Temurin. The Jitsi package then keeps its Pre-Depends unchanged and apt stays consistent."""
    return ("Package: {name}\n"
            "Version: 1\n"
            "Architecture: all\n"
            "Maintainer: jvb-join <root@localhost>\n"
            "Section: java\n"
            "Priority: optional\n"
            "Depends: {package}\n"
            "Provides: {provides}\n"
            "Description: Eclipse Temurin {major} as {provides} (made by jvb-join)\n"
            " Generated on this host by jvb-join: the Jitsi packages ask for OpenJDK {major} by name,\n"
            " which this release does not ship; Temurin {major} from Adoptium stands in for it.\n"
            ).format(name=choice.shim_name, package=choice.package, major=choice.major,
                     provides=", ".join(choice.shim_provides))
