"""Where a join token comes from: the command line, a file, stdin or the environment."""

import os
import sys

from jvbjoin.errors import InputError, UsageError


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
