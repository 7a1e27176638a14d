"""SIGKILL at any moment of a join, then the same command again: the host ends where a clean join
leaves it, with no torn, empty or temporary file on the way.

Each run is a forked child that runs the real join() with the real steps that write files (apt
source, trust, account, bridge config, the pending-password cleanup, logging, sysctl) and the
service step, on real files in a temporary tree. The steps that only run programs (debconf, Java,
packages, ufw) are left out, and what lies outside the host is faked: the XMPP server (one account,
its password in a file), systemd (the unit, and the config it read when it last started),
update-ca-certificates and sysctl. Every file operation of jvb-join (write, fsync, rename, unlink, mkdir, chmod), every
password change on the server and every restart is an event; the child SIGKILLs itself at event
k. Each kill point is tried: the boundaries before and after every step, and every single event
of a clean run. ``JVB_CRASH_RUNS=N`` adds N random double kills (a kill during the re-run too),
which ``make test-long`` uses.
"""

import hashlib
import json
import os
import random
import signal
import stat

import pytest

from jvbjoin.system import files
from jvbjoin.bridge import join as join_module
from jvbjoin.engine.core import Step
from jvbjoin.errors import StepError, TokenError
from jvbjoin.bridge.join import JoinOptions
from jvbjoin.bridge import model
from jvbjoin.bridge.steps import config as bridge_config, logging_level, sysctl, service, trust
from jvbjoin.bridge.steps.account import AccountPassword, ForgetPendingPassword
from jvbjoin.steps.packages import JitsiSource

from helpers import make_token

TOKEN_PASSWORD = "the-token-password-0123456789"

PACKAGE_JVB_CONF = b"""# Written by the package; the admin added the cc line.
videobridge {
    cc { trust-bwe = true }   # tuned by hand
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.meet.example.com"
            USERNAME=jvb
            PASSWORD="package-secret"
            MUC_JIDS="jvbbrewery@internal.auth.meet.example.com"
            MUC_NICKNAME=5f0c
        }
    }
}
"""
LEGACY = (b"org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true\n"
          b"org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost\n"
          b"org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.com\n"
          b"org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\n"
          b"org.jitsi.videobridge.xmpp.user.shard.PASSWORD=package-secret\n"
          b"org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.meet.example.com\n"
          b"org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=0a1b\n")
LOGGING = b"handlers= java.util.logging.ConsoleHandler, java.util.logging.FileHandler\n.level=INFO\n"
CERT_DER = bytes.fromhex(
    "3082012a3081d1a003020102020101300a06082a8648ce3d04030230003000301e170d3236303130313030303030305a"
    "170d3237303130313030303030305a30003059301306072a8648ce3d020106082a8648ce3d0301070342000400000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000300a06082a8648ce3d0403020348003045022000000000"
    "000000000000000000000000000000000000000000000000000000000221000000000000000000000000000000000000"
    "0000000000000000000000000000")

# What the bridge reads at start: a restart is due whenever one of these changed since.
BRIDGE_INPUTS = ("etc/jitsi/videobridge/jvb.conf", "etc/jitsi/videobridge/jvb-join.conf",
                 "etc/jitsi/videobridge/sip-communicator.properties",
                 "etc/jitsi/videobridge/logging.properties", "usr/local/share/ca-certificates")


class Killer:
    """Counts the events of a run and SIGKILLs the process at event number ``at``."""

    def __init__(self, at=None):
        self.at = at
        self.count = 0
        self.names = []

    def __call__(self, name):
        self.count += 1
        self.names.append(name)
        if self.count == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def _replace_json(path, data):
    # The fakes keep their own state atomically: they stand for the server and PID 1, which a
    # kill of jvb-join does not tear.
    tmp = path + ".fake"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def _read_json(path):
    with open(path) as handle:
        return json.load(handle)


def bridge_inputs_hash(root):
    digest = hashlib.sha256()
    for rel in BRIDGE_INPUTS:
        path = os.path.join(root, rel)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                digest.update(name.encode() + (files.read_bytes(os.path.join(path, name)) or b""))
        else:
            digest.update(rel.encode() + (files.read_bytes(path) or b"-"))
    return digest.hexdigest()


def make_fakes(root, killer):
    server = os.path.join(root, "fake-server.json")
    unit = os.path.join(root, "fake-unit.json")

    def change_password(host, port, domain, user, old, new, cadata_der, timeout=30):
        killer("server: before password change")
        if _read_json(server)["password"] != old:
            raise TokenError("The server refused the login of {}@{}.".format(user, domain))
        _replace_json(server, {"password": new})
        killer("server: after password change")

    def check_login(host, port, domain, user, password, cadata_der, timeout=20):
        if _read_json(server)["password"] != password:
            raise TokenError("The server refused the login of {}@{}.".format(user, domain))

    class FakeSystemd:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def unit_state(self, name):
            state = _read_json(unit)
            return {"LoadState": "loaded", "ActiveState": "active" if state["active"] else "inactive",
                    "UnitFileState": "enabled" if state["enabled"] else "disabled"}

        def _set(self, **values):
            state = _read_json(unit)
            state.update(values)
            _replace_json(unit, state)

        def enable(self, names):
            self._set(enabled=True)

        def disable(self, names):
            self._set(enabled=False)

        def restart(self, name, timeout=90):
            killer("systemd: before restart")
            if _read_json(unit).get("hang_once"):
                self._set(hang_once=False)
                raise StepError("jitsi-videobridge2.service did not finish starting within {} s; "
                                "the job was cancelled".format(timeout))
            self._set(active=True, started_with=bridge_inputs_hash(root))
            killer("systemd: after restart")

        start = restart

        def stop(self, name, timeout=90):
            self._set(active=False)

        def wait_active(self, name, settle=0.0, timeout=90):
            return {"ActiveState": "active", "NRestarts": 0}

    return server, unit, change_password, check_login, FakeSystemd


def make_host(root):
    """A bridge host right after the package was installed: its files, a running bridge."""
    for folder in ("etc/jitsi/videobridge", "var/lib", "var/backups", "var/log", "usr/share/keyrings",
                   "usr/local/share/ca-certificates", "etc/apt/sources.list.d", "etc/sysctl.d"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for rel, data, mode in (("etc/jitsi/videobridge/jvb.conf", PACKAGE_JVB_CONF, 0o640),
                            ("etc/jitsi/videobridge/sip-communicator.properties", LEGACY, 0o640),
                            ("etc/jitsi/videobridge/logging.properties", LOGGING, 0o644),
                            ("etc/machine-id", b"0123456789abcdef0123456789abcdef\n", 0o444),
                            ("repo-key.gpg", b"a key", 0o644)):
        path = os.path.join(root, rel)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)
    _replace_json(os.path.join(root, "fake-server.json"), {"password": TOKEN_PASSWORD})
    _replace_json(os.path.join(root, "fake-unit.json"),
                  {"active": True, "enabled": True, "started_with": bridge_inputs_hash(root)})


def _events_of(killer, monkeypatch):
    """Make every file operation of jvb-join an event (the fakes use os.replace and open())."""
    for name in ("write", "fsync", "rename", "unlink", "mkdir", "fchmod", "chmod"):
        real = getattr(os, name)

        def wrapped(*args, _real=real, _name=name, **kwargs):
            killer("os." + _name)
            return _real(*args, **kwargs)
        monkeypatch.setattr(os, name, wrapped)


def run_join(root, killer, monkeypatch):
    """The real join() with the outside world faked; returns the report (raises on failure)."""
    from jvbjoin.system import systemd
    from jvbjoin.xmpp import session
    from jvbjoin.system.paths import Paths

    server, unit, change_password, check_login, fake_systemd = make_fakes(root, killer)
    monkeypatch.setattr(session, "change_password", change_password)
    monkeypatch.setattr(session, "check_login", check_login)
    monkeypatch.setattr(systemd, "Systemd", fake_systemd)
    monkeypatch.setattr(trust, "run", lambda *a, **k: None)
    monkeypatch.setattr(sysctl, "run", lambda *a, **k: type("R", (), {"ok": True})())

    class Boundary(Step):
        """Wraps a step so that its start and end are events (the step-boundary kill points)."""

        def __init__(self, inner):
            self.inner = inner
            self.name, self.title, self.restarts = inner.name, inner.title, inner.restarts

        def check(self, ctx):
            return self.inner.check(ctx)

        def apply(self, ctx, changes, journal):
            killer("before step " + self.name)
            self.inner.apply(ctx, changes, journal)
            killer("after step " + self.name)

    def steps(ctx):
        as_root = os.geteuid() == 0  # these two write root-owned files
        inner = ([JitsiSource("http://repo.lab", "stable", "main", os.path.join(root, "repo-key.gpg"))]
                 if as_root else []) + \
                ([trust.ServerTrust()] if as_root else []) + [AccountPassword()] + bridge_config.steps(ctx) + \
                [ForgetPendingPassword(), logging_level.LoggingLevel(), sysctl.Sysctl(), service.BridgeService()]
        return [Boundary(s) for s in inner]

    def preflight(ctx):
        ctx.run.server_cert_der = CERT_DER

    def verify(ctx, report):
        # The bridge is in the brewery when it runs the config on disk with the account's password.
        state = _read_json(unit)
        if not state["active"] or state["started_with"] != bridge_inputs_hash(root):
            raise join_module.VerifyError("the bridge does not run the configuration on disk")
        check_login(None, None, None, None, model.current_password(ctx.paths), None)
        report.verified = True

    monkeypatch.setattr(join_module, "join_steps", steps)
    monkeypatch.setattr(join_module, "preflight", preflight)
    monkeypatch.setattr(join_module, "verify_in_brewery", verify)
    monkeypatch.setattr(service, "baseline", lambda unit=None: fake_systemd().unit_state(unit))
    _events_of(killer, monkeypatch)
    return join_module.join(make_token(id="t0k3n1d", password=TOKEN_PASSWORD), JoinOptions(), Paths(root),
                            lambda message: None)


def in_child(root, kill_at, monkeypatch):
    """Run one join in a forked child; returns (how it ended, events counted or -1)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        killer = Killer(kill_at)
        try:
            os.close(read_fd)
            try:
                run_join(root, killer, monkeypatch)
            except Exception as exc:  # the parent reports it
                code = 3
                os.write(write_fd, "error: {!r}\n".format(exc).encode()[:2000])
            os.write(write_fd, "events: {}\n".format(killer.count).encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode()
    if os.WIFSIGNALED(status):
        return "killed", -1, text
    events = int(text.rsplit("events: ", 1)[1]) if "events: " in text else -1
    return ("ok" if os.WEXITSTATUS(status) == 0 else "failed"), events, text


def host_files(root):
    """Every file of the host (not the fakes): {relative path: bytes}."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if not rel.startswith("fake-"):
                out[rel] = (files.read_bytes(path), stat.S_IMODE(os.lstat(path).st_mode))
    return out


def host_folders(root):
    """Every folder under root but the backups (a failed run keeps its backups)."""
    return sorted(os.path.relpath(folder, root) for folder, _, _ in os.walk(root)
                  if not os.path.relpath(folder, root).startswith("var/backups/"))


def normalized(root):
    """host_files with the random parts (bridge password, nickname, times, backup run ids) masked."""
    password = model.current_password(files_paths(root))
    nick = json.loads(files.read_text(os.path.join(root, "var/lib/jvb-join/nickname")) or "{}").get("nickname")
    out = {}
    for rel, (data, mode) in host_files(root).items():
        if rel.startswith("var/backups/"):
            continue
        if data is not None:
            for value, mask in ((password, b"PASSWORD"), (nick, b"NICKNAME")):
                if value:
                    data = data.replace(value.encode(), mask)
            if rel.endswith("bridge.json"):
                state = json.loads(data.decode())
                state.pop("joined_at", None)
                data = json.dumps(state, sort_keys=True).encode()
        out[rel] = (data, mode)
    return out


def files_paths(root):
    from jvbjoin.system.paths import Paths
    return Paths(root)


def assert_not_torn(root, before, reference):
    """After a kill: each file is whole (its content before the run, or one a run writes), never empty."""
    for rel, (data, _) in host_files(root).items():
        if files.TEMP_PREFIX in rel:
            continue  # a killed run's temp file; the next run must remove it
        assert data, "{} is empty after the kill".format(rel)
        if rel.endswith(".json") or rel.endswith("nickname"):
            json.loads(data.decode())
        if rel in before and rel in reference and rel.startswith("etc/") and data != before[rel][0]:
            # masked comparison: the same file as a clean join writes it
            assert normalized_one(root, rel, data) == reference[rel][0], "{} is torn".format(rel)


def normalized_one(root, rel, data):
    password = model.current_password(files_paths(root))
    nick = json.loads(files.read_text(os.path.join(root, "var/lib/jvb-join/nickname")) or "{}").get("nickname")
    for value, mask in ((password, b"PASSWORD"), (nick, b"NICKNAME")):
        if value:
            data = data.replace(value.encode(), mask)
    return data


def assert_converged(root, reference, initial):
    now = normalized(root)
    differ = sorted(rel for rel in set(now) | set(reference) if now.get(rel) != reference.get(rel))
    assert not differ, "differs from a clean join: {}".format(
        "; ".join("{}: {!r} != {!r}".format(rel, now.get(rel), reference.get(rel))[:300] for rel in differ))
    assert not [rel for rel in host_files(root) if files.TEMP_PREFIX in rel], "temporary files left"
    # The account's password on the server is the one in the bridge's config: the bridge can log in.
    assert _read_json(os.path.join(root, "fake-server.json"))["password"] == model.current_password(files_paths(root))
    # Every backup is byte for byte the file as it was before jvb-join first touched it.
    for rel, (data, _) in host_files(root).items():
        if rel.startswith("var/backups/jvb-join/"):
            original = rel.split("/", 4)[4]
            assert data == initial[original][0], rel


@pytest.fixture
def clean_run(tmp_path, monkeypatch):
    """A clean join's end state, and the number of events it has."""
    root = str(tmp_path / "clean")
    make_host(root)
    initial = host_files(root)
    how, events, text = in_child(root, None, monkeypatch)
    assert how == "ok", text
    assert events > 20, text
    # The clean run itself: a second run changes nothing and restarts nothing.
    unit_before = _read_json(os.path.join(root, "fake-unit.json"))
    snap = host_files(root)
    how, _, text = in_child(root, None, monkeypatch)
    assert how == "ok", text
    assert host_files(root) == snap
    assert _read_json(os.path.join(root, "fake-unit.json")) == unit_before
    return normalized(root), events, initial


def crash_then_rerun(tmp_path, monkeypatch, name, kill_points, reference, initial):
    root = str(tmp_path / name)
    make_host(root)
    before = host_files(root)
    for at in kill_points[:-1] + [kill_points[-1]]:
        how, _, text = in_child(root, at, monkeypatch)
        if how != "killed":  # the kill point lies past the end of this (shorter) run
            assert how == "ok", "run with a kill at event {}: {}".format(at, text)
            continue
        assert_not_torn(root, before, reference)
    how, _, text = in_child(root, None, monkeypatch)
    if how != "ok":
        return "re-run after kills at {} failed: {}".format(kill_points, text.strip())
    try:
        assert_converged(root, reference, initial)
    except AssertionError as exc:
        return "kills at {}: not converged: {}".format(kill_points, exc)
    return None


def report(failures):
    return "\n".join(failures[:5] + ["{} failed in all:".format(len(failures))] + [f.split(":")[0] for f in failures])


def test_sigkill_at_every_step_boundary_and_every_event_then_rerun_converges(tmp_path, monkeypatch, clean_run):
    reference, events, initial = clean_run
    failures = []
    for at in range(1, events + 1):
        failure = crash_then_rerun(tmp_path, monkeypatch, "k{}".format(at), [at], reference, initial)
        if failure:
            failures.append(failure)
    print("SIGKILL at each of {} events of a join (step boundaries included): {} of {} converged".format(
        events, events - len(failures), events))
    assert not failures, report(failures)


def test_random_double_kills_converge(tmp_path, monkeypatch, clean_run):
    """A kill during the join and another during its re-run; the third run converges."""
    reference, events, initial = clean_run
    runs = int(os.environ.get("JVB_CRASH_RUNS", "20"))
    seed = int(os.environ.get("JVB_CRASH_SEED", "10"))
    rng = random.Random(seed)
    failures = []
    for i in range(runs):
        points = [rng.randint(1, events), rng.randint(1, events)]
        failure = crash_then_rerun(tmp_path, monkeypatch, "r{}".format(i), points, reference, initial)
        if failure:
            failures.append(failure)
    print("random double SIGKILL (seed {}): {} of {} converged".format(seed, runs - len(failures), runs))
    assert not failures, report(failures)


def test_a_restart_that_hangs_is_rolled_back_and_the_token_still_works(tmp_path, monkeypatch):
    """The bridge's restart job hangs (systemd cancels it at the timeout): every file is put back
    byte for byte, the account gets the token's password back, the bridge runs its old config."""
    root = str(tmp_path / "hang")
    make_host(root)
    initial, initial_folders = host_files(root), host_folders(root)
    running = _read_json(os.path.join(root, "fake-unit.json"))["started_with"]
    _replace_json(os.path.join(root, "fake-unit.json"), dict(_read_json(os.path.join(root, "fake-unit.json")),
                                                             hang_once=True))
    how, _, text = in_child(root, None, monkeypatch)
    assert how == "failed" and "did not finish starting" in text, text
    after = {rel: v for rel, v in host_files(root).items() if not rel.startswith("var/backups/")}
    assert after == {rel: v for rel, v in initial.items()}
    assert host_folders(root) == initial_folders  # no empty folder left under /var/lib/jvb-join
    assert _read_json(os.path.join(root, "fake-server.json"))["password"] == TOKEN_PASSWORD
    unit = _read_json(os.path.join(root, "fake-unit.json"))
    assert unit["active"] and unit["started_with"] == running
    # The same token then joins.
    how, _, text = in_child(root, None, monkeypatch)
    assert how == "ok", text
