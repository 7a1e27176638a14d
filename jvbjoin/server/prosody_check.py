"""What prosody says of its own configuration: ``prosodyctl check config``, read finding by finding.

Its exit code alone does not tell a broken configuration from a working one. Prosody 0.12 returns 2
for anything it lists, and the packaged jitsi-meet-prosody template always carries an option it
lists as obsolete (``cross_domain_bosh``, in the global section), so a real Jitsi Meet server never
passes with 0 although prosody runs fine on it. What the check prints, in the order of prosody's
``util/prosodyctl/check.lua`` (outputs recorded under tests/unit/data/prosodyctl/):

- a config that cannot be loaded (syntax error, missing Include): ``A problem occurred while
  reading the config file``, ``Error: ...``, exit 1 -- an error;
- obsolete and deprecated options in the global section: prosody counts them (exit 2) but ignores
  or still honours those options -- a warning;
- notes it does not count (a component no host links to, a suggestion, public registration, ...)
  -- a warning;
- everything else it lists (options under a host that only work globally, no host enabled,
  encryption required without TLS, ...), and anything not recognised -- an error.
"""

import re

from jvbjoin.system.run import run

COMMAND = ["prosodyctl", "check", "config"]
ERROR, WARNING = "error", "warning"

# (what a finding's first line starts with, how bad it is, whether it runs over several paragraphs)
_HEADS = [
    (r"You have some obsolete options", WARNING, False),
    (r"You have some deprecated options", WARNING, False),
    (r"Suggestion:", WARNING, False),
    (r"Your configuration contains the following unreferenced components", WARNING, True),
    (r"Public registration is enabled", WARNING, True),
    (r"No global modules_enabled is set", WARNING, False),
    (r"Consider moving these modules", WARNING, False),
    (r"mod_\S+ is enabled both in modules_enabled and as Component", WARNING, False),
    (r"Modules in modules_enabled should not have", WARNING, False),
    (r"(Authentication|storage) modules should not be added", WARNING, False),
    (r"Both mod_\S+ and mod_\S+ are enabled", WARNING, False),
    (r"The 'default_storage' option is not needed", WARNING, False),
    # prosody 13's check.lua (read, not run here) adds these, uncounted ...
    (r"The following modules failed to load", WARNING, True),
    (r"mod_posix is loaded", WARNING, False),
    (r"mod_admin_telnet is being replaced", WARNING, False),
    # ... and this one, counted
    (r"The modules_(enabled|disabled) in the \S+ section should", ERROR, False),
    (r"You have \d+ options? set under", ERROR, True),
    (r"No global options defined", ERROR, False),
    (r"(No hosts are|All hosts are)", ERROR, False),
    (r"You require encryption", ERROR, False),
    (r"You have set s2s_secure_", ERROR, False),
]


class ConfigVerdict:
    """``errors`` and ``warnings`` are findings, each one line of text; ``ok`` when no error."""

    def __init__(self, exit_code, errors, warnings):
        self.exit_code = exit_code
        self.errors = errors
        self.warnings = warnings

    @property
    def ok(self):
        return not self.errors

    def __repr__(self):
        return "ConfigVerdict(exit={}, errors={!r}, warnings={!r})".format(self.exit_code, self.errors, self.warnings)


def _head(line):
    for pattern, severity, paragraphs in _HEADS:
        if re.match(pattern, line):
            return severity, paragraphs
    return None


def _findings(lines):
    """``[(severity, text)]`` of the lines between ``Checking config...`` and ``Done.``."""
    findings = []
    current = None  # [severity, lines, paragraphs]
    blank = False
    for raw in lines:
        line = raw.strip()
        if not line:
            blank = True
            continue
        head = _head(line)
        if head is not None or current is None or (blank and not current[2]):
            severity, paragraphs = head or (ERROR, False)
            current = [severity, [line], paragraphs]
            findings.append(current)
        else:
            current[1].append(line)
        blank = False
    return [(severity, " ".join(text)) for severity, text, _ in findings]


def parse(exit_code, output):
    """The verdict on ``prosodyctl check config``'s exit code and output (stdout and stderr)."""
    lines = output.splitlines()
    starts = [i for i, l in enumerate(lines) if l.strip() == "Checking config..."]
    if not starts:
        # nothing was checked: the config could not be loaded (or prosodyctl itself failed)
        errors = [l.strip() for l in lines if l.strip().startswith("Error:")]
        if exit_code == 0 and not errors:
            return ConfigVerdict(exit_code, [], [])
        text = [l.strip() for l in lines if l.strip() and "*" * 5 not in l]
        return ConfigVerdict(exit_code, errors or [text[-1] if text else "prosodyctl check config exited {}".format(
            exit_code)], [])
    body = lines[starts[0] + 1:]
    done = [i for i, l in enumerate(body) if l.strip() == "Done."]
    if done:
        body = body[:done[0]]
    body = [l for l in body if not l.strip().startswith(("The following configuration files", "-  "))]
    findings = _findings(body)
    errors = [text for severity, text in findings if severity == ERROR]
    warnings = [text for severity, text in findings if severity == WARNING]
    if exit_code != 0 and not done:
        errors.append("prosodyctl check config stopped before it was done (exit {})".format(exit_code))
    if exit_code == 0:
        warnings, errors = warnings + errors, []  # prosody itself counted none of them
    return ConfigVerdict(exit_code, errors, warnings)


def check_config(timeout=60):
    """Run ``prosodyctl check config`` and judge it; CommandError when it cannot be run at all."""
    result = run(COMMAND, check=False, timeout=timeout)
    return parse(result.returncode, result.stdout + result.stderr)
