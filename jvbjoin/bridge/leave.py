"""`jvb-join leave`: take this bridge out cleanly (drain, shut down, config, ports, account).

The steps run through the engine like a join: ``--dry-run`` prints them, and a failure puts back
everything already changed (files from the journal, the bridge started again). The order follows
what can be undone: the bridge is drained and shut down first (it must not be in the brewery when
its account goes), then jvb-join's files and ports are taken out (each backed up), and the
bridge's account on the server is removed last, because that alone cannot be undone.
"""

import os
import time

from jvbjoin.system import files, ufw
from jvbjoin.engine.core import Change, Context, Engine, Step
from jvbjoin.errors import JvbJoinError, StepError, TokenError
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge.steps.config import _EditStep, add_degraded, has_include, remove_include, restore_legacy
from jvbjoin.steps.firewall import MEDIA_COMMENT
from jvbjoin.bridge.steps.service import BRIDGE_UNIT
from jvbjoin.bridge.steps.trust import ServerTrust, cert_path
from jvbjoin.system.systemd import is_enabled, is_running, state_of, with_systemd

# After a shutdown request the bridge stays SHUTTING_DOWN for videobridge.shutdown.shutting-down-delay
# (1 minute by default) so that jicofo can move its participants, then exits by itself.
SHUTDOWN_WAIT = 180.0
POLL = 1.0


class LeaveOptions:
    def __init__(self, drain=False, timeout=3600, dry_run=False, shutdown_wait=SHUTDOWN_WAIT, firewall=True):
        self.drain = drain
        self.timeout = timeout
        self.dry_run = dry_run
        self.shutdown_wait = shutdown_wait
        self.firewall = firewall

    def as_dict(self):
        return dict(vars(self))


def _unit_state():
    return state_of(BRIDGE_UNIT)


class Drain(Step):
    """Drain mode: jicofo sends the bridge no new conferences; wait until its participants are gone."""

    name = "drain"
    title = "drain (no new conferences on this bridge)"

    def check(self, ctx):
        if not ctx.facts["options"].drain or not is_running(ctx.facts["unit_before"]):
            return []
        count = ctx.facts["api"].participants()
        return [Change("bridge", BRIDGE_UNIT, "enable drain mode and wait up to {} for {} participant(s) to "
                       "leave".format(_duration(ctx.facts["options"].timeout),
                                      "its" if count is None else count))]

    def apply(self, ctx, changes, journal):
        api, opts = ctx.facts["api"], ctx.facts["options"]
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
        ctx.facts["drain_seconds"] = time.monotonic() - started
        ctx.facts["cut"] = count
        if count is None:
            add_degraded(ctx, "the bridge stopped reporting its participants while draining, so how many "
                              "were cut when it shut down is not known")
        elif count:
            add_degraded(ctx, "the drain timeout ({}) passed with {} participant(s) still on the bridge: "
                              "they were cut, and jicofo moves them to another bridge".format(
                                  _duration(opts.timeout), count))
        else:
            ctx.progress("drained: no participants left after {:.1f} s".format(ctx.facts["drain_seconds"]))


class ShutDown(Step):
    """The bridge shuts itself down through its REST API, so jicofo sees a shutdown, not a lost
    bridge (a plain SIGTERM makes the bridge leave the brewery without saying so); then the unit is
    stopped and disabled so it stays down across reboots."""

    name = "service"
    title = "bridge service"

    def check(self, ctx):
        state = ctx.facts["unit_before"]
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
        from jvbjoin.system.systemd import Systemd
        actions = {c.data for c in changes}
        if "disable" in actions:
            journal.record("enable {}".format(BRIDGE_UNIT), lambda: with_systemd(lambda s: s.enable([BRIDGE_UNIT])))
        if "stop" in actions:
            # Undone after the files are back (the journal runs in reverse), so it starts as before.
            journal.record("start {}".format(BRIDGE_UNIT), lambda: with_systemd(lambda s: s.start(BRIDGE_UNIT)))
            self._shut_down(ctx)
        with Systemd() as systemd:
            if is_running(systemd.unit_state(BRIDGE_UNIT)):
                ctx.progress("stopping {}".format(BRIDGE_UNIT))
                systemd.stop(BRIDGE_UNIT)
            if "disable" in actions:
                systemd.disable([BRIDGE_UNIT])

    def _shut_down(self, ctx):
        api, opts = ctx.facts["api"], ctx.facts["options"]
        count = api.participants()
        graceful = count == 0
        try:
            accepted = api.shutdown(graceful=graceful)
        except OSError:
            accepted = False
        if not accepted:
            add_degraded(ctx, "the bridge did not accept a shutdown request on its REST API (joined by an older "
                              "jvb-join?): it was stopped, and jicofo logs it as a lost bridge")
            return
        ctx.progress("the bridge is shutting down ({}); waiting for it to exit".format(
            "graceful, no participants" if graceful else "{} participant(s) moved by jicofo".format(count)))
        started = time.monotonic()
        while time.monotonic() - started < opts.shutdown_wait:
            if not is_running(_unit_state()):
                ctx.facts["shutdown_seconds"] = time.monotonic() - started
                ctx.progress("the bridge exited {:.1f} s after the shutdown request".format(
                    ctx.facts["shutdown_seconds"]))
                return
            time.sleep(POLL)
        ctx.progress("the bridge did not exit within {:.0f} s of the shutdown request".format(opts.shutdown_wait))


def _quietly(call, *args):
    """An undo that may find the bridge not answering: a bridge started again is not drained."""
    try:
        call(*args)
    except OSError:
        pass


class RemoveFragment(FileStep):
    """jvb-join's own bridge settings (they hold the account's password; the backup is root-only)."""

    name = "bridge-config"
    title = "jvb-join's bridge settings (jvb-join.conf)"

    def wanted(self, ctx):
        return [WantedFile(ctx.paths.jvb_fragment, None, secret=True)]


class UndoEdit(_EditStep):
    """Takes back what a join did to an admin's file, by the inverse of the join's edit."""

    required = False

    def __init__(self, name, title, path_name, inverse):
        self.name, self.title, self.path_name, self.inverse = name, title, path_name, inverse

    def edit(self, ctx, text):
        return self.inverse(text)


def remove_include_step():
    return UndoEdit("bridge-config-include", "include of jvb-join's settings in jvb.conf", "jvb_conf",
                    remove_include)


def restore_legacy_step():
    return UndoEdit("bridge-config-legacy", "legacy client settings in sip-communicator.properties",
                    "jvb_legacy_properties", restore_legacy)


class RemoveJoinRecord(FileStep):
    """What jvb-join remembers of the join (server, account name, token id). The nickname stays,
    so a new join of this host shows up under the same name."""

    name = "join-record"
    title = "jvb-join's record of the join"

    def wanted(self, ctx):
        # with the restart a stopped join left pending: after leave there is no config to restart for
        return [WantedFile(ctx.paths.bridge_state, None), WantedFile(ctx.paths.restart_pending, None)]


class RemoveTrust(ServerTrust):
    """The server's certificate the join added to the system CA store (and, through
    update-ca-certificates' hooks, to Java's)."""

    restarts = None  # the bridge is stopped for good

    def domain(self, ctx):
        return ctx.facts["record"].get("domain")

    def wanted(self, ctx):
        domain = self.domain(ctx)
        return [WantedFile(cert_path(ctx.paths, domain), None)] if domain else []


class CloseFirewall(Step):
    """The ports jvb-join opened (rules with its comment). SSH stays allowed and ufw stays as it is:
    closing them could lock the operator out of a host they still use."""

    name = "firewall"
    title = "firewall (ufw)"

    def check(self, ctx):
        if not ctx.facts["options"].firewall:
            return []
        found = []
        for text in ufw.rule_texts(ctx.paths):
            for rule in ufw.commented_rules(text, MEDIA_COMMENT):
                if rule not in found:
                    found.append(rule)
        return [Change("firewall", "{}/{}".format(port, proto), "close {}/{} (opened by jvb-join)".format(port, proto),
                       data=(port, proto)) for port, proto in found]

    def apply(self, ctx, changes, journal):
        from jvbjoin.system.run import run
        saved = [files.FileState.read(ctx.paths(name)) for name in ufw.RULE_FILES]
        for state in saved:
            if state.exists:
                ctx.facts["backups"].save(state.path)
        journal.record("restore ufw's rule files", lambda: [files.restore(state) for state in saved])
        for change in changes:
            rule = "{}/{}".format(*change.data)
            journal.record("ufw allow {}".format(rule), lambda change=change: run(
                ufw.allow_argv(change.data[0], change.data[1], MEDIA_COMMENT), check=False, timeout=60))
            result = run(ufw.delete_argv(*change.data), check=False, timeout=120)
            output = result.stdout + result.stderr
            # In a container ufw cannot set its sysctls and says so, yet deletes the rule.
            if not result.ok and "problem running sysctl" not in output:
                raise StepError("ufw delete allow {} failed: {}".format(rule, output.strip()[-300:]),
                                "Check ufw (ufw status verbose), then run 'jvb-join leave' again.")


class RemoveAccount(Step):
    """The bridge's account on the server, deleted in band by the bridge itself (XEP-0077): the
    server needs no command, its token list shows the token as left, and nothing is left to reuse."""

    name = "account"
    title = "bridge account on the server"

    def check(self, ctx):
        record = ctx.facts.get("record") or {}
        if not record.get("user") or not ctx.facts.get("bridge_password"):
            return []
        return [Change("account", "{}@{}".format(record["user"], record["domain"]),
                       "remove the account {}@{} on {} (the bridge deletes it itself)".format(
                           record["user"], record["domain"], record["server"]))]

    def apply(self, ctx, changes, journal):
        from jvbjoin.xmpp import session as xmpp
        record = ctx.facts["record"]
        who = "{}@{}".format(record["user"], record["domain"])
        try:
            xmpp.remove_account(record["server"], record["port"], record["domain"], record["user"],
                                ctx.facts["bridge_password"], ctx.facts["server_cert_der"])
        except TokenError:
            # The login is refused: the account was revoked or removed on the server already.
            ctx.progress("the server no longer accepts {}: it was already removed there".format(who))
            return
        ctx.progress("removed the account {} on the server".format(who))


def leave_steps():
    from jvbjoin.bridge.steps.websockets import CloseWebsocketPort
    return [Drain(), ShutDown(), RemoveFragment(), remove_include_step(), restore_legacy_step(), RemoveTrust(),
            CloseFirewall(), CloseWebsocketPort(), RemoveJoinRecord(), RemoveAccount()]


def joined(paths):
    """Is anything of a join left on this host (record, fragment or include line)?"""
    return bool(os.path.exists(paths.bridge_state) or os.path.exists(paths.jvb_fragment)
                or has_include(files.read_text(paths.jvb_conf) or ""))


def preflight(ctx):
    """Read-only: root, and the server reachable with the pinned certificate when the account is
    to be removed (else nothing is changed and the run exits 75: safe to retry)."""
    from jvbjoin.bridge.steps.account import current_password, read_state
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join leave must run as root.", "Run it again with sudo.")
    ctx.facts["unit_before"] = _unit_state()
    record = read_state(ctx.paths)
    ctx.facts["record"] = record
    # A join stopped between the server's password change and the fragment's write left the
    # password only in the record.
    pending = record.get("pending_password")
    password = current_password(ctx.paths) or (pending if isinstance(pending, str) else None)
    if password:
        ctx.facts["bridge_password"] = password
    if record.get("user") and password:
        from jvbjoin.xmpp import session as xmpp
        ctx.progress("checking the server {}:{} and its certificate".format(record["server"], record["port"]))
        ctx.facts["server_cert_der"] = xmpp.verify_pin(record["server"], record["port"], record["domain"],
                                                       record["pin"])
    elif record.get("user"):
        add_degraded(ctx, "the password of {}@{} is gone from this host, so the account stays on the server: "
                          "remove it there with 'jvb-join token revoke {}'".format(
                              record["user"], record["domain"], record.get("token_id", "ID")))


def leave(opts, paths, progress):
    """Run a whole leave; returns the engine's report and the folder of the backups."""
    from jvbjoin.bridge.api import BridgeAPI
    ctx = Context(paths, opts.as_dict(), progress)
    backups = files.Backups(paths.backups, paths.root)
    ctx.facts.update(options=opts, api=BridgeAPI(), backups=backups, dry_run=opts.dry_run)
    engine = Engine(leave_steps(), ctx, preflight=preflight)
    report = engine.run("leave", dry_run=opts.dry_run)
    report.facts = {k: ctx.facts[k] for k in ("drain_seconds", "cut", "shutdown_seconds") if k in ctx.facts}
    saved = [path for path in backups.saved.values() if path]
    return report, (backups.folder if saved else None)


def _duration(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "{}{}".format(seconds // size, unit)
    return "{}s".format(int(seconds))


def command(opts, drain=False, timeout="1h", dry_run=False):
    """Run `jvb-join leave`; return its exit code."""
    import json

    import click

    from jvbjoin.errors import EXIT_DEGRADED, EXIT_OK
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, report_text
    from jvbjoin.server.tokens import parse_ttl

    seconds = parse_ttl(timeout, "--timeout")
    paths = Paths("/")
    if not joined(paths):
        message = "This host is not joined to a server by jvb-join: nothing to do."
        click.echo(json.dumps({"action": "leave", "joined": False, "changed": 0}) if opts.as_json else message)
        return EXIT_OK
    options = LeaveOptions(drain=drain, timeout=seconds, dry_run=dry_run)
    report, backup_folder = leave(options, paths, Progress.for_output(opts.as_json))
    if opts.as_json:
        data = report.as_dict()
        data.update(report.facts)
        data["backups"] = backup_folder
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(report_text(report, show_diffs=dry_run))
        if backup_folder:
            click.echo("Backups of what was removed or changed: {}".format(backup_folder))
        if not dry_run:
            click.echo("This host left its server. To join again: jvb-join <new token>.")
    return EXIT_DEGRADED if report.degraded and not dry_run else EXIT_OK
