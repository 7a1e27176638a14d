"""The bridge's logging: console only (journald keeps it), at the level the operator chose."""

import re

from jvbjoin.errors import UsageError
from jvbjoin.formats import javaprops
from jvbjoin.formats.javaprops import split_lines
from jvbjoin.bridge.steps.config import EditStep

LEVELS = ("OFF", "SEVERE", "WARNING", "INFO", "CONFIG", "FINE", "FINER", "FINEST", "ALL")
FILE_HANDLER = "java.util.logging.FileHandler"
CONSOLE_HANDLER = "java.util.logging.ConsoleHandler"

def wanted_level(ctx):
    level = str(ctx.run.options.log_level or "INFO").upper()
    if level not in LEVELS:
        raise UsageError("unknown log level {!r}".format(level),
                         "Use one of: {}.".format(", ".join(LEVELS)))
    return level


def edit_logging(text, level):
    """logging.properties with no FileHandler in ``handlers=`` and ``.level=<level>``; every
    other line byte for byte, and a line already right is left as it is."""
    out = []
    seen_level = False
    groups = javaprops.logical_lines(split_lines(text))
    for group in groups:
        found = javaprops.locate(group)
        key, head, value = found if found else (None, None, None)
        new = None
        if key == "handlers":
            handlers = [h for h in re.split(r"[\s,]+", value) if h]
            kept = [h for h in handlers if h != FILE_HANDLER]
            if kept != handlers:
                new = ", ".join(kept or [CONSOLE_HANDLER])
        elif key == ".level":
            seen_level = True
            if value != level:
                new = level
        if new is None:
            out.extend(group)
            continue
        last = group[-1].rstrip("\r\n")
        trailing = last[len(last.rstrip(" \t\f")):] if len(group) == 1 else ""
        out.append(head + new + trailing + group[-1][len(last):])
    if not seen_level:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n"
        if groups and javaprops.continues_at_end(groups[-1]):
            # a blank line ends the admin's continued line, else it would take the new one in; with
            # that line's own end, so that a CR end does not become CR LF
            out.append(out[-1][len(out[-1].rstrip("\r\n")):])
        out.append(".level={}\n".format(level))
    return "".join(out)


class LoggingLevel(EditStep):
    name = "logging"
    title = "bridge logging level"
    path_name = "jvb_logging"
    missing_summary = "set the log level if the package's file needs it"
    restarts = "bridge"
    no_inverse = "the logging level stays as set"

    def edit(self, ctx, text):
        return edit_logging(text, wanted_level(ctx))
