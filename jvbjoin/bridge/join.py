"""``jvb-join TOKEN``: preflight, the join steps in order, and the proof that the bridge is in the brewery."""

import logging
import os
import time

from jvbjoin.system import apt, files, host, releases
from jvbjoin.engine.core import Context, Engine
from jvbjoin.engine.run import Run
from jvbjoin.errors import JvbJoinError, TokenError, TokenExpiredError, TokenUsedError, VerifyError
from jvbjoin.xmpp import probe, session
from jvbjoin.steps import firewall
from jvbjoin.steps.firewall import Firewall
from jvbjoin.steps.java import JavaRuntime
from jvbjoin.steps.packages import DebconfPreseed, JitsiSource, Packages
from jvbjoin.bridge import api as bridge_api, brewery, model, nat, shards
from jvbjoin.bridge.steps import config as bridge_config, service, websockets
from jvbjoin.bridge.model import read_state
from jvbjoin.bridge.steps.shard import ServerFragment, ServerInclude
from jvbjoin.bridge.steps.account import AccountPassword, ForgetPendingPassword
from jvbjoin.bridge.steps.logging_level import LoggingLevel
from jvbjoin.bridge.steps.service import BridgeService, HoldFirstStart, ServiceWatch, log_tail
from jvbjoin.bridge.steps.sysctl import Sysctl
from jvbjoin.bridge.steps.trust import ServerTrust
from jvbjoin.bridge.steps.websockets import WebsocketPort

log = logging.getLogger(__name__)

# Before this moment the clock is certainly wrong (jvb-join did not exist yet): TLS and token
# expiry would both give misleading errors.
EARLIEST_SANE_TIME = 1767225600  # 2026-01-01T00:00:00Z


class JoinOptions:
    """What the operator asked for, beyond the token."""

    def __init__(self, dry_run=False, verify_timeout=90.0, lock_timeout=apt.DEFAULT_LOCK_TIMEOUT,
                 jitsi_repo_url=None, jitsi_repo_suite=None, jitsi_repo_components=None,
                 jitsi_repo_key=None, allow_unsupported_release=False, firewall=True, no_ssh=False,
                 log_level="INFO", swappiness=1, adoptium_repo_url=None, adoptium_repo_key=None,
                 advertise_ip=None, local_ip=None, stun_servers=None, firewall_cut_ok=False, confirm=None):
        self.dry_run = dry_run
        self.verify_timeout = verify_timeout
        self.lock_timeout = lock_timeout
        self.jitsi_repo_url = jitsi_repo_url
        self.jitsi_repo_suite = jitsi_repo_suite
        self.jitsi_repo_components = jitsi_repo_components
        self.jitsi_repo_key = jitsi_repo_key
        self.allow_unsupported_release = allow_unsupported_release
        self.firewall = firewall
        self.no_ssh = no_ssh
        self.log_level = log_level
        self.swappiness = swappiness
        self.adoptium_repo_url = adoptium_repo_url
        self.adoptium_repo_key = adoptium_repo_key
        self.advertise_ip = advertise_ip
        self.local_ip = local_ip
        self.stun_servers = stun_servers
        self.firewall_cut_ok = firewall_cut_ok
        # asks the operator a yes/no question on a terminal; None when no one is there to ask
        self.confirm = confirm

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if k != "confirm"}


class JoinRun(Run):
    """One join: the token, the options, and what preflight and the steps learn for later steps."""

    def __init__(self, token, options, backups=None):
        super().__init__(options, options.dry_run, backups, options.lock_timeout, options.firewall,
                         options.no_ssh)
        self.token = token
        #: the server's certificate (DER), checked against the token's pin by preflight
        self.server_cert_der = None
        #: this host's address behind the NAT, found by preflight with --advertise-ip
        self.local_ip = None
        #: the bridge account's password from now on (made, or found from an earlier run)
        self.bridge_password = None
        #: the account of the token this host joined with before, handed back once the join is proven
        self.previous_account = None
        #: the nickname a bridge without one would get (shown by a dry run, made by the config step)
        self.proposed_nickname = None
        #: the nickname the server lists in the brewery
        self.verified_nickname = None
        #: the bridge service was restarted by this run, and the watch over it since
        self.bridge_restarted = False
        self.bridge_watch = None
        #: the bridge unit's state as the run began (None: a dry run, or systemd could not be asked)
        self.unit_before = None


def supported_release(ctx, role, allow_unsupported):
    """The support-table row of this host for ``role``; refuses other releases unless allowed."""
    release = releases.os_release(ctx.paths)
    row = releases.check_supported(release, role, allow_unsupported)
    ctx.run.release = release
    ctx.run.release_row = row
    if not getattr(row, role, False) or releases.lookup(release) is None:
        ctx.degraded.append("running on {} {}, which jvb-join does not support as a {}".format(
            release.get("ID", "?"), release.get("VERSION_ID", "?"), role))
    return row


def preflight(ctx):
    """Read-only checks; any failure here leaves the host exactly as it was."""
    paths, opts = ctx.paths, ctx.run.options
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join must run as root to install and configure the bridge.",
                           "Run it again with sudo.")
    supported_release(ctx, "bridge", opts.allow_unsupported_release)
    now = time.time()
    if now < EARLIEST_SANE_TIME:
        raise JvbJoinError("The system clock says {}, which cannot be right.".format(
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))),
            "Set the clock (timedatectl set-ntp true) and run jvb-join again.")
    token = ctx.run.token
    if token.exp <= now:
        raise TokenExpiredError("This join token expired at {}.".format(
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(token.exp))))
    apt.ready_for_packages(paths, opts.lock_timeout, ctx.progress, ctx.run.dry_run,
                           versions=bridge_versions(token))
    ctx.progress("checking the server {}:{} and its certificate".format(token.host, token.port))
    ctx.run.server_cert_der = probe.verify_pin(token.host, token.port, token.domain, token.pin)
    check_token_account(ctx, token)
    if shards.is_further(paths):
        # the firewall and the bridge's address settings are the first server's join's
        if opts.advertise_ip or opts.stun_servers is not None:
            ctx.add_degraded("--advertise-ip and --stun-server are bridge-wide settings, kept in the first "
                             "server's join: give them to a re-run of that join")
        return
    check_firewall_cut(ctx, opts)
    if opts.advertise_ip:
        ctx.run.local_ip = nat.local_address(opts.local_ip, token.host, token.port)


def check_token_account(ctx, token):
    """A used, revoked or expired-on-the-server token is refused before anything is installed: its
    account must accept the token's password, unless this host is the one that already used it (a
    second run, or a run that was stopped after the password change)."""
    state = read_state(ctx.paths)
    if state.get("token_id") == token.id and (state.get("password_changed") or "pending_password" in state):
        return
    ctx.progress("checking the token's account on the server")
    try:
        session.check_login(token.host, token.port, token.domain, token.user, token.password,
                         ctx.run.server_cert_der)
    except TokenError:
        raise TokenUsedError("The server refuses this token's account {}@{}: the token was already used by another "
                         "bridge, or it was revoked or removed at its expiry. Nothing was changed on this "
                         "host.".format(token.user, token.domain),
                         "Create a new token on the Jitsi Meet server ('jvb-join token create "
                         "--print-join-command') and join with it.") from None


def check_firewall_cut(ctx, opts):
    """Turning ufw on keeps SSH, the media port and the bridge's websocket port for the server;
    anything else this host serves is named and asked about first (steps.firewall.refuse_cut)."""
    if not opts.firewall:
        return
    keep = {(port, "tcp") for port in host.ssh_ports()} | {firewall.MEDIA_PORT}
    port = websockets.configured_port(ctx.paths)
    if port is not None:
        keep.add((port, "tcp"))
    firewall.refuse_cut(ctx, keep, opts.firewall_cut_ok, opts.confirm)


def bridge_versions(token):
    """The package versions a token pins: ``{"jitsi-videobridge2": version}`` or nothing."""
    return {"jitsi-videobridge2": token.jvb} if getattr(token, "jvb", None) else {}


# The classes of the join's steps, in order (join_steps makes them). What `leave` undoes is read
# from their inverses.
STEP_TYPES = (DebconfPreseed, JitsiSource, JavaRuntime, ServerTrust, HoldFirstStart, Packages,
              AccountPassword) + \
    bridge_config.STEP_TYPES + (ForgetPendingPassword, LoggingLevel, Sysctl, WebsocketPort, Firewall, BridgeService)


def join_steps(ctx):
    """The steps of a join, in order; each one only looks at the host until it is applied."""
    token, opts = ctx.run.token, ctx.run.options
    source = JitsiSource.from_options(opts)
    versions = bridge_versions(token)
    return [
        DebconfPreseed([("jitsi-videobridge2", "jitsi-videobridge/jvb-hostname", "string", token.meet)]),
        source,
        JavaRuntime("jitsi-videobridge2", versions.get("jitsi-videobridge2"),
                    opts.adoptium_repo_url, opts.adoptium_repo_key, opts.lock_timeout),
        # Before the packages: on a fresh host Java's CA store is then made with the server's
        # certificate already in the system store, instead of being made and then updated by a
        # second Java run of update-ca-certificates' hook.
        ServerTrust(),
        # the package's install would start the bridge with its default settings
        HoldFirstStart(),
        Packages(["jitsi-videobridge2"], versions, opts.lock_timeout),
        AccountPassword(),
    ] + bridge_config.steps(ctx) + [
        ForgetPendingPassword(),
        LoggingLevel(),
        Sysctl(),
        # the websocket rule first: ufw takes rules while it is off, and enabling it then cuts nothing
        WebsocketPort(),
        Firewall(),
        BridgeService(timeout=opts.verify_timeout),
    ]


def further_join_steps(ctx):
    """The steps of a join to a further server (bridge.shards): its trust, its account, its own
    fragment and include line; then the one restart. The packages, Java, the firewall and the
    bridge's own settings are the first join's, and stay as they are."""
    return [ServerTrust(), AccountPassword(), ServerFragment(), ServerInclude(), ForgetPendingPassword(),
            BridgeService(timeout=ctx.run.options.verify_timeout)]


def verify_in_brewery(ctx, report):
    """The bridge is healthy and in the brewery, seen from the server's side too, within the timeout;
    meanwhile the bridge service must stay up (a failure or a restart ends the wait at once)."""
    token, opts = ctx.run.token, ctx.run.options
    nickname = model.bridge_nickname(ctx)
    deadline = time.monotonic() + opts.verify_timeout
    api = bridge_api.BridgeAPI()
    ctx.progress("waiting for the bridge to join the brewery {} as {}".format(token.muc, nickname))
    last = "no answer yet"
    asked = 0.0
    with ServiceWatch(ctx) as watch:
        while time.monotonic() < deadline:
            watch.check()
            healthy, message = api.health()
            if healthy:
                # The bridge's own gauge is cheap to read; the server is asked (a login of its own)
                # once the gauge says the bridge is in a MUC, or every few seconds if it is missing.
                try:
                    joined = api.metrics_or_raise().get("jitsi_jvb_mucs_joined")
                except (OSError, ValueError):
                    joined = None
                since = time.monotonic() - asked
                if ((joined or 0) >= 1 and since >= 1) or (joined is None and since >= 2):
                    asked = time.monotonic()
                    occupants = session.brewery_occupants(token.host, token.port, token.domain, token.user,
                                                       ctx.run.bridge_password, token.muc,
                                                       ctx.run.server_cert_der)
                    if nickname in occupants:
                        ctx.run.verified_nickname = nickname
                        still_in_the_others(ctx, nickname, deadline)
                        hand_back_previous_account(ctx)
                        return
                    last = "the server does not list {} in {} yet".format(nickname, token.muc)
                else:
                    last = "the bridge is healthy but not in the brewery yet"
            else:
                last = message
            time.sleep(0.25)
    raise VerifyError("The bridge did not join the brewery within {:.0f} s: {}.\nLast lines of {}:\n{}".format(
        opts.verify_timeout, last, ctx.paths.jvb_log, log_tail(ctx)),
        "Fix what the log shows, then run jvb-join again with the same token.")


def still_in_the_others(ctx, nickname, deadline):
    """A join to one server restarts a bridge that serves others too: it must be back in their
    breweries as well (each asked with its own account)."""
    others = [server for server in brewery.served(ctx.paths) if server.paths.bridge_state != ctx.paths.bridge_state]
    if others:
        ctx.progress("checking that the bridge is back in the breweries of {}".format(
            ", ".join(server.name for server in others)))
        brewery.wait_in(others, nickname, deadline, ctx)


def hand_back_previous_account(ctx):
    """A bridge that joined with a new token no longer needs the account of its earlier token: it
    removes that account in band, so that no account of it is left on the server. A failure here
    does not undo the join; it is reported, with the command that removes the account on the server."""
    previous = ctx.run.previous_account
    if not previous:
        return
    who = "{}@{}".format(previous["user"], previous["domain"])
    ctx.progress("removing the account of the earlier token ({})".format(who))
    try:
        token = ctx.run.token
        if (previous["server"], previous["port"], previous["pin"]) == (token.host, token.port, token.pin):
            cert = ctx.run.server_cert_der
        else:
            cert = probe.verify_pin(previous["server"], previous["port"], previous["domain"], previous["pin"])
        session.remove_account(previous["server"], previous["port"], previous["domain"], previous["user"],
                            previous["password"], cert)
    except JvbJoinError as exc:
        ctx.degraded.append("the account {} of the earlier token is still on its server ({}); remove it there "
                            "with 'jvb-join token revoke {}'".format(who, exc.message, previous.get("token_id")))


def join(token, opts, paths, progress):
    """Run a whole join; returns the engine's report. Raises a JvbJoinError after rolling back."""
    run = JoinRun(token, opts, files.Backups(paths.backups, paths.root))
    # the first server's files, or a further server's (refused: a second server of one domain)
    paths = shards.paths_for_token(paths, token)
    ctx = Context(paths, run, progress, restart_file=paths.restart_pending)
    for folder in paths.written_folders:
        files.clean_stale_temps(folder)
    files.clean_stale_temps_under(paths.backups)
    if not opts.dry_run:
        service.release_stale_hold(paths, progress)
    ctx.run.unit_before = None if opts.dry_run else service.baseline()
    steps = further_join_steps(ctx) if shards.is_further(paths) else join_steps(ctx)
    engine = Engine(steps, ctx, verify=None if opts.dry_run else verify_in_brewery,
                    preflight=preflight, after_rollback=lambda c: service.restore_service(c, c.run.unit_before))
    return engine.run("join", dry_run=opts.dry_run)
