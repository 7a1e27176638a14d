"""The bridge host's commands: join (and firstboot, its unattended form), leave, status."""

import click

from jvbjoin.cli.common import Options, asker, exit_with, finish, repo_options
from jvbjoin.cli.output import say
from jvbjoin.errors import EXIT_DEGRADED, JvbJoinError, UsageError


@click.command()
@click.argument("token", required=False, metavar="[TOKEN]")
@click.option("--token-file", metavar="FILE", help="Read the token from FILE ('-' for stdin).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the file diffs; change nothing.")
@click.option("--verify-timeout", default=90.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the bridge to appear in the brewery.")
@click.option("--log-level", type=click.Choice(["ALL", "FINE", "INFO", "WARNING", "SEVERE", "OFF"]),
              default="INFO", show_default=True, help="The bridge's console log level (file logging is turned off).")
@click.option("--swappiness", type=click.IntRange(0, 100), default=1, show_default=True,
              help="vm.swappiness for the bridge host.")
@click.option("--adoptium-repo-url", metavar="URL",
              help="Adoptium repository for Temurin on Debian 10 (default: packages.adoptium.net).")
@click.option("--adoptium-repo-key", type=click.Path(dir_okay=False), metavar="FILE",
              help="OpenPGP key that signs the Adoptium repository (Debian 10 only).")
@click.option("--advertise-ip", metavar="ADDRESS",
              help="The bridge's public address behind NAT (written as ice4j's static mapping).")
@click.option("--local-ip", metavar="ADDRESS",
              help="This host's address the NAT maps to --advertise-ip (default: the one that reaches the server).")
@click.option("--stun-server", "stun_server", multiple=True, metavar="HOST:PORT",
              help="STUN server the bridge asks for its public address (repeatable; 'none' for none).")
@repo_options
@click.pass_obj
def join(opts, token, token_file, dry_run, verify_timeout, lock_timeout, jitsi_repo_url, jitsi_repo_suite,
         jitsi_repo_components, jitsi_repo_key, log_level, swappiness, adoptium_repo_url, adoptium_repo_key,
         no_firewall, no_ssh, allow_unsupported_release, advertise_ip=None, local_ip=None,
         stun_server=(), firewall_cut_ok=False):
    """Join this host to a Jitsi Meet server as a videobridge, from a join token."""
    from jvbjoin.bridge import nat, token_input
    advertise_ip = nat.advertise_ip(advertise_ip)
    stun_servers = nat.stun_servers(stun_server)
    if local_ip and not advertise_ip:
        raise UsageError("--local-ip only goes with --advertise-ip.")
    if opts.token_text is not None:
        text, source = opts.token_text, "file"
        opts.token_text = None
    else:
        text, source = token_input.read_token(token, token_file)
    if source == "argument":
        say("warning: a token on the command line is visible to other users of this host; "
            "prefer --token-file, '-' (stdin) or JVB_JOIN_TOKEN.", err=True)
    from jvbjoin.formats.token import decode
    from jvbjoin.bridge.join import JoinOptions, join as run_join
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, emit_report

    parsed = decode(text)
    del text
    options = JoinOptions(dry_run=dry_run, verify_timeout=verify_timeout, lock_timeout=lock_timeout,
                          jitsi_repo_url=jitsi_repo_url, jitsi_repo_suite=jitsi_repo_suite,
                          jitsi_repo_components=jitsi_repo_components, jitsi_repo_key=jitsi_repo_key,
                          allow_unsupported_release=allow_unsupported_release, firewall=not no_firewall,
                          no_ssh=no_ssh, log_level=log_level, swappiness=swappiness,
                          adoptium_repo_url=adoptium_repo_url, adoptium_repo_key=adoptium_repo_key,
                          advertise_ip=advertise_ip, local_ip=local_ip,
                          stun_servers=stun_servers, firewall_cut_ok=firewall_cut_ok, confirm=asker(opts))
    report = run_join(parsed, options, Paths("/"), Progress.for_output(opts.as_json))
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


@click.command("report-version", hidden=True)
def report_version():
    """Tell the server which jvb-join this bridge runs now (run by the package after an upgrade)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.system import apt
    from jvbjoin.bridge.steps import account

    paths = Paths("/")
    apt.wait_for_lock(paths, 3600, lambda line: say(line, err=True))  # the upgrade is finished
    if not account.report_installed_version(paths):
        say("jvb-join report-version: not reported (not joined, or the server does not keep it).", err=True)


@click.command(hidden=True)
@click.pass_context
def firstboot(ctx):
    """Join once from /etc/jvb-join/token, deleting it first (run by jvb-join-firstboot.service)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.bridge import unattended

    paths = Paths("/")
    options = unattended.first_boot_options(paths)
    held = [unattended.take_token_file(paths)]  # cleared once the join is over: nothing keeps the token
    if held[0] is None:
        say("jvb-join firstboot: no {}, nothing to do.".format(paths.firstboot_token))
        return

    def join_once():
        ctx.obj.token_text = held[0]
        try:
            ctx.invoke(join, **options)
        except click.exceptions.Exit as done:  # joined, degraded (2): the report above says how
            return done.exit_code
        return 0

    def retrying(err, seconds):
        say("jvb-join firstboot: {} Trying again in {} s.".format(err.message, seconds), err=True)

    try:
        code = unattended.join_with_retries(join_once, retrying)
    except JvbJoinError:
        say("jvb-join firstboot: the join failed and the host is as it was; the token file was deleted "
            "(it is never kept). Join with 'jvb-join --token-file FILE' once the cause below is fixed.", err=True)
        raise
    finally:
        held.clear()
        ctx.obj.token_text = None
    say("jvb-join firstboot: this host joined{}; the token file was deleted.".format(
        " (degraded, see above)" if code else ""))
    exit_with(code)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The same facts as JSON.")
@click.pass_obj
def status(opts, as_json):
    """One screen: role, server, nickname, service, brewery presence, conferences."""
    import os
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import emit, status_table

    opts = Options(opts.as_json or as_json, opts.yes, opts.verbose)
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join status reads root-only files.", "Run it again with sudo.")
    from jvbjoin.doctor.facts import detect_role
    paths = Paths("/")
    role = detect_role(paths)
    if role is None:
        raise JvbJoinError("This host is neither a bridge nor a Jitsi Meet server jvb-join knows about.",
                           "Join it with 'jvb-join <token>', or make it a server with 'jvb-join server install --domain D'.")
    if role == "bridge":
        from jvbjoin.bridge.status import bridge_status as read_status
    else:
        from jvbjoin.server.status import server_status as read_status
    info = read_status(paths)
    emit(opts, info, lambda: status_table(info))


@click.command()
@click.option("--drain", is_flag=True, help="Wait for conferences to end before stopping the bridge.")
@click.option("--timeout", default="1h", show_default=True, help="How long to wait while draining.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--server", "server", metavar="NAME",
              help="Leave only this server (its domain, as status lists it); the others stay.")
@click.pass_obj
def leave(opts, drain, timeout, dry_run, server=None):
    """Take this bridge out cleanly: drain, stop, remove its account and config, keep a backup."""
    from jvbjoin.bridge import leave as leaving
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, emit, report_text
    from jvbjoin.server.tokens import parse_ttl

    seconds = parse_ttl(timeout, "--timeout")
    paths = Paths("/")
    if not leaving.joined(paths):
        emit(opts, {"action": "leave", "joined": False, "changed": 0},
             "This host is not joined to a server by jvb-join: nothing to do.", indent=None, sort_keys=False)
        return
    options = leaving.LeaveOptions(drain=drain, timeout=seconds, dry_run=dry_run, server=server)
    report, backup_folder = leaving.leave(options, paths, Progress.for_output(opts.as_json))

    def data():
        out = report.as_dict()
        out.update(report.measured)
        out["backups"] = backup_folder
        return out

    def text():
        lines = [report_text(report, show_diffs=dry_run)]
        if backup_folder:
            lines.append("Backups of what was removed or changed: {}".format(backup_folder))
        left_one = getattr(report, "left_one", None)
        if not dry_run and left_one:
            lines.append("This bridge left {}; it still serves {}.".format(left_one, ", ".join(report.kept)))
        elif not dry_run:
            lines.append("This host left its server. To join again: jvb-join <new token>.")
        return "\n".join(lines)

    emit(opts, data, text)
    exit_with(EXIT_DEGRADED if report.degraded and not dry_run else 0)
