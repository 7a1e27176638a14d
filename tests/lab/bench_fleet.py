"""B7, the fleet against one server: token create as the store grows, the batch form, N simulated
bridges (tests/lab/fleet_sim.py: real XMPP sessions that do on the server what a joined bridge does)
logging in at once, the server's CPU time and memory, and the fleet commands at N.

Run by tests/lab/bench.py on a lab whose jms has had `jvb-join server install`.
"""

import collections
import json
import os
import re
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_HOST = "sim"
SIM_UNIT = "jvb-join-fleet-sim"
SIM_DIR = "/root/fleet"
JICOFO_LOG = "/var/log/jitsi/jicofo.log"


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def timed(lab, host, argv, runs=3, input=None, check=True):
    """Wall seconds of ``argv`` run ``runs`` times on ``host`` (median, min, max)."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        rc, out, err = lab.exec(host, argv, input=input, timeout=900)
        times.append(time.monotonic() - started)
        if check and rc not in (0, 1, 2):
            raise RuntimeError("{} failed ({}): {}".format(" ".join(argv), rc, (out + err)[-1500:]))
    return _stats(times)


def single_creates(lab, runs, allow_from):
    """Seconds per `jvb-join token create` (one token each), as an operator makes them."""
    return timed(lab, "jms", ["jvb-join", "token", "create", "--name", "bench-single", "--allow-from", allow_from],
                 runs=runs)


def token_count(lab):
    out = lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True, timeout=600)[1]
    return len(json.loads(out))


def process_usage(lab, user):
    """(CPU seconds, RSS in KiB) of the processes a service runs as ``user`` (prosody, jicofo), read
    from /proc on the server host."""
    script = ('for p in $(pgrep -u {0}); do echo "$(cat /proc/$p/stat | sed "s/.*) //") '
              '$(sed -n "s/^VmRSS:[[:space:]]*\\([0-9]*\\).*/\\1/p" /proc/$p/status)"; done').format(user)
    out = lab.exec("jms", ["sh", "-c", script], check=True)[1]
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = rss = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 13:
            cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            rss += int(fields[-1]) if fields[-1].isdigit() else 0
    return cpu, rss


BREWERY_EVENT = re.compile(r"(Added|Removed) brewery instance: jvbbrewery@internal\.auth\.meet\.lab\.test/sim-(\w+)\n")


def in_brewery(lab, ids):
    """How many of the simulated bridges ``ids`` jicofo has now in its brewery (its log: added minus
    removed, per nickname; the log read in one pass, polled while N bridges log in)."""
    try:
        with open(lab.path("jms", JICOFO_LOG), errors="replace") as handle:
            text = handle.read()
    except OSError:
        return 0
    balance = collections.Counter()
    for event, token_id in BREWERY_EVENT.findall(text):
        balance[token_id] += 1 if event == "Added" else -1
    return sum(1 for token_id in ids if balance[token_id] > 0)


def batch(lab, size, allow_from, name):
    """Make ``size`` tokens with one `token create --count`; (seconds, their ids, the file on jms)."""
    path = "/root/{}.tokens".format(name)
    lab.exec("jms", ["rm", "-f", path], check=True)
    started = time.monotonic()
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "token", "create", "--count", str(size), "--output", path,
                                    "--allow-from", allow_from, "--name", name], timeout=900)
    seconds = time.monotonic() - started
    if rc != 0:
        raise RuntimeError("token create --count {} failed ({}): {}".format(size, rc, (out + err)[-1500:]))
    return seconds, [t["id"] for t in json.loads(out)["tokens"]], path


def start_sim(lab, tokens_path, name):
    """Copy the tokens to the simulation host and start all its bridges at once (a transient unit)."""
    with open(lab.path("jms", tokens_path)) as handle:
        tokens = handle.read()
    lab.exec(SIM_HOST, ["sh", "-c", "mkdir -p {0} && umask 077 && cat > {0}/{1}.tokens".format(SIM_DIR, name)],
             input=tokens, check=True)
    with open(os.path.join(HERE, "fleet_sim.py")) as handle:
        lab.exec(SIM_HOST, ["sh", "-c", "cat > {}/fleet_sim.py".format(SIM_DIR)], input=handle.read(), check=True)
    lab.exec(SIM_HOST, ["rm", "-f", "{}/{}.events".format(SIM_DIR, name)], check=True)
    lab.exec(SIM_HOST, ["systemctl", "reset-failed", SIM_UNIT], check=False)
    lab.exec(SIM_HOST, ["systemd-run", "--unit", SIM_UNIT, "--property", "LimitNOFILE=65536",
                        "/usr/bin/python3", "{}/fleet_sim.py".format(SIM_DIR), "{}/{}.tokens".format(SIM_DIR, name),
                        "{}/{}.events".format(SIM_DIR, name)], check=True)


def stop_sim(lab, ids, timeout=120):
    lab.exec(SIM_HOST, ["systemctl", "stop", SIM_UNIT], check=False, timeout=120)
    deadline = time.monotonic() + timeout
    while in_brewery(lab, ids) and time.monotonic() < deadline:
        time.sleep(0.5)


def sim_events(lab, name):
    try:
        with open(lab.path(SIM_HOST, "{}/{}.events".format(SIM_DIR, name))) as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except OSError:
        return []


def phases(events, started_wall):
    """Where the time went: seconds from the start to each bridge's login, password change and
    entry into the brewery (median and max over the bridges)."""
    out = {}
    for kind in ("login", "password", "joined"):
        times = sorted(e["t"] - started_wall for e in events if e["event"] == kind)
        if times:
            out[kind] = {"median": round(statistics.median(times), 2), "max": round(times[-1], 2), "n": len(times)}
    return out


def stage(lab, size, allow_from, timeout):
    """One fleet size: batch, all N log in at once, server cost, fleet commands, single create."""
    name = "b7-{}".format(size)
    out = {}
    seconds, ids, path = batch(lab, size, allow_from, name)
    out["batch_seconds"] = round(seconds, 3)
    prosody0, _ = process_usage(lab, "prosody")
    jicofo0, _ = process_usage(lab, "jicofo")
    started_wall = time.time()
    start_sim(lab, path, name)
    started = time.monotonic()
    present = 0
    while time.monotonic() - started < timeout:
        present = in_brewery(lab, ids)
        if present >= size:
            break
        if lab.exec(SIM_HOST, ["systemctl", "is-active", "--quiet", SIM_UNIT])[0] != 0:
            log = lab.exec(SIM_HOST, ["journalctl", "-u", SIM_UNIT, "--no-pager", "-n", "30"])[1]
            raise RuntimeError("the simulated bridges stopped:\n" + log)
        time.sleep(0.25)
    all_in_wall = time.time()
    out["all_in_brewery_seconds"] = round(time.monotonic() - started, 3) if present >= size else None
    out["in_brewery"] = present
    time.sleep(5)  # one presence interval and a round of health checks with all of them in
    prosody1, rss = process_usage(lab, "prosody")
    jicofo1, _ = process_usage(lab, "jicofo")
    out["prosody_cpu_ms_per_bridge"] = round((prosody1 - prosody0) * 1000 / size, 2)
    out["jicofo_cpu_ms_per_bridge"] = round((jicofo1 - jicofo0) * 1000 / size, 2)
    out["prosody_rss_mib"] = round(rss / 1024, 1)
    events = sim_events(lab, name)
    out["failures"] = sorted({e.get("why", "?") for e in events if e["event"] == "failed"})
    out["phases"] = phases(events, started_wall)
    logins = [e["t"] for e in events if e["event"] == "login"]
    if logins and present >= size:
        # the figure: from the first login to all N in jicofo's brewery (the simulator's own
        # start-up, N clients made in one process, is not the server's)
        out["first_login_to_all_in_brewery_seconds"] = round(all_in_wall - min(logins), 3)
    out["tokens_in_store"] = token_count(lab)
    out["bridges"] = timed(lab, "jms", ["jvb-join", "bridges"])
    out["doctor"] = timed(lab, "jms", ["jvb-join", "doctor"])
    out["expire_timer_run"] = timed(lab, "jms", ["jvb-join", "token", "expire"])
    out["token_create_single"] = single_creates(lab, 3, allow_from)
    stop_sim(lab, ids)
    return out


def run(lab, sizes, result, install_jvb_join, timeout=180):
    lab.up(SIM_HOST)
    install_jvb_join(lab, SIM_HOST)
    allow_from = lab.ip(SIM_HOST)
    # token create with a small store: ten tokens, the last five timed
    single_creates(lab, 5, allow_from)
    at_ten = single_creates(lab, 5, allow_from)
    figures = {"token_create_single_n10": at_ten}
    for size in sizes:
        figures[str(size)] = stage(lab, size, allow_from, timeout)
    last = figures[str(sizes[-1])]
    figures["token_create_ratio_nmax_to_n10"] = round(last["token_create_single"]["median"] / at_ten["median"], 2)
    result["B7"] = figures
    return figures
