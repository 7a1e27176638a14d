"""A further server's join steps and their inverses: its own fragment and include line, the first
server's files untouched, jvb.conf as the bridge merges it with one client per server, and a
leave of that server giving jvb.conf back byte for byte."""

import os
import stat

from jvbjoin.formats import hocon
from jvbjoin.engine.core import Context
from jvbjoin.bridge import shards
from jvbjoin.bridge.checks.facts import hocon_clients
from jvbjoin.bridge.join import further_join_steps
from jvbjoin.bridge.steps import config as bridge_config, shard
from jvbjoin.bridge.steps.account import AccountPassword, ForgetPendingPassword
from jvbjoin.bridge.steps.service import BridgeService
from jvbjoin.bridge.steps.trust import RemoveTrust, ServerTrust

from helpers import PACKAGE_JVB_CONF, config_ctx, make_token, read, run_step, write

SECOND = make_token(meet="meet2.example.com", id="def67890")


def first_join(paths):
    write(paths.machine_id, "m1\n")
    write(paths.jvb_conf, PACKAGE_JVB_CONF)
    ctx = config_ctx(paths)
    for step in bridge_config.steps(ctx):
        run_step(step, ctx)
    return {path: read(path) for path in (paths.jvb_fragment, paths.nickname_file)}


def second_ctx(paths):
    sub = shards.ServerPaths(paths, SECOND.domain)
    return Context(sub, config_ctx(paths, password="second-pass", token=SECOND).run)


def test_a_further_join_adds_its_own_client_and_the_bridge_sees_both(paths):
    kept = first_join(paths)
    jvb_conf = read(paths.jvb_conf)
    ctx = second_ctx(paths)
    for step in (shard.ServerFragment(), shard.ServerInclude()):
        assert run_step(step, ctx)
    assert {path: read(path) for path in kept} == kept
    assert read(paths.jvb_conf) == jvb_conf + shards.include_line(SECOND.domain) + "\n"
    fragment = ctx.paths.jvb_fragment
    assert os.path.basename(fragment) == "jvb-join-auth.meet2.example.com.conf"
    assert stat.S_IMODE(os.stat(fragment).st_mode) == 0o640
    clients = hocon_clients(hocon.load(paths.jvb_conf))
    second = clients[shards.config_id(SECOND.domain)]
    assert set(clients) == {"shard", "jvb-join-auth_meet2_example_com"}
    assert (second["HOSTNAME"], second["USERNAME"], second["PASSWORD"], second["MUC_JIDS"]) == \
        (SECOND.host, SECOND.user, "second-pass", SECOND.muc)
    # one nickname per host, in every brewery
    assert second["MUC_NICKNAME"] == clients["shard"]["MUC_NICKNAME"]
    assert second["DISABLE_CERTIFICATE_VERIFICATION"] is False
    # a second run changes nothing
    assert all(step.check(second_ctx(paths)) == [] for step in (shard.ServerFragment(), shard.ServerInclude()))


def test_leaving_the_further_server_gives_jvb_conf_back_and_keeps_the_first(paths):
    kept = first_join(paths)
    jvb_conf = read(paths.jvb_conf)
    ctx = second_ctx(paths)
    for step in (shard.ServerFragment(), shard.ServerInclude()):
        run_step(step, ctx)
    write(ctx.paths.bridge_state, '{"server": "meet2.example.com"}\n')
    for step in (shard.DropServerFragment(), shard.RemoveServerInclude(), shard.RemoveServerRecord()):
        assert run_step(step, ctx)
    assert read(paths.jvb_conf) == jvb_conf
    assert not os.path.exists(ctx.paths.jvb_fragment) and not os.path.exists(ctx.paths.bridge_state)
    assert {path: read(path) for path in kept} == kept and os.path.exists(paths.bridge_state) is False
    assert list(hocon_clients(hocon.load(paths.jvb_conf))) == ["shard"]


def test_a_further_join_restarts_once_and_touches_neither_packages_nor_firewall(paths):
    ctx = second_ctx(paths)
    steps = further_join_steps(ctx)
    assert [type(step) for step in steps] == [ServerTrust, AccountPassword, shard.ServerFragment, shard.ServerInclude,
                                              ForgetPendingPassword, BridgeService]
    restarting = [step for step in steps if step.restarts == "bridge"]
    assert restarting and all(step.inverse is not None for step in restarting)
    assert [step.restarts for step in shard.further_leave_steps()][:2] == ["bridge", "bridge"]
    assert isinstance(shard.further_leave_steps()[2], RemoveTrust)


class _Server:
    def __init__(self, paths, record):
        self.paths, self.record, self.password, self.cert, self.name = paths, record, "pw", b"der", "meet2"


def test_on_server_runs_a_step_on_that_servers_files_and_puts_the_run_back(paths):
    sub = shards.ServerPaths(paths, SECOND.domain)
    write(sub.bridge_state, "{}\n")
    ctx = config_ctx(paths)
    ctx.run.record = {"domain": "first"}
    ctx.run.server_cert_der = b"first"
    seen = []

    class Spy(shard.RemoveServerRecord):
        def check(self, inner_ctx):
            seen.append((inner_ctx.paths, inner_ctx.run.record, inner_ctx.run.bridge_password,
                         inner_ctx.run.server_cert_der))
            return super().check(inner_ctx)

    wrapped = shard.OnServer(Spy(), _Server(sub, {"domain": SECOND.domain}))
    assert wrapped.title.endswith("(meet2)")
    assert run_step(wrapped, ctx)
    assert seen[0] == (sub, {"domain": SECOND.domain}, "pw", b"der")
    assert not os.path.exists(sub.bridge_state)
    assert (ctx.paths, ctx.run.record, ctx.run.bridge_password, ctx.run.server_cert_der) == \
        (paths, {"domain": "first"}, "p4ss", b"first")
