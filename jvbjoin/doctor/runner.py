"""`jvb-join doctor`: checks of a bridge or server host, each with an id, a status and a remedy.

Doctor only reads: it writes no file, starts or stops no unit, adds no firewall rule and makes
no account. Its checks run concurrently, each with its own time limit, so a server that does not
answer costs seconds, not minutes.
"""

import os
import time
from dataclasses import dataclass

from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.doctor.core import Facts, exit_code, run_checks
from jvbjoin.doctor.facts import detect_role
from jvbjoin.bridge import shards
from jvbjoin.bridge.checks import base as bridge_checks
from jvbjoin.bridge.checks import facts as bridge_facts
from jvbjoin.server.checks import fleet
from jvbjoin.server.checks import services as server_checks
from jvbjoin.server.checks.facts import domain

ROLES = ("bridge", "server")


def checks_for(role, paths=None):
    if role == "bridge":
        return bridge_checks.checks(paths)
    checks = server_checks.checks()
    at = [c.id for c in checks].index("local-bridge") + 1  # with the other checks of the bridges
    return checks[:at] + fleet.checks() + checks[at:]


def subject(role, facts):
    """A few words naming what was checked: the bridge's nickname and server, or the meet domain."""
    try:
        if role == "bridge":
            st = bridge_facts.state(facts)
            nick = (bridge_checks.stored_nickname(facts) or {}).get("nickname")
            server = st.get("meet") or st.get("server")
            if not server:  # not joined by jvb-join: what the bridge's own config says
                server, nick = bridge_facts.own_settings(facts)
            else:  # a bridge that serves several servers names them all
                server = ", ".join(shards.server_name(record) for _paths, record in shards.servers(facts.paths))
            return "{} of {}".format(nick or "(no nickname)", server or "(no server)")
        return domain(facts)
    except Exception:
        return ""


def diagnose(paths, role=None, ignore=()):
    """``(role, subject, results, seconds)`` for this host."""
    role = role or detect_role(paths)
    if role is None:
        raise JvbJoinError("This host is neither a bridge nor a Jitsi Meet server jvb-join knows about.",
                           "Join it with 'jvb-join <token>', or make it a server with 'jvb-join server install "
                           "--domain D'; or say which it is with --role.")
    checks = checks_for(role, paths)
    known = {c.id for c in checks}
    unknown = sorted(set(ignore) - known)
    if unknown:
        raise UsageError("doctor has no {} check {}.".format(role, ", ".join(unknown)),
                         "The {} checks are: {}.".format(role, ", ".join(c.id for c in checks)))
    facts = Facts(paths)
    started = time.monotonic()
    results = run_checks(checks, facts, ignore)
    return role, subject(role, facts), results, time.monotonic() - started


@dataclass
class Diagnosis:
    """What `jvb-join doctor` found: the role checked, what it names, the results, the exit code
    (0 healthy, 2 warnings only, 1 a failure) and how long it took."""
    role: str
    subject: str
    results: list
    code: int
    seconds: float


def examine(paths, role=None, ignore=()):
    """Run `jvb-join doctor` on this host (as root) and return its Diagnosis."""
    if os.geteuid() != 0:
        raise JvbJoinError("jvb-join doctor reads the bridge's and prosody's root-only files.",
                           "Run it again with sudo.")
    started = time.monotonic()
    role, what, results, _ = diagnose(paths, role, ignore)
    return Diagnosis(role, what, results, exit_code(results), time.monotonic() - started)
