"""systemd over D-Bus: a small synchronous facade over dbus-next's asyncio API.

This is the only module that imports dbus_next (inside functions), so a swap to another D-Bus library
touches one file. One bus connection per `with Systemd() as systemd:` block, on its own event loop.

Jobs: the JobRemoved handler is registered BEFORE the Manager method is called (a fast job can end
before the method's reply arrives), results are kept by job path, and the job is waited for with a
deadline (then cancelled). A job result of "done" is necessary but not sufficient: the unit must
then be in the wanted state, and wait_active() watches NRestarts over a settle window, because a
Type=simple service reports "done" as soon as it has forked.
"""

import asyncio
import os
import time

from jvbjoin.errors import StepError

SYSTEMD = "org.freedesktop.systemd1"
SYSTEMD_PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
SERVICE = "org.freedesktop.systemd1.Service"
JOB = "org.freedesktop.systemd1.Job"
PROPERTIES = "org.freedesktop.DBus.Properties"

STATE_KEYS = ("ActiveState", "SubState", "LoadState", "NRestarts", "ActiveEnterTimestamp",
              "UnitFileState", "MainPID", "Result", "ExecMainStatus")


def is_systemd_running(root="/"):
    """True if the host was booted with systemd as PID 1 (the sd_booted() test)."""
    return os.path.isdir(os.path.join(root, "run/systemd/system"))


def _remedy(name):
    return "See 'systemctl status {0}' and 'journalctl -u {0} -n 50', fix the cause, then run jvb-join again.".format(name)


class DBusNextBus:
    """The few D-Bus operations the facade needs, over dbus-next. Tests replace it with a fake."""

    def __init__(self):
        self.bus = None
        self.manager = None

    async def connect(self):
        from dbus_next import BusType
        from dbus_next.aio import MessageBus
        self.bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        intro = await self.bus.introspect(SYSTEMD, SYSTEMD_PATH)
        self.manager = self.bus.get_proxy_object(SYSTEMD, SYSTEMD_PATH, intro).get_interface(MANAGER)
        return self.manager

    async def _call(self, path, interface, member, signature="", body=None):
        from dbus_next import Message, MessageType
        from dbus_next.errors import DBusError
        reply = await self.bus.call(Message(destination=SYSTEMD, path=path, interface=interface, member=member,
                                            signature=signature, body=body or []))
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name, reply.body[0] if reply.body else reply.error_name, reply)
        return reply.body

    async def get_all(self, path, interface):
        body = await self._call(path, PROPERTIES, "GetAll", "s", [interface])
        return {key: variant.value for key, variant in body[0].items()}

    async def cancel_job(self, path):
        await self._call(path, JOB, "Cancel")

    def disconnect(self):
        if self.bus is not None:
            self.bus.disconnect()


class Systemd:
    """`with Systemd() as systemd: systemd.restart(unit); systemd.wait_active(unit)`."""

    def __init__(self, bus=None, connect_timeout=30.0, poll=0.5):
        self._bus = bus
        self.connect_timeout = connect_timeout
        self.poll = poll
        self._loop = None
        self._manager = None

    # -- connection --------------------------------------------------------------------------------

    def __enter__(self):
        self._loop = asyncio.new_event_loop()
        try:
            self._run(self._connect())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self._bus is not None and self._manager is not None:
            try:
                self._bus.disconnect()
            except Exception:
                pass
        if self._loop is not None:
            try:
                pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    self._loop.run_until_complete(asyncio.wait(pending, timeout=2))
            except Exception:
                pass
            self._loop.close()
            self._loop = None
        self._manager = None

    def _run(self, coro):
        return self._loop.run_until_complete(coro)

    async def _connect(self):
        """Connect to the system bus, retrying with backoff while D-Bus is not up yet (early boot)."""
        if self._bus is None:
            self._bus = DBusNextBus()
        deadline = time.monotonic() + self.connect_timeout
        delay, last = 0.25, None
        while True:
            try:
                self._manager = await self._bus.connect()
                break
            except Exception as e:  # socket missing, access denied, systemd not on the bus yet
                last = e
            if time.monotonic() + delay > deadline:
                raise StepError("Cannot talk to systemd over D-Bus: {}.".format(last),
                                "Check that this host runs systemd and D-Bus ('systemctl status dbus'), "
                                "then run jvb-join again.")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)
        try:
            await self._manager.call_subscribe()  # JobRemoved is only sent to subscribed clients
        except Exception:
            pass  # already subscribed on this connection

    # -- state ---------------------------------------------------------------------------------------

    async def _state(self, name):
        path = await self._manager.call_load_unit(name)
        props = await self._bus.get_all(path, UNIT)
        if name.endswith(".service"):
            try:
                props.update(await self._bus.get_all(path, SERVICE))
            except Exception:
                pass
        return {key: props.get(key) for key in STATE_KEYS}

    def unit_state(self, name):
        """dict of ActiveState, SubState, LoadState, NRestarts, ActiveEnterTimestamp, UnitFileState, MainPID, Result."""
        return self._run(self._state(name))

    # -- unit files ------------------------------------------------------------------------------------

    def daemon_reload(self):
        self._run(self._manager.call_reload())

    def enable(self, names):
        names = list(names)

        async def go():
            await self._manager.call_enable_unit_files(names, False, True)
            await self._manager.call_reload()
        self._wrap(go(), "enable " + " ".join(names), names[0] if names else "")

    def disable(self, names):
        names = list(names)

        async def go():
            await self._manager.call_disable_unit_files(names, False)
            await self._manager.call_reload()
        self._wrap(go(), "disable " + " ".join(names), names[0] if names else "")

    def mask_runtime(self, names):
        """Masks the units until the next boot (a link to /dev/null under /run/systemd/system): no
        start of them runs, and `systemctl is-enabled` says masked-runtime."""
        names = list(names)

        async def go():
            await self._manager.call_mask_unit_files(names, True, False)
            await self._manager.call_reload()
        self._wrap(go(), "mask " + " ".join(names) + " until the next boot", names[0] if names else "")

    def unmask_runtime(self, names):
        """Takes back :meth:`mask_runtime` (a no-op for a unit with no runtime mask)."""
        names = list(names)

        async def go():
            await self._manager.call_unmask_unit_files(names, True)
            await self._manager.call_reload()
        self._wrap(go(), "unmask " + " ".join(names), names[0] if names else "")

    def _wrap(self, coro, what, name):
        try:
            return self._run(coro)
        except StepError:
            raise
        except Exception as e:
            raise StepError("systemd could not {}: {}.".format(what, str(e).rstrip(".")), _remedy(name))

    # -- jobs ---------------------------------------------------------------------------------------------

    def start(self, name, timeout=90.0):
        return self._job("start_unit", "start", name, timeout, want_active=True)

    def restart(self, name, timeout=90.0):
        return self._job("restart_unit", "restart", name, timeout, want_active=True)

    def reload_or_restart(self, name, timeout=90.0):
        return self._job("reload_or_restart_unit", "reload or restart", name, timeout, want_active=True)

    def stop(self, name, timeout=90.0):
        return self._job("stop_unit", "stop", name, timeout, want_active=False)

    def _job(self, method, verb, name, timeout, want_active):
        result = self._wrap(self._run_job(method, verb, name, timeout), "{} {}".format(verb, name), name)
        state = self.unit_state(name)
        if result not in ("done", "skipped"):
            raise StepError("systemd could not {} {}: the job ended with '{}' (unit {}/{}, {}).".format(
                verb, name, result, state.get("ActiveState"), state.get("SubState"), _outcome(state)),
                _remedy(name))
        if want_active and state.get("ActiveState") != "active":
            raise StepError("{} is not running after '{}' (job {}, unit {}/{}, {}); a unit condition "
                            "or the service itself stopped it.".format(
                                name, verb, result, state.get("ActiveState"), state.get("SubState"),
                                _outcome(state)), _remedy(name))
        if not want_active and state.get("ActiveState") not in ("inactive", "failed"):
            raise StepError("{} did not stop (unit {}/{}).".format(name, state.get("ActiveState"),
                                                                  state.get("SubState")), _remedy(name))
        return result

    async def _run_job(self, method, verb, name, timeout):
        results = {}
        event = asyncio.Event()

        def on_job_removed(_id, job, _unit, result):
            results[job] = result
            event.set()

        # Subscribe first: a short job can be removed before the method call returns its path.
        self._manager.on_job_removed(on_job_removed)
        try:
            job = await getattr(self._manager, "call_" + method)(name, "replace")
            deadline = self._loop.time() + timeout
            while job not in results:
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    cancelled = "cancelled it"
                    try:
                        await self._bus.cancel_job(job)
                    except Exception as e:
                        cancelled = "could not cancel it ({})".format(e)
                    raise StepError("systemd did not {} {} within {:.0f} s; jvb-join {}.".format(
                        verb, name, timeout, cancelled), _remedy(name))
                event.clear()
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
            return results[job]
        finally:
            self._manager.off_job_removed(on_job_removed)

    # -- settling ---------------------------------------------------------------------------------------------

    def wait_active(self, name, settle=5.0, timeout=90.0):
        """Wait until `name` is active and its NRestarts does not increase for `settle` seconds."""
        return self._run(self._wait_active(name, settle, timeout))

    async def _wait_active(self, name, settle, timeout):
        deadline = self._loop.time() + timeout
        watch = None
        while True:
            state = await self._state(name)
            now = self._loop.time()
            if state.get("LoadState") == "not-found":
                raise StepError("{} is not installed (no such unit).".format(name), _remedy(name))
            if watch is not None:
                watch.judge(state, now)
            elif state.get("ActiveState") == "failed":
                raise StepError("{} failed ({}{}).".format(
                    name, _outcome(state), _restarts_text(state.get("NRestarts") or 0)), _remedy(name))
            elif state.get("ActiveState") == "active":
                watch = Watch(name, state, now)
            if watch is not None and now - watch.since >= settle:
                return state
            if now >= deadline:
                raise StepError("{} did not become active and stay up within {:.0f} s (state {}/{}{}).".format(
                    name, timeout, state.get("ActiveState"), state.get("SubState"),
                    _restarts_text(state.get("NRestarts") or 0)), _remedy(name))
            await asyncio.sleep(min(self.poll, max(0.0, deadline - now)))


class Watch:
    """A service seen active at ``since`` (monotonic seconds): :meth:`judge` raises a StepError when a
    later state of it shows it failed, restarted or stopped since. ``wait_active`` watches a service
    this way over its settle window; a caller with a better proof that the service works (the bridge
    in the brewery) can keep watching while it waits for that proof instead of a fixed window."""

    def __init__(self, name, state, since=None):
        self.name = name
        self.restarts = state.get("NRestarts") or 0
        self.since = time.monotonic() if since is None else since

    def judge(self, state, now=None):
        name = self.name
        now = time.monotonic() if now is None else now
        restarts = state.get("NRestarts") or 0
        active = state.get("ActiveState")
        if active == "failed":
            raise StepError("{} failed ({}{}).".format(name, _outcome(state), _restarts_text(restarts)),
                            _remedy(name))
        if restarts > self.restarts:
            raise StepError("{} is in a restart loop: it restarted {} time(s) within {:.0f} s of starting.".format(
                name, restarts - self.restarts, now - self.since), _remedy(name))
        if active == "active":
            return
        if state.get("SubState") == "auto-restart":
            raise StepError("{} is in a restart loop: it exited {:.0f} s after it started ({}) and systemd "
                            "is restarting it{}.".format(name, now - self.since, _outcome(state),
                                                         _restarts_text(restarts).replace(",", " after", 1)),
                            _remedy(name))
        raise StepError("{} stopped running {:.0f} s after it started (state {}/{}, {}).".format(
            name, now - self.since, active, state.get("SubState"), _outcome(state)), _remedy(name))


def _outcome(state):
    """'result exit-code, exit status 78 (...)' for messages, from Result and ExecMainStatus."""
    text = "result {}".format(state.get("Result") or "unknown")
    status = state.get("ExecMainStatus")
    if state.get("Result") == "exit-code" and status:
        text += ", exit status {}".format(status)
        if status == 78:
            text += " (the service rejected its configuration)"
    return text


def _restarts_text(n):
    return ", {} automatic restart(s)".format(n) if n else ""


# -- one-shot helpers for steps that ask or do one thing ----------------------------------------------

RUNNING_STATES = ("active", "activating", "reloading")
ENABLED_STATES = ("enabled", "enabled-runtime")


def is_running(state):
    """A unit_state() that is running or on its way there."""
    return state.get("ActiveState") in RUNNING_STATES


def is_enabled(state):
    return state.get("UnitFileState") in ENABLED_STATES


def with_systemd(action):
    """``action(systemd)`` on a connection of its own (undo callbacks, single queries)."""
    with Systemd() as systemd:
        return action(systemd)


def state_of(name):
    """unit_state() of one unit, on a connection of its own."""
    return with_systemd(lambda systemd: systemd.unit_state(name))
