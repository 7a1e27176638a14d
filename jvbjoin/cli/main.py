"""The jvb-join command line: the group, its global flags, and main(). The commands live in
bridge_commands, server_commands, token_commands and doctor_command; what they show goes through
output, and how they end through outcome. Each command loads what it runs only when it runs."""

import logging
import os
import sys

import click

from jvbjoin import __version__
from jvbjoin.cli.bridge_commands import firstboot, join, leave, report_version, status
from jvbjoin.cli.common import Options
from jvbjoin.cli.doctor_command import doctor
from jvbjoin.cli import GLOBAL_FLAGS, global_flags_first
from jvbjoin.cli.outcome import LOG_FILE
from jvbjoin.cli.server_commands import bridges, server
from jvbjoin.cli.token_commands import token

log = logging.getLogger("jvbjoin")


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
# (and jvbjoin/cli/helptext.py can hold the top-level one).
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
    from jvbjoin.bridge.unattended import options_file_defaults
    ctx.default_map = options_file_defaults(Paths("/"))


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


cli.add_command(join)
cli.add_command(firstboot)
cli.add_command(report_version)
cli.add_command(server)
cli.add_command(token)
cli.add_command(bridges)
cli.add_command(doctor)
cli.add_command(status)
cli.add_command(leave)


def main(argv=None):
    """Entry point: one handler turns every error into a message, a remedy and its exit code."""
    from jvbjoin.cli.outcome import run_command
    args = sys.argv[1:] if argv is None else list(argv)
    return run_command(args, lambda: cli.main(args=args, prog_name="jvb-join", standalone_mode=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
