"""`jvb-join leave`: take this bridge out cleanly (drain, shut down, config, ports, account).

The steps run through the engine like a join: ``--dry-run`` prints them, and a failure puts back
everything already changed (files from the journal, the bridge started again). The order follows
what can be undone: the bridge is drained and shut down first (it must not be in the brewery when
its account goes), then jvb-join's files and ports are taken out (each backed up), and the
bridge's account on the server is removed last, because that alone cannot be undone.
"""

import os
import time

from jvbjoin.system import files, systemd
from jvbjoin.engine.core import Change, Context, Engine, Step
from jvbjoin.engine.run import Run
from jvbjoin.errors import JvbJoinError, StepError, TokenError
from jvbjoin.xmpp import probe, session
from jvbjoin.bridge import api as bridge_api, brewery, join, shards
from jvbjoin.bridge.model import current_password, read_state, stored_nickname
from jvbjoin.bridge.steps.config import has_include
from jvbjoin.bridge.steps.service import BRIDGE_UNIT, BridgeService, release_stale_hold, restore_service
from jvbjoin.bridge.steps.promote import PromoteFragment, PromoteRecord
from jvbjoin.bridge.steps.shard import (DropServerFragment, OnServer, RemoveServerInclude, RemoveServerRecord,
                                        further_leave_steps)
from jvbjoin.bridge.steps.trust import RemoveTrust
from jvbjoin.system.systemd import is_enabled, is_running, state_of, with_systemd

# After a shutdown request the bridge stays SHUTTING_DOWN for videobridge.shutdown.shutting-down-delay
# (1 minute by default) so that jicofo can move its participants, then exits by itself.
SHUTDOWN_WAIT = 180.0
POLL = 1.0


class LeaveOptions:
    def __init__(self, drain=False, timeout=3600, dry_run=False, shutdown_wait=SHUTDOWN_WAIT, firewall=True,
                 server=None, verify_timeout=90.0):
        #: --server: take the bridge out of that one server only (bridge.shards)
        self.server = server
        self.verify_timeout = verify_timeout
        self.drain = drain
        self.timeout = timeout
        self.dry_run = dry_run
        self.shutdown_wait = shutdown_wait
        self.firewall = firewall

    def as_dict(self):
        return dict(vars(self))


class LeaveRun(Run):
    """One leave: the options, the bridge's REST API, what preflight found of the join, and what the
    drain and the shutdown measured (for the report)."""

    def __init__(self, options, backups=None, api=None):
        super().__init__(options, options.dry_run, backups, firewall=options.firewall)
        self.api = api
        #: the bridge unit's state before anything was changed
        self.unit_before = None
        #: jvb-join's record of the join (bridge.json)
        self.record = {}
        #: the account's password, and the server's certificate checked against the record's pin
        self.bridge_password = None
        self.server_cert_der = None
        #: how long the drain took and how many participants were still on the bridge at its end
        self.drain_seconds = None
        self.cut = None
        #: how long the bridge took to exit after the shutdown request
        self.shutdown_seconds = None
        #: the further servers a plain leave takes the bridge out of too (brewery.Server)
        self.further = []
        #: with --server: the one server left, and the ones the bridge keeps serving
        self.target = None
        self.remaining = []
        #: the restart of a leave of one server (steps.service.BridgeService)
        self.bridge_restarted = False
        self.bridge_watch = None

    def measured(self):
        """What the drain and the shutdown measured, for the report (only what happened)."""
        out = {}
        if self.drain_seconds is not None:
            out.update(drain_seconds=self.drain_seconds, cut=self.cut)
        if self.shutdown_seconds is not None:
            out["shutdown_seconds"] = self.shutdown_seconds
        return out


def _unit_state():
    return state_of(BRIDGE_UNIT)


class Drain(Step):
    """Drain mode: jicofo sends the bridge no new conferences; wait until its participants are gone."""

    name = "drain"
    title = "drain (no new conferences on this bridge)"

    def check(self, ctx):
        if not ctx.run.options.drain or not is_running(ctx.run.unit_before):
            return []
        count = ctx.run.api.participants()
        return [Change("bridge", BRIDGE_UNIT, "enable drain mode and wait up to {} for {} participant(s) to "
                       "leave".format(_duration(ctx.run.options.timeout),
                                      "its" if count is None else count))]

    def apply(self, ctx, changes, journal):
        api, opts = ctx.run.api, ctx.run.options
        journal.record("disable drain mode", lambda: _quietly(api.drain, False))
        try:
            accepted = api.drain(True)
        except OSError as exc:
            accepted, why = False, str(exc)
        else:
            why = "it answered with an error"
        if not accepted:
            raise StepError("The bridge did not accept drain mode ({}).".format(why),
                            "Check that jitsi-videobridge2 runs ('jvb-join status'), or leave without --drain.")
        started = time.monotonic()
        deadline = started + opts.timeout
        last, shown = None, 0.0
        while True:
            count = api.participants()
            now = time.monotonic()
            if count is not None and (count != last or now - shown >= 30):
                ctx.progress("draining: {} participant(s) on the bridge after {:.0f} s".format(count, now - started))
                last, shown = count, now
            if count == 0 or now >= deadline:
                break
            time.sleep(min(POLL, max(0.0, deadline - now)))
        ctx.run.drain_seconds = time.monotonic() - started
        ctx.run.cut = count
        if count is None:
            ctx.add_degraded("the bridge stopped reporting its participants while draining, so how many "
                             "were cut when it shut down is not known")
        elif count:
            ctx.add_degraded("the drain timeout ({}) passed with {} participant(s) still on the bridge: "
                             "they were cut, and jicofo moves them to another bridge".format(
                                  _duration(opts.timeout), count))
        else:
            ctx.progress("drained: no participants left after {:.1f} s".format(ctx.run.drain_seconds))


class ShutDown(Step):
    """The bridge shuts itself down through its REST API, so jicofo sees a shutdown, not a lost
    bridge (a plain SIGTERM makes the bridge leave the brewery without saying so); then the unit is
    stopped and disabled so it stays down across reboots."""

    name = "service"
    title = "bridge service"

    def check(self, ctx):
        state = ctx.run.unit_before
        if state.get("LoadState") == "not-found":
            return []
        changes = []
        if is_running(state):
            changes.append(Change("service", BRIDGE_UNIT, "shut the bridge down through its REST API "
                                  "(jicofo moves its conferences), then stop {}".format(BRIDGE_UNIT), data="stop"))
        if is_enabled(state):
            changes.append(Change("service", BRIDGE_UNIT, "disable {}".format(BRIDGE_UNIT), data="disable"))
        return changes

    def apply(self, ctx, changes, journal):
        actions = {c.data for c in changes}
        if "disable" in actions:
            journal.record("enable {}".format(BRIDGE_UNIT), lambda: with_systemd(lambda s: s.enable([BRIDGE_UNIT])))
        if "stop" in actions:
            # Undone after the files are back (the journal runs in reverse), so it starts as before.
            journal.record("start {}".format(BRIDGE_UNIT), lambda: with_systemd(lambda s: s.start(BRIDGE_UNIT)))
            self._shut_down(ctx)
        with systemd.Systemd() as units:
            if is_running(units.unit_state(BRIDGE_UNIT)):
                ctx.progress("stopping {}".format(BRIDGE_UNIT))
                units.stop(BRIDGE_UNIT)
            if "disable" in actions:
                units.disable([BRIDGE_UNIT])

    def _shut_down(self, ctx):
        api, opts = ctx.run.api, ctx.run.options
        count = api.participants()
        graceful = count == 0
        try:
            accepted = api.shutdown(graceful=graceful)
        except OSError:
            accepted = False
        if not accepted:
            ctx.add_degraded("the bridge did not accept a shutdown request on its REST API (joined by an older "
                             "jvb-join?): it was stopped, and jicofo logs it as a lost bridge")
            return
        ctx.progress("the bridge is shutting down ({}); waiting for it to exit".format(
            "graceful, no participants" if graceful else "{} participant(s) moved by jicofo".format(count)))
        started = time.monotonic()
        while time.monotonic() - started < opts.shutdown_wait:
            if not is_running(_unit_state()):
                ctx.run.shutdown_seconds = time.monotonic() - started
                ctx.progress("the bridge exited {:.1f} s after the shutdown request".format(
                    ctx.run.shutdown_seconds))
                return
            time.sleep(POLL)
        ctx.progress("the bridge did not exit within {:.0f} s of the shutdown request".format(opts.shutdown_wait))


def _quietly(call, *args):
    """An undo that may find the bridge not answering: a bridge started again is not drained."""
    try:
        call(*args)
    except OSError:
        pass


class RemoveAccount(Step):
    """The bridge's account on the server, deleted in band by the bridge itself (XEP-0077): the
    server needs no command, its token list shows the token as left, and nothing is left to reuse."""

    name = "account"
    title = "bridge account on the server"

    def check(self, ctx):
        record = ctx.run.record
        if not record.get("user") or not ctx.run.bridge_password:
            return []
        return [Change("account", "{}@{}".format(record["user"], record["domain"]),
                       "remove the account {}@{} on {} (the bridge deletes it itself)".format(
                           record["user"], record["domain"], record["server"]))]

    def apply(self, ctx, changes, journal):
        record = ctx.run.record
        who = "{}@{}".format(record["user"], record["domain"])
        try:
            session.remove_account(record["server"], record["port"], record["domain"], record["user"],
                                ctx.run.bridge_password, ctx.run.server_cert_der)
        except TokenError:
            # The login is refused: the account was revoked or removed on the server already.
            ctx.progress("the server no longer accepts {}: it was already removed there".format(who))
            return
        ctx.progress("removed the account {} on the server".format(who))


def leave_steps(further=()):
    """Drain and shut down, then the inverses of the join's steps (in their ``leave_order``; equal
    ones in the order of the steps they undo), then each further server's files (bridge.shards),
    then the accounts, which alone cannot be undone: the first server's, then the others'."""
    inverses = [step.inverse for step in join.STEP_TYPES if step.inverse is not None]
    inverses.sort(key=lambda inverse: inverse.leave_order)
    files_of_others = [OnServer(step, server) for server in further for step in further_leave_steps()]
    accounts = [OnServer(RemoveAccount(), server) for server in further]
    return [Drain(), ShutDown()] + [inverse() for inverse in inverses] + files_of_others + [RemoveAccount()] + accounts


def one_server_steps(target, verify_timeout, successor=None):
    """Leave of one server of several: its files, one restart of the bridge (with the clients of the
    others only), then its account, once the bridge is out of its brewery. When the server left is
    the first one (``successor``: the next one), the next server takes its place in jvb-join.conf
    and bridge.json (steps.promote), and its own files go."""
    if successor is None:
        files_of_it = [OnServer(step, target) for step in further_leave_steps()]
    else:
        files_of_it = [PromoteFragment(successor), OnServer(RemoveServerInclude(), successor),
                       OnServer(DropServerFragment(), successor), OnServer(RemoveTrust(), target),
                       PromoteRecord(successor), OnServer(RemoveServerRecord(), successor)]
    return [Drain()] + files_of_it + [BridgeService(timeout=verify_timeout), OnServer(RemoveAccount(), target)]


def joined(paths):
    """Is anything of a join left on this host (record, fragment or include line)?"""
    return bool(os.path.exists(paths.bridge_state) or os.path.exists(paths.jvb_fragment)
                or has_include(files.read_text(paths.jvb_conf) or "") or shards.further_domains(paths))


def choose(paths, name):
    """``leave --server NAME``: the server to take the bridge out of, or None when NAME is the only
    server (a plain leave)."""
    sub, record = shards.find(paths, name)
    others = [server for server, _record in shards.servers(paths) if server.bridge_state != sub.bridge_state]
    return brewery.Server(sub, record) if others else None


def prepare(ctx, record, password):
    """The server's certificate checked against the record's pin when its account is to be removed;
    a missing password is reported (the account then stays on the server)."""
    if record.get("user") and password:
        ctx.progress("checking the server {}:{} and its certificate".format(record["server"], record["port"]))
        return probe.verify_pin(record["server"], record["port"], record["domain"], record["pin"])
    if record.get("user"):
        ctx.add_degraded("the password of {}@{} is gone from this host, so the account stays on the server: "
                         "remove it there with 'jvb-join token revoke {}'".format(
                              record["user"], record["domain"], record.get("token_id", "ID")))
    return None


def preflight(ctx):
    """Read-only: root, and the server reachable with the pinned certificate when the account is
    to be removed (else nothing is changed and the run exits 75: safe to retry)."""
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join leave must run as root.", "Run it again with sudo.")
    ctx.run.unit_before = _unit_state()
    record = read_state(ctx.paths)
    ctx.run.record = record
    # A join stopped between the server's password change and the fragment's write left the
    # password only in the record.
    pending = record.get("pending_password")
    password = current_password(ctx.paths) or (pending if isinstance(pending, str) else None)
    if password:
        ctx.run.bridge_password = password
    ctx.run.server_cert_der = prepare(ctx, record, password)
    for server in ctx.run.further:
        server.cert = prepare(ctx, server.record, server.password)


def one_server_preflight(ctx):
    """Read-only, as a plain leave's, for the one server left."""
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join leave must run as root.", "Run it again with sudo.")
    ctx.run.unit_before = _unit_state()
    target = ctx.run.target
    target.cert = prepare(ctx, target.record, target.password)


def still_serving(ctx, report):
    """After the restart: the bridge is back in the breweries of the servers it still serves."""
    nickname = stored_nickname(ctx.paths)
    if nickname and ctx.run.remaining:
        ctx.progress("checking that the bridge is back in the breweries of {}".format(
            ", ".join(server.name for server in ctx.run.remaining)))
        brewery.wait_in(ctx.run.remaining, nickname, time.monotonic() + ctx.run.options.verify_timeout, ctx)


def leave(opts, paths, progress):
    """Run a whole leave; returns the engine's report and the folder of the backups."""
    backups = files.Backups(paths.backups, paths.root)
    if not opts.dry_run:
        release_stale_hold(paths, progress)
    run = LeaveRun(opts, backups, bridge_api.BridgeAPI())
    ctx = Context(paths, run, progress)
    run.target = choose(paths, opts.server) if opts.server else None
    if run.target is not None:
        run.remaining = [server for server in brewery.served(paths)
                         if server.paths.bridge_state != run.target.paths.bridge_state]
        successor = None if shards.is_further(run.target.paths) else run.remaining[0]
        engine = Engine(one_server_steps(run.target, opts.verify_timeout, successor), ctx,
                        preflight=one_server_preflight,
                        verify=None if opts.dry_run else still_serving,
                        after_rollback=lambda c: restore_service(c, c.run.unit_before))
    else:
        run.further = [server for server in brewery.served(paths) if shards.is_further(server.paths)]
        engine = Engine(leave_steps(run.further), ctx, preflight=preflight)
    report = engine.run("leave", dry_run=opts.dry_run)
    report.measured = ctx.run.measured()
    # with --server: the server left and those the bridge still serves (None: a plain leave)
    report.left_one = run.target.name if run.target is not None else None
    report.kept = [server.name for server in run.remaining]
    if report.left_one:
        report.measured.update(server=report.left_one, still_serving=report.kept)
    saved = [path for path in backups.saved.values() if path]
    return report, (backups.folder if saved else None)


def _duration(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "{}{}".format(seconds // size, unit)
    return "{}s".format(int(seconds))
