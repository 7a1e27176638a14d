"""The jvb-join command line: parse, call, render. No logic of its own lives here."""

import logging
import os
import sys

import click

from jvbjoin import __version__
from jvbjoin.cli.entry import GLOBAL_FLAGS, global_flags_first
from jvbjoin.errors import InputError, JvbJoinError, NotBuiltError, UsageError
from jvbjoin.cli.outcome import LOG_FILE

log = logging.getLogger("jvbjoin")


class Options:
    """Global options every command sees."""

    def __init__(self, as_json=False, yes=False, verbose=0):
        self.as_json = as_json
        self.yes = yes
        self.verbose = verbose
        self.token_text = None  # set by `firstboot`, which read the token from its file already


class JoinByDefault(click.Group):
    """A group where ``jvb-join TOKEN`` (or ``jvb-join --token-file F``, ``jvb-join -``) means
    ``jvb-join join ...``; the global flags may come after the command too.

    Only a word shaped like a token is read as one: any other word is a mistyped command."""

    def parse_args(self, ctx, args):
        from jvbjoin.formats.token import PREFIX
        args = global_flags_first(args)
        for index, arg in enumerate(args):
            if arg in GLOBAL_FLAGS:
                continue
            if arg in self.commands or arg in ("--help", "-h", "--version"):
                break
            if not (arg.startswith("-") or arg.startswith(PREFIX)):
                raise click.UsageError(self.no_such_command(arg), ctx)
            args = list(args[:index]) + ["join"] + list(args[index:])
            break
        return super().parse_args(ctx, args)

    def no_such_command(self, word):
        import difflib
        import re
        from jvbjoin.formats.token import PREFIX
        shown = sorted(name for name, command in self.commands.items() if not command.hidden)
        if not re.match(r"^[a-z][a-z0-9-]{0,23}$", word):
            # not shaped like a command: maybe a token that lost its prefix, so never echoed
            return "This is neither a jvb-join command nor a join token (a join token starts with '{}').".format(
                PREFIX)
        close = difflib.get_close_matches(word, shown, 1)
        return "No such command '{}'{}".format(word, "; did you mean '{}'?".format(close[0]) if close else ".")


# Help is laid out for 80 columns whatever the terminal, so the text is the same everywhere
# (and jvbjoin/helptext.py can hold the top-level one).
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 80}


@click.group(cls=JoinByDefault, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="jvb-join", message="%(prog)s %(version)s")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON) instead of text.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("-v", "--verbose", count=True, help="More detail; tracebacks on errors.")
@click.pass_context
def cli(ctx, as_json, yes, verbose):
    """Add Jitsi videobridges to a Jitsi Meet server with one command.

    \b
    On the Jitsi Meet server:
      jvb-join server install --domain meet.example.com
      jvb-join token create --print-join-command
    On each new bridge host:
      jvb-join <token>
      jvb-join doctor
    """
    ctx.obj = Options(as_json, yes, verbose)
    _setup_logging(verbose)
    _options_file_defaults(ctx)


def _options_file_defaults(ctx):
    """/etc/jvb-join/options gives defaults to join and server install (read when one of them
    runs); the command line wins."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.bridge.unattended import OptionsFileDefaults
    ctx.default_map = OptionsFileDefaults(Paths("/"), {"join": True, "server": {"install": True}})


def _setup_logging(verbose):
    """jvb-join's records and the warnings of the libraries it uses (python-debian, slixmpp) go to
    the log file, and to the screen only with -v: never through Python's last-resort printer,
    which would put a library's warning in the middle of a command's output."""
    logging.getLogger("jvbjoin").setLevel(logging.DEBUG)
    top = logging.getLogger()
    for old in [h for h in top.handlers if getattr(h, "jvbjoin", False)]:
        top.removeHandler(old)
    logging.captureWarnings(True)
    handlers = [logging.NullHandler()]  # a record no other handler takes ends here
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[-1].setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if os.geteuid() == 0 and os.path.isdir(os.path.dirname(LOG_FILE)):
        try:
            fd = os.open(LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            handlers.append(logging.StreamHandler(os.fdopen(fd, "a")))
        except OSError:
            pass
    for handler in handlers:
        handler.jvbjoin = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        top.addHandler(handler)


def not_built(what):
    raise NotBuiltError("'jvb-join {}' is not available in jvb-join {} yet.".format(what, __version__))


def read_token(argument, token_file, stdin=None, environ=None):
    """The token text from the argument, a file, stdin ('-') or JVB_JOIN_TOKEN, in that order.

    JVB_JOIN_TOKEN is removed from our environment once read, so no child process inherits it.
    Returns ``(text, source)``.
    """
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    given = [name for name, value in (("argument", argument), ("--token-file", token_file)) if value]
    if len(given) > 1:
        raise UsageError("Give the token once: as an argument or with --token-file, not both.")
    if argument == "-" or token_file == "-":
        text, source = stdin.read(), "stdin"
    elif argument:
        text, source = argument, "argument"
    elif token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise InputError("Cannot read the token file {}: {}".format(token_file, exc.strerror),
                             "Check the path and that you run jvb-join as root.") from None
        source = "file"
    elif environ.get("JVB_JOIN_TOKEN"):
        text, source = environ["JVB_JOIN_TOKEN"], "environment"
    else:
        raise UsageError("No join token given.",
                         "Pass it as 'jvb-join TOKEN', with --token-file FILE, on stdin with '-', "
                         "or in JVB_JOIN_TOKEN. Create one on the server with 'jvb-join token create'.")
    environ.pop("JVB_JOIN_TOKEN", None)
    return text, source


def repo_options(func):
    """Where the Jitsi packages come from: download.jitsi.org unless told otherwise (mirrors, labs)."""
    for option in reversed([
        click.option("--jitsi-repo-url", metavar="URL", help="Use this Jitsi package repository (default: download.jitsi.org)."),
        click.option("--jitsi-repo-suite", metavar="SUITE", help="Suite of --jitsi-repo-url (default: stable)."),
        click.option("--jitsi-repo-components", metavar="LIST", help="Components of --jitsi-repo-url (default: main)."),
        click.option("--jitsi-repo-key", type=click.Path(dir_okay=False), metavar="FILE",
                     help="OpenPGP key (binary keyring) that signs the Jitsi repository."),
        click.option("--lock-timeout", default=300.0, show_default=True, metavar="SECONDS",
                     help="How long to wait for another apt/dpkg run to finish."),
        click.option("--no-firewall", is_flag=True, help="Leave ufw alone."),
        click.option("--no-ssh", "no_ssh", is_flag=True,
                     help="This host is not reached over SSH: enable ufw even if no SSH port is found."),
        click.option("--allow-unsupported-release", is_flag=True, help="Try even on a release jvb-join does not support."),
        click.option("--firewall-cut-ok", is_flag=True,
                     help="Turn ufw on even if that cuts what this host serves to others today (named in the report)."),
    ]):
        func = option(func)
    return func


@cli.command()
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
    from jvbjoin.bridge import nat
    advertise_ip = nat.advertise_ip(advertise_ip)
    stun_servers = nat.stun_servers(stun_server)
    if local_ip and not advertise_ip:
        raise UsageError("--local-ip only goes with --advertise-ip.")
    if opts.token_text is not None:
        text, source = opts.token_text, "file"
        opts.token_text = None
    else:
        text, source = read_token(token, token_file)
    if source == "argument":
        click.echo("warning: a token on the command line is visible to other users of this host; "
                   "prefer --token-file, '-' (stdin) or JVB_JOIN_TOKEN.", err=True)
    from jvbjoin.formats.token import decode
    from jvbjoin.bridge.join import JoinOptions, join as run_join
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress

    parsed = decode(text)
    del text
    options = JoinOptions(dry_run=dry_run, verify_timeout=verify_timeout, lock_timeout=lock_timeout,
                          jitsi_repo_url=jitsi_repo_url, jitsi_repo_suite=jitsi_repo_suite,
                          jitsi_repo_components=jitsi_repo_components, jitsi_repo_key=jitsi_repo_key,
                          allow_unsupported_release=allow_unsupported_release, firewall=not no_firewall,
                          no_ssh=no_ssh, log_level=log_level, swappiness=swappiness,
                          adoptium_repo_url=adoptium_repo_url, adoptium_repo_key=adoptium_repo_key,
                          advertise_ip=advertise_ip, local_ip=local_ip,
                          stun_servers=stun_servers, firewall_cut_ok=firewall_cut_ok, confirm=_asker(opts))
    report = run_join(parsed, options, Paths("/"), Progress.for_output(opts.as_json))
    _emit(opts, report, show_diffs=dry_run)
    return _finish(report)


def _asker(opts):
    """A yes/no question on the terminal, or None when no one is there to answer it (no terminal,
    --yes, --json): the caller then refuses what needs an answer unless told otherwise."""
    import sys
    if opts.yes or opts.as_json or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    return lambda question: click.confirm(question, default=False, err=True)


@cli.command(hidden=True)
@click.pass_context
def firstboot(ctx):
    """Join once from /etc/jvb-join/token, deleting it first (run by jvb-join-firstboot.service)."""
    import time
    from jvbjoin.errors import TemporaryError
    from jvbjoin.system.paths import Paths
    from jvbjoin.bridge.unattended import UNATTENDED_LOCK_TIMEOUT, read_options, take_token_file

    paths = Paths("/")
    # The options first: a mistake there stops the join with the token file still in place.
    options = dict({"lock_timeout": UNATTENDED_LOCK_TIMEOUT},
                   **(read_options(paths) if os.path.lexists(paths.firstboot_token) else {}))
    text = take_token_file(paths)
    if text is None:
        click.echo("jvb-join firstboot: no {}, nothing to do.".format(paths.firstboot_token))
        return
    # A server that is not reachable yet at first boot, or a busy dpkg lock, is worth waiting for:
    # the token file is already gone, so giving up early would leave the host for a person to join.
    deadline = time.monotonic() + 900
    code = 0
    while True:
        ctx.obj.token_text = text
        try:
            ctx.invoke(join, **options)
            break
        except click.exceptions.Exit as done:  # joined, degraded (2): the report above says how
            code = done.exit_code
            break
        except TemporaryError as err:
            if time.monotonic() > deadline:
                _first_boot_failed()
                raise
            click.echo("jvb-join firstboot: {} Trying again in 30 s.".format(err.message), err=True)
            time.sleep(30)
        except JvbJoinError:
            _first_boot_failed()
            raise
    del text
    click.echo("jvb-join firstboot: this host joined{}; the token file was deleted.".format(
        " (degraded, see above)" if code else ""))
    _exit_with(code)


def _first_boot_failed():
    click.echo("jvb-join firstboot: the join failed and the host is as it was; the token file was deleted "
               "(it is never kept). Join with 'jvb-join --token-file FILE' once the cause below is fixed.", err=True)


def _emit(opts, report, show_diffs=False):
    from jvbjoin.cli.output import report_json, report_text
    click.echo(report_json(report) if opts.as_json else report_text(report, show_diffs))


def _finish(report):
    from jvbjoin.errors import EXIT_DEGRADED
    if report.degraded and not report.dry_run:
        raise click.exceptions.Exit(EXIT_DEGRADED)
    return None


@cli.group()
def server():
    """Prepare this host as a Jitsi Meet server that takes external bridges."""


@server.command("install")
@click.option("--domain", required=True, help="The meet domain, e.g. meet.example.com.")
@click.option("--cert", type=click.Choice(["self-signed", "own", "letsencrypt"]), default="self-signed",
              show_default=True, help="Where the web certificate comes from.")
@click.option("--cert-file", type=click.Path(dir_okay=False), help="Certificate for --cert own.")
@click.option("--key-file", type=click.Path(dir_okay=False), help="Key for --cert own.")
@click.option("--email", help="Contact address for --cert letsencrypt.")
@click.option("--acme-directory", metavar="URL",
              help="ACME directory for --cert letsencrypt (default: Let's Encrypt's).")
@click.option("--acme-ca-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="CA certificates to trust for --acme-directory (a private or test ACME server).")
@click.option("--web", type=click.Choice(["nginx", "apache"]), default="nginx", show_default=True)
@click.option("--local-bridge/--no-local-bridge", default=None,
              help="Run a bridge on the server itself (default: as chosen last time, else yes). "
                   "--no-local-bridge stops and disables it once other bridges are in the brewery.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@repo_options
@click.pass_obj
def server_install(opts, domain, cert, cert_file, key_file, email, web, local_bridge, dry_run,
                   jitsi_repo_url, jitsi_repo_suite, jitsi_repo_components, jitsi_repo_key, lock_timeout,
                   no_firewall, no_ssh, allow_unsupported_release, acme_directory=None, acme_ca_file=None,
                   firewall_cut_ok=False):
    """Install the Jitsi Meet server package set, ready for external bridges."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress
    from jvbjoin.server.install import ServerOptions, install

    options = ServerOptions(domain, cert, cert_file, key_file, email, web, local_bridge, dry_run,
                            jitsi_repo_url, jitsi_repo_suite, jitsi_repo_components, jitsi_repo_key,
                            lock_timeout, not no_firewall, no_ssh, allow_unsupported_release,
                            acme_directory=acme_directory,
                            acme_ca_file=os.path.abspath(acme_ca_file) if acme_ca_file else None,
                            firewall_cut_ok=firewall_cut_ok, confirm=_asker(opts))
    report = install(options, Paths("/"), Progress.for_output(opts.as_json))
    _emit(opts, report, show_diffs=dry_run)
    return _finish(report)


@server.command("tune")
@click.option("--domain", help="The meet domain (default: the only one on this server).")
@click.option("--start-audio-only/--no-start-audio-only", default=None,
              help="config.js startAudioOnly: join with video off.")
@click.option("--resolution", type=click.IntRange(90, 2160), metavar="HEIGHT",
              help="config.js resolution: the preferred video height, e.g. 480.")
@click.option("--disable-audio-levels/--enable-audio-levels", default=None,
              help="config.js disableAudioLevels: skip measuring audio levels (saves client CPU).")
@click.option("--open-bridge-channel", type=click.Choice(["websocket", "datachannel", "true"]), hidden=True,
              help="Obsolete: the web client has ignored config.js openBridgeChannel since 2020; refused.")
@click.option("--config", "config_settings", multiple=True, metavar="KEY=VALUE",
              help="Any other config.js key; VALUE is JSON (true, 480, \"x\") or else a string. Repeatable.")
@click.option("--interface", "interface_settings", multiple=True, metavar="KEY=VALUE",
              help="An interface_config.js key (jitsi-meet-web upgrades replace that file: tune again after). Repeatable.")
@click.option("--unset", "unset", multiple=True, metavar="KEY", help="Remove jvb-join's config.js line for KEY.")
@click.option("--unset-interface", multiple=True, metavar="KEY",
              help="Remove jvb-join's interface_config.js line for KEY.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the file diffs; change nothing.")
@click.pass_obj
def server_tune(opts, domain, start_audio_only, resolution, disable_audio_levels, open_bridge_channel,
                config_settings, interface_settings, unset, unset_interface, dry_run):
    """Client settings in config.js and interface_config.js, one marked line each."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress
    from jvbjoin.server import tune

    config, interface = {}, {}
    for text in config_settings:
        key, value = tune.parse_setting(text, "--config")
        config[key] = tune.js_value(value)
    named = (("startAudioOnly", start_audio_only), ("resolution", resolution),
             ("disableAudioLevels", disable_audio_levels),
             ("openBridgeChannel", True if open_bridge_channel == "true" else open_bridge_channel))
    for key, value in named:
        if value is not None:
            config[key] = tune.js_value(value)
    for text in interface_settings:
        key, value = tune.parse_setting(text, "--interface")
        interface[key] = tune.js_value(value)
    for key in unset:
        config[tune.check_key(key, "--unset")] = None
    for key in unset_interface:
        interface[tune.check_key(key, "--unset-interface")] = None
    options = tune.TuneOptions(domain, config, interface, dry_run)
    report = tune.tune(options, Paths("/"), Progress.for_output(opts.as_json))
    _emit(opts, report, show_diffs=dry_run)
    return _finish(report)


@server.command("colibri-ws")
@click.option("--dry-run", is_flag=True, help="Print the plan and the file diffs; change nothing.")
@click.pass_obj
def server_colibri_ws(opts, dry_run):
    """Bring nginx's colibri websocket routes in line with the tokens (the timer does it every minute)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress
    from jvbjoin.server import colibri_ws, tokens

    tokens.require_root()
    paths = Paths("/")
    report = colibri_ws.sync(paths, tokens.TokenStore(paths).load(), Progress.for_output(opts.as_json),
                             dry_run=dry_run)
    _emit(opts, report, show_diffs=dry_run)
    return _finish(report)


@server.command("turn")
@click.option("--domain", help="The meet domain (default: the only one on this server).")
@click.option("--host", "turn_host", metavar="FQDN",
              help="The TURN server's own name (default: as last time, else the meet domain).")
@click.option("--port", "turn_port", type=click.IntRange(1, 65535), metavar="PORT",
              help="STUN/TURN port, UDP and TCP (default: as last time, else 3478). 443 needs a TURN name "
                   "with its own address, where the web server does not listen.")
@click.option("--tls-port", "turn_tls_port", type=click.IntRange(1, 65535), metavar="PORT",
              help="TURNS (TLS) port clients are told (default: 5349; with --port 443, 443).")
@click.option("--cert", "turn_cert", type=click.Path(dir_okay=False), metavar="FILE",
              help="Certificate (PEM) for the TURN name (default: the web server's).")
@click.option("--key", "turn_key", type=click.Path(dir_okay=False), metavar="FILE", help="Its private key.")
@click.option("--no-firewall", is_flag=True, help="Leave ufw alone.")
@click.option("--lock-timeout", default=300.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the dpkg lock.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the file diffs (secret masked); change nothing.")
@click.pass_obj
def server_turn(opts, domain, turn_host, turn_port, turn_tls_port, turn_cert, turn_key, no_firewall, lock_timeout,
                dry_run):
    """A TURN server (coturn) for the clients, with prosody handing out its credentials."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress
    from jvbjoin.server.turn import TurnOptions, turn

    options = TurnOptions(domain, turn_host, turn_port, turn_tls_port, turn_cert, turn_key, dry_run,
                          not no_firewall, lock_timeout)
    report = turn(options, Paths("/"), Progress.for_output(opts.as_json))
    _emit(opts, report, show_diffs=dry_run)
    return _finish(report)


@cli.group()
def token():
    """Join tokens for new bridges (on the Jitsi Meet server)."""


@token.command("create")
@click.option("--ttl", default="24h", show_default=True, help="How long the token stays usable (e.g. 30m, 24h, 7d).")
@click.option("--name", help="A name for the bridge this token is for.")
@click.option("--host", help="The address bridges connect to (default: the meet domain).")
@click.option("--port", type=click.IntRange(1, 65535), default=5222, show_default=True, help="prosody's client port.")
@click.option("--jvb-version", metavar="VERSION", help="jitsi-videobridge2 version the bridge must install.")
@click.option("--allow-from", metavar="CIDR|any", help="Where the bridge may connect from (opens 5222 for it).")
@click.option("--print-join-command", is_flag=True, help="Print the whole 'jvb-join <token>' line.")
@click.option("--colibri-ws", metavar="ADDRESS",
              help="Legacy colibri websockets: the bridge gets its own server-id, and nginx here a route to "
                   "ADDRESS:9090 (the bridge's IP address as this server reaches it). Off by default.")
@click.pass_obj
def token_create(opts, ttl, name, host, port, jvb_version, allow_from, print_join_command, colibri_ws=None):
    """Make a bridge account and print its join token."""
    import json
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens
    from jvbjoin.formats.token import encode

    record, joined = tokens.create(Paths("/"), tokens.parse_ttl(ttl), name, host, port, jvb_version,
                                   allow_from=allow_from, colibri_ws=colibri_ws)
    text = encode(joined)
    if not allow_from and tokens.ufw_active():
        click.echo("note: ufw is active here; if the bridge cannot reach port {0} yet, allow it with "
                   "'jvb-join token create --allow-from ADDRESS' or 'ufw allow from ADDRESS to any port {0} "
                   "proto tcp'.".format(tokens.XMPP_PORT), err=True)
    if opts.as_json:
        click.echo(json.dumps({"id": record["id"], "name": record["name"], "expires": record["exp"],
                               "colibri_ws": record.get("colibri_ws"),
                               "token": text, "join_command": "jvb-join " + text}, indent=2))
    elif print_join_command:
        click.echo("jvb-join " + text)
    else:
        click.echo(text)


@token.command("list")
@click.pass_obj
def token_list(opts):
    """Tokens and bridge accounts with their state."""
    import json
    import time
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens

    items = tokens.list_tokens(Paths("/"))
    if opts.as_json:
        click.echo(json.dumps(items, indent=2))
        return
    fmt = "{:<10} {:<16} {:<20} {:<20} {:<8} {}"
    click.echo(fmt.format("ID", "NAME", "CREATED", "EXPIRES", "STATE", "NICKNAME"))
    for item in items:
        stamp = lambda t: time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
        click.echo(fmt.format(item["id"], item["name"] or "-", stamp(item["created"]), stamp(item["exp"]),
                              item["state"], item.get("nickname") or "-"))


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@click.pass_obj
def token_revoke(opts, token_id):
    """Revoke a token and take its bridge out of the brewery."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens

    record = tokens.revoke(Paths("/"), token_id)
    click.echo("revoked {} (account {}@{} deleted, its sessions closed)".format(
        record["id"], record["user"], record["domain"]))


@token.command("expire", hidden=True)
def token_expire():
    """Remove the accounts of unused tokens past their expiry (run by jvb-join-expire.timer)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens

    for token_id in tokens.expire(Paths("/")):
        click.echo("expired {}".format(token_id))


@cli.command()
@click.pass_obj
def bridges(opts):
    """The bridges in the brewery as jicofo sees them (on the server)."""
    from jvbjoin.server.bridges import command
    _exit_with(command(opts))


@cli.command()
@click.option("--ignore", multiple=True, metavar="ID", help="Skip the check with this id (repeatable).")
@click.option("--role", type=click.Choice(["bridge", "server"]), help="Check as this role (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="The results as JSON.")
@click.option("-v", "--verbose", count=True, help="Details and timing of every check.")
@click.pass_obj
def doctor(opts, ignore, role, as_json, verbose):
    """Check this host (bridge or server) and say what to fix.

    Exit status: 0 healthy, 2 warnings only, 1 at least one failure.
    """
    from jvbjoin.doctor.runner import command
    opts = Options(opts.as_json or as_json, opts.yes, opts.verbose + verbose)
    _exit_with(command(opts, ignore=ignore, role=role))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same facts as JSON.")
@click.pass_obj
def status(opts, as_json):
    """One screen: role, server, nickname, service, brewery presence, conferences."""
    from jvbjoin.bridge.status import command
    opts = Options(opts.as_json or as_json, opts.yes, opts.verbose)
    _exit_with(command(opts))


@cli.command()
@click.option("--drain", is_flag=True, help="Wait for conferences to end before stopping the bridge.")
@click.option("--timeout", default="1h", show_default=True, help="How long to wait while draining.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_obj
def leave(opts, drain, timeout, dry_run):
    """Take this bridge out cleanly: drain, stop, remove its account and config, keep a backup."""
    from jvbjoin.bridge.leave import command
    _exit_with(command(opts, drain=drain, timeout=timeout, dry_run=dry_run))


def _exit_with(code):
    """Commands that work out their own exit code (doctor: 0, 1 or 2) return it here."""
    if code:
        raise click.exceptions.Exit(code)


def main(argv=None):
    """Entry point: one handler turns every error into a message, a remedy and its exit code."""
    from jvbjoin.cli.outcome import run_command
    args = sys.argv[1:] if argv is None else list(argv)
    return run_command(args, lambda: cli.main(args=args, prog_name="jvb-join", standalone_mode=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
