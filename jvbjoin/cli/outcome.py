"""How a command ends for the operator: its exit code, and for a failure the message and remedy on
stderr and, with --json, one JSON object on stdout naming the error's stable id."""

import logging
import sys

import click

from jvbjoin.errors import (
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, INTERNAL_ERROR_ID, INTERRUPTED_ID, JvbJoinError, UsageError)
from jvbjoin.system.files import NO_SPACE, disk_full
from jvbjoin.cli.output import failure_json, say

log = logging.getLogger("jvbjoin")

LOG_FILE = "/var/log/jvb-join/jvb-join.log"
VERBOSE = ("-v", "--verbose", "-vv", "-vvv")


def run_command(args, invoke):
    """Run ``invoke`` (click in non-standalone mode) and turn what it raised into an exit code."""
    verbose = any(a in VERBOSE for a in args)
    try:
        # Outside standalone mode click hands back the code of an Exit raised in a command
        # (exit_with, finish) as the return value instead of raising it.
        code = invoke()
        if isinstance(code, int) and not isinstance(code, bool):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            # click 8.2 and later (Debian 13) make a bare group an error; 8.1 (Debian 12) and the
            # fast path of jvbjoin.cli.entry print the help and succeed: one behaviour on every release
            say(exc.ctx.get_help())
            return EXIT_OK
        return fail(args, EXIT_USAGE, UsageError.error_id, exc.format_message(), UsageError.default_remedy)
    except click.exceptions.Abort:
        return fail(args, EXIT_FAILED, INTERRUPTED_ID, "aborted")
    except JvbJoinError as err:
        log.debug("error", exc_info=True)
        return _with_traceback(verbose, err, fail(args, err.exit_code, err.error_id, err.message, err.remedy, err,
                                                  prefix="error: "))
    except KeyboardInterrupt as exc:
        return fail(args, 130, INTERRUPTED_ID, "interrupted", exc=exc)
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            return internal_error(args, exc, verbose)
        # a write that did not go through files.write_atomic (a folder, a log)
        err = disk_full(exc.filename or "/")
        return fail(args, err.exit_code, err.error_id, err.message, err.remedy, exc, prefix="error: ")
    except Exception as exc:
        return internal_error(args, exc, verbose)
    return EXIT_OK


def fail(args, code, error_id, message, remedy=None, exc=None, prefix=""):
    """Say why a command failed: the message and remedy on stderr, and with --json one object on
    stdout (see output.failure_json). Returns the exit code."""
    say("jvb-join: {}{}".format(prefix, message), err=True)
    if remedy:
        say("  {}".format(remedy), err=True)
    if "--json" in args:
        say(failure_json(error_id, code, message, remedy, getattr(exc, "report", None)))
    return code


def internal_error(args, exc, verbose):
    """An error jvb-join has no words for (a bug): say so without echoing data that may hold a secret."""
    log.error("internal error", exc_info=exc)
    code = fail(args, EXIT_FAILED, INTERNAL_ERROR_ID, "internal error ({}); the details are in {} "
                "(or run again with -v).".format(type(exc).__name__, LOG_FILE), exc=exc)
    return _with_traceback(verbose, exc, code)


def _with_traceback(verbose, exc, code):
    if verbose:
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return code
