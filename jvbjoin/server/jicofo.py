"""What jicofo itself says about the bridges, from its REST API on 127.0.0.1:8888.

Only what the real jicofo serves there is read, without credentials and only on loopback:
``/about/health``, the bridge selector's gauges in ``/metrics`` (``jitsi_jicofo_bridge_selector_*``),
and ``GET /debug``. ``jicofo.rest`` is enabled on 127.0.0.1:8888 by default and
``jicofo.rest.debug.enabled`` defaults to true, so a packaged server needs no configuration for
``/debug``. In that document ``bridge_selector.bridge`` maps each bridge's occupant JID
(``<brewery>/<nickname>``) to what jicofo's BridgeSelector knows of it: drain, graceful-shutdown,
shutting-down, healthy (from its presence), operational (from jicofo's health checks),
overloaded, region, relay-id, release, stress and version. jicofo writes a value it does not know
as the string ``"null"``.
"""

import json
import os
import re
import time
import urllib.error
import urllib.request

from jvbjoin.errors import JvbJoinError
from jvbjoin.system import files
from jvbjoin.bridge.api import parse_metrics

PORT = 8888
URL = "http://127.0.0.1:{}".format(PORT)
PREFIX = "jitsi_jicofo_bridge_selector_"


def _get(path, timeout, url=URL):
    """``(status, body)``; OSError (or ValueError) when nothing answers."""
    try:
        with urllib.request.urlopen(url + path, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def health(timeout=2.0):
    """``(status, body)`` of jicofo's /about/health; OSError when jicofo does not answer."""
    return _get("/about/health", timeout)


# jicofo's init script (run by systemd's sysv generator, RemainAfterExit=yes) writes the daemon's pid
# here; the unit stays "active" after the daemon is gone, so only the daemon itself can say it runs.
PIDFILE = "/var/run/jicofo.pid"
HEALTHY, NO_BRIDGE, NOT_CONNECTED, NOT_ANSWERING, DEAD = (
    "healthy", "no-bridge", "not-connected", "not-answering", "dead")
RESTART_REMEDY = ("systemctl restart jicofo   (systemctl start does nothing while the unit says active; "
                  "if it dies again: tail -n 50 /var/log/jitsi/jicofo.log)")


class DaemonState:
    """What jicofo's daemon is doing, asked of the daemon itself (its health endpoint, then its pid).

    ``state``: HEALTHY (200), NO_BRIDGE (it answers, connected, but has no operational bridge: 500),
    NOT_CONNECTED (503, or a failure naming XMPP), NOT_ANSWERING (its process lives but nothing
    answers on the port: starting, or hung), DEAD (nothing answers and no jicofo process lives).
    """

    def __init__(self, state, status=None, body="", pid=None, reason=""):
        self.state = state
        self.status = status
        self.body = body
        self.pid = pid
        self.reason = reason

    @property
    def answers(self):
        return self.state in (HEALTHY, NO_BRIDGE)

    def __repr__(self):
        return "DaemonState({}, {}, {!r}, pid={})".format(self.state, self.status, self.body, self.pid)


def daemon_pid(paths):
    """The pid in jicofo's pid file if that process is a jicofo (not a reused pid), else None."""
    text = (files.read_text(paths(PIDFILE)) or "").strip()
    if not text.isdigit():
        return None
    try:
        with open(paths("/proc/{}/cmdline".format(text)), "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return None
    return int(text) if b"jicofo" in cmdline else None


def left_pid_file(paths):
    """``(pid, alive)`` of the pid file jicofo's init script keeps, or None when there is none.

    The script's ``start`` refuses while that file exists, stale or not, and its ``stop`` (the only
    thing that removes it) does not run for a unit that is not active: with a failed or inactive
    unit, ``systemctl start`` and ``restart`` fail again until the file is gone. ``alive``: a jicofo
    still runs with that pid, outside its unit."""
    if not os.path.exists(paths(PIDFILE)):
        return None
    live = daemon_pid(paths)
    return (live, True) if live else ((files.read_text(paths(PIDFILE)) or "").strip(), False)


def left_pid_file_remedy(left):
    """The command that lets a failed or inactive jicofo unit start again over ``left_pid_file``."""
    pid, alive = left
    start = "rm -f {}; systemctl start jicofo".format(PIDFILE)
    if not alive:
        return start
    # the old daemon holds 127.0.0.1:8888 until it has exited: the new one would lose its port
    return "kill {0}; while kill -0 {0} 2>/dev/null; do sleep 1; done; {1}".format(pid, start)


def daemon_state(paths, timeout=2.0):
    try:
        status, body = health(timeout)
    except (OSError, ValueError) as exc:
        pid = daemon_pid(paths)
        return DaemonState(NOT_ANSWERING if pid else DEAD, pid=pid, reason=str(getattr(exc, "reason", exc)))
    if status == 200:
        return DaemonState(HEALTHY, status, body)
    if status == 503 or "XMPP" in body:
        return DaemonState(NOT_CONNECTED, status, body)
    return DaemonState(NO_BRIDGE, status, body)


def wait_answering(paths, timeout=60.0, interval=1.0, clock=None, sleep=None):
    """Poll the daemon until it answers (connected to prosody), dies, or ``timeout`` passes; the last
    state. A daemon that is gone is given a few seconds (a start that lost the race for its port
    exits only once it tried to bind)."""
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    deadline = clock() + timeout
    dead_since = None
    while True:
        state = daemon_state(paths)
        if state.answers:
            return state
        now = clock()
        if state.state == DEAD:
            dead_since = now if dead_since is None else dead_since
            if now - dead_since >= min(5.0, timeout):
                return state
        else:
            dead_since = None
        if now >= deadline:
            return state
        sleep(interval)


def bridge_counts(timeout=2.0):
    """``{"bridge_count": n, "operational_bridge_count": n, "in_shutdown_bridge_count": n,
    "lost_bridges_total": n}`` from jicofo's /metrics; OSError when it does not answer."""
    status, body = _get("/metrics", timeout)
    if status != 200:
        raise OSError("jicofo's /metrics answered HTTP {}".format(status))
    values = parse_metrics(body)
    return {name[len(PREFIX):]: int(value) for name, value in values.items() if name.startswith(PREFIX)}


DEFAULT_HOST = "127.0.0.1"
JICOFO_CONF = "/etc/jitsi/jicofo/jicofo.conf"

NOT_RUNNING_REMEDY = ("Check 'systemctl status jicofo' and /var/log/jitsi/jicofo.log; "
                      "start it with 'systemctl restart jicofo' (a plain start does nothing while its unit "
                      "says active).")


class JicofoError(JvbJoinError):
    """jicofo's REST interface cannot tell which bridges it sees."""

    error_id = "jicofo-unanswered"


def rest_url(paths):
    """jicofo's REST address: the defaults, unless jicofo.conf sets ``rest { host, port }``.

    Only the plain ``host = ...`` / ``port = ...`` forms inside a ``rest`` block are recognised;
    anything fancier keeps the defaults, which is what a packaged jicofo.conf has.
    """
    text = files.read_text(paths(JICOFO_CONF)) or ""
    host, port = DEFAULT_HOST, PORT
    block = re.search(r"\brest\s*[:=]?\s*\{([^{}]*)", text)
    if block:
        found = re.search(r'^\s*port\s*[:=]\s*(\d+)\s*$', block.group(1), re.MULTILINE)
        if found:
            port = int(found.group(1))
        found = re.search(r'^\s*host\s*[:=]\s*"?([0-9A-Za-z.:\-]+)"?\s*$', block.group(1), re.MULTILINE)
        if found:
            host = found.group(1)
    if host in ("0.0.0.0", "::"):
        host = DEFAULT_HOST
    if ":" in host:
        host = "[{}]".format(host)
    return "http://{}:{}".format(host, port)


def read_debug(url, timeout=5.0):
    """jicofo's ``/debug`` document, or a JicofoError saying why it cannot be had."""
    try:
        status, body = _get("/debug", timeout, url)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise JicofoError("jicofo does not answer on {} ({}).".format(url, reason), NOT_RUNNING_REMEDY) from None
    if status == 404:
        raise JicofoError("jicofo answers on {} but its debug interface is off.".format(url),
                          "Set 'jicofo.rest.debug.enabled = true' in {} and restart jicofo.".format(JICOFO_CONF))
    if status != 200:
        raise JicofoError("jicofo's {}/debug answered HTTP {}.".format(url, status), NOT_RUNNING_REMEDY)
    try:
        doc = json.loads(body)
    except ValueError:
        raise JicofoError("jicofo's {}/debug did not answer with JSON.".format(url), NOT_RUNNING_REMEDY) from None
    if not isinstance(doc, dict):
        raise JicofoError("jicofo's {}/debug answered something other than an object.".format(url),
                          NOT_RUNNING_REMEDY)
    return doc


def _known(value):
    return None if value in (None, "null", "") else value


def _flag(value, default=False):
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    return str(value).strip().lower() == "true"


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_bridges(doc):
    """The bridges in a ``/debug`` document as plain dicts, sorted by nickname."""
    selector = doc.get("bridge_selector")
    table = selector.get("bridge") if isinstance(selector, dict) else None
    if not isinstance(table, dict):
        return []
    out = []
    for jid, state in table.items():
        state = state if isinstance(state, dict) else {}
        room, _, nick = jid.partition("/")
        out.append({
            "jid": jid,
            "brewery": room,
            "nickname": nick,
            "version": _known(state.get("version")),
            "release": _known(state.get("release")),
            "region": _known(state.get("region")),
            "relay_id": _known(state.get("relay-id")),
            "stress": _number(state.get("stress")),
            "drain": _flag(state.get("drain")),
            "graceful_shutdown": _flag(state.get("graceful-shutdown")),
            "shutting_down": _flag(state.get("shutting-down")),
            "healthy": _flag(state.get("healthy"), True),
            "operational": _flag(state.get("operational"), True),
            "overloaded": _flag(state.get("overloaded")),
        })
    return sorted(out, key=lambda b: (b["nickname"], b["jid"]))


def bridges(paths, timeout=5.0):
    """``(url, bridges)``: the bridges jicofo sees now."""
    url = rest_url(paths)
    return url, parse_bridges(read_debug(url, timeout))
