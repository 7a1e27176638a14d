"""`jvb-join leave` without a lab: the admin's files come back byte for byte, what is removed is
backed up, a failure puts everything back, the drain reports what it cut, and only the ports
jvb-join opened are closed."""

import os
import stat

import pytest

from jvbjoin.system import files, ufw
from jvbjoin.bridge import leave
from jvbjoin.engine.core import Context, Engine, Journal
from jvbjoin.errors import StepError, TokenError
from jvbjoin.server import model, tokens
from jvbjoin.bridge.steps import account, config as bridge_config, sysctl, trust
from jvbjoin.steps import firewall

from helpers import PACKAGE_JVB_CONF, config_ctx, join_ctx, read, run_step, write

LEGACY = ("# the admin's own comment\n"
          "org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost\n"
          "org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.com\n"
          "org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\n"
          "org.jitsi.videobridge.xmpp.user.shard.PASSWORD=secret\n"
          "org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=jvbbrewery@internal.auth.meet.example.com\n"
          "org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=0a1b\n"
          "org.ice4j.ipv6.DISABLED=true\n")


def joined_host(paths):
    """A host as a join leaves it: fragment, include line, legacy block commented out, join record."""
    write(paths.machine_id, "m1\n")
    write(paths.jvb_conf, PACKAGE_JVB_CONF)
    write(paths.jvb_legacy_properties, LEGACY)
    ctx = config_ctx(paths)
    for step in bridge_config.steps(ctx):
        run_step(step, ctx)
    write(paths.bridge_state, '{"token_id": "abc", "user": "jvb-abc"}\n')
    assert bridge_config.has_include(read(paths.jvb_conf)) and "#jvb-join# " in read(paths.jvb_legacy_properties)


class Options(leave.LeaveOptions):
    def __init__(self, **kw):
        kw.setdefault("firewall", False)
        super().__init__(**kw)


def leave_ctx(paths, **kw):
    progress = kw.pop("progress", None)
    ctx = Context(paths, leave.LeaveRun(Options(**kw), files.Backups(paths.backups, paths.root)), progress)
    ctx.run.unit_before = {"LoadState": "not-found"}
    return ctx


FILE_STEPS = (bridge_config.RemoveFragment, bridge_config.RemoveInclude, bridge_config.RestoreLegacy,
              account.RemoveJoinRecord)


def test_leave_gives_the_admin_files_back_byte_for_byte_and_backs_up_what_it_removes(paths):
    joined_host(paths)
    fragment_before = read(paths.jvb_fragment)
    ctx = leave_ctx(paths)
    for step in FILE_STEPS:
        assert run_step(step(), ctx)
    assert read(paths.jvb_conf) == PACKAGE_JVB_CONF
    assert read(paths.jvb_legacy_properties) == LEGACY
    assert not os.path.exists(paths.jvb_fragment) and not os.path.exists(paths.bridge_state)
    assert not leave.joined(paths)
    # The removed fragment (it holds a password) is in the backup, as unreadable to others as before.
    backup = ctx.run.backups.saved[paths.jvb_fragment]
    assert read(backup) == fragment_before
    assert stat.S_IMODE(os.stat(backup).st_mode) & 0o007 == 0
    assert stat.S_IMODE(os.stat(ctx.run.backups.backup_root).st_mode) == 0o700
    # The nickname stays: a new join of this host shows under the same name.
    assert os.path.exists(paths.nickname_file)
    # A second leave finds nothing to do.
    assert all(step().check(leave_ctx(paths)) == [] for step in FILE_STEPS)


class Boom(leave.RemoveAccount):
    def check(self, ctx):
        return [leave.Change("account", "x", "remove the account")]

    def apply(self, ctx, changes, journal):
        raise StepError("the server refused")


def test_a_failure_puts_every_file_back(paths):
    joined_host(paths)
    watched = (paths.jvb_conf, paths.jvb_legacy_properties, paths.jvb_fragment, paths.bridge_state)
    before = {p: files.FileState.read(p) for p in watched}
    ctx = leave_ctx(paths)
    engine = Engine([step() for step in FILE_STEPS] + [Boom()], ctx)
    with pytest.raises(StepError):
        engine.run("leave")
    for path, state in before.items():
        now = files.FileState.read(path)
        assert (now.content, now.mode) == (state.content, state.mode), path


def test_dry_run_changes_nothing_and_lists_the_removals(paths):
    joined_host(paths)
    watched = (paths.jvb_conf, paths.jvb_legacy_properties, paths.jvb_fragment, paths.bridge_state)
    before = {p: read(p) for p in watched}
    report = Engine([step() for step in FILE_STEPS], leave_ctx(paths)).run("leave", dry_run=True)
    assert {p: read(p) for p in watched} == before
    summaries = [c.summary for r in report.results for c in r.changes]
    assert any(s.startswith("remove ") and s.endswith("jvb-join.conf") for s in summaries)
    assert any(s.startswith("update ") and s.endswith("jvb.conf") for s in summaries)
    # The fragment holds the account's password: the plan does not show its content.
    diffs = [c.diff for r in report.results for c in r.changes if c.target == paths.jvb_fragment]
    assert diffs and "PASSWORD" not in diffs[0]


class FakeAPI:
    def __init__(self, counts, accept=True):
        self.counts = list(counts)
        self.accept = accept
        self.drained = None

    def drain(self, enable=True):
        self.drained = enable
        return self.accept

    def participants(self):
        return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]


def drain_ctx(paths, api, timeout):
    lines = []
    ctx = leave_ctx(paths, drain=True, timeout=timeout, progress=lines.append)
    ctx.run.api, ctx.run.unit_before = api, {"ActiveState": "active"}
    return ctx, lines


def test_drain_waits_for_the_participants_and_shows_progress(paths, monkeypatch):
    monkeypatch.setattr(leave, "POLL", 0.01)
    api = FakeAPI([3, 3, 2, 1, 0])
    ctx, lines = drain_ctx(paths, api, 60)
    changes = leave.Drain().check(ctx)
    assert changes and "3 participant(s)" in changes[0].summary and "1m" in changes[0].summary
    leave.Drain().apply(ctx, changes, Journal())
    assert api.drained is True and ctx.run.cut == 0 and ctx.degraded == []
    assert [l for l in lines if l.startswith("draining:")][:4] == [
        "draining: {} participant(s) on the bridge after 0 s".format(n) for n in (3, 2, 1, 0)]


def test_drain_timeout_says_how_many_were_cut(paths, monkeypatch):
    monkeypatch.setattr(leave, "POLL", 0.01)
    ctx, lines = drain_ctx(paths, FakeAPI([4, 2]), 0.2)
    leave.Drain().apply(ctx, leave.Drain().check(ctx), Journal())
    assert ctx.run.cut == 2
    assert any("2 participant(s) still on the bridge" in d and "cut" in d for d in ctx.degraded)


def test_a_bridge_that_refuses_drain_mode_fails_the_leave(paths):
    ctx, _ = drain_ctx(paths, FakeAPI([1], accept=False), 5)
    with pytest.raises(StepError):
        leave.Drain().apply(ctx, leave.Drain().check(ctx), Journal())


def test_without_drain_or_a_running_bridge_there_is_nothing_to_drain(paths):
    ctx, _ = drain_ctx(paths, FakeAPI([1]), 5)
    ctx.run.options.drain = False
    assert leave.Drain().check(ctx) == []
    ctx, _ = drain_ctx(paths, FakeAPI([1]), 5)
    ctx.run.unit_before = {"ActiveState": "inactive"}
    assert leave.Drain().check(ctx) == []


USER_RULES = """*filter
### RULES ###

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=6a76622d6a6f696e20737368
-A ufw-user-input -p tcp --dport 22 -j ACCEPT
### tuple ### allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in comment=6a76622d6a6f696e
-A ufw-user-input -p udp --dport 10000 -j ACCEPT
### tuple ### allow tcp 8443 0.0.0.0/0 any 10.0.0.0/8 in comment=61646d696e
-A ufw-user-input -p tcp --dport 8443 -s 10.0.0.0/8 -j ACCEPT
### tuple ### allow udp 4000 0.0.0.0/0 any 0.0.0.0/0 in
"""


def test_only_the_ports_jvb_join_opened_are_closed_and_ssh_stays(paths):
    assert ufw.commented_rules(USER_RULES, firewall.MEDIA_COMMENT) == [("10000", "udp")]
    write(paths("/etc/ufw/user.rules"), USER_RULES)
    write(paths("/etc/ufw/user6.rules"), USER_RULES.replace("0.0.0.0/0", "::/0"))
    ctx = leave_ctx(paths, firewall=True)
    assert [c.summary for c in firewall.CloseFirewall().check(ctx)] == ["close 10000/udp (opened by jvb-join)"]


def test_an_account_already_gone_on_the_server_is_not_an_error(paths, monkeypatch):
    from jvbjoin.xmpp import session

    def refused(*args, **kwargs):
        raise TokenError("The server refused the login")
    monkeypatch.setattr(session, "remove_account", refused)
    lines = []
    ctx = leave_ctx(paths, progress=lines.append)
    ctx.run.record = {"user": "jvb-abc", "domain": "auth.m.example", "server": "m.example", "port": 5222}
    ctx.run.bridge_password, ctx.run.server_cert_der = "pw", b"der"
    step = leave.RemoveAccount()
    step.apply(ctx, step.check(ctx), Journal())
    assert "already removed" in lines[-1]
    assert "pw" not in " ".join(lines)


def test_token_list_shows_a_bridge_that_removed_its_own_account_as_left(paths):
    record = {"id": "abc", "user": "jvb-abc", "domain": "auth.m.example", "exp": 10 ** 10}
    assert model.token_state(dict(record, joined=1), paths, now=1) == "left"
    assert model.token_state(record, paths, now=1) == "gone"
    assert model.token_state(dict(record, revoked=1), paths, now=1) == "revoked"


def test_timeout_is_a_duration():
    assert tokens.parse_ttl("90m", "--timeout") == 5400
    with pytest.raises(Exception) as err:
        tokens.parse_ttl("soon", "--timeout")
    assert "--timeout" in str(err.value)


class FakeSystemd:
    """The bridge unit as systemd would report it; the shutdown request makes it exit."""

    state = {}
    calls = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def unit_state(self, name):
        return dict(FakeSystemd.state)

    def stop(self, name):
        FakeSystemd.calls.append("stop")
        FakeSystemd.state["ActiveState"] = "inactive"

    def disable(self, names):
        FakeSystemd.calls.append("disable")
        FakeSystemd.state["UnitFileState"] = "disabled"

    def enable(self, names):
        FakeSystemd.calls.append("enable")
        FakeSystemd.state["UnitFileState"] = "enabled"

    def start(self, name):
        FakeSystemd.calls.append("start")
        FakeSystemd.state["ActiveState"] = "active"


class ShutdownAPI(FakeAPI):
    def __init__(self, counts, accepts_shutdown):
        super().__init__(counts)
        self.accepts_shutdown = accepts_shutdown
        self.requests = []

    def shutdown(self, graceful=True):
        self.requests.append(graceful)
        if self.accepts_shutdown:
            FakeSystemd.state["ActiveState"] = "inactive"  # the bridge exits by itself
        return self.accepts_shutdown


def shutdown_ctx(paths, monkeypatch, api):
    from jvbjoin.system import systemd
    monkeypatch.setattr(systemd, "Systemd", FakeSystemd)
    monkeypatch.setattr(leave, "POLL", 0.01)
    FakeSystemd.state = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
    FakeSystemd.calls = []
    ctx = leave_ctx(paths)
    ctx.run.api, ctx.run.unit_before = api, dict(FakeSystemd.state)
    return ctx


def test_the_bridge_shuts_itself_down_then_the_unit_is_disabled_and_a_rollback_starts_it(paths, monkeypatch):
    api = ShutdownAPI([0], accepts_shutdown=True)
    ctx = shutdown_ctx(paths, monkeypatch, api)
    step, journal = leave.ShutDown(), Journal()
    step.apply(ctx, step.check(ctx), journal)
    assert api.requests == [True]  # no participants: a graceful shutdown
    assert FakeSystemd.calls == ["disable"] and ctx.degraded == []
    assert journal.rollback() == []
    assert FakeSystemd.state["ActiveState"] == "active" and FakeSystemd.state["UnitFileState"] == "enabled"


def test_with_participants_left_the_shutdown_is_immediate_so_jicofo_moves_them(paths, monkeypatch):
    api = ShutdownAPI([2], accepts_shutdown=True)
    step, ctx = leave.ShutDown(), shutdown_ctx(paths, monkeypatch, api)
    step.apply(ctx, step.check(ctx), Journal())
    assert api.requests == [False]


def test_a_bridge_without_the_rest_shutdown_is_stopped_and_the_report_says_jicofo_lost_it(paths, monkeypatch):
    api = ShutdownAPI([0], accepts_shutdown=False)
    step, ctx = leave.ShutDown(), shutdown_ctx(paths, monkeypatch, api)
    step.apply(ctx, step.check(ctx), Journal())
    assert FakeSystemd.calls == ["stop", "disable"]
    assert any("lost bridge" in line for line in ctx.degraded)


def test_a_bridge_that_stops_answering_while_draining_is_not_reported_as_drained(paths, monkeypatch):
    monkeypatch.setattr(leave, "POLL", 0.01)
    ctx, lines = drain_ctx(paths, FakeAPI([2, None]), 0.1)
    leave.Drain().apply(ctx, leave.Drain().check(ctx), Journal())
    assert ctx.run.cut is None and any("not known" in d for d in ctx.degraded)
    assert not any(l.startswith("drained") for l in lines)


def test_leave_takes_the_servers_certificate_out_of_the_ca_stores(paths, monkeypatch):
    cert = trust.cert_path(paths, "auth.meet.example.com")
    write(cert, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    write(paths("/usr/local/share/ca-certificates/admins-own-ca.crt"), "kept\n")
    hooks = paths("/etc/ca-certificates/update.d")
    for name, mode in (("jks-keystore", 0o755), ("README", 0o644)):
        write(os.path.join(hooks, name), "#!/bin/sh\n")
        os.chmod(os.path.join(hooks, name), mode)
    ran = []
    monkeypatch.setattr(trust, "run", lambda argv, **kw: ran.append((argv, kw.get("input"))))
    ctx = leave_ctx(paths)
    ctx.run.record = {"domain": "auth.meet.example.com"}
    assert run_step(trust.RemoveTrust(), ctx)
    # --fresh drops the link and rebuilds the bundle; Java's hook is told of the removal itself
    assert not os.path.exists(cert) and ran == [
        (["update-ca-certificates", "--fresh"], None),
        ([os.path.join(hooks, "jks-keystore")], "-/etc/ssl/certs/jvb-join-auth.meet.example.com.pem\n")]
    assert read(paths("/usr/local/share/ca-certificates/admins-own-ca.crt")) == "kept\n"
    assert trust.RemoveTrust().check(ctx) == []  # a second leave: nothing to do
    ctx.run.record = {}  # a record without the server (an old or partial join): nothing
    assert trust.RemoveTrust().check(ctx) == []


def test_leave_removes_the_sysctl_file_the_join_wrote_and_keeps_a_backup(paths):
    wanted, = sysctl.Sysctl().wanted(join_ctx(paths, swappiness=1))
    write(paths.sysctl_file, wanted.content.decode())
    written = read(paths.sysctl_file)
    assert "Removed by 'jvb-join leave'" in written
    ctx = leave_ctx(paths)
    assert run_step(sysctl.RemoveSysctl(), ctx)
    assert not os.path.exists(paths.sysctl_file)
    assert read(ctx.run.backups.saved[paths.sysctl_file]) == written
    assert sysctl.RemoveSysctl().check(ctx) == []  # a second leave: nothing to do


# --- a bridge that serves two servers (bridge.shards) ------------------------------------------------

def two_servers(paths):
    """The first server joined as joined_host leaves it, and a second server joined beside it."""
    from jvbjoin.bridge import shards
    from jvbjoin.bridge.steps import shard
    from helpers import make_token
    joined_host(paths)
    write(paths.bridge_state, '{"token_id": "abc", "server": "meet.example.com", "port": 5222, "meet": '
                              '"meet.example.com", "domain": "auth.meet.example.com", "user": "jvb-abc", "pin": "p", '
                              '"muc": "m@x", "password_changed": true}\n')
    before = {path: read(path) for path in (paths.jvb_conf, paths.jvb_fragment, paths.bridge_state)}
    second = make_token(meet="meet2.example.com", id="def67890")
    ctx = Context(shards.ServerPaths(paths, second.domain), config_ctx(paths, password="second", token=second).run)
    for step in (shard.ServerFragment(), shard.ServerInclude()):
        run_step(step, ctx)
    write(ctx.paths.bridge_state, '{"token_id": "def67890", "server": "meet2.example.com", "port": 5222, "meet": '
                                  '"meet2.example.com", "domain": "auth.meet2.example.com", "user": "jvb-def67890", '
                                  '"pin": "p2", "muc": "m@y", "password_changed": true}\n')
    write(trust.cert_path(paths, second.domain), "PEM\n")
    return ctx.paths, before


class RestartingSystemd(FakeSystemd):
    def restart(self, name, timeout=None):
        FakeSystemd.calls.append("restart")

    def wait_active(self, name, settle=0.0, timeout=None):
        return dict(FakeSystemd.state)


def one_server_leave(paths, monkeypatch, name):
    """``leave --server name`` on the host of two_servers, with systemd, the servers and the CA
    stores faked; returns the report, what systemd and the servers were asked, and the wait."""
    from jvbjoin.system import systemd
    from jvbjoin.bridge import brewery
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(systemd, "Systemd", RestartingSystemd)
    FakeSystemd.state = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
    FakeSystemd.calls = []
    monkeypatch.setattr(leave, "_unit_state", lambda: dict(FakeSystemd.state))
    monkeypatch.setattr(leave.probe, "verify_pin", lambda *a: b"der")
    monkeypatch.setattr(trust, "run", lambda argv, **kw: None)
    monkeypatch.setattr(leave.session, "remove_account",
                        lambda host, port, domain, user, password, der: FakeSystemd.calls.append((user, password)))
    waited = []
    monkeypatch.setattr(brewery, "wait_in", lambda servers, nick, deadline, ctx: waited.append(
        [s.name for s in servers]) or True)
    write(paths.nickname_file, '{"nickname": "jvb-x", "machine_id": "m1"}\n')
    report, _backups = leave.leave(Options(server=name), paths, lambda line: None)
    return report, FakeSystemd.calls, waited


def test_leave_of_one_server_restarts_once_removes_its_account_last_and_keeps_the_other(paths, monkeypatch):
    further, before = two_servers(paths)
    report, calls, waited = one_server_leave(paths, monkeypatch, "meet2.example.com")
    assert calls == ["restart", ("jvb-def67890", "second")]
    assert {path: read(path) for path in before} == before
    assert not any(os.path.exists(p) for p in (further.jvb_fragment, further.bridge_state,
                                                 trust.cert_path(paths, "auth.meet2.example.com")))
    assert (report.left_one, report.kept, waited) == ("meet2.example.com", ["meet.example.com"], [["meet.example.com"]])
    # now the only server: leave --server is a plain leave
    assert leave.choose(paths, "meet.example.com") is None


def test_leave_of_the_first_server_puts_the_next_one_in_its_place(paths, monkeypatch):
    import json
    from jvbjoin.formats import hocon
    from jvbjoin.bridge import shards
    from jvbjoin.bridge.checks.facts import hocon_clients
    further, before = two_servers(paths)
    second_record = json.loads(read(further.bridge_state))
    fragment = read(paths.jvb_fragment)
    write(trust.cert_path(paths, "auth.meet.example.com"), "PEM\n")
    report, calls, waited = one_server_leave(paths, monkeypatch, "meet.example.com")
    assert calls == ["restart", ("jvb-abc", "p4ss")]
    assert (report.left_one, report.kept, waited) == ("meet.example.com", ["meet2.example.com"], [["meet2.example.com"]])
    # the host looks as if it had joined the second server first
    assert read(paths.jvb_conf) == before[paths.jvb_conf]
    assert json.loads(read(paths.bridge_state)) == second_record
    [(name, client)] = hocon_clients(hocon.load(paths.jvb_conf)).items()
    assert name == "shard" and (client["HOSTNAME"], client["USERNAME"], client["PASSWORD"]) == \
        ("meet2.example.com", "jvb-def67890", "second")
    # the bridge's own settings in jvb-join.conf are as they were
    kept = [line for line in fragment.splitlines() if not line.startswith(("  HOSTNAME", "  DOMAIN", "  USERNAME",
                                                                          "  PASSWORD", "  MUC_JIDS", "  PORT"))]
    assert [line for line in read(paths.jvb_fragment).splitlines() if line in kept] == kept
    assert not any(os.path.exists(p) for p in (further.jvb_fragment, further.bridge_state,
                                                 trust.cert_path(paths, "auth.meet.example.com")))
    assert os.path.exists(trust.cert_path(paths, "auth.meet2.example.com"))
    assert [record["meet"] for _paths, record in shards.servers(paths)] == ["meet2.example.com"]


def test_an_unknown_server_is_a_usage_error(paths):
    from jvbjoin.errors import UsageError
    two_servers(paths)
    with pytest.raises(UsageError):
        leave.choose(paths, "meet3.example.com")
    assert leave.choose(paths, "auth.meet2.example.com").name == "meet2.example.com"
    assert leave.choose(paths, "meet.example.com").name == "meet.example.com"


def test_a_plain_leave_takes_every_server_out_and_removes_the_accounts_last(paths):
    from jvbjoin.bridge import brewery
    two_servers(paths)
    further = [server for server in brewery.served(paths) if server.name == "meet2.example.com"]
    steps = leave.leave_steps(further)
    titles = [step.title for step in steps]
    assert titles[-2:] == ["bridge account on the server", "bridge account on the server (meet2.example.com)"]
    assert {"jvb-join's record of a further server (meet2.example.com)",
            "trust of the server certificate (meet2.example.com)"} <= set(titles)
    assert leave.joined(paths)


def test_a_plain_leave_of_a_bridge_with_two_servers_takes_it_out_of_both(paths, monkeypatch):
    from jvbjoin.system import systemd
    further, before = two_servers(paths)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(systemd, "Systemd", FakeSystemd)
    monkeypatch.setattr(leave, "POLL", 0.01)
    FakeSystemd.state = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
    FakeSystemd.calls = []
    monkeypatch.setattr(leave, "_unit_state", lambda: dict(FakeSystemd.state))
    monkeypatch.setattr(leave.bridge_api, "BridgeAPI", lambda: ShutdownAPI([0], accepts_shutdown=True))
    monkeypatch.setattr(leave.probe, "verify_pin", lambda host, port, domain, pin_: ("der", host))
    monkeypatch.setattr(trust, "run", lambda argv, **kw: None)
    monkeypatch.setattr(leave.session, "remove_account", lambda host, port, domain, user, password, der:
                        FakeSystemd.calls.append((user, password, der)))
    report, _backups = leave.leave(Options(), paths, lambda line: None)
    # shut down once, then both accounts removed last, each on its own server with its own password
    assert FakeSystemd.calls == ["disable", ("jvb-abc", "p4ss", ("der", "meet.example.com")),
                                 ("jvb-def67890", "second", ("der", "meet2.example.com"))]
    assert read(paths.jvb_conf) == PACKAGE_JVB_CONF
    assert not any(os.path.exists(p) for p in (paths.jvb_fragment, paths.bridge_state, further.jvb_fragment,
                                                 further.bridge_state, trust.cert_path(paths, "auth.meet2.example.com")))
    assert not leave.joined(paths) and report.left_one is None
