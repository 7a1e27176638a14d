"""What the commands share: the global options, the repository options of join and server install,
the yes/no question, and how a command's exit code reaches the shell."""

import sys

import click

from jvbjoin.errors import EXIT_DEGRADED


class Options:
    """Global options every command sees."""

    def __init__(self, as_json=False, yes=False, verbose=0):
        self.as_json = as_json
        self.yes = yes
        self.verbose = verbose
        self.token_text = None  # set by `firstboot`, which read the token from its file already


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


def asker(opts):
    """A yes/no question on the terminal, or None when no one is there to answer it (no terminal,
    --yes, --json): the caller then refuses what needs an answer unless told otherwise."""
    if opts.yes or opts.as_json or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    return lambda question: click.confirm(question, default=False, err=True)


def finish(report):
    """A run that is done but degraded exits 2; a dry run never does."""
    if report.degraded and not report.dry_run:
        raise click.exceptions.Exit(EXIT_DEGRADED)
    return None


def exit_with(code):
    """Commands that work out their own exit code (doctor: 0, 1 or 2) return it here."""
    if code:
        raise click.exceptions.Exit(code)
