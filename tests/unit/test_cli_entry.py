"""The executable's fast paths give exactly what the full command line gives."""

import io
from contextlib import redirect_stdout

import pytest

from jvbjoin import __version__
from jvbjoin.cli import entry
from jvbjoin.cli.main import main as cli_main


def output(func, args):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = func(args)
    return rc, out.getvalue()


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_fast_help_is_what_click_renders(args):
    """If this fails, the commands changed: run scripts/gen-help and commit jvbjoin/cli/helptext.py."""
    assert output(entry.main, args) == output(cli_main, args)


def test_fast_version_is_what_click_prints():
    assert output(entry.main, ["--version"]) == output(cli_main, ["--version"]) == (0, "jvb-join {}\n".format(__version__))


def test_everything_else_goes_to_the_command_line(capsys):
    assert entry.main(["--json", "--version"]) == 0
    assert capsys.readouterr().out == "jvb-join {}\n".format(__version__)
    assert entry.main(["token", "--help"]) == 0
    assert "Join tokens for new bridges" in capsys.readouterr().out
