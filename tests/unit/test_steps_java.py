"""The Java runtime step: the Java the release gets installed before the bridge, from the archive or
Adoptium (with its shim), in the package step's apt run."""

import os

from jvbjoin.system import java
from jvbjoin.engine.core import Context, Journal
from jvbjoin.system.run import Result
from jvbjoin.steps import java as java_step

from helpers import DATA, row

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
