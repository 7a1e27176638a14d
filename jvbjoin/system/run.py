"""The one way jvb-join runs another program: an argv list, a timeout, secrets on stdin, one error type."""

import logging
import os
import subprocess
import threading
import time

from jvbjoin.errors import CommandError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120

# Variables a child never inherits: the token may arrive in JVB_JOIN_TOKEN, and a child's
# environment is readable in /proc by its owner for as long as it runs.
_SECRET_ENV = ("JVB_JOIN_TOKEN",)

# apt and debconf must never ask: jvb-join runs unattended as often as not.
_QUIET_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "APT_LISTCHANGES_FRONTEND": "none",
    "LC_ALL": "C.UTF-8",
}


class Result:
    """What a finished program left: exit code and decoded output."""

    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.returncode == 0


def child_env(extra=None):
    """The environment for a child: ours minus secrets, plus the non-interactive settings."""
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}
    env.update(_QUIET_ENV)
    if extra:
        env.update(extra)
    return env


def _redact(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def run(argv, input=None, timeout=DEFAULT_TIMEOUT, check=True, env=None, secrets=(), cwd=None):
    """Run ``argv`` (a list, never a shell string) and return a :class:`Result`.

    ``input`` (text) goes to the program's stdin: that is where secrets go, never argv or env.
    Every string in ``secrets`` is masked in logs and in the error. With ``check`` a non-zero exit
    raises :class:`CommandError`; a timeout always does, after the program has been killed.
    """
    if isinstance(argv, str):
        raise TypeError("run() takes an argv list, not a shell string")
    argv = [str(a) for a in argv]
    secrets = tuple(s for s in secrets if s)
    log.debug("run: %s%s", " ".join(argv), " (stdin: {} bytes)".format(len(input)) if input else "")
    try:
        proc = subprocess.run(
            argv,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            env=child_env(env),
            cwd=cwd,
            universal_newlines=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired as exc:
        out = _redact((exc.stdout or "") if isinstance(exc.stdout, str) else "", secrets)
        raise CommandError(argv, None, out, timed_out=True) from None
    except FileNotFoundError:
        raise CommandError(argv, 127, "", message="{} is not installed".format(argv[0])) from None
    stdout = _redact(proc.stdout, secrets)
    stderr = _redact(proc.stderr, secrets)
    result = Result(argv, proc.returncode, stdout, stderr)
    if proc.returncode != 0:
        log.debug("run: %s exited %s: %s", argv[0], proc.returncode, stderr.strip()[-500:])
        if check:
            raise CommandError(argv, proc.returncode, (stdout + stderr))
    return result


def which(program, paths=None):
    """The full path of ``program`` on PATH, or None; used to tell 'not installed' from 'failed'."""
    for folder in (paths or os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")).split(":"):
        candidate = os.path.join(folder, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_streaming(argv, on_line, timeout=DEFAULT_TIMEOUT, env=None, secrets=(), input=None):
    """Like :func:`run` with ``check=True``, but hands each output line to ``on_line`` as it comes.

    For long programs (apt-get) whose progress the operator should see. stderr is merged into
    stdout. The whole output is kept for the error if the program fails.
    """
    argv = [str(a) for a in argv]
    secrets = tuple(s for s in secrets if s)
    log.debug("run: %s", " ".join(argv))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env(env),
                                universal_newlines=True, errors="replace", bufsize=1)
    except FileNotFoundError:
        raise CommandError(argv, 127, "", message="{} is not installed".format(argv[0])) from None
    if input is not None:
        proc.stdin.write(input)
        proc.stdin.close()
    lines = []
    timer = threading.Timer(timeout, proc.kill)
    timer.daemon = True
    timer.start()
    started = time.monotonic()
    try:
        for line in proc.stdout:
            line = _redact(line.rstrip("\n"), secrets)
            lines.append(line)
            try:
                on_line(line)
            except Exception:  # progress display must never break the program it shows
                log.debug("progress callback failed", exc_info=True)
        proc.wait()
    finally:
        timer.cancel()
    output = "\n".join(lines)
    if proc.returncode != 0:
        timed_out = proc.returncode < 0 and time.monotonic() - started >= timeout
        raise CommandError(argv, proc.returncode, output, timed_out=timed_out)
    return Result(argv, 0, output, "")
