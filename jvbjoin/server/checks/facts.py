"""What the server checks share: the meet domain and the state of a service, each read once per run."""

from jvbjoin.doctor.core import fail
from jvbjoin.doctor import facts as F
from jvbjoin.server import model


def domain(facts):
    """The meet domain of this server (read once per run)."""
    return facts.get("domain", lambda: model.server_domain(facts.paths))


def unit_check(facts, unit, name):
    """A failure when systemd's ``unit`` is not installed or not running (``name`` in the remedy); else None."""
    state = F.unit_state(facts, unit)
    if state.get("LoadState") == "not-found":
        return fail("{} is not installed".format(unit), "jvb-join server install --domain {}".format(domain_or(facts)))
    if state.get("SubState") == "auto-restart" or state.get("ActiveState") != "active":
        return fail("{} is not running ({}/{})".format(unit, state.get("ActiveState"), state.get("SubState")),
                    "systemctl start {0}   (if it stops again: journalctl -u {0} -n 50)".format(name))
    return None


def domain_or(facts):
    """The meet domain for a remedy, or "D" when there is none yet."""
    try:
        return domain(facts)
    except Exception:
        return "D"
