"""The doctor's report for people (grouped lines, a mark per check, the fix under each problem)
and for programs (JSON of the same results)."""

import json

from jvbjoin.doctor.core import FAIL, OK, SKIPPED, WARN

MARKS = {OK: "[ ok ]", WARN: "[warn]", FAIL: "[FAIL]", SKIPPED: "[skip]"}


def text(role, subject, results, verbose=False, seconds=None):
    lines = ["jvb-join doctor: {} {}".format(role, subject).rstrip()]
    group = None
    width = max([len(r.id) for r in results] + [10])
    for result in results:
        if result.group != group:
            group = result.group
            lines.append("")
            lines.append(group)
        lines.append("  {} {:<{w}}  {}".format(MARKS[result.status], result.id, result.detail, w=width))
        pad = " " * (9 + width)
        if result.status in (FAIL, WARN) and result.remedy:
            lines.append("{}fix: {}".format(pad, result.remedy))
        if verbose:
            for detail in result.details:
                lines.append("{}{}".format(pad, detail))
            if result.seconds is not None:
                lines.append("{}({:.2f} s)".format(pad, result.seconds))
    failures = sum(1 for r in results if r.status == FAIL)
    warnings = sum(1 for r in results if r.status == WARN)
    lines.append("")
    if not failures and not warnings:
        lines.append("No problems found.")
    else:
        lines.append("Doctor found {} failure(s) and {} warning(s). To turn a check off: "
                     "jvb-join doctor --ignore ID.".format(failures, warnings))
    if seconds is not None and verbose:
        lines.append("Checked in {:.2f} s.".format(seconds))
    return "\n".join(lines)


def as_json(role, subject, results, code, seconds=None):
    return json.dumps(as_dict(role, subject, results, code, seconds), indent=2, sort_keys=True)


def as_dict(role, subject, results, code, seconds=None):
    return {
        "role": role,
        "subject": subject,
        "exit_code": code,
        "healthy": code == 0,
        "failures": [r.id for r in results if r.status == FAIL],
        "warnings": [r.id for r in results if r.status == WARN],
        "checks": [r.as_dict() for r in results],
        "seconds": None if seconds is None else round(seconds, 3),
    }
