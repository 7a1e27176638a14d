"""The bridge service through systemd over D-Bus: enable it, restart it only when needed.

A restart drops every conference on the bridge, so the service is restarted only when something it
reads changed in this run (config, trust store, package) or when it is not running at all.

Once restarted, the service is not watched over a fixed settle window here: the join's verification
keeps watching it (failed, restarted, stopped) while it waits for the bridge to appear in the
brewery, which proves more than a quiet window and ends as soon as the bridge is there.
"""

import contextlib
import os
import time

from jvbjoin.system import files, systemd
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import StepError
from jvbjoin.system.systemd import Watch, is_running, state_of, with_systemd

BRIDGE_UNIT = "jitsi-videobridge2.service"


class HoldFirstStart(Step):
    """On a host without the bridge package: no start of the bridge before jvb-join's settings are
    written, so that its first start is the only one and logs in with the bridge's own account.

    The package's maintainer script starts the unit at the end of its configure through
    deb-systemd-invoke, which starts only a unit that `systemctl is-enabled` calls enabled. A
    runtime mask (a link to /dev/null under /run/systemd/system) makes it say masked-runtime, so
    that start is skipped; the service step lifts the mask just before it starts the bridge.
    Nothing under /etc is touched (no policy-rc.d). The mask lives under /run: a reboot drops it,
    and so does the next run of jvb-join after a killed one (release_stale_hold), told by a marker
    beside it (also under /run) that the mask is jvb-join's and not an admin's.
    """

    name = "hold-start"
    title = "bridge's first start"
    no_inverse = "a mask until the next boot, lifted by the same run's service step"

    def __init__(self, unit=BRIDGE_UNIT):
        self.unit = unit

    def check(self, ctx):
        # read as the join began: no step before this one installs the bridge's package
        state = ctx.run.unit_before
        if state is None:
            with systemd.Systemd() as units:
                state = units.unit_state(self.unit)
        if state.get("LoadState") != "not-found":
            return []
        return [Change("service", self.unit, "hold the package's start of {} until jvb-join's settings "
                       "are written".format(self.unit))]

    def apply(self, ctx, changes, journal):
        marker = ctx.paths.bridge_start_hold
        journal.record("lift the hold on {}".format(self.unit), lambda: release_hold(ctx.paths, self.unit))
        os.makedirs(os.path.dirname(marker), 0o755, exist_ok=True)
        files.write_atomic(marker, self.unit + "\n", 0o644)
        with systemd.Systemd() as units:
            units.mask_runtime([self.unit])


def release_hold(paths, unit=BRIDGE_UNIT, units=None):
    """Lifts HoldFirstStart's mask when the marker says it is there; True if there was one. The
    marker goes last: a kill in between leaves it for the next run, which lifts the mask again."""
    if not os.path.exists(paths.bridge_start_hold):
        return False
    if units is None:
        with_systemd(lambda s: s.unmask_runtime([unit]))
    else:
        units.unmask_runtime([unit])
    files.remove(paths.bridge_start_hold)
    return True


def release_stale_hold(paths, progress, unit=BRIDGE_UNIT):
    """Before a run: a hold a killed run left (the marker is there) is lifted."""
    if os.path.exists(paths.bridge_start_hold):
        progress("lifting the hold on {} that a stopped run left".format(unit))
        release_hold(paths, unit)


class BridgeService(Step):
    name = "service"
    title = "bridge service"
    no_inverse = "leave drains and shuts the bridge down first of all, before any of its files go"

    def __init__(self, unit=BRIDGE_UNIT, settle=0.0, timeout=90.0):
        self.unit = unit
        self.settle = settle
        self.timeout = timeout

    def _state(self, ctx):
        with systemd.Systemd() as units:
            return units.unit_state(self.unit)

    def check(self, ctx):
        state = self._state(ctx)
        changes = []
        if state.get("LoadState") == "not-found" or (state.get("LoadState") == "masked"
                                                     and os.path.exists(ctx.paths.bridge_start_hold)):
            return [Change("service", self.unit, "enable and start {} once it is installed".format(self.unit))]
        if state.get("UnitFileState") not in ("enabled", "enabled-runtime", "static", "alias"):
            changes.append(Change("service", self.unit, "enable {}".format(self.unit), data="enable"))
        if state.get("ActiveState") != "active":
            changes.append(Change("service", self.unit, "start {}".format(self.unit), data="restart"))
        elif "bridge" in ctx.changed:
            changes.append(Change("service", self.unit,
                                  "restart {} ({})".format(self.unit, ctx.restart_cause("bridge")), data="restart"))
        return changes

    def apply(self, ctx, changes, journal):
        actions = {c.data for c in changes}
        with systemd.Systemd() as units:
            # every setting of jvb-join is written now: the bridge may start, once
            release_hold(ctx.paths, self.unit, units)
            if "enable" in actions or None in actions:
                journal.record("disable {}".format(self.unit), lambda: with_systemd(lambda s: s.disable([self.unit])))
                units.enable([self.unit])
            if "restart" in actions or None in actions:
                ctx.progress("restarting {}".format(self.unit))
                ctx.run.bridge_restarted = True
                with showing_the_log(ctx):
                    units.restart(self.unit, timeout=self.timeout)
                    state = units.wait_active(self.unit, settle=self.settle, timeout=self.timeout)
                ctx.run.bridge_watch = Watch(self.unit, state)
                ctx.restarted("bridge")


def baseline(unit=BRIDGE_UNIT):
    """The unit's state before a run, or None where systemd cannot be asked (then nothing to restore)."""
    try:
        return state_of(unit)
    except Exception:
        return None


def restore_service(ctx, before, unit=BRIDGE_UNIT):
    """After a rollback: the bridge runs again with the restored config if it ran before, else stops."""
    with systemd.Systemd() as units:
        now = units.unit_state(unit)
        if now.get("LoadState") == "not-found":
            return
        was_active = bool(before) and before.get("ActiveState") == "active"
        if was_active and ctx.run.bridge_restarted:
            units.restart(unit)
        elif was_active and now.get("ActiveState") != "active":
            units.start(unit)
        elif not was_active and is_running(now):
            units.stop(unit)


class ServiceWatch:
    """While the join waits for the brewery: the restarted bridge must stay up (asked over one D-Bus
    connection at most every ``every`` seconds). A no-op when this run did not restart the bridge."""

    def __init__(self, ctx, every=0.5):
        self.ctx = ctx
        self.watch = ctx.run.bridge_watch
        self.every = every
        self._systemd = None
        self._asked = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._systemd is not None:
            self._systemd.close()
        return False

    def check(self):
        if self.watch is None or time.monotonic() - self._asked < self.every:
            return
        if self._systemd is None:
            self._systemd = systemd.Systemd().__enter__()
        self._asked = time.monotonic()
        with showing_the_log(self.ctx):
            self.watch.judge(self._systemd.unit_state(self.watch.name))


def log_tail(ctx, lines=15):
    """The last lines of the bridge's log (jvb.log), or '' when there is none."""
    return "\n".join((files.read_text(ctx.paths.jvb_log) or "").splitlines()[-lines:])


@contextlib.contextmanager
def showing_the_log(ctx):
    """A StepError about the bridge service raised inside gets the last lines of jvb.log: the
    rollback's purge of a package this run installed deletes /var/log/jitsi, and with it the why."""
    try:
        yield
    except StepError as exc:
        tail = log_tail(ctx)
        if not tail:
            raise
        raise StepError("{}\nLast lines of {}:\n{}".format(exc.message, ctx.paths.jvb_log, tail),
                        exc.remedy) from None
