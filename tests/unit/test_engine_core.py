"""The engine: a failing step rolls every change back byte for byte; a second run changes nothing."""

import os
import signal
import stat

import pytest

from jvbjoin.system import files
from jvbjoin.engine.core import CHANGED, PLANNED, UNCHANGED, Context, Engine, Interrupted, Run, Step
from jvbjoin.errors import StepError
from jvbjoin.steps.base import FileStep, WantedFile

ADMIN_JVB_CONF = (b"# my own notes, keep them\n"
                  b"videobridge {\n"
                  b"    cc { trust-bwe = true }   # tuned by hand\n"
                  b"}\n")


class WriteFiles(FileStep):
    name = "write"
    title = "write files"

    def __init__(self, wanted):
        self._wanted = wanted

    def wanted(self, ctx):
        return [WantedFile(ctx.paths(p), c, mode=m) for p, c, m in self._wanted]


class Boom(Step):
    name = "boom"
    title = "a step that fails"

    def check(self, ctx):
        from jvbjoin.engine.core import Change
        return [Change("service", "jitsi-videobridge2", "restart the bridge")]

    def apply(self, ctx, changes, journal):
        raise StepError("the bridge did not start")


class SignalMe(Boom):
    def apply(self, ctx, changes, journal):
        os.kill(os.getpid(), signal.SIGTERM)


def snapshot(root):
    """Every file under root: content, mode, inode and mtime."""
    out = {}
    for folder, dirs, names in os.walk(str(root)):
        for name in dirs + names:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            content = open(path, "rb").read() if stat.S_ISREG(st.st_mode) else None
            out[os.path.relpath(path, str(root))] = (content, stat.S_IMODE(st.st_mode), st.st_ino, st.st_mtime_ns)
    return out


@pytest.fixture
def host(paths):
    jvb = paths("/etc/jitsi/videobridge")
    os.makedirs(jvb)
    with open(os.path.join(jvb, "jvb.conf"), "wb") as handle:
        handle.write(ADMIN_JVB_CONF)
    os.chmod(os.path.join(jvb, "jvb.conf"), 0o640)
    return paths


def make_ctx(paths):
    ctx = Context(paths, Run(backups=files.Backups(paths.backups, paths.root, run_id="test")))
    return ctx


WANTED = [
    ("/etc/jitsi/videobridge/jvb.conf", ADMIN_JVB_CONF + b'include "jvb-join.conf"  # added by jvb-join\n', None),
    ("/etc/jitsi/videobridge/jvb-join.conf", b"videobridge.apis.xmpp-client.configs.shard {}\n", 0o640),
    ("/etc/jvb-join/state/new.txt", b"in a folder that did not exist\n", None),
]


def test_failing_step_rolls_back_every_file_byte_for_byte(host):
    before = snapshot(host("/etc"))
    engine = Engine([WriteFiles(WANTED), Boom()], make_ctx(host))
    with pytest.raises(StepError):
        engine.run("join")
    after = snapshot(host("/etc"))
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    # The backup of the admin's file is identical to the original.
    backup = host("/var/backups/jvb-join/test/etc/jitsi/videobridge/jvb.conf")
    assert open(backup, "rb").read() == ADMIN_JVB_CONF


def test_sigterm_during_apply_rolls_back(host):
    before = snapshot(host("/etc"))
    engine = Engine([WriteFiles(WANTED), SignalMe()], make_ctx(host))
    with pytest.raises(Interrupted):
        engine.run("join")
    assert {k: v[:2] for k, v in snapshot(host("/etc")).items()} == {k: v[:2] for k, v in before.items()}
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_second_run_rewrites_nothing(host):
    first = Engine([WriteFiles(WANTED)], make_ctx(host)).run("join")
    assert [r.status for r in first.results] == [CHANGED]
    written = snapshot(host("/etc"))
    second = Engine([WriteFiles(WANTED)], make_ctx(host)).run("join")
    assert [r.status for r in second.results] == [UNCHANGED]
    assert second.as_dict()["changed"] == 0
    assert snapshot(host("/etc")) == written  # same inodes, same mtimes: nothing rewritten


def test_dry_run_changes_nothing_and_its_diff_is_what_the_run_writes(host):
    before = snapshot(host("/"))
    plan = Engine([WriteFiles(WANTED)], make_ctx(host)).run("join", dry_run=True)
    assert snapshot(host("/")) == before
    assert [r.status for r in plan.results] == [PLANNED]
    diffs = {c.target: c.diff for c in plan.results[0].changes}
    assert '+include "jvb-join.conf"  # added by jvb-join\n' in diffs[host("/etc/jitsi/videobridge/jvb.conf")]
    Engine([WriteFiles(WANTED)], make_ctx(host)).run("join")
    for path, content, _ in WANTED:
        added = [line[1:] for line in diffs[host(path)].splitlines(True)
                 if line.startswith("+") and not line.startswith("+++")]
        new_lines = open(host(path), "rb").read().decode().splitlines(True)
        assert all(line in new_lines for line in added)


def test_secret_file_diff_hides_content(host):
    class Secret(FileStep):
        name = "secret"
        title = "secret"

        def wanted(self, ctx):
            return [WantedFile(ctx.paths("/etc/jvb-join/secret"), b"PASSWORD=hunter2\n", 0o600, secret=True)]

    plan = Engine([Secret()], make_ctx(host)).run("join", dry_run=True)
    text = str(plan.as_dict())
    assert "hunter2" not in text
    assert "holds a secret" in text


def test_binary_file_diff_names_size_and_hash():
    import hashlib
    from jvbjoin.steps.base import unified_diff
    key = b"\x99\x01\x8d\x04\x00keyring\xff"
    diff = unified_diff("/usr/share/keyrings/k.gpg", None, key)
    assert diff == ("--- /dev/null\n+++ /usr/share/keyrings/k.gpg\nbinary content: (none) -> "
                    "{} bytes, sha256 {}\n".format(len(key), hashlib.sha256(key).hexdigest()))
    # Text that is not UTF-8 is still diffed as text.
    assert "+caf\ufffd\n" in unified_diff("/etc/x", None, b"caf\xe9\n")


def test_rollback_keeps_going_when_one_undo_fails(host):
    from jvbjoin.engine.core import Journal
    journal = Journal()
    done = []
    journal.record("first", lambda: done.append("first"))
    journal.record("broken", lambda: 1 / 0)
    journal.record("last", lambda: done.append("last"))
    assert journal.rollback() == ["broken"]
    assert done == ["last", "first"]


class Slow(Step):
    name = "slow"
    title = "a step that takes its time"

    def check(self, ctx):
        from jvbjoin.engine.core import Change
        return [Change("service", "x", "wait")]

    def apply(self, ctx, changes, journal):
        import time
        time.sleep(0.2)


def test_report_says_where_the_time_went(host):
    import time
    engine = Engine([WriteFiles(WANTED), Slow()], make_ctx(host), preflight=lambda ctx: time.sleep(0.1),
                    verify=lambda ctx, report: time.sleep(0.3))
    report = engine.run("join").as_dict()
    seconds = {s["step"]: s["seconds"] for s in report["steps"]}
    assert 0.2 <= seconds["slow"] < 0.2 + 0.15 and seconds["write"] < 0.15
    assert 0.1 <= report["phase_seconds"]["preflight"] < 0.25
    assert 0.3 <= report["phase_seconds"]["verify"] < 0.45
    assert report["seconds"] >= 0.6
