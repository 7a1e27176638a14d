"""Checks as data, and the runner: every check in its own thread, each with a time limit.

A check is a function of the shared :class:`Facts` that returns a :class:`Result`. A check may
name checks it ``requires``: if one of them failed (or did not finish), it is skipped with that
reason instead of reporting the same cause a second time, so a fault shows as one failure.
"""

import threading
import time

from jvbjoin.errors import JvbJoinError

OK, WARN, FAIL, SKIPPED = "ok", "warn", "fail", "skipped"


class Result:
    """What a check found: a status, a one-line detail, a remedy (a command when there is one) and,
    for ``-v``, more lines of detail."""

    def __init__(self, status, detail, remedy=None, details=()):
        self.status = status
        self.detail = detail
        self.remedy = remedy
        self.details = list(details)
        self.id = None
        #: the failed checks that kept this one from running (a skip for that reason blocks in turn)
        self.blocked_by = []
        self.title = None
        self.group = None
        self.seconds = None

    def as_dict(self):
        return {"id": self.id, "title": self.title, "group": self.group, "status": self.status,
                "detail": self.detail, "remedy": self.remedy, "details": self.details,
                "seconds": None if self.seconds is None else round(self.seconds, 3)}


def ok(detail, details=()):
    return Result(OK, detail, None, details)


def warn(detail, remedy=None, details=()):
    return Result(WARN, detail, remedy, details)


def fail(detail, remedy=None, details=()):
    return Result(FAIL, detail, remedy, details)


def skipped(reason, details=()):
    return Result(SKIPPED, reason, None, details)


class Check:
    """A check's stable id, its title and group for the report, and the function that runs it."""

    def __init__(self, check_id, title, group, func, requires=(), timeout=3.0):
        self.id = check_id
        self.title = title
        self.group = group
        self.func = func
        self.requires = tuple(requires)
        self.timeout = timeout


class Facts:
    """Things several checks need (a unit's state, the bridge's metrics, the server's certificate),
    computed once per run by whichever check asks first; an error is kept and raised again."""

    def __init__(self, paths):
        self.paths = paths
        self._values = {}
        self._locks = {}
        self._guard = threading.Lock()

    def put(self, key, value):
        """Give a fact its value up front (tests, and callers that already know it)."""
        with self._guard:
            self._values[key] = (True, value)

    def get(self, key, compute):
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, compute())
                except Exception as exc:  # handed to every caller, like the value would be
                    self._values[key] = (False, exc)
            good, value = self._values[key]
        if not good:
            raise value
        return value


def _run_one(check, facts):
    started = time.monotonic()
    try:
        result = check.func(facts)
    except JvbJoinError as exc:
        result = fail(exc.message.splitlines()[0], exc.remedy, exc.message.splitlines()[1:])
    except Exception as exc:  # a check that breaks must not hide the other checks
        result = fail("the check could not run ({}: {})".format(type(exc).__name__, exc))
    result.seconds = time.monotonic() - started
    return result


def run_checks(checks, facts, ignore=(), total=5.5):
    """Run ``checks`` concurrently; return their results in the checks' order.

    Each check has its own ``timeout`` counted from when it may start; the whole run never takes
    longer than ``total`` seconds: a check still running then is reported as failed (timed out).
    """
    ignore = set(ignore)
    by_id = {c.id: c for c in checks}
    results = {}
    done = {c.id: threading.Event() for c in checks}
    started = time.monotonic()
    end = started + total

    def worker(check):
        blocked = []
        for dep in check.requires:
            if dep not in by_id or dep in ignore:
                continue
            if not done[dep].wait(max(0.0, end - time.monotonic())):
                blocked.append(dep)
            elif results[dep].status == FAIL or results[dep].blocked_by:
                blocked.append(dep)
        if blocked:
            causes = []
            for dep in blocked:
                for cause in (results[dep].blocked_by if dep in results and results[dep].blocked_by else [dep]):
                    if cause not in causes:
                        causes.append(cause)
            result = skipped("not checked: {} failed".format(", ".join(causes)))
            result.blocked_by = causes
            result.seconds = 0.0
        else:
            result = _run_one(check, facts)
        results.setdefault(check.id, result)
        done[check.id].set()

    deadlines = {}
    for check in checks:
        if check.id in ignore:
            result = skipped("ignored (--ignore {})".format(check.id))
            result.seconds = 0.0
            results[check.id] = result
            done[check.id].set()
            continue
        wait_for = max([deadlines.get(d, started) for d in check.requires] + [started])
        deadlines[check.id] = min(end, wait_for + check.timeout)
        threading.Thread(target=worker, args=(check,), name="doctor-" + check.id, daemon=True).start()

    for check in checks:
        if check.id in ignore:
            continue
        if not done[check.id].wait(max(0.0, deadlines[check.id] - time.monotonic())):
            late = fail("no answer within {:.0f} s".format(deadlines[check.id] - started),
                        "Run 'jvb-join doctor -v' again; if it stays slow, see what {} waits for.".format(check.title))
            late.seconds = time.monotonic() - started
            results.setdefault(check.id, late)
            done[check.id].set()

    out = []
    for check in checks:
        result = results[check.id]
        result.id, result.title, result.group = check.id, check.title, check.group
        out.append(result)
    return out


def exit_code(results):
    """DESIGN §5: 0 healthy, 2 warnings only, 1 any failure."""
    statuses = {r.status for r in results}
    if FAIL in statuses:
        return 1
    if WARN in statuses:
        return 2
    return 0
