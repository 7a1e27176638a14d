"""The support table and the Java each release gets, from recorded os-release files and the
dependency fields the Jitsi packages have had over the years (reference/jitsi-packages.md §5)."""

import os

import pytest

from jvbjoin.system import java, releases
from jvbjoin.engine.core import Context, Journal
from jvbjoin.errors import UsageError
from jvbjoin.system.run import Result
from jvbjoin.steps import java as java_step

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def release(name, paths=None):
    with open(os.path.join(DATA, "os-release", name)) as handle:
        text = handle.read()
    if paths is None:
        from jvbjoin.system.host import parse_os_release
        return parse_os_release(text)
    with open(paths.os_release, "w") as handle:
        handle.write(text)
    return releases.os_release(paths)


def control(name):
    from debian.deb822 import Deb822
    with open(os.path.join(DATA, "control", name)) as handle:
        return dict(Deb822(handle))


def row(name, role="bridge"):
    return releases.check_supported(release(name), role)


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


@pytest.mark.parametrize("os_name,bridge,server", [
    ("debian-10", True, False), ("debian-11", True, False), ("debian-12", True, True), ("debian-13", True, True),
    ("ubuntu-20.04", True, False), ("ubuntu-22.04", True, False), ("ubuntu-24.04", True, True),
    ("ubuntu-18.04", False, False),
])
def test_support_table_by_role(paths, os_name, bridge, server):
    info = release(os_name, paths)
    for role, supported in (("bridge", bridge), ("server", server)):
        if supported:
            assert getattr(releases.check_supported(info, role), role)
            continue
        with pytest.raises(UsageError) as err:
            releases.check_supported(info, role)
        assert "is not a release jvb-join supports as a {}".format(role) in err.value.message
        assert "--allow-unsupported-release" in err.value.remedy
        assert "Debian 12" in err.value.remedy
        # the brave may go on; the row then carries a codename for Adoptium and a Java guess
        forced = releases.check_supported(info, role, allow_unsupported=True)
        assert forced.codename == info["VERSION_CODENAME"]


def test_codenames_match_the_recorded_os_release_files():
    for name in os.listdir(os.path.join(DATA, "os-release")):
        info = release(name)
        the_row = releases.lookup(info)
        if the_row is not None:
            assert the_row.codename == info["VERSION_CODENAME"], name


# --- the step -----------------------------------------------------------------------------------

class FakeApt:
    """apt-cache, update-alternatives, dpkg-deb and apt-get as the step calls them."""

    def __init__(self, meta, alternative="/usr/lib/jvm/java-17-openjdk-amd64/bin/java"):
        self.meta = meta
        self.alternative = alternative
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[:2] == ["apt-cache", "show"]:
            if self.meta is None:
                return Result(argv, 100, "", "E: No packages found")
            with open(os.path.join(DATA, "control", self.meta)) as handle:
                return Result(argv, 0, handle.read() + "\n", "")
        if argv[:2] == ["update-alternatives", "--query"]:
            return Result(argv, 0, "Name: java\nLink: /usr/bin/java\nStatus: auto\nBest: x\nValue: {}\n".format(
                self.alternative), "")
        if argv[:2] == ["update-alternatives", "--set"]:
            self.alternative = argv[3]
        if argv[0] == "dpkg-deb":
            with open(argv[-1], "wb") as handle:
                handle.write(b"!<arch>\n")
        return Result(argv, 0, "", "")


def make_ctx(paths, os_name):
    ctx = Context(paths, progress=lambda *a: None)
    ctx.run.release_row = row(os_name)
    return ctx


def test_step_on_bookworm_installs_openjdk_17_before_the_bridge(paths, monkeypatch):
    fake = FakeApt("jvb-2026-02")
    monkeypatch.setattr(java, "run", fake)
    monkeypatch.setattr(java_step, "run", fake)
    installs = []
    monkeypatch.setattr(java_step, "install", lambda ctx, journal, specs, *a, **k: installs.append(specs))
    monkeypatch.setattr(java_step, "update_once", lambda ctx, timeout: None)
    ctx = make_ctx(paths, "debian-12")
    step = java_step.JavaRuntime("jitsi-videobridge2")
    changes = step.check(ctx)
    assert [c.summary for c in changes] == [
        "install openjdk-17-jre-headless (Java 17, from the release's archive)"]
    step.apply(ctx, changes, Journal())
    # installed with the bridge package, in one apt-get run
    assert installs == [] and ctx.run.with_packages == ["openjdk-17-jre-headless"]
    assert not any(c[:2] == ["update-alternatives", "--set"] for c in fake.calls)


def test_step_before_the_jitsi_repository_is_read_says_so(paths, monkeypatch):
    fake = FakeApt(None)
    monkeypatch.setattr(java, "run", fake)
    changes = java_step.JavaRuntime("jitsi-videobridge2").check(make_ctx(paths, "debian-12"))
    assert len(changes) == 1 and "once the package lists are updated" in changes[0].summary


def test_step_on_buster_adds_adoptium_installs_temurin_and_its_shim(paths, monkeypatch, tmp_path):
    os.makedirs(paths("/etc/apt/sources.list.d"))
    key = tmp_path / "adoptium.gpg"
    key.write_bytes(b"\x99\x01binary keyring")
    fake = FakeApt("jvb-2026-02", alternative="/usr/lib/jvm/java-11-openjdk-amd64/bin/java")
    monkeypatch.setattr(java, "run", fake)
    monkeypatch.setattr(java_step, "run", fake)
    installs = []

    def fake_install(ctx, journal, specs, *a, **k):
        installs.append(specs)
        os.makedirs(paths("/usr/lib/jvm/temurin-17-jre-amd64/bin"))
        open(paths("/usr/lib/jvm/temurin-17-jre-amd64/bin/java"), "w").close()
    monkeypatch.setattr(java_step, "install", fake_install)
    monkeypatch.setattr(java_step, "update_once", lambda ctx, timeout: None)
    ctx = make_ctx(paths, "debian-10")
    step = java_step.JavaRuntime("jitsi-videobridge2", adoptium_url="http://repo.lab.test/adoptium",
                                 adoptium_key=str(key))
    summaries = [c.summary for c in step.check(ctx)]
    assert summaries[-2:] == [
        "install temurin-17-jre (Java 17, from Adoptium) with jvb-join-temurin-17-compat providing "
        "openjdk-17-jre, openjdk-17-jre-headless",
        "point /usr/bin/java at Temurin 17"]
    assert any("adoptium.sources" in s for s in summaries)
    journal = Journal()
    step.apply(ctx, step.check(ctx), journal)
    with open(paths.adoptium_source) as handle:
        source = handle.read()
    assert "URIs: http://repo.lab.test/adoptium\nSuites: buster\nComponents: main\n" in source
    assert "Signed-By: /etc/apt/keyrings/adoptium.gpg" in source
    specs = installs[0]
    assert specs[:2] == ["temurin-17-jre", "p11-kit"]
    assert specs[2].endswith("/jvb-join-temurin-17-compat_1_all.deb") and os.path.exists(specs[2])
    assert ["update-alternatives", "--set", "java", "/usr/lib/jvm/temurin-17-jre-amd64/bin/java"] in fake.calls
    assert ["update-ca-certificates"] in fake.calls
    # undo puts the alternative back to automatic and removes what the step wrote
    journal.rollback()
    assert ["update-alternatives", "--auto", "java"] in fake.calls
    assert not os.path.exists(paths.adoptium_source) and not os.path.exists(specs[2])


def test_step_with_the_package_installed_asks_apt_nothing(paths, monkeypatch):
    os.makedirs(os.path.dirname(paths.dpkg_status))
    with open(paths.dpkg_status, "w") as handle:
        handle.write("Package: jitsi-videobridge2\nStatus: install ok installed\nVersion: 2.3-312-ga29d97d13-1\n\n")
    fake = FakeApt("jvb-2026-02")
    monkeypatch.setattr(java, "run", fake)
    monkeypatch.setattr(java_step, "run", fake)
    assert java_step.JavaRuntime("jitsi-videobridge2").check(make_ctx(paths, "debian-12")) == []
    assert fake.calls == []


def test_the_package_step_installs_the_java_in_the_same_apt_run(paths, monkeypatch):
    from jvbjoin.steps import packages
    runs = []
    monkeypatch.setattr(packages, "install", lambda ctx, journal, specs, *a, **k: runs.append(list(specs)))
    monkeypatch.setattr(packages, "update_once", lambda ctx, timeout: None)
    ctx = make_ctx(paths, "debian-12")
    ctx.run.with_packages = ["openjdk-17-jre-headless"]
    step = packages.Packages(["jitsi-videobridge2"])
    step.apply(ctx, step.check(ctx), Journal())
    assert runs == [["openjdk-17-jre-headless", "jitsi-videobridge2"]]
    assert ctx.run.with_packages == []
