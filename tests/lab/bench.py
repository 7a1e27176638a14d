"""Benchmarks of jvb-join in the lab (issue "Benchmarks"): scripts/bench runs this as root.

B1 join against the scripted hand procedure and the floor (apt/dpkg alone plus the bridge's own
start-to-presence time), B2 the no-op re-run, B3 doctor, B4 start-up, B5 a fleet joining at once,
B6 server install and token create, B7 the fleet against one server (tests/lab/bench_fleet.py).
Every figure is the median of --runs runs with min and max;
ratios are taken within this one invocation. Prints a table and writes JSON (--json).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import bench_fleet  # noqa: E402
from harness import Lab  # noqa: E402
from labkit import (DOMAIN, HAND_PROCEDURE, create_token, hand_procedure, install_jvb_join, nickname, repo_args,
                    sh)  # noqa: E402

JICOFO_LOG = "/var/log/jitsi/jicofo.log"


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def jicofo_added(lab, nick):
    """How many times jicofo has added the bridge ``nick`` to the brewery (read from the host side)."""
    try:
        with open(lab.path("jms", JICOFO_LOG), errors="replace") as handle:
            text = handle.read()
    except OSError:
        return 0
    return text.count("Added brewery instance: jvbbrewery@internal.auth.{}/{}\n".format(DOMAIN, nick))


def wait_added(lab, nick, count, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if jicofo_added(lab, nick) >= count:
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError("jicofo did not add {} within {} s".format(nick, timeout))


def fresh_bridge_host(lab, name):
    lab.up(name)
    install_jvb_join(lab, name)


# The steps whose time is apt/dpkg work (update and install, Java in the same apt run) and the
# bridge's own start; the rest of a join's time is jvb-join's own.
FLOOR_STEPS = ("java", "packages", "service")


def own_seconds(report):
    """jvb-join's own time in a join, from its JSON report: all of it but apt/dpkg, the bridge's
    restart and the wait for its presence (measured in-process, so the machine's noise between
    hosts does not enter)."""
    floor_part = sum(s.get("seconds", 0) for s in report["steps"] if s["step"] in FLOOR_STEPS)
    return report["seconds"] - floor_part - report.get("phase_seconds", {}).get("verify", 0)


def timed_join(lab, host, token):
    """Seconds from `jvb-join <token>` to jicofo adding the bridge; jvb-join's own wall time; and
    its own time from its report (see own_seconds)."""
    started = time.monotonic()
    rc, out, err = lab.exec(host, ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host),
                            input=token + "\n", timeout=1200)
    own = time.monotonic() - started
    if rc not in (0, 2):
        raise RuntimeError("join on {} failed ({}): {}".format(host, rc, (out + err)[-2000:]))
    seen = wait_added(lab, nickname(lab, host), 1)
    return seen - started, own, own_seconds(json.loads(out))


def timed_hand_procedure(lab, host):
    """The tutorials' procedure, scripted (scripts/hand-procedure), timed to jicofo adding the bridge."""
    started = time.monotonic()
    rc, out, err = hand_procedure(lab, host)
    if rc != 0:
        raise RuntimeError("hand procedure on {} failed ({}): {}".format(host, rc, (out + err)[-2000:]))
    # the script ends when jicofo's log has added the bridge (under the host's name, its nickname)
    return wait_added(lab, host, 1) - started


APT_FLOOR = ("apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
             "--no-install-recommends openjdk-17-jre-headless jitsi-videobridge2 >/dev/null")


def floor_host(lab, host, joined_host):
    """A fresh host with the Jitsi repository a joined host uses, nothing else of jvb-join's."""
    lab.up(host)
    for path in ("/etc/apt/sources.list.d/jitsi-stable.sources", "/usr/share/keyrings/jitsi-keyring.gpg"):
        data = lab.exec(joined_host, ["cat", path], text=False, check=True)[1]
        lab.exec(host, ["sh", "-c", "mkdir -p $(dirname {0}) && cat > {0}".format(path)], input=data, check=True)


def in_parallel(func, items):
    """Run func(item) for every item at once: the wall time until all have returned, and errors."""
    errors = []

    def one(item):
        try:
            func(item)
        except Exception as exc:  # reported below
            errors.append("{}: {}".format(item, exc))
    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, errors


def checked(outcome):
    seconds, errors = outcome
    if errors:
        raise RuntimeError("; ".join(errors))
    return seconds


def presence(lab, joined_hosts):
    """The bridges' own time from start to presence in the brewery: a restart of already joined
    bridges (all at once), until jicofo has added each of them again."""
    nicks = [nickname(lab, host) for host in joined_hosts]
    counts = [jicofo_added(lab, nick) for nick in nicks]
    started = time.monotonic()
    checked(in_parallel(lambda host: lab.exec(host, ["systemctl", "restart", "jitsi-videobridge2"], check=True),
                        joined_hosts))
    return max(wait_added(lab, nick, count + 1) for nick, count in zip(nicks, counts)) - started


def floor(lab, hosts, joined_hosts):
    """apt/dpkg work alone on fresh hosts (all at once), plus the bridges' start-to-presence time."""
    for host in hosts:
        floor_host(lab, host, joined_hosts[0])
    apt_seconds = checked(in_parallel(lambda host: sh(lab, host, APT_FLOOR), hosts))
    return apt_seconds, presence(lab, joined_hosts)


def files_written(lab, host, command, input=None):
    """Run command; return (seconds, report, files under /etc and /var/lib/jvb-join modified, restarts)."""
    unit = lambda: lab.exec(host, ["systemctl", "show", "jitsi-videobridge2", "-p", "NRestarts", "-p",
                                   "MainPID"], check=True)[1]
    before = unit()
    sh(lab, host, "touch /run/bench-marker && sleep 0.01")
    started = time.monotonic()
    rc, out, err = lab.exec(host, command, input=input, timeout=600)
    seconds = time.monotonic() - started
    changed = sh(lab, host, "find /etc /var/lib/jvb-join /usr/share/keyrings /usr/local/share/ca-certificates "
                            "-xdev -newer /run/bench-marker -type f 2>/dev/null | wc -l")[1]
    restarts = 0 if unit() == before else 1
    return seconds, rc, out, int(changed.strip() or 0), restarts


STARTUP_PROBE = """
import json, resource, statistics, subprocess, time

def measure(argv, runs):
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"wall": [min(wall), statistics.median(wall), max(wall)],
            "cpu": [min(cpu), statistics.median(cpu), max(cpu)]}

print(json.dumps({"python": measure(["python3", "-c", "pass"], RUNS),
                  "version": measure(["jvb-join", "--version"], RUNS),
                  "help": measure(["jvb-join", "--help"], RUNS)}))
"""


def startup(lab, host, runs=21):
    """Start-up of the installed command against Python's own, wall and CPU time (CPU time is
    what the command costs; wall time also carries the machine's noise)."""
    out = lab.exec(host, ["python3", "-c", STARTUP_PROBE.replace("RUNS", str(runs))], check=True)[1]
    return json.loads(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max); at least 3")
    ap.add_argument("--fleet", type=int, default=4, help="bridges joining at once in B5")
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench.json"), help="where to write the JSON")
    ap.add_argument("--only", default="B1,B2,B3,B4,B5,B6,B7", help="comma-separated figures to run")
    ap.add_argument("--fleet-sizes", default="50,200,500",
                    help="B7: the numbers of simulated bridges, smallest first")
    ap.add_argument("--compare", metavar="REV",
                    help="B2 and B4 only, of this checkout's HEAD against git revision REV, the two run in "
                         "turn on the same joined bridge in this one invocation")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    if args.compare:
        only = {"B2", "B4"}
    lab = Lab()
    lab.down()
    lab.prepare()
    result = {"runs": args.runs, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        run_all(lab, args, only, result)
    finally:
        lab.down()
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2, sort_keys=True)
    print_table(result)
    print("written to {}".format(args.json))
    return 0


def run_all(lab, args, only, result):
    # B6 first: each server install on a fresh jms; the last one serves the other figures.
    installs = []
    for index in range(args.runs if "B6" in only else 1):
        if index:
            lab.down()
            lab.prepare(refresh=False)
        lab.up("jms")
        install_jvb_join(lab, "jms")
        started = time.monotonic()
        rc, out, err = lab.exec("jms", ["jvb-join", "server", "install", "--domain", DOMAIN]
                                + repo_args(lab, "jms"), timeout=1200)
        if rc != 0:
            raise RuntimeError("server install failed ({}): {}".format(rc, (out + err)[-2000:]))
        installs.append(time.monotonic() - started)
    if "B6" in only:
        result["B6_server_install"] = stats(installs)
        times = []
        for index in range(args.runs):
            started = time.monotonic()
            create_token(lab, "bench-token-{}".format(index), "jms")
            times.append(time.monotonic() - started)
        result["B6_token_create"] = stats(times)

    if "B4" in only:
        probe = startup(lab, "jms")
        result["B4_startup"] = {"{}_{}".format(name, kind): dict(zip(("min", "median", "max"), v))
                                for name, kinds in probe.items() for kind, v in kinds.items()}
        for kind in ("wall", "cpu"):
            base = probe["python"][kind][1]
            for name in ("version", "help"):
                result["B4_ratio_{}_{}".format(name, kind)] = round(probe[name][kind][1] / base, 2)

    joined = []
    if only & {"B1", "B2", "B3", "B5"}:
        joins, owns, hands, apts, presences, in_process = [], [], [], [], [], []
        for index in range(args.runs if "B1" in only else 1):
            host = "jvb-{}".format(index)
            fresh_bridge_host(lab, host)
            token = create_token(lab, host, host)["token"]
            total, own, own_steps = timed_join(lab, host, token)
            joins.append(total)
            owns.append(own)
            in_process.append(own_steps)
            joined.append((host, token))
            if "B1" not in only:
                continue
            if os.path.exists(HAND_PROCEDURE):
                hand_host = "hand-{}".format(index)
                lab.up(hand_host)
                hands.append(timed_hand_procedure(lab, hand_host))
            apt_seconds, start_to_presence = floor(lab, ["floor-{}".format(index)], [host])
            apts.append(apt_seconds)
            presences.append(start_to_presence)
        result["B1_join"] = stats(joins)
        result["B1_join_own_wall"] = stats(owns)
        result["B1_join_own_steps"] = stats(in_process)
        if "B1" in only:
            result["B1_hand_procedure"] = stats(hands) or "not available (no scripts/hand-procedure)"
            result["B1_floor_apt"] = stats(apts)
            result["B1_floor_presence"] = stats(presences)
            floors = [a + p for a, p in zip(apts, presences)]
            result["B1_floor"] = stats(floors)
            result["B1_overhead_above_floor"] = round(statistics.median(joins) - statistics.median(floors), 3)
            if hands:
                result["B1_ratio_join_to_hand"] = round(statistics.median(joins) / statistics.median(hands), 2)

    if args.compare:
        compare(lab, joined[0][0], joined[0][1], args, result)
        return
    if "B2" in only:
        host, token = joined[0]
        rows = []
        for _ in range(args.runs):
            seconds, rc, out, written, restarts = files_written(
                lab, host, ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host),
                input=token + "\n")
            rows.append((seconds, json.loads(out).get("changed") if out.strip() else None, written, restarts))
        result["B2_rerun"] = stats([r[0] for r in rows])
        result["B2_changed"] = max(r[1] for r in rows)
        result["B2_files_written"] = max(r[2] for r in rows)
        result["B2_restarts"] = max(r[3] for r in rows)

    if "B3" in only:
        host = joined[0][0]
        rc = lab.exec(host, ["jvb-join", "doctor"])[0]
        if rc == 64:
            result["B3_doctor"] = "not available (jvb-join doctor exits 64)"
        else:
            healthy = []
            for _ in range(args.runs):
                seconds, rc, _, written, _ = files_written(lab, host, ["jvb-join", "doctor"])
                healthy.append(seconds)
            result["B3_doctor_healthy"] = stats(healthy)
            result["B3_doctor_healthy_exit"] = rc
            result["B3_doctor_files_written"] = written
            server = lab.ip("jms")
            # the server unreachable: packets to it dropped (not refused), the slow case
            # (a blackhole route would fail at once: the kernel answers for it)
            drop = ["OUTPUT", "-d", server + "/32", "-j", "DROP"]
            lab.exec(host, ["iptables", "-I"] + drop, check=True)
            try:
                unreachable = []
                for _ in range(args.runs):
                    started = time.monotonic()
                    rc = lab.exec(host, ["jvb-join", "doctor"], timeout=120)[0]
                    unreachable.append(time.monotonic() - started)
                result["B3_doctor_unreachable"] = stats(unreachable)
                result["B3_doctor_unreachable_exit"] = rc
            finally:
                lab.exec(host, ["iptables", "-D"] + drop)

    if "B5" in only:
        fleet = ["fleet-{}".format(i) for i in range(args.fleet)]
        tokens = {}
        for host in fleet:
            fresh_bridge_host(lab, host)
            tokens[host] = create_token(lab, host, host)["token"]
        times = {}
        seconds, errors = in_parallel(lambda host: times.update({host: timed_join(lab, host, tokens[host])[0]}),
                                      fleet)
        result["B5_fleet_size"] = args.fleet
        result["B5_fleet_all_in_brewery"] = round(seconds, 3)
        result["B5_fleet_errors"] = errors
        if result.get("B1_join"):
            result["B5_ratio_to_single_join"] = round(result["B5_fleet_all_in_brewery"] /
                                                      result["B1_join"]["median"], 2)
        # The same work without jvb-join, all at once on this one machine: N hosts share its CPUs
        # and disk, which a real fleet of N machines does not.
        apt_seconds, start_to_presence = floor(lab, ["ffloor-{}".format(i) for i in range(args.fleet)],
                                               [h for h in fleet if h in times])
        result["B5_fleet_floor_apt"] = round(apt_seconds, 3)
        result["B5_fleet_floor_presence"] = round(start_to_presence, 3)
        result["B5_fleet_floor"] = round(apt_seconds + start_to_presence, 3)
        result["B5_fleet_overhead_above_floor"] = round(result["B5_fleet_all_in_brewery"] - result["B5_fleet_floor"], 3)
        if result.get("B1_floor"):
            result["B5_fleet_floor_ratio_to_single_floor"] = round(
                result["B5_fleet_floor"] / result["B1_floor"]["median"], 2)
        rc = lab.exec("jms", ["jvb-join", "bridges"])[0]
        if rc == 64:
            result["B5_bridges"] = "not available (jvb-join bridges exits 64)"
        else:
            seconds = []
            for _ in range(args.runs):
                started = time.monotonic()
                lab.exec("jms", ["jvb-join", "--json", "bridges"], check=True)
                seconds.append(time.monotonic() - started)
            result["B5_bridges"] = stats(seconds)

    if "B7" in only:
        bench_fleet.run(lab, [int(n) for n in args.fleet_sizes.split(",")], result, install_jvb_join)


PLACES = {"before": "/opt/jvb-join-before", "after": "/opt/jvb-join-after"}


def place_revision(lab, host, rev, place):
    """The jvbjoin package and bin/jvb-join of git revision ``rev``, unpacked in ``place`` on ``host``
    and compiled, as the package's postinst compiles the installed one."""
    data = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", rev, "jvbjoin", "bin"],
                          stdout=subprocess.PIPE, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(lab.path(host, place))
    lab.exec(host, ["python3", "-m", "compileall", "-q", place + "/jvbjoin"], check=True)


def compare(lab, host, token, args, result):
    """B4 (--version, --help) and B2 (the no-op re-run) of this checkout's HEAD ("after") and of
    revision ``--compare`` ("before"), both unpacked under /opt on one joined bridge and run in turn,
    so both see the same machine noise and the same path lookups. Ratios are after / before (below
    1: HEAD is faster)."""
    for side, rev in (("before", args.compare), ("after", "HEAD")):
        place_revision(lab, host, rev, PLACES[side])
    commands = {side: ["python3", place + "/bin/jvb-join"] for side, place in PLACES.items()}
    env = {side: {"PYTHONPATH": place} for side, place in PLACES.items()}
    rerun_args = ["--json", "join", "--token-file", "-"] + repo_args(lab, host)
    times = {(side, what): [] for side in commands for what in ("version", "help", "rerun")}
    changed = {side: 0 for side in commands}
    exits = {side: set() for side in commands}
    runs = max(args.runs, 3)
    for index in range(runs * 7):
        for side in (("before", "after") if index % 2 else ("after", "before")):
            for what, extra in (("version", ["--version"]), ("help", ["--help"])):
                started = time.perf_counter()
                lab.exec(host, commands[side] + extra, env=env[side], check=True)
                times[(side, what)].append(time.perf_counter() - started)
            if index < runs:
                started = time.perf_counter()
                rc, out, err = lab.exec(host, commands[side] + rerun_args, input=token + "\n", env=env[side],
                                        timeout=600)
                times[(side, "rerun")].append(time.perf_counter() - started)
                # 2: joined, degraded (in the lab's containers the kernel settings cannot be set)
                if rc not in (0, 2):
                    raise RuntimeError("{} re-run failed ({}): {}".format(side, rc, (out + err)[-2000:]))
                changed[side] = max(changed[side], json.loads(out).get("changed") or 0)
                exits[side].add(rc)
    result["compare_revision"] = args.compare
    for (side, what), values in times.items():
        # milliseconds matter here: a start-up is about 10 ms
        result["compare_{}_{}_ms".format(what, side)] = {
            key: round(statistics.median(values) * 1000 if key == "median" else func(values) * 1000, 2)
            for key, func in (("median", None), ("min", min), ("max", max))}
        result["compare_{}_{}_ms".format(what, side)]["runs"] = len(values)
    for what in ("version", "help", "rerun"):
        result["compare_ratio_{}".format(what)] = round(
            statistics.median(times[("after", what)]) / statistics.median(times[("before", what)]), 3)
    result["compare_rerun_changed"] = changed
    result["compare_rerun_exit"] = {side: sorted(codes) for side, codes in exits.items()}


def _fmt(value, unit="s"):
    if isinstance(value, dict) and "median" in value and "min" not in value:  # B7's phases: median, max, n
        return "{median:.2f} {u} (max {max:.2f}, n={n})".format(u=unit, **value)
    if isinstance(value, dict) and "median" in value:
        return ("{median:.2f} " + unit + " (min {min:.2f}, max {max:.2f}, n={runs})").format(**value) \
            if "runs" in value else "{median:.4f} s (min {min:.4f}, max {max:.4f})".format(**value)
    return str(value)


def flat(result, prefix=""):
    """(dotted key, value) for every figure, nested groups (B4_startup, B7 and its sizes) opened."""
    for key in sorted(result, key=lambda k: (not k[:1].isdigit(), int(k) if k.isdigit() else 0, k)):
        value = result[key]
        if isinstance(value, dict) and "median" not in value:
            yield from flat(value, prefix + key + ".")
        else:
            yield prefix + key, value


def print_table(result):
    rows = list(flat(result))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        unit = "ms" if key.endswith("_ms") else "s"
        print("{:<{w}}  {}".format(key, _fmt(value, unit), w=width))


if __name__ == "__main__":
    sys.exit(main())
