"""The bridge's logging: console only (journald keeps it), at the level the operator chose."""

import re

from jvbjoin.errors import UsageError
from jvbjoin.bridge.steps.config import _EditStep, split_lines

LEVELS = ("OFF", "SEVERE", "WARNING", "INFO", "CONFIG", "FINE", "FINER", "FINEST", "ALL")
FILE_HANDLER = "java.util.logging.FileHandler"
CONSOLE_HANDLER = "java.util.logging.ConsoleHandler"

# a Java properties key ends at '=', ':' or white space
_HANDLERS_RE = re.compile(r"^(\s*handlers(?:\s*[=:]\s*|\s+))(.*?)(\s*)$")
_LEVEL_RE = re.compile(r"^(\s*\.level(?:\s*[=:]\s*|\s+))(\S*)(\s*)$")


def wanted_level(ctx):
    level = str(ctx.run.options.log_level or "INFO").upper()
    if level not in LEVELS:
        raise UsageError("unknown log level {!r}".format(level),
                         "Use one of: {}.".format(", ".join(LEVELS)))
    return level


def edit_logging(text, level):
    """logging.properties with no FileHandler in ``handlers=`` and ``.level=<level>``; every
    other line byte for byte, and a line already right is left as it is."""
    lines = split_lines(text)
    seen_level = False
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        match = _HANDLERS_RE.match(body)
        if match:
            handlers = [h for h in re.split(r"[\s,]+", match.group(2)) if h]
            kept = [h for h in handlers if h != FILE_HANDLER]
            if kept != handlers:
                lines[i] = match.group(1) + ", ".join(kept or [CONSOLE_HANDLER]) + match.group(3) + end
            continue
        match = _LEVEL_RE.match(body)
        if match:
            seen_level = True
            if match.group(2) != level:
                lines[i] = match.group(1) + level + match.group(3) + end
    if not seen_level:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        lines.append(".level={}\n".format(level))
    return "".join(lines)


class LoggingLevel(_EditStep):
    name = "logging"
    title = "bridge logging level"
    path_name = "jvb_logging"
    missing_summary = "set the log level if the package's file needs it"
    restarts = "bridge"
    no_inverse = "the logging level stays as set"

    def edit(self, ctx, text):
        return edit_logging(text, wanted_level(ctx))
