"""ufw plans from recorded outputs: SSH allowed before enabling, admin rules untouched, no lockout."""

import os

import pytest

from jvbjoin.system import host
from jvbjoin.engine.core import Context, Journal, Run
from jvbjoin.errors import StepError
from jvbjoin.system.run import Result
from jvbjoin.steps import firewall

from helpers import ACTIVE_ADMIN, INACTIVE, join_ctx

CONFIGURED = """Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere                   # jvb-join ssh
10000/udp                  ALLOW IN    Anywhere                   # jvb-join
22/tcp (v6)                ALLOW IN    Anywhere (v6)              # jvb-join ssh
10000/udp (v6)             ALLOW IN    Anywhere (v6)              # jvb-join
"""
USER_RULES = """*filter
### RULES ###

### tuple ### allow tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in comment=6a766220
-A ufw-user-input -p tcp --dport 2222 -j ACCEPT

### END RULES ###
"""


class FakeUfw:
    """ufw with a status text, recording every call; optional failure output per command."""

    def __init__(self, status, fail=None):
        self.status = status
        self.fail = fail or {}
        self.calls = []

    def __call__(self, argv, **kwargs):
        argv = list(argv)
        if argv[:2] == ["ufw", "status"]:
            return Result(argv, 0, self.status, "")
        self.calls.append(argv)
        if tuple(argv[:3]) in self.fail:
            rc, out, after = self.fail[tuple(argv[:3])]
            if after:
                self.status = after
            return Result(argv, rc, "", out)
        if argv[:3] == ["ufw", "--force", "enable"]:
            self.status = self.status.replace("inactive", "active")
        return Result(argv, 0, "", "")


@pytest.fixture
def setup(monkeypatch, paths):
    def make(status, ports, ssh_connection=None, options=None, sshd=False, fail=None):
        ufw = FakeUfw(status, fail)
        monkeypatch.setattr(firewall, "run", ufw)
        monkeypatch.setattr(host, "ssh_ports", lambda environ=None: list(ports))
        monkeypatch.setattr(host, "sshd_installed", lambda p: sshd)
        if ssh_connection:
            monkeypatch.setenv("SSH_CONNECTION", ssh_connection)
        else:
            monkeypatch.delenv("SSH_CONNECTION", raising=False)
        return Context(paths, Run(**(options or {}))), ufw
    return make


def summaries(changes):
    return [c.summary for c in changes]


def test_inactive_allows_ssh_before_enabling(setup):
    ctx, ufw = setup(INACTIVE, [22])
    step = firewall.Firewall()
    changes = step.check(ctx)
    assert summaries(changes) == ["allow 22/tcp (SSH) in ufw", "allow 10000/udp (bridge media) in ufw", "enable ufw"]
    journal = Journal()
    step.apply(ctx, changes, journal)
    assert ufw.calls == [["ufw", "allow", "22/tcp", "comment", "jvb-join ssh"],
                         ["ufw", "allow", "10000/udp", "comment", "jvb-join"],
                         ["ufw", "--force", "enable"]]
    # The rule files' bytes are restored last, after the rules are undone.
    assert [d for d, _ in journal._entries] == ["restore ufw's rule files", "ufw delete allow 22/tcp",
                                                "ufw delete allow 10000/udp", "ufw disable"]
    assert not any("reset" in c for call in ufw.calls for c in call)


def test_rollback_removes_only_added_rules(setup):
    ctx, ufw = setup(INACTIVE, [22])
    step = firewall.Firewall()
    journal = Journal()
    step.apply(ctx, step.check(ctx), journal)
    ufw.calls.clear()
    journal.rollback()
    assert ufw.calls == [["ufw", "disable"], ["ufw", "delete", "allow", "10000/udp"],
                         ["ufw", "delete", "allow", "22/tcp"]]


def test_active_with_admin_rules_only_adds_media(setup):
    ctx, ufw = setup(ACTIVE_ADMIN, [22])
    changes = firewall.Firewall().check(ctx)
    assert summaries(changes) == ["allow 10000/udp (bridge media) in ufw"]


def test_already_configured_plans_nothing(setup):
    ctx, _ = setup(CONFIGURED, [22])
    assert firewall.Firewall().check(ctx) == []


def test_ports_2222_and_22(setup):
    ctx, _ = setup(INACTIVE, [22, 2222])
    assert summaries(firewall.Firewall().check(ctx))[:2] == ["allow 22/tcp (SSH) in ufw",
                                                             "allow 2222/tcp (SSH) in ufw"]


def test_inactive_rules_from_user_rules_file(setup, paths):
    ctx, _ = setup(INACTIVE, [2222])
    import os
    os.makedirs(paths("/etc/ufw"))
    with open(paths("/etc/ufw/user.rules"), "w") as f:
        f.write(USER_RULES)
    assert summaries(firewall.Firewall().check(ctx)) == ["allow 10000/udp (bridge media) in ufw", "enable ufw"]


def test_lockout_guard_over_ssh(setup):
    ctx, ufw = setup(INACTIVE, [], ssh_connection="198.18.0.9 50000 198.18.0.2 22")
    changes = firewall.Firewall().check(ctx)
    assert "enable ufw" not in summaries(changes)
    assert any("left disabled" in line for line in ctx.degraded)


def test_lockout_guard_sshd_installed(setup):
    ctx, _ = setup(INACTIVE, [], sshd=True)
    assert "enable ufw" not in summaries(firewall.Firewall().check(ctx))
    assert ctx.degraded


def test_no_ssh_option_enables(setup):
    ctx, _ = setup(INACTIVE, [], ssh_connection="1 2 3 22", options={"no_ssh": True})
    assert summaries(firewall.Firewall().check(ctx))[-1] == "enable ufw"


def test_firewall_off(setup):
    ctx, ufw = setup(INACTIVE, [22], options={"firewall": False})
    assert firewall.Firewall().check(ctx) == []


def test_ufw_missing_is_degraded(monkeypatch, paths):
    from jvbjoin.errors import CommandError

    def missing(argv, **kwargs):
        raise CommandError(argv, 127, "", message="ufw is not installed")
    monkeypatch.setattr(firewall, "run", missing)
    ctx = Context(paths)
    assert firewall.Firewall().check(ctx) == []
    assert "ufw is not installed" in ctx.degraded[0]


def test_container_sysctl_noise_tolerated(setup):
    ctx, ufw = setup(INACTIVE, [22], fail={("ufw", "--force", "enable"): (
        1, "ERROR: problem running sysctl", "Status: active\n\nTo Action From\n-- ------ ----\n"
        "22/tcp ALLOW IN Anywhere\n10000/udp ALLOW IN Anywhere\n")})
    step = firewall.Firewall()
    step.apply(ctx, step.check(ctx), Journal())
    assert any("problem running sysctl" in line for line in ctx.degraded)


def test_real_failure_raises(setup):
    ctx, ufw = setup(INACTIVE, [22], fail={("ufw", "allow", "22/tcp"): (1, "ERROR: bad", None)})
    step = firewall.Firewall()
    with pytest.raises(StepError):
        step.apply(ctx, step.check(ctx), Journal())


def test_app_profile_rule_in_user_rules_counts(setup, paths):
    import os
    ctx, _ = setup(INACTIVE, [22])
    os.makedirs(paths("/etc/ufw"))
    with open(paths("/etc/ufw/user.rules"), "w") as f:
        f.write("### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in\n")
    assert summaries(firewall.Firewall().check(ctx)) == ["allow 10000/udp (bridge media) in ufw", "enable ufw"]


def test_media_rule_from_one_network_only_is_not_enough(setup):
    ctx, _ = setup(ACTIVE_ADMIN.replace("8443", "10000/udp"), [22])
    assert summaries(firewall.Firewall().check(ctx)) == ["allow 10000/udp (bridge media) in ufw"]


# --- what turning ufw on would cut ---------------------------------------------------------------

PROC_TCP = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101\n"
            "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102\n"
            "   2: 00000000:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 103\n"
            "   3: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104\n")
PROC_UDP = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 201\n"
            "   1: 00000000:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 202\n")


def _host_with_sockets(paths, monkeypatch, active=False, rules=()):
    for name, text in (("/proc/net/tcp", PROC_TCP), ("/proc/net/udp", PROC_UDP)):
        os.makedirs(os.path.dirname(paths(name)), exist_ok=True)
        with open(paths(name), "w") as f:
            f.write(text)
    # process 4242 (an admin's web service) holds the socket on 9090
    os.makedirs(paths("/proc/4242/fd"), exist_ok=True)
    if not os.path.lexists(paths("/proc/4242/fd/3")):
        os.symlink("socket:[103]", paths("/proc/4242/fd/3"))
    with open(paths("/proc/4242/comm"), "w") as f:
        f.write("python3\n")
    monkeypatch.setattr(firewall, "ufw_state", lambda p: (active, list(rules)))
    os.makedirs(paths("/etc/ufw"), exist_ok=True)
    with open(paths("/etc/ufw/ufw.conf"), "w") as f:
        f.write("ENABLED={}\n".format("yes" if active else "no"))


def test_turning_ufw_on_would_cut_what_no_rule_and_no_planned_port_lets_in(paths, monkeypatch):
    _host_with_sockets(paths, monkeypatch)
    keep = {(22, "tcp"), (10000, "udp")}
    # 22 kept (SSH), 8080 on loopback, 68/udp (DHCP) let in by ufw itself, 10000/udp kept
    assert firewall.cut_by_enabling(paths, keep) == [(8081, "tcp", "?"), (9090, "tcp", "python3")]
    assert firewall.cut_by_enabling(paths, keep | {(9090, "tcp"), (8081, "tcp")}) == []


def test_nothing_is_cut_when_ufw_is_on_already_or_a_rule_lets_it_in(paths, monkeypatch):
    _host_with_sockets(paths, monkeypatch, active=True)
    assert firewall.cut_by_enabling(paths, set()) == []
    _host_with_sockets(paths, monkeypatch, active=False,
                       rules=[("allow", "tcp", "9090", False), ("allow", "tcp", "8081", True)])
    assert firewall.cut_by_enabling(paths, {(22, "tcp"), (10000, "udp")}) == []


def _join_ctx(paths, **options):
    from jvbjoin.engine.core import Context
    from jvbjoin.bridge.join import JoinOptions
    return Context(paths), JoinOptions(**options)


def test_a_join_asks_on_a_terminal_and_refuses_unattended_unless_told(paths, monkeypatch):
    from jvbjoin.system import host
    from jvbjoin.bridge import join
    from jvbjoin.errors import FirewallCutError
    _host_with_sockets(paths, monkeypatch)
    monkeypatch.setattr(host, "ssh_ports", lambda: [22])
    ctx, opts = _join_ctx(paths)
    with pytest.raises(FirewallCutError) as err:
        join.check_firewall_cut(ctx, opts)
    assert "9090/tcp (python3)" in err.value.message and "Nothing was changed" in err.value.message
    assert err.value.error_id == "firewall-would-cut" and err.value.exit_code == 1
    asked = []
    ctx, opts = _join_ctx(paths, confirm=lambda q: asked.append(q) or False)
    with pytest.raises(FirewallCutError):
        join.check_firewall_cut(ctx, opts)
    assert "9090/tcp (python3)" in asked[0]
    ctx, opts = _join_ctx(paths, confirm=lambda q: True)
    join.check_firewall_cut(ctx, opts)
    assert "9090/tcp" in ctx.degraded[0]
    ctx, opts = _join_ctx(paths, firewall_cut_ok=True)
    join.check_firewall_cut(ctx, opts)
    assert "--firewall-cut-ok" in ctx.degraded[0]
    ctx, opts = _join_ctx(paths, firewall=False)
    join.check_firewall_cut(ctx, opts)  # --no-firewall: ufw is not touched, nothing to ask


def test_a_server_install_names_the_admins_own_service_but_not_the_jitsi_packages_own(paths, monkeypatch):
    from jvbjoin.system import apt, host
    from jvbjoin.engine.core import Context
    from jvbjoin.errors import FirewallCutError
    from jvbjoin.server import install
    _host_with_sockets(paths, monkeypatch)
    monkeypatch.setattr(host, "ssh_ports", lambda: [22])
    # a first install: 9090 and 8081 are somebody else's, and are named
    opts = install.ServerOptions("meet.example.com", local_bridge=True)
    with pytest.raises(FirewallCutError) as err:
        install.check_firewall_cut(Context(paths), opts)
    assert "8081/tcp (?), 9090/tcp (python3)" in err.value.message
    # with jitsi-videobridge2 installed, 9090 is its own (behind nginx on a server): only 8081 is asked about
    monkeypatch.setattr(apt, "package_states", lambda p: {"jitsi-videobridge2": apt.PackageState(
        "jitsi-videobridge2", "install ok installed", "2.3-1")})
    asked = []
    opts = install.ServerOptions("meet.example.com", local_bridge=True, confirm=lambda q: asked.append(q) or True)
    ctx = Context(paths)
    install.check_firewall_cut(ctx, opts)
    assert "8081/tcp (?)" in asked[0] and "9090" not in asked[0] and "8081/tcp" in ctx.degraded[0]
    opts = install.ServerOptions("meet.example.com", firewall_cut_ok=True)
    install.check_firewall_cut(Context(paths), opts)
    install.check_firewall_cut(Context(paths), install.ServerOptions("meet.example.com", firewall=False))
    assert "confirm" not in install.ServerOptions("meet.example.com", confirm=print).as_dict()


HADOLY_JVB_CONF = """videobridge {
  http-servers { public { port = 9090 } }
  websockets { enabled = true, domain = "meet.example.com:443", tls = true, server-id = "jvb1" }
}
"""


def test_websockets_turned_on_by_hand_stay_reachable_from_the_server_only(paths, monkeypatch):
    from jvbjoin.bridge.steps import websockets
    from jvbjoin.bridge.join import check_firewall_cut, JoinOptions
    from jvbjoin.system import host
    os.makedirs(os.path.dirname(paths.jvb_conf), exist_ok=True)
    with open(paths.jvb_conf, "w") as f:
        f.write(HADOLY_JVB_CONF)
    assert websockets.configured_port(paths) == 9090
    _host_with_sockets(paths, monkeypatch)
    monkeypatch.setattr(host, "ssh_ports", lambda: [22])
    monkeypatch.setattr(websockets, "server_address", lambda name: "198.51.100.2")

    ctx = join_ctx(paths)
    assert websockets.WebsocketPort().wanted(ctx) == [("9090", "tcp", "198.51.100.2")]
    # the join does not count 9090 as cut (its own rule keeps it), only the other service
    with pytest.raises(Exception) as err:
        check_firewall_cut(ctx, JoinOptions())
    assert "9090" not in err.value.message and "8081/tcp" in err.value.message
