"""apt and dpkg faults: a lock held for a while is waited for, one held too long is a clean exit 75
naming its holder, an interrupted dpkg is refused before anything changes, and apt-get's failures
(repository gone, unsigned or tampered) come out as errors the operator can act on."""

import fcntl
import os

import pytest

from jvbjoin.system import apt
from jvbjoin.errors import EXIT_FAILED, EXIT_TEMPFAIL, CommandError, JvbJoinError, LockTimeoutError

from helpers import Clock


@pytest.fixture
def dpkg(paths):
    os.makedirs(paths.dpkg_updates)
    for lock in paths.dpkg_locks:
        open(lock, "w").close()
    return paths


def hold(path):
    """An fcntl write lock on ``path`` held by this process, as dpkg and apt take theirs."""
    fd = os.open(path, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_held_lock_names_its_holder(dpkg):
    fd = hold(dpkg.dpkg_locks[0])
    try:
        holders = apt.lock_holders(dpkg)
    finally:
        os.close(fd)
    assert (os.getpid(), open("/proc/self/comm").read().strip()) in holders
    assert apt.lock_holders(dpkg) == []


def test_lock_held_for_a_while_is_waited_for(dpkg, monkeypatch):
    clock, lines = Clock(), []
    holder = (4242, "unattended-upgr")
    monkeypatch.setattr(apt, "lock_holders", lambda paths: [holder] if clock.now < 40 else [])
    apt.wait_for_lock(dpkg, 300, lines.append, sleep=clock.sleep, clock=clock)
    assert 40 <= clock.now < 42
    assert lines and "unattended-upgr (pid 4242)" in lines[0]


def test_lock_held_too_long_is_exit_75_naming_the_holder(dpkg, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(apt, "lock_holders", lambda paths: [(4242, "unattended-upgr")])
    with pytest.raises(LockTimeoutError) as err:
        apt.wait_for_lock(dpkg, 60, lambda line: None, sleep=clock.sleep, clock=clock)
    assert err.value.exit_code == EXIT_TEMPFAIL
    assert "unattended-upgr (pid 4242)" in str(err.value) and "Nothing was changed" in err.value.remedy
    assert 60 <= clock.now < 62


def test_interrupted_dpkg_is_refused_with_the_command_that_fixes_it_and_not_as_temporary(dpkg):
    open(os.path.join(dpkg.dpkg_updates, "0007"), "w").close()
    with pytest.raises(JvbJoinError) as err:
        apt.ready_for_packages(dpkg, 300, lambda line: None, dry_run=True)
    assert err.value.exit_code == EXIT_FAILED and err.value.error_id == "dpkg-interrupted"
    assert "dpkg --configure -a" in err.value.remedy


def test_packages_left_unpacked_are_reported_not_configured_silently(dpkg):
    dpkg_status(dpkg, HELD_BRIDGE + UNFINISHED)
    with pytest.raises(JvbJoinError) as err:
        apt.ready_for_packages(dpkg, 300, lambda line: None, dry_run=True)
    assert err.value.exit_code == EXIT_FAILED and err.value.error_id == "dpkg-interrupted"
    assert "packages not configured: prosody (unpacked), ufw (half-configured)" in err.value.message
    assert "dpkg --configure -a" in err.value.remedy


def test_a_package_whose_unpacking_was_cut_is_reinstalled_as_the_remedy_says(dpkg):
    # dpkg killed while unpacking leaves "reinstreq half-installed": 'dpkg --configure -a' leaves it
    # so, and 'apt-get -f install' exits 0 without touching it (seen on bookworm's apt 2.6).
    torn = "\nPackage: libnss3\nStatus: install reinstreq half-installed\nVersion: 2:3.87.1-1+deb12u2\n"
    dpkg_status(dpkg, HELD_BRIDGE + torn)
    with pytest.raises(JvbJoinError) as err:
        apt.ready_for_packages(dpkg, 300, lambda line: None, dry_run=True)
    assert "libnss3 (half-installed)" in err.value.message
    assert "'apt-get install --reinstall libnss3'" in err.value.remedy
    assert "dpkg --configure -a" not in err.value.remedy
    dpkg_status(dpkg, HELD_BRIDGE + torn + UNFINISHED)
    with pytest.raises(JvbJoinError) as err:
        apt.ready_for_packages(dpkg, 300, lambda line: None, dry_run=True)
    remedy = err.value.remedy
    assert remedy.index("'dpkg --configure -a'") < remedy.index("'apt-get install --reinstall libnss3'")


def apt_fails_with(monkeypatch, output):
    def fail(argv, on_line, timeout=None, env=None, secrets=(), input=None):
        raise CommandError(argv, 100, output)
    monkeypatch.setattr(apt, "run_streaming", fail)


@pytest.mark.parametrize("output", [
    "Err:1 http://198.18.0.1:8765/jitsi stable/main amd64 jitsi-videobridge2 all 2.3-1\n"
    "  Connection failed [IP: 198.18.0.1 8765]\n"
    "E: Failed to fetch http://198.18.0.1:8765/jitsi/pool/main/j/jvb.deb  Connection failed\n",
    "Err:1 http://repo.lab stable InRelease\n  Could not connect to repo.lab:8765 (198.18.0.1), connection timed out\n",
])
def test_repository_gone_mid_download_is_temporary(monkeypatch, output):
    apt_fails_with(monkeypatch, output)
    with pytest.raises(JvbJoinError) as err:
        apt.apt_get(["install", "jitsi-videobridge2"], lambda line: None)
    assert err.value.exit_code == EXIT_TEMPFAIL


def test_apt_is_told_to_retry_downloads_and_wait_for_the_lock(monkeypatch):
    seen = []
    monkeypatch.setattr(apt, "run_streaming", lambda argv, on_line, **kw: seen.append(argv))
    apt.apt_get(["install", "jitsi-videobridge2"], lambda line: None, lock_timeout=120)
    assert "Acquire::Retries=3" in seen[0] and "DPkg::Lock::Timeout=120" in seen[0]
    assert not [a for a in seen[0] if "allow-unauthenticated" in a or "AllowInsecure" in a or "trusted=yes" in a]


@pytest.mark.parametrize("output", [
    "E: The repository 'http://198.18.0.1:8765/jitsi stable Release' is not signed.\n",
    "W: GPG error: http://198.18.0.1:8765/jitsi stable InRelease: The following signatures were invalid: BADSIG\n"
    "E: The repository 'http://198.18.0.1:8765/jitsi stable InRelease' is not signed.\n",
    "Err:5 http://198.18.0.1:8765/jitsi stable/main amd64 Packages\n  Hash Sum mismatch\n"
    "E: Failed to fetch http://198.18.0.1:8765/jitsi/dists/stable/main/binary-amd64/Packages.gz  "
    "Hash Sum mismatch\n",
])
def test_unsigned_or_tampered_repository_is_refused_not_retried(monkeypatch, output):
    apt_fails_with(monkeypatch, output)
    with pytest.raises(JvbJoinError) as err:
        apt.apt_get(["update"], lambda line: None)
    assert err.value.exit_code == EXIT_FAILED
    assert "never installs unsigned" in err.value.remedy


def test_a_preseed_is_undone_as_its_owner_so_debconf_forgets_it(monkeypatch):
    """Unregistering as anyone else leaves the question (and debconf's placeholder template) behind."""
    from jvbjoin.steps import packages
    calls = []
    monkeypatch.setattr(packages, "run", lambda argv, input=None, **kw: calls.append((argv, input)))
    packages._debconf_undo("jitsi-videobridge2", "jitsi-videobridge/jvb-hostname", "string", (None, None))()
    assert calls == [(["debconf-communicate", "jitsi-videobridge2"], "UNREGISTER jitsi-videobridge/jvb-hostname\n")]


class FakeDebconf:
    """debconf's database as debconf-communicate and debconf-set-selections change it."""

    def __init__(self, questions):
        self.questions = questions  # {question: {"value": ..., "seen": "true"|"false"}}

    def __call__(self, argv, input=None, check=True, **kwargs):
        import types
        words = input.split()
        out = "10 not registered"
        if argv[0] == "debconf-set-selections":
            self.questions[words[1]] = {"value": " ".join(words[3:]), "seen": "true"}
            out = ""
        elif words[1] in self.questions:
            question = self.questions[words[1]]
            if words[0] == "GET":
                out = "0 " + question["value"]
            elif words[0] == "FGET":
                out = "0 " + question[words[2]]
            elif words[0] == "FSET":
                question[words[2]] = words[3]
                out = "0 true"
        return types.SimpleNamespace(stdout=out + "\n", ok=True)


def test_a_rolled_back_preseed_puts_back_the_value_and_the_seen_flag(paths, monkeypatch):
    """debconf-set-selections marks a question seen; undoing the preseed must unmark it, or the
    package's next configure would never ask it."""
    from jvbjoin.engine.core import Context, Journal
    from jvbjoin.steps import packages
    debconf = FakeDebconf({"jitsi-videobridge/jvb-hostname": {"value": "localhost", "seen": "false"}})
    monkeypatch.setattr(packages, "run", debconf)
    monkeypatch.setattr(apt, "run", debconf)
    step = packages.DebconfPreseed([("jitsi-videobridge2", "jitsi-videobridge/jvb-hostname", "string",
                                     "meet.example.com")])
    ctx, journal = Context(paths), Journal()
    step.apply(ctx, step.check(ctx), journal)
    assert debconf.questions["jitsi-videobridge/jvb-hostname"] == {"value": "meet.example.com", "seen": "true"}
    assert journal.rollback() == []
    assert debconf.questions["jitsi-videobridge/jvb-hostname"] == {"value": "localhost", "seen": "false"}


def test_lists_that_could_not_be_updated_make_a_missing_package_temporary(paths, monkeypatch):
    """apt-get update exits 0 when a repository is unreachable; the install then finds no package."""
    from jvbjoin.engine.core import Context, Journal
    from jvbjoin.steps.packages import Packages
    update = ("Err:1 http://198.18.0.1:8765/jitsi stable InRelease\n  Connection failed\n"
              "W: Failed to fetch http://198.18.0.1:8765/jitsi/dists/stable/InRelease  Connection failed\n"
              "W: Some index files failed to download. They have been ignored, or old ones used instead.\n")

    def apt_get_run(argv, on_line, timeout=None, env=None, secrets=(), input=None):
        if "update" in argv:
            return type("R", (), {"stdout": update})()
        raise CommandError(argv, 100, "E: Unable to locate package jitsi-videobridge2\n")
    monkeypatch.setattr(apt, "run_streaming", apt_get_run)
    step = Packages(["jitsi-videobridge2"])
    ctx = Context(paths)
    with pytest.raises(JvbJoinError) as err:
        step.apply(ctx, step.check(ctx), Journal())
    assert err.value.exit_code == EXIT_TEMPFAIL and "could not be reached" in str(err.value)
    # With lists that were updated fine, a missing package stays a plain failure.
    update = "Hit:1 http://198.18.0.1:8765/jitsi stable InRelease\n"
    with pytest.raises(JvbJoinError) as err:
        step.apply(Context(paths), step.check(ctx), Journal())
    assert err.value.exit_code == EXIT_FAILED


def test_a_dpkg_still_running_is_waited_for_not_called_interrupted(dpkg, monkeypatch):
    """dpkg's journal is there while it runs (e.g. the apt-get of a killed jvb-join run goes on)."""
    clock = Clock()
    journal = os.path.join(dpkg.dpkg_updates, "0003")
    open(journal, "w").close()

    def holders(paths):
        if clock.now < 30:
            return [(4343, "dpkg")]
        if os.path.exists(journal):
            os.unlink(journal)  # dpkg finished its work and its journal
        return []
    real_wait = apt.wait_for_lock
    monkeypatch.setattr(apt, "lock_holders", holders)
    monkeypatch.setattr(apt, "wait_for_lock", lambda paths, timeout, progress: real_wait(
        paths, timeout, progress, sleep=clock.sleep, clock=clock))
    apt.ready_for_packages(dpkg, 300, lambda line: None)
    assert clock.now >= 30
    # A dry run does not wait, and does not call a running dpkg interrupted either.
    clock.now = 0
    open(journal, "w").close()
    apt.ready_for_packages(dpkg, 300, lambda line: None, dry_run=True)


HELD_BRIDGE = ("Package: jitsi-videobridge2\nStatus: hold ok installed\nVersion: 2.3-92-g64f9f34f-1\n\n"
               "Package: openjdk-17-jre-headless\nStatus: install ok installed\nVersion: 17.0.13+11-2\n\n"
               "Package: jicofo\nStatus: deinstall ok config-files\nVersion: 1.0-1\n")
UNFINISHED = ("\nPackage: prosody\nStatus: install ok unpacked\nVersion: 0.12.3-1\n"
              "\nPackage: ufw\nStatus: install ok half-configured\nVersion: 0.36.2-1\n")


def dpkg_status(paths, text):
    os.makedirs(os.path.dirname(paths.dpkg_status), exist_ok=True)
    with open(paths.dpkg_status, "w") as handle:
        handle.write(text)


def test_a_held_package_is_installed(paths):
    dpkg_status(paths, HELD_BRIDGE + UNFINISHED)
    assert apt.installed_packages(paths) == {"jitsi-videobridge2": "2.3-92-g64f9f34f-1",
                                             "openjdk-17-jre-headless": "17.0.13+11-2"}
    states = apt.package_states(paths)
    assert states["jitsi-videobridge2"].held and not states["openjdk-17-jre-headless"].held
    assert [n for n, s in states.items() if s.unfinished] == ["prosody", "ufw"]


def test_a_held_bridge_needs_no_install(paths):
    from jvbjoin.engine.core import Context
    from jvbjoin.steps.packages import Packages
    dpkg_status(paths, HELD_BRIDGE)
    assert Packages(["jitsi-videobridge2"]).check(Context(paths)) == []
    assert Packages(["jitsi-videobridge2"], {"jitsi-videobridge2": "2.3-92-g64f9f34f-1"}).check(Context(paths)) == []


def test_a_token_for_another_version_of_a_held_bridge_is_refused_before_changes(paths):
    from jvbjoin.errors import HeldPackageError
    dpkg_status(paths, HELD_BRIDGE)
    with pytest.raises(HeldPackageError) as err:
        apt.ready_for_packages(paths, 300, lambda line: None, dry_run=True,
                               versions={"jitsi-videobridge2": "2.3-100-gabcdef-1"})
    assert err.value.exit_code == EXIT_FAILED
    assert "held at version 2.3-92-g64f9f34f-1" in err.value.message and "2.3-100-gabcdef-1" in err.value.message
    assert "apt-mark unhold jitsi-videobridge2" in err.value.remedy
    apt.ready_for_packages(paths, 300, lambda line: None, dry_run=True,
                           versions={"jitsi-videobridge2": "2.3-92-g64f9f34f-1"})


SERVER_REMOVED = ("Package: prosody\nStatus: install ok installed\nVersion: 0.12.3-1\n\n"
                  "Package: jitsi-meet-prosody\nStatus: deinstall ok config-files\nVersion: 1.0.9396-1\n")


def test_the_undo_removes_again_a_package_that_was_removed_before_and_purges_only_new_ones(paths, monkeypatch):
    """jitsi-meet-prosody removed but not purged keeps the auth host's accounts and the certificate
    bridges pin; a rolled-back install must leave it removed, as it was, not purge it."""
    from jvbjoin.engine.core import Context, Journal
    from jvbjoin.steps import packages
    dpkg_status(paths, SERVER_REMOVED)
    calls = []

    def apt_get(args, progress, lock_timeout=None):
        calls.append(args)
        if args[0] == "install":
            dpkg_status(paths, SERVER_REMOVED.replace("deinstall ok config-files", "install ok installed")
                        + "\nPackage: jicofo\nStatus: install ok installed\nVersion: 1.0-1196-1\n")
    monkeypatch.setattr(apt, "apt_get", apt_get)
    journal = Journal()
    packages.install(Context(paths), journal, ["jitsi-meet-prosody", "jicofo"], 300)
    assert journal.rollback() == []
    assert calls[1:] == [["remove", "jitsi-meet-prosody"], ["purge", "jicofo"]]
