"""The server's commands: server install, tune, colibri-ws and turn, and bridges."""

import os

import click

from jvbjoin.cli.common import asker, finish, repo_options


@click.group()
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
@click.option("--region", metavar="REGION",
              help="This server's region (a short name such as eu or us-east): jicofo selects bridges by "
                   "region and joins regions by relays; the server's own bridge gets it too.")
@click.option("--region-group", "region_groups", metavar="R1,R2[,...]", multiple=True,
              help="Regions near each other, for jicofo (repeat for more groups): a participant's bridge "
                   "is looked for in its group before other regions. Given once, these replace the "
                   "groups of earlier runs; without it they stay. Needs --region.")
@click.option("--no-regions", is_flag=True,
              help="Turn regions and relays off again: jicofo and the server's own bridge lose the "
                   "settings --region gave them.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@repo_options
@click.pass_obj
def server_install(opts, domain, cert, cert_file, key_file, email, web, local_bridge, dry_run,
                   jitsi_repo_url, jitsi_repo_suite, jitsi_repo_components, jitsi_repo_key, lock_timeout,
                   no_firewall, no_ssh, allow_unsupported_release, acme_directory=None, acme_ca_file=None,
                   firewall_cut_ok=False, region=None, no_regions=False, region_groups=()):
    """Install the Jitsi Meet server package set, ready for external bridges."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, emit_report
    from jvbjoin.server.install import ServerOptions, install

    options = ServerOptions(domain, cert, cert_file, key_file, email, web, local_bridge, dry_run,
                            jitsi_repo_url, jitsi_repo_suite, jitsi_repo_components, jitsi_repo_key,
                            lock_timeout, not no_firewall, no_ssh, allow_unsupported_release,
                            acme_directory=acme_directory,
                            acme_ca_file=os.path.abspath(acme_ca_file) if acme_ca_file else None,
                            firewall_cut_ok=firewall_cut_ok, confirm=asker(opts), region=region,
                            no_regions=no_regions,
                            region_groups=[[r.strip() for r in g.split(",") if r.strip()] for g in region_groups]
                            if region_groups else None)
    report = install(options, Paths("/"), Progress.for_output(opts.as_json))
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


@server.command("publish")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--lock-timeout", default=300.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another apt/dpkg run to finish.")
@click.pass_obj
def server_publish(opts, dry_run, lock_timeout):
    """Republish the bridges' package repository with the jvb-join installed here (the package does it
    after an upgrade; so does the next 'token create')."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, emit_report
    from jvbjoin.errors import UsageError
    from jvbjoin.server import repo, tokens

    tokens.require_root()
    paths = Paths("/")
    if not repo.published_here(paths):
        raise UsageError("This server publishes no package repository for its bridges yet.",
                         "Run 'jvb-join server install --domain D' (with nginx) first.")
    report = repo.refresh(paths, Progress.for_output(opts.as_json), dry_run=dry_run, lock_timeout=lock_timeout)
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


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
    from jvbjoin.cli.output import Progress, emit_report
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
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


@server.command("colibri-ws")
@click.option("--dry-run", is_flag=True, help="Print the plan and the file diffs; change nothing.")
@click.pass_obj
def server_colibri_ws(opts, dry_run):
    """Bring nginx's colibri websocket routes in line with the tokens (the timer does it every minute)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.cli.output import Progress, emit_report
    from jvbjoin.server import colibri_ws, tokens

    tokens.require_root()
    paths = Paths("/")
    report = colibri_ws.sync(paths, tokens.TokenStore(paths).load(), Progress.for_output(opts.as_json),
                             dry_run=dry_run)
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


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
    from jvbjoin.cli.output import Progress, emit_report
    from jvbjoin.server.turn import TurnOptions, turn

    options = TurnOptions(domain, turn_host, turn_port, turn_tls_port, turn_cert, turn_key, dry_run,
                          not no_firewall, lock_timeout)
    report = turn(options, Paths("/"), Progress.for_output(opts.as_json))
    emit_report(opts, report, show_diffs=dry_run)
    return finish(report)


@click.command()
@click.pass_obj
def bridges(opts):
    """The bridges in the brewery as jicofo sees them (on the server)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server.bridges import fleet
    from jvbjoin.cli.output import bridges_table, emit

    doc = fleet(Paths("/"))
    emit(opts, doc, lambda: bridges_table(doc))
