"""Preflight, plan, apply with a journal, verify, report: the sequence every jvb-join run follows.

A step looks at the host with a read-only ``check()`` and returns the changes it wants. The plan is
the list of every step's changes; ``--dry-run`` prints it and stops. ``apply`` then makes the changes
one by one, and before each one it records in the journal how to undo it. If anything fails (a
step, the verification, or a SIGTERM/SIGINT) the journal is replayed in reverse, so the host is back
to where it was, and the run exits 1.
"""

import logging
import signal
import sys
import time

from jvbjoin.engine.context import Context
from jvbjoin.engine.run import Run
from jvbjoin.errors import INTERRUPTED_ID, JvbJoinError, RollbackError, StepError

log = logging.getLogger(__name__)

# Outcomes of a step in the report.
CHANGED = "changed"
UNCHANGED = "unchanged"
DEGRADED = "degraded"
PLANNED = "planned"


class Change:
    """One thing a step would change on the host.

    ``kind`` is what it touches ("file", "package", "firewall", "service", ...), ``target`` which
    one, ``summary`` one line for the operator, ``diff`` an optional unified diff. ``data`` is for
    the step that made it (e.g. the new file content); it is never printed.
    """

    __slots__ = ("kind", "target", "summary", "diff", "data")

    def __init__(self, kind, target, summary, diff=None, data=None):
        self.kind = kind
        self.target = target
        self.summary = summary
        self.diff = diff
        self.data = data

    def as_dict(self):
        out = {"kind": self.kind, "target": self.target, "summary": self.summary}
        if self.diff:
            out["diff"] = self.diff
        return out

    def __repr__(self):
        return "Change({}, {!r}, {!r})".format(self.kind, self.target, self.summary)


class Step:
    """A unit of change. Subclasses declare ``name`` (the step's id, unique within a command),
    ``title``, ``restarts`` and ``inverse`` or ``no_inverse``, and implement check and apply.

    ``check(ctx)`` must not change anything: it returns a list of :class:`Change` (empty when the
    host is already right). ``apply(ctx, changes, journal)`` makes those changes, calling
    ``journal.record(description, undo)`` *before* each one. A step that could only partly do its
    work (e.g. sysctls in a container) adds a line to ``ctx.degraded`` instead of failing.
    """

    name = "step"
    title = "a step"
    #: a service whose restart this step's changes call for (e.g. "bridge"); see Context.changed
    restarts = None
    #: the step class that takes this step's work back out when the host leaves (``jvb-join leave``)
    inverse = None
    #: why the step has no inverse, when it has none
    no_inverse = None
    #: an inverse's place among the others when they are run (lower first; equal ones in the order
    #: of the steps they undo)
    leave_order = 0

    def check(self, ctx):
        raise NotImplementedError

    def apply(self, ctx, changes, journal):
        raise NotImplementedError

    def __repr__(self):
        return "<step {}>".format(self.name)


class Journal:
    """Undo actions in the order the changes were made; replayed in reverse by :meth:`rollback`."""

    def __init__(self):
        self._entries = []

    def __len__(self):
        return len(self._entries)

    def record(self, description, undo):
        """Remember how to undo a change that is about to be made. Call it before the change."""
        self._entries.append((description, undo))

    def rollback(self):
        """Undo everything recorded, newest first. Returns the descriptions that could not be undone."""
        failed = []
        while self._entries:
            description, undo = self._entries.pop()
            try:
                log.info("undo: %s", description)
                undo()
            except Exception as exc:  # keep undoing the rest: a half rollback is the worst outcome
                log.error("could not undo %s: %s", description, exc, exc_info=True)
                failed.append(description)
        return failed

    def forget(self):
        """The run succeeded: nothing is to be undone any more."""
        self._entries = []


class Interrupted(JvbJoinError):
    """SIGTERM or SIGINT arrived while changes were being made."""

    error_id = INTERRUPTED_ID

    def __init__(self, signum):
        name = signal.Signals(signum).name if hasattr(signal, "Signals") else str(signum)
        super().__init__("interrupted by {}".format(name),
                         "The changes made so far were undone; run the same command again.")


class StepResult:
    __slots__ = ("step", "status", "changes", "detail", "seconds")

    def __init__(self, step, status, changes, detail=None, seconds=None):
        self.step = step
        self.status = status
        self.changes = changes
        self.detail = detail
        self.seconds = seconds

    def as_dict(self):
        out = {"step": self.step.name, "title": self.step.title, "status": self.status,
               "changes": [c.as_dict() for c in self.changes]}
        if self.detail:
            out["detail"] = self.detail
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 3)
        return out


class Report:
    """What a run did, step by step; rendered as text or JSON by the CLI."""

    def __init__(self, action):
        self.action = action
        self.results = []
        self.degraded = []
        self.verified = None
        self.dry_run = False
        self.rolled_back = False
        self.error = None
        self.started = time.time()
        self.finished = None
        #: where the time went: "preflight" and "verify" (the steps have their own)
        self.seconds = {}
        #: the step whose changes were being made when the run stopped
        self.applying = None

    @property
    def rolled_back_steps(self):
        """The steps whose changes a failed run undid, in the order they were made."""
        if not self.rolled_back:
            return []
        steps = [r.step for r in self.results if r.status == CHANGED]
        if self.applying is not None and self.applying not in steps:
            steps.append(self.applying)
        return steps

    @property
    def changed(self):
        return [r for r in self.results if r.status == CHANGED]

    def as_dict(self):
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "steps": [r.as_dict() for r in self.results],
            "changed": len(self.changed),
            "degraded": list(self.degraded),
            "verified": self.verified,
            "rolled_back": self.rolled_back,
            "error": self.error,
            "seconds": round((self.finished or time.time()) - self.started, 3),
            "phase_seconds": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
        }


class _SignalGuard:
    """Turns SIGTERM/SIGINT into an :class:`Interrupted` exception while changes are being made,
    so the journal gets replayed instead of the process dying half way."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self):
        self._old = {}

    def _handler(self, signum, frame):
        raise Interrupted(signum)

    def __enter__(self):
        for signum in self.SIGNALS:
            try:
                self._old[signum] = signal.signal(signum, self._handler)
            except ValueError:  # not the main thread (tests): no signal handling there
                pass
        return self

    def __exit__(self, *exc):
        for signum, old in self._old.items():
            signal.signal(signum, old)
        return False


class Engine:
    """Runs steps through plan, apply (with rollback) and an optional verification."""

    def __init__(self, steps, ctx, verify=None, preflight=None, after_rollback=None):
        self.steps = list(steps)
        self.ctx = ctx
        self.verify = verify
        self.preflight = preflight
        # Runs once the journal is replayed: e.g. put a service back as it was, now that the
        # files it reads are restored.
        self.after_rollback = after_rollback
        self.journal = Journal()

    def plan(self):
        """Every step's changes, read-only: ``[(step, [Change, ...]), ...]``."""
        return [(step, list(step.check(self.ctx))) for step in self.steps]

    def run(self, action, dry_run=False):
        """Preflight, plan, then (unless ``dry_run``) apply and verify. Returns a :class:`Report`.

        Raises the first error after rolling back; the error's exit code tells the caller which.
        """
        report = Report(action)
        report.dry_run = dry_run
        if self.preflight is not None:
            started = time.monotonic()
            self.preflight(self.ctx)
            report.seconds["preflight"] = time.monotonic() - started
        if dry_run:
            for step, changes in self.plan():
                report.results.append(StepResult(step, PLANNED if changes else UNCHANGED, changes))
            report.degraded = list(self.ctx.degraded)
            report.finished = time.time()
            return report
        with _SignalGuard():
            try:
                for step in self.steps:
                    started = time.monotonic()
                    changes = list(step.check(self.ctx))
                    if changes:
                        report.applying = step
                        self.ctx.progress("{}: {}".format(step.title, "; ".join(c.summary for c in changes)))
                        if step.restarts:
                            self.ctx.needs_restart(step.restarts, self.journal, step.title)
                        step.apply(self.ctx, changes, self.journal)
                    report.results.append(StepResult(step, CHANGED if changes else UNCHANGED, changes,
                                                     seconds=time.monotonic() - started))
                if self.verify is not None:
                    started = time.monotonic()
                    self.verify(self.ctx, report)
                    report.seconds["verify"] = time.monotonic() - started
                    report.verified = True
            except BaseException as exc:
                report.rolled_back = True
                report.error = str(exc) if isinstance(exc, JvbJoinError) else repr(exc)
                report.finished = time.time()
                try:
                    self._rollback(exc)
                except RollbackError as failed:
                    failed.report = report
                    raise
                try:
                    exc.report = report  # for the failure's JSON: what was undone
                except AttributeError:
                    pass
                raise
        self.journal.forget()
        report.degraded = list(self.ctx.degraded)
        report.finished = time.time()
        return report

    def _rollback(self, cause):
        if not len(self.journal) and self.after_rollback is None:
            return
        self.ctx.progress("rolling back {} change(s)".format(len(self.journal)))
        # A second signal during rollback must not stop it half way.
        old = {}
        for signum in _SignalGuard.SIGNALS:
            try:
                old[signum] = signal.signal(signum, signal.SIG_IGN)
            except ValueError:
                pass
        try:
            failed = self.journal.rollback()
            if self.after_rollback is not None:
                try:
                    self.after_rollback(self.ctx)
                except Exception as exc:
                    log.error("after rollback: %s", exc, exc_info=True)
                    failed.append("restoring the service state ({})".format(exc))
        finally:
            for signum, handler in old.items():
                signal.signal(signum, handler)
        if failed:
            raise RollbackError(
                "{}; undoing it also failed for: {}".format(cause, ", ".join(failed))) from cause


__all__ = ["Change", "Step", "Journal", "Engine", "Context", "Report", "Run", "StepError",
           "CHANGED", "UNCHANGED", "DEGRADED", "PLANNED", "Interrupted"]

if sys.version_info < (3, 7):  # pragma: no cover
    raise ImportError("jvb-join needs Python 3.7 or newer")
