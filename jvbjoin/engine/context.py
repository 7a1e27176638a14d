"""What the steps of one run share: :class:`Context`."""

import json
import os

from jvbjoin.system import files
from jvbjoin.engine.run import Run


class Context:
    """What steps share during one run: host paths, the command's run object (``run``: its options,
    backups and what earlier steps learned), progress output and what could only partly be done.

    ``restart_file`` (optional) keeps the services that need a restart on disk from the moment
    their inputs start to change until they are restarted: a run killed in between leaves the
    restart to the next run, which otherwise would find every file right and restart nothing.
    """

    def __init__(self, paths, run=None, progress=None, restart_file=None):
        self.paths = paths
        self.run = run if run is not None else Run()
        self.progress = progress or (lambda message: None)
        self.degraded = []
        self.restart_file = restart_file
        # services whose inputs changed (in this run, or in one that was stopped), so they need a restart
        self.changed = set(self._read_restarts())
        # why each of them needs it, in the operator's words: the titles of the steps that changed
        # its inputs in this run, and the restarts an earlier run left pending
        self.restart_causes = {}
        self.left_pending = set(self.changed)

    @property
    def dry_run(self):
        return self.run.dry_run

    def add_degraded(self, line):
        """Report ``line`` as something the run could only partly do (once, however often it is said)."""
        if line not in self.degraded:
            self.degraded.append(line)

    def _read_restarts(self):
        if self.restart_file is None:
            return []
        try:
            names = json.loads(files.read_text(self.restart_file) or "[]")
        except ValueError:
            return []
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _write_restarts(self):
        if self.restart_file is None:
            return
        if self.changed:
            os.makedirs(os.path.dirname(self.restart_file), 0o700, exist_ok=True)
            files.write_atomic(self.restart_file, json.dumps(sorted(self.changed)) + "\n", 0o600)
        else:
            files.remove(self.restart_file)

    def needs_restart(self, service, journal, cause=None):
        """``service`` must be restarted before the run ends (because ``cause`` changed);
        remembered on disk first."""
        causes = self.restart_causes.setdefault(service, [])
        if cause and cause not in causes:
            causes.append(cause)
        if service in self.changed:
            return
        if self.restart_file is not None:
            files.make_folders(os.path.dirname(self.restart_file), journal, 0o700)
            before = files.FileState.read(self.restart_file)
            journal.record("restore {}".format(self.restart_file), lambda: files.restore(before))
        self.changed.add(service)
        self._write_restarts()

    def restarted(self, service):
        """``service`` now runs with its new inputs: no restart is pending for it any more."""
        self.changed.discard(service)
        self.restart_causes.pop(service, None)
        self.left_pending.discard(service)
        self._write_restarts()

    def restart_cause(self, service):
        """Why ``service`` needs a restart, e.g. "changed: packages, bridge configuration"."""
        said = []
        if self.restart_causes.get(service):
            said.append("changed: " + ", ".join(self.restart_causes[service]))
        if service in self.left_pending:
            said.append("left pending by an earlier run that was stopped")
        return "; ".join(said) or "its inputs changed"
