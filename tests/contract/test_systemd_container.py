"""The systemd facade against a real systemd: a lab Debian image booted with systemd-nspawn.

The image is the lab's cached base image (tests/lab, JVB_LAB_CACHE), booted with --volatile=overlay
so that nothing is written to it, with no network. The source tree and the host's dbus_next are
bound read-only into the container, and a script there drives the facade against units it writes.
Skipped with a reason where the image or the tools are missing.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import textwrap
import time

import pytest

pytestmark = pytest.mark.contract

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the same cache the lab harness uses (JVB_LAB_INSTANCE=N has its own)
CACHE = os.environ.get("JVB_LAB_CACHE") or "/var/cache/jvb-join-lab" + (
    "-{}".format(os.environ["JVB_LAB_INSTANCE"]) if os.environ.get("JVB_LAB_INSTANCE", "0") not in ("", "0") else "")
DBUS_NEXT = "/usr/lib/python3/dist-packages/dbus_next"

SCRIPT = textwrap.dedent('''
    import json, sys, time
    sys.path[:0] = ["/opt/dbusnext", "/src"]
    from jvbjoin.system.systemd import Systemd, is_systemd_running
    from jvbjoin.errors import StepError

    UNITS = {
        "jvbtest-ok.service": "[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n",
        "jvbtest-crash.service": "[Service]\\nExecStart=/bin/sh -c 'sleep 1; exit 3'\\nRestart=on-failure\\nRestartSec=1\\n",
        "jvbtest-cond.service": "[Unit]\\nConditionPathExists=/nonexistent\\n[Service]\\nExecStart=/bin/sleep infinity\\n",
        "jvbtest-slow.service": "[Service]\\nType=oneshot\\nExecStart=/bin/sleep 60\\n",
        "jvbtest-78.service": "[Service]\\nExecStart=/bin/sh -c 'exit 78'\\nRestart=on-failure\\nRestartSec=1\\nRestartPreventExitStatus=78\\n",
    }
    for name, text in UNITS.items():
        with open("/etc/systemd/system/" + name, "w") as f:
            f.write(text)
    out = {"booted": is_systemd_running()}

    def attempt(label, call):
        start = time.monotonic()
        try:
            out[label] = {"ok": True, "value": call()}
        except StepError as e:
            out[label] = {"ok": False, "message": e.message, "remedy": e.remedy}
        out[label]["seconds"] = round(time.monotonic() - start, 2)

    with Systemd() as s:
        s.daemon_reload()
        attempt("state_dbus", lambda: s.unit_state("dbus.service"))
        attempt("state_missing", lambda: s.unit_state("nope.service"))
        attempt("enable", lambda: s.enable(["jvbtest-ok.service"]))
        attempt("file_state_enabled", lambda: s.unit_state("jvbtest-ok.service")["UnitFileState"])
        attempt("restart", lambda: s.restart("jvbtest-ok.service", timeout=20))
        attempt("wait_ok", lambda: s.wait_active("jvbtest-ok.service", settle=2, timeout=20)["SubState"])
        attempt("reload_or_restart", lambda: s.reload_or_restart("jvbtest-ok.service", timeout=20))
        attempt("stop", lambda: s.stop("jvbtest-ok.service", timeout=20))
        attempt("disable", lambda: s.disable(["jvbtest-ok.service"]))
        attempt("file_state_disabled", lambda: s.unit_state("jvbtest-ok.service")["UnitFileState"])
        attempt("start_condition_fails", lambda: s.start("jvbtest-cond.service", timeout=20))
        attempt("start_crash", lambda: s.start("jvbtest-crash.service", timeout=20))
        attempt("wait_crash", lambda: s.wait_active("jvbtest-crash.service", settle=5, timeout=30))
        s.stop("jvbtest-crash.service")
        # The start job of a simple service ends "done" once it has forked: an exit a moment later is
        # caught over the settle window, as the bridge's and the server's services are.
        attempt("start_78", lambda: (s.start("jvbtest-78.service", timeout=20),
                                     s.wait_active("jvbtest-78.service", settle=2, timeout=20)))
        attempt("start_slow", lambda: s.start("jvbtest-slow.service", timeout=2))
        attempt("start_missing", lambda: s.start("nope.service", timeout=5))

    # D-Bus not up yet (early boot): the connection is retried until the bus comes back.
    import subprocess, threading
    subprocess.run(["systemctl", "stop", "dbus.socket", "dbus.service"], check=False)
    out["dbus_stopped"] = subprocess.run(["systemctl", "is-active", "dbus.service"],
                                         capture_output=True, text=True).stdout.strip()
    threading.Timer(3, lambda: subprocess.run(["systemctl", "start", "dbus.socket", "dbus.service"],
                                              check=False)).start()

    def late():
        with Systemd() as late_bus:
            return late_bus.unit_state("jvbtest-ok.service")["LoadState"]
    attempt("dbus_late", late)
    print("RESULT " + json.dumps(out))
''')


def _image():
    for path in sorted(glob.glob(os.path.join(CACHE, "images", "bookworm-*", "complete"))):
        rootfs = os.path.join(os.path.dirname(path), "rootfs")
        if os.path.exists(os.path.join(rootfs, "usr/bin/python3")):
            return rootfs
    return None


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root to boot a container"
    for tool in ("systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            return "{} is not installed".format(tool)
    if not os.path.isdir(DBUS_NEXT):
        return "python3-dbus-next is not installed on this host"
    if not _image():
        return "no lab base image under {} (build it with the lab harness: image)".format(CACHE)
    return None


def _enter(pid, argv, timeout, input=None):
    return subprocess.run(["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "env",
                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + argv,
                          capture_output=True, text=True, timeout=timeout, input=input)


def _container_init(nspawn_pid):
    """The container's systemd: the child of systemd-nspawn that runs systemd. nspawn's first child
    only sets the container up, forks the init and exits; taking it for the init would leave the
    tests a process that is gone a moment later."""
    children = subprocess.run(["pgrep", "-P", str(nspawn_pid)], capture_output=True, text=True).stdout.split()
    for child in children:
        try:
            with open("/proc/{}/comm".format(child)) as handle:
                if handle.read().strip() == "systemd":
                    return int(child)
        except OSError:
            continue
    return None


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("sdcheck")
    (work / "check.py").write_text(SCRIPT)
    name = "jvbsd{}".format(os.getpid())
    log = open(str(work / "nspawn.log"), "w")
    proc = subprocess.Popen(["systemd-nspawn", "-D", _image(), "--volatile=overlay", "-b", "--register=no",
                             "--keep-unit", "-M", name, "--private-network",
                             "--bind-ro={}:/src".format(ROOT),
                             "--bind-ro={}:/opt/dbusnext/dbus_next".format(DBUS_NEXT),
                             "--bind-ro={}:/check".format(work)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        init = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and init is None:
            assert proc.poll() is None, open(str(work / "nspawn.log")).read()
            init = _container_init(proc.pid)
            time.sleep(0.5)
        assert init, "the container's systemd did not start"
        state = ""
        while time.monotonic() < deadline:
            state = _enter(init, ["systemctl", "is-system-running"], 10).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
        assert state in ("running", "degraded"), "the container did not boot ({!r}): {}".format(
            state, open(str(work / "nspawn.log")).read()[-2000:])
        yield init
    finally:
        proc.send_signal(signal.SIGTERM)  # nspawn powers the container off
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def results(container):
    done = _enter(container, ["python3", "-B", "/check/check.py"], 180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1][len("RESULT "):])


def test_unit_state_reads_real_properties(results):
    assert results["booted"] is True
    dbus = results["state_dbus"]["value"]
    assert dbus["ActiveState"] == "active" and dbus["LoadState"] == "loaded" and dbus["MainPID"] > 0
    assert results["state_missing"]["value"]["LoadState"] == "not-found"


def test_enable_restart_settle_stop_disable(results):
    for step in ("enable", "restart", "wait_ok", "reload_or_restart", "stop", "disable"):
        assert results[step]["ok"], results[step]
    assert results["file_state_enabled"]["value"] == "enabled"
    assert results["file_state_disabled"]["value"] == "disabled"
    assert results["restart"]["value"] == "done"
    assert results["wait_ok"]["value"] == "running" and results["wait_ok"]["seconds"] >= 2


def test_done_but_skipped_by_a_condition_is_a_failure(results):
    r = results["start_condition_fails"]
    assert not r["ok"] and "not running" in r["message"]
    assert "journalctl -u jvbtest-cond.service -n 50" in r["remedy"]


def test_a_crashing_service_is_a_restart_loop(results):
    assert results["start_crash"]["ok"]  # the job is done as soon as the process forked
    r = results["wait_crash"]
    assert not r["ok"] and "restart loop" in r["message"] and "exit status 3" in r["message"]


def test_exit_78_is_named_as_a_configuration_error(results):
    r = results["start_78"]
    assert not r["ok"] and "exit status 78" in r["message"] and "configuration" in r["message"]


def test_job_timeout_cancels_the_job(results):
    r = results["start_slow"]
    assert not r["ok"] and "cancelled it" in r["message"] and r["seconds"] < 5


def test_missing_unit_is_a_clear_failure(results):
    r = results["start_missing"]
    assert not r["ok"] and "nope.service not found" in r["message"]


def test_dbus_not_up_yet_is_waited_for(results):
    assert results["dbus_stopped"] != "active"
    late = results["dbus_late"]
    assert late["ok"] and late["value"] == "loaded", late
    assert late["seconds"] >= 2.5  # it really waited for the bus to come back
