"""`jvb-join token`: join tokens for new bridges, made and revoked on the server."""

import click

from jvbjoin.cli.output import emit, say


@click.group()
def token():
    """Join tokens for new bridges (on the Jitsi Meet server)."""


@token.command("create")
@click.option("--ttl", default="24h", show_default=True, help="How long the token stays usable (e.g. 30m, 24h, 7d).")
@click.option("--name", help="A name for the bridge this token is for (with --count: NAME-01, NAME-02, ...).")
@click.option("--host", help="The address bridges connect to (default: the meet domain).")
@click.option("--port", type=click.IntRange(1, 65535), default=5222, show_default=True, help="prosody's client port.")
@click.option("--jvb-version", metavar="VERSION", help="jitsi-videobridge2 version the bridge must install.")
@click.option("--allow-from", metavar="CIDR|any", help="Where the bridge may connect from (opens 5222 for it).")
@click.option("--print-join-command", is_flag=True,
              help="Print one line that, run as root on a bare bridge host, installs jvb-join from this "
                   "server's repository and joins with the token.")
@click.option("--colibri-ws", metavar="ADDRESS",
              help="Legacy colibri websockets: the bridge gets its own server-id, and nginx here a route to "
                   "ADDRESS:9090 (the bridge's IP address as this server reaches it). Off by default.")
@click.option("--region", metavar="REGION",
              help="The bridge's relay region (a short name such as eu or us-east): jicofo places each "
                   "conference near its participants and joins regions by bridge-to-bridge relays.")
@click.option("--count", type=click.IntRange(1, None), metavar="N",
              help="Make N tokens at once (one prosody reload for all), one per line.")
@click.option("--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the tokens to FILE (a new file, mode 0600) instead of printing them.")
@click.pass_obj
def token_create(opts, ttl, name, host, port, jvb_version, allow_from, print_join_command, colibri_ws=None,
                 region=None, count=None, output=None):
    """Make a bridge account and print its join token."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import repo, tokens
    from jvbjoin.formats.token import encode
    from jvbjoin.errors import JvbJoinError, UsageError

    if count and colibri_ws:
        raise UsageError("--colibri-ws names one bridge's address; it cannot go with --count.",
                         "Make the tokens of websocket bridges one at a time.")
    if output:
        tokens.check_output(output)
    paths = Paths("/")
    if repo.published_here(paths) and repo.stale(paths):
        say("jvb-join was upgraded here: republishing the bridges' repository", err=True)
        try:
            repo.refresh(paths, lambda line: say("  " + line, err=True))
        except JvbJoinError as exc:  # the repository as it was still installs a working jvb-join
            say("warning: {} {} Bridges get the version published before.".format(exc.message, exc.remedy or ""),
                err=True)
    if count:
        made = tokens.create_batch(paths, count, tokens.parse_ttl(ttl), name, host, port, jvb_version,
                                   allow_from=allow_from, region=region)
    else:
        made = [tokens.create(paths, tokens.parse_ttl(ttl), name, host, port, jvb_version,
                              allow_from=allow_from, colibri_ws=colibri_ws, region=region)]
    texts = [encode(joined) for _, joined in made]
    commands = [repo.join_command(paths, record["host"], text) for (record, _), text in zip(made, texts)]
    if None in commands:
        commands = ["jvb-join " + text for text in texts]
        if print_join_command:
            say("note: this server publishes no repository for bridges (nginx only; 'jvb-join server "
                "install' makes it): install jvb-join on the bridge first.", err=True)
    lines = commands if print_join_command else texts
    if not allow_from and tokens.ufw_active():
        say("note: ufw is active here; if the bridge cannot reach port {0} yet, allow it with "
            "'jvb-join token create --allow-from ADDRESS' or 'ufw allow from ADDRESS to any port {0} "
            "proto tcp'.".format(tokens.XMPP_PORT), err=True)
    if output:
        tokens.write_output(output, lines)
    items = [{"id": record["id"], "name": record["name"], "expires": record["exp"],
              "colibri_ws": record.get("colibri_ws"), "region": record.get("region")} for record, _ in made]
    if not output:
        for item, text, command in zip(items, texts, commands):
            item.update(token=text, join_command=command)
    if output:
        emit(opts, {"output": output, "tokens": items},
             "{} token(s) written to {} (mode 0600)".format(len(items), output), sort_keys=False)
    elif count:
        emit(opts, items, "\n".join(lines), sort_keys=False)
    else:
        emit(opts, items[0], lines[0], sort_keys=False)


@token.command("list")
@click.pass_obj
def token_list(opts):
    """Tokens and bridge accounts with their state."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens
    from jvbjoin.cli.output import token_table

    items = tokens.list_tokens(Paths("/"))
    emit(opts, items, lambda: token_table(items), sort_keys=False)


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@click.pass_obj
def token_revoke(opts, token_id):
    """Revoke a token and take its bridge out of the brewery."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens

    record = tokens.revoke(Paths("/"), token_id)
    say("revoked {} (account {}@{} deleted, its sessions closed)".format(
        record["id"], record["user"], record["domain"]))


@token.command("expire", hidden=True)
def token_expire():
    """Remove the accounts of unused tokens past their expiry (run by jvb-join-expire.timer)."""
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import tokens

    for token_id in tokens.expire(Paths("/")):
        say("expired {}".format(token_id))
