"""Progress lines and run reports, for people (text) and for provisioning tools (JSON)."""

import json
import sys
import time

from jvbjoin.engine.core import CHANGED, PLANNED, UNCHANGED

MARKS = {CHANGED: "changed", UNCHANGED: "ok", PLANNED: "would change"}


class Progress:
    """Progress of long steps on stderr: short lines on a terminal, timestamped lines otherwise."""

    def __init__(self, stream=None, quiet=False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()

    @classmethod
    def for_output(cls, as_json):
        """Progress for a command: silent when JSON goes to a pipe and no one watches stderr."""
        return cls(quiet=as_json and not sys.stderr.isatty())

    def __call__(self, message):
        if self.quiet:
            return
        if self.tty:
            line = "[{:>4.0f}s] {}".format(time.monotonic() - self.started, message)
        else:
            line = "{} {}".format(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), message)
        self.stream.write(line + "\n")
        self.stream.flush()


def report_text(report, show_diffs=False):
    """The report of a run as lines of text."""
    lines = []
    verb = "Plan" if report.dry_run else "Result"
    lines.append("{} of 'jvb-join {}':".format(verb, report.action))
    for result in report.results:
        mark = MARKS.get(result.status, result.status)
        lines.append("  {:<13} {}".format(mark, result.step.title))
        for change in result.changes:
            lines.append("                - {}".format(change.summary))
            if show_diffs and change.diff:
                lines.extend("                  " + l for l in change.diff.rstrip("\n").splitlines())
    for item in report.degraded:
        lines.append("  {:<13} {}".format("degraded", item))
    changed = len(report.changed)
    if report.dry_run:
        planned = sum(1 for r in report.results if r.status == PLANNED)
        lines.append("{} step(s) would change; nothing was changed (dry run).".format(planned))
    else:
        lines.append("{} step(s) changed, {} already right{}.".format(
            changed, len(report.results) - changed,
            ", {} degraded".format(len(report.degraded)) if report.degraded else ""))
    return "\n".join(lines)


def report_json(report):
    return json.dumps(report.as_dict(), indent=2, sort_keys=True)


def failure_json(error_id, exit_code, message, remedy=None, report=None):
    """The one JSON object a failed command prints with --json: the error's stable id, the exit
    code, the message and remedy, and (for a run that changed something) the steps rolled back."""
    out = report.as_dict() if report is not None else {"rolled_back": False}
    out["error"] = {"id": error_id, "message": message, "remedy": remedy}
    out["exit_code"] = exit_code
    steps = report.rolled_back_steps if report is not None else []
    out["rolled_back_steps"] = [{"step": step.name, "title": step.title} for step in steps]
    return json.dumps(out, indent=2, sort_keys=True)
