"""The Java each release gets, from recorded os-release files and the dependency fields the Jitsi packages
have had over the years (reference/jitsi-packages.md §5)."""

import pytest

from jvbjoin.system import java, releases
from jvbjoin.errors import UsageError

from helpers import control, row

# (release, package metadata) -> (package, source, shim provides) or the error it must give
EXPECTED = [
    ("debian-10", "jvb-2020-06", ("openjdk-11-jre-headless", "archive", [])),
    ("debian-10", "jvb-2022-04", ("openjdk-11-jre-headless", "archive", [])),
    ("debian-10", "jvb-2024-03", ("openjdk-11-jre-headless", "archive", [])),
    ("debian-10", "jvb-2026-02", ("temurin-17-jre", "adoptium", ["openjdk-17-jre", "openjdk-17-jre-headless"])),
    ("debian-11", "jvb-2022-04", ("openjdk-11-jre-headless", "archive", [])),
    ("debian-11", "jvb-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("debian-12", "jvb-2024-03", ("openjdk-17-jre-headless", "archive", [])),
    ("debian-12", "jvb-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("debian-12", "jicofo-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("debian-12", "jvb-2022-04", "needs Java 11, and Debian 12 ships only Java 17"),
    ("debian-13", "jvb-2026-02", ("openjdk-21-jre-headless", "archive", [])),
    ("debian-13", "jicofo-2026-02", ("openjdk-21-jre-headless", "archive", [])),
    ("debian-13", "jvb-2024-03", "needs Java 11 or 17, and Debian 13 ships only Java 21"),
    ("ubuntu-20.04", "jvb-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("ubuntu-20.04", "jvb-2020-06", ("openjdk-11-jre-headless", "archive", [])),
    ("ubuntu-22.04", "jvb-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("ubuntu-24.04", "jvb-2026-02", ("openjdk-17-jre-headless", "archive", [])),
    ("ubuntu-24.04", "jvb-2022-04", "needs Java 11, and Ubuntu 24.04 ships only Java 17 and 21"),
]


@pytest.mark.parametrize("os_name,meta,expected", EXPECTED)
def test_java_choice_for_every_release(os_name, meta, expected):
    the_row = row(os_name)
    if isinstance(expected, str):
        with pytest.raises(UsageError) as err:
            java.choose(the_row, control(meta))
        assert expected in err.value.message
        assert "--jvb-version" in err.value.remedy
        return
    choice = java.choose(the_row, control(meta))
    assert (choice.package, choice.source, choice.shim_provides) == expected


def test_temurin_with_virtual_names_needs_no_shim():
    """A Jitsi package that accepts javaN-runtime is met by Temurin's own Provides."""
    buster = row("debian-10")
    buster_without_11 = releases.Release("debian", "10", "Debian 10", "buster", True, False, java=(), adoptium=True)
    choice = java.choose(buster_without_11, control("jvb-2020-06"))
    assert (choice.package, choice.shim_provides, choice.shim_name) == ("temurin-8-jre", [], None)
    assert "p11-kit" in choice.extra
    assert buster.codename == "buster"


def test_shim_provides_exactly_the_names_the_package_asks_for():
    choice = java.choose(row("debian-10"), control("jvb-2026-02"))
    text = java.shim_control(choice)
    assert "Package: jvb-join-temurin-17-compat\n" in text
    assert "Depends: temurin-17-jre\n" in text
    assert "Provides: openjdk-17-jre, openjdk-17-jre-headless\n" in text
    from debian.deb822 import Deb822
    assert Deb822(text.splitlines(True))["Architecture"] == "all"


def test_a_package_that_names_no_java_is_left_to_apt():
    assert java.choose(row("debian-12"), {"Package": "x", "Depends": "procps"}) is None
