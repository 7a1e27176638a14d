"""The server's own units as `server install` leaves them: the token expiry timer, and whether the
server keeps a bridge of its own.

The package installs ``jvb-join-expire.timer`` on every host but enables it nowhere (a bridge host
has no tokens); `server install` enables and starts it, so an unused token's account is removed
within a minute of its expiry whatever the bridge's clock says.

``--no-local-bridge`` does what the tutorials do by hand once external bridges run: stop and
disable the server's own jitsi-videobridge2 and close 10000/udp. It only does so while jicofo sees
another bridge in the brewery (else the server would have none and conferences would fail); until
then it keeps the local bridge and says so. The choice is remembered, so a later plain
`server install` keeps it; ``--local-bridge`` turns the server's bridge back on.
"""

import os
import re

from jvbjoin.system import files, ufw
from jvbjoin.formats import javaprops
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import JvbJoinError, VerifyError
from jvbjoin.system.run import run
from jvbjoin.bridge.steps.config import LEGACY_PREFIX
from jvbjoin.bridge.steps.service import BRIDGE_UNIT
from jvbjoin.steps.firewall import MEDIA_COMMENT, MEDIA_PORT
from jvbjoin.system.systemd import Systemd, is_enabled, is_running, state_of, with_systemd
from jvbjoin.server import jicofo

EXPIRY_TIMER = "jvb-join-expire.timer"
LOCAL_BRIDGE_CHOICE = "local-bridge"


class ExpiryTimer(Step):
    """Enable and start the timer that runs ``jvb-join token expire``."""

    name = "expiry-timer"
    title = "token expiry timer"

    def check(self, ctx):
        state = state_of(EXPIRY_TIMER)
        if state.get("LoadState") == "not-found":
            ctx.add_degraded("{} is not installed (jvb-join not installed from its package?): unused tokens "
                             "expire only when a token command runs".format(EXPIRY_TIMER))
            return []
        changes = []
        if not is_enabled(state):
            changes.append(Change("service", EXPIRY_TIMER, "enable {}".format(EXPIRY_TIMER), data="enable"))
        if not is_running(state):
            changes.append(Change("service", EXPIRY_TIMER, "start {}".format(EXPIRY_TIMER), data="start"))
        return changes

    def apply(self, ctx, changes, journal):
        actions = {c.data for c in changes}
        # the timer's condition: the server state folder exists
        os.makedirs(ctx.paths.server_state, 0o700, exist_ok=True)
        with Systemd() as systemd:
            if "enable" in actions:
                journal.record("disable {}".format(EXPIRY_TIMER), lambda: _systemd_call("disable", EXPIRY_TIMER))
                systemd.enable([EXPIRY_TIMER])
            if "start" in actions:
                journal.record("stop {}".format(EXPIRY_TIMER), lambda: _systemd_call("stop", EXPIRY_TIMER))
                systemd.start(EXPIRY_TIMER, timeout=30)


def _systemd_call(verb, unit):
    if verb in ("enable", "disable"):
        with_systemd(lambda systemd: getattr(systemd, verb)([unit]))
    else:
        with_systemd(lambda systemd: getattr(systemd, verb)(unit))


def recorded_choice(paths):
    """True/False as last given with --local-bridge/--no-local-bridge, None if never given."""
    text = (files.read_text(os.path.join(paths.server_state, LOCAL_BRIDGE_CHOICE)) or "").strip()
    return {"on": True, "off": False}.get(text)


def local_nickname(paths):
    """The server's own bridge's MUC nickname, from its jvb.conf (or the legacy properties)."""
    match = re.search(r'MUC_NICKNAME\s*[=:]\s*"?([^"\s]+)"?',
                      files.read_text(paths("/etc/jitsi/videobridge/jvb.conf")) or "", re.MULTILINE)
    if match:
        return match.group(1)
    legacy = javaprops.parse(files.read_text(paths("/etc/jitsi/videobridge/sip-communicator.properties")))
    for key, value in legacy.items():
        if key.startswith(LEGACY_PREFIX) and key.endswith(".MUC_NICKNAME") and "." not in \
                key[len(LEGACY_PREFIX):-len(".MUC_NICKNAME")] and value.split():
            return value.split()[0]
    return None


def external_bridges(paths):
    """Nicknames of the bridges jicofo sees other than the server's own; None if jicofo cannot tell."""
    try:
        _, seen = jicofo.bridges(paths)
    except JvbJoinError:
        return None
    local = local_nickname(paths)
    return [b["nickname"] for b in seen if b["nickname"] != local and not b["shutting_down"]]


class LocalBridge(Step):
    """The server's own jitsi-videobridge2: kept (and 10000/udp open), or off once others run."""

    name = "local-bridge"
    title = "the server's own bridge"

    def __init__(self, wanted, explicit):
        self.wanted = wanted
        self.explicit = explicit

    def _choice_path(self, ctx):
        return os.path.join(ctx.paths.server_state, LOCAL_BRIDGE_CHOICE)

    def check(self, ctx):
        changes = []
        if self.explicit and recorded_choice(ctx.paths) is not self.wanted:
            changes.append(Change("file", self._choice_path(ctx), "remember: local bridge {}".format(
                "on" if self.wanted else "off"), data="record"))
        state = state_of(BRIDGE_UNIT)
        if state.get("LoadState") == "not-found":
            return changes  # no local bridge installed (a wanted one comes with the packages, running)
        if self.wanted:
            if not (is_enabled(state) and is_running(state)):
                changes.append(Change("service", BRIDGE_UNIT, "enable and start {}".format(BRIDGE_UNIT), data="on"))
            return changes  # and the firewall step opens 10000/udp
        if not (is_enabled(state) or is_running(state)):
            if _media_port_open():  # stopped by hand earlier: the port has nothing behind it
                changes.append(Change("firewall", "10000/udp", "close 10000/udp (no local bridge)", data="close"))
            return changes
        others = external_bridges(ctx.paths)
        if not others:
            ctx.add_degraded("kept the server's own bridge running: {}; run 'jvb-join server install "
                             "--no-local-bridge' again once an external bridge has joined".format(
                                 "jicofo cannot be asked which bridges it sees" if others is None
                                  else "no other bridge is in the brewery yet"))
            return changes
        changes.append(Change("service", BRIDGE_UNIT, "stop and disable {} ({} in the brewery)".format(
            BRIDGE_UNIT, ", ".join(others)), data="off"))
        changes.append(Change("firewall", "10000/udp", "close 10000/udp (no local bridge)", data="close"))
        return changes

    def apply(self, ctx, changes, journal):
        actions = {c.data for c in changes}
        if "record" in actions:
            path = self._choice_path(ctx)
            before = files.FileState.read(path)
            journal.record("restore {}".format(path), lambda: files.restore(before))
            os.makedirs(ctx.paths.server_state, 0o700, exist_ok=True)
            files.write_atomic(path, ("on" if self.wanted else "off") + "\n", 0o600, 0, 0)
        if "on" in actions:
            journal.record("stop and disable {}".format(BRIDGE_UNIT), _stop_local_bridge)
            _restart_local_bridge()
        if "off" in actions:
            journal.record("enable and start {}".format(BRIDGE_UNIT), _restart_local_bridge)
            _stop_local_bridge()
        if "close" in actions:
            journal.record("allow 10000/udp again", lambda: run(
                ufw.allow_argv(MEDIA_PORT[0], MEDIA_PORT[1], MEDIA_COMMENT), check=False, timeout=60))
            run(ufw.delete_argv(*MEDIA_PORT), check=False, timeout=60)


def _media_port_open():
    result = run(["ufw", "status"], check=False, timeout=60)
    return result.ok and ufw.status_lists(result.stdout, *MEDIA_PORT)


def _restart_local_bridge():
    _systemd_call("enable", BRIDGE_UNIT)
    _systemd_call("start", BRIDGE_UNIT)


def _stop_local_bridge():
    _systemd_call("disable", BRIDGE_UNIT)
    _systemd_call("stop", BRIDGE_UNIT)


JICOFO_UNIT = "jicofo.service"


def ensure_jicofo_answers(paths, progress, timeout=60.0):
    """jicofo's daemon answers on its REST port (connected to prosody), not merely its unit active.

    Its SysV ``stop`` only signals, so a restart can start the new daemon while the old one still
    holds 127.0.0.1:8888; the new one then exits and the unit stays active. Such a daemon is
    restarted once; a VerifyError says what is left if it still does not answer.
    """
    state = jicofo.wait_answering(paths, timeout)
    if state.state == jicofo.DEAD:
        progress("jicofo's daemon is gone although its unit is active (a restart that lost its port to "
                 "the old daemon?): restarting jicofo once")
        _systemd_call("restart", JICOFO_UNIT)
        state = jicofo.wait_answering(paths, timeout)
    if state.answers:
        return state
    if state.state == jicofo.DEAD:
        raise VerifyError("jicofo's unit is active but its daemon is dead: nothing answers on 127.0.0.1:{}, "
                          "also after a restart.".format(jicofo.PORT), "See /var/log/jitsi/jicofo.log; then: "
                          "systemctl restart jicofo")
    if state.state == jicofo.NOT_CONNECTED:
        raise VerifyError("jicofo does not connect to prosody: {}".format(state.body.strip() or state.status),
                          "See /var/log/jitsi/jicofo.log and 'journalctl -u prosody'; then: systemctl restart jicofo")
    raise VerifyError("jicofo's daemon (pid {}) does not answer on 127.0.0.1:{} within {:.0f} s ({}).".format(
        state.pid, jicofo.PORT, timeout, state.reason), "See /var/log/jitsi/jicofo.log; then: systemctl restart jicofo")
