"""What jvb-join shows: every line goes through ``say``, a command's result through ``emit`` (text
for people, JSON for provisioning tools with --json); progress lines, run reports and the tables."""

import json
import sys
import time

import click



def say(text="", err=False):
    """Show a line (or lines) on stdout, or on stderr with ``err``: the one place output leaves."""
    click.echo(text, err=err)


def emit(opts, data, text, indent=2, sort_keys=True):
    """A command's result: ``data`` as JSON with --json, else ``text``. Either may be a function
    giving it, so only the form shown is made."""
    if opts.as_json:
        say(json.dumps(data() if callable(data) else data, indent=indent, sort_keys=sort_keys))
    else:
        say(text() if callable(text) else text)


def emit_report(opts, report, show_diffs=False):
    """The report of a run (join, server install, tune, ...)."""
    emit(opts, report.as_dict, lambda: report_text(report, show_diffs))


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
    from jvbjoin.engine.core import CHANGED, PLANNED, UNCHANGED  # not loaded for --help
    marks = {CHANGED: "changed", UNCHANGED: "ok", PLANNED: "would change"}
    lines = []
    verb = "Plan" if report.dry_run else "Result"
    lines.append("{} of 'jvb-join {}':".format(verb, report.action))
    for result in report.results:
        mark = marks.get(result.status, result.status)
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


def failure_json(error_id, exit_code, message, remedy=None, report=None):
    """The one JSON object a failed command prints with --json: the error's stable id, the exit
    code, the message and remedy, and (for a run that changed something) the steps rolled back."""
    out = report.as_dict() if report is not None else {"rolled_back": False}
    out["error"] = {"id": error_id, "message": message, "remedy": remedy}
    out["exit_code"] = exit_code
    steps = report.rolled_back_steps if report is not None else []
    out["rolled_back_steps"] = [{"step": step.name, "title": step.title} for step in steps]
    return json.dumps(out, indent=2, sort_keys=True)


def token_table(items):
    """`token list`: one line per token."""
    fmt = "{:<10} {:<16} {:<20} {:<20} {:<8} {}"
    lines = [fmt.format("ID", "NAME", "CREATED", "EXPIRES", "STATE", "NICKNAME")]
    for item in items:
        stamp = lambda t: time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
        lines.append(fmt.format(item["id"], item["name"] or "-", stamp(item["created"]), stamp(item["exp"]),
                                item["state"], item.get("nickname") or "-"))
    return "\n".join(lines)


def _yes_no(value):
    return "-" if value is None else ("yes" if value else "no")


def status_table(info):
    """`status`: one line per fact of this bridge or server."""
    if info["role"] == "bridge":
        rows = [
            ("role", "bridge"),
            ("server", "{} ({})".format(info["server"], info["meet"]) if info["server"] else "not joined"),
            ("account", info["account"] or "-"),
            ("nickname", info["nickname"] or "-"),
            ("service", info["service"]),
            ("in brewery", "yes, since {}".format(info["in_brewery_since"]) if info["in_brewery"] and info["in_brewery_since"]
             else _yes_no(info["in_brewery"]) + ("" if info["in_brewery"] else "   (see: jvb-join doctor)")),
            ("conferences", "-" if info["conferences"] is None else str(info["conferences"])),
            ("participants", "-" if info["participants"] is None else str(info["participants"])),
            ("drain", _yes_no(info["drain"])),
        ]
        servers = info.get("servers") or []
        if len(servers) > 1:
            # a bridge serving several servers (shards): one line each, the first one first
            rows.append(("servers", "{} (leave one: jvb-join leave --server NAME)".format(len(servers))))
            for item in servers:
                rows.append(("", "{}  {}  {}  in brewery: {}".format(
                    item["server"], item["address"], item["account"] or "-",
                    "yes, since {}".format(item["in_brewery_since"]) if item["in_brewery"] and item["in_brewery_since"]
                    else _yes_no(item["in_brewery"]))))
        if info["graceful_shutdown"]:
            rows.append(("shutdown", "graceful shutdown in progress"))
    else:
        seen = info["bridges_seen_by_jicofo"]
        rows = [
            ("role", "server"),
            ("domain", info["domain"]),
            ("prosody", info["prosody"]),
            ("jicofo", info["jicofo"]),
            ("local bridge", info["local_bridge"]),
            ("bridges", "jicofo does not answer ({})".format(info["jicofo_error"]) if seen is None
             else "{} seen by jicofo, {} operational".format(seen, info["bridges_operational"])),
        ]
        counts = {}
        for item in info["tokens"]:
            counts[item["state"]] = counts.get(item["state"], 0) + 1
        rows.append(("tokens", ", ".join("{} {}".format(n, s) for s, n in sorted(counts.items())) or "none"))
        for item in info["tokens"]:
            if item["state"] in ("unused", "joined"):
                rows.append(("", "{} {:<8} {} {}".format(item["id"], item["state"], item["user"], item["name"]).rstrip()))
    width = max(len(k) for k, _ in rows)
    return "\n".join("{:<{w}}  {}".format(k, v, w=width) for k, v in rows)


def bridges_table(doc):
    """`bridges`: one line per bridge jicofo sees, then the token accounts not in the brewery."""
    lines = []
    if not doc["bridges"]:
        lines.append("jicofo sees no bridge in {}.".format(doc["brewery"]))
    else:
        # regions and relay ids only where some bridge has them (server install / token create --region)
        relays = any(b.get("region") or b.get("relay_id") for b in doc["bridges"])
        rows = [("NICKNAME", "TOKEN", "ACCOUNT", "ADDRESS", "VERSION", "STRESS", "STATE")
                + (("REGION", "RELAY ID") if relays else ())]
        for b in doc["bridges"]:
            token = b["token"] and "{} ({})".format(b["token"], b["token_name"] or "-") or b["token_name"] or "-"
            stress = "-" if b["stress"] is None else "{:.2f}".format(b["stress"])
            rows.append((b["nickname"], token, b["account"] or "?", b["address"] or "-", b["version"] or "-",
                         stress, b["state"]) + ((b.get("region") or "-", b.get("relay_id") or "-") if relays else ()))
        # columns as wide as their widest value (nicknames of the shared account are UUIDs)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [row[i].rjust(widths[i]) if i == 5 else row[i].ljust(widths[i]) for i in range(len(row))]
            lines.append("  ".join(cells).rstrip())
    if doc["not_connected"]:
        lines.append("")
        lines.append("Token accounts not in the brewery:")
        for t in doc["not_connected"]:
            lines.append("  {} ({}) {} {}{}".format(t["token"], t["token_name"] or "-", t["account"], t["state"],
                                                    " last seen as {}".format(t["nickname"]) if t["nickname"] else ""))
    return "\n".join(lines)
