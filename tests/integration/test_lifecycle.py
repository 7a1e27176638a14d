"""Bridges come and go, in the lab: failover as jicofo sees it, jvb-join upgraded, removed and purged
under a running bridge, and `jvb-join leave --drain` with a simulated conference, then a new join.

One server and two bridges serve every scenario, in order (each builds on the state the one
before left). Measured times are printed (pytest -s shows them)."""

import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import (DOMAIN, create_token, install_server, jicofo_log, join, managed_hashes, nickname, sh, start_unit,
                    wait_for)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BREWERY = "jvbbrewery@internal.auth.{}".format(DOMAIN)
# The bridge's wait between SHUTTING_DOWN and its exit (1 minute by default), shortened by the
# operator's own line in jvb.conf so that the lab does not wait a minute per shutdown.
SHORT_DELAY = "videobridge.shutdown.shutting-down-delay = 3 seconds"


def http(lab, host, url, body=None):
    """``(status, text)`` of a request made inside ``host`` (the REST APIs listen on 127.0.0.1)."""
    script = ("import json, sys, urllib.request, urllib.error\n"
              "body = sys.stdin.read()\n"
              "req = urllib.request.Request(sys.argv[1], data=body.encode() if body else None,\n"
              "    headers={'Content-Type': 'application/json'} if body else {})\n"
              "try:\n"
              "    r = urllib.request.urlopen(req, timeout=10); print(r.status); print(r.read().decode())\n"
              "except urllib.error.HTTPError as e:\n"
              "    print(e.code); print(e.read().decode())\n")
    rc, out, err = lab.exec(host, ["python3", "-c", script, url], input=json.dumps(body) if body else "")
    assert rc == 0, err
    status, _, text = out.partition("\n")
    return int(status), text


def fleet(lab):
    """Nicknames of the bridges jicofo has (its stand-in's /debug/bridges)."""
    status, text = http(lab, "jms", "http://127.0.0.1:8888/debug/bridges")
    assert status == 200, text
    return sorted(b["nickname"] for b in json.loads(text)["bridges"])


def jicofo_health(lab):
    return http(lab, "jms", "http://127.0.0.1:8888/about/health")


def unit(lab, host):
    _, out, _ = lab.exec(host, ["systemctl", "show", "jitsi-videobridge2", "-p", "ActiveState", "-p", "MainPID",
                                "-p", "NRestarts", "-p", "UnitFileState"], check=True)
    return dict(line.split("=", 1) for line in out.strip().splitlines())


@pytest.fixture(scope="module")
def fleet_lab(lab):
    install_server(lab, "--no-local-bridge")  # the fleet is exactly the two bridges
    lab.up("jvb1", "jvb2")
    tokens = {host: create_token(lab, host, host)["token"] for host in ("jvb1", "jvb2")}
    # both join at once, as a fleet does
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        joins = dict(zip(tokens, pool.map(lambda h: join(lab, h, tokens[h]), tokens)))
    for host, (rc, out, err, seconds) in sorted(joins.items()):
        assert rc in (0, 2), out + err
        print("join of {} took {:.1f} s".format(host, seconds))
    yield lab
    lab.down()


def test_failover_jicofo_drops_a_stopped_bridge_keeps_the_other_and_takes_it_back(fleet_lab):
    lab = fleet_lab
    nick1, nick2 = nickname(lab, "jvb1"), nickname(lab, "jvb2")
    wait_for(lambda: fleet(lab) == sorted([nick1, nick2]), 60, "both bridges in jicofo")

    mark = len(jicofo_log(lab))
    started = time.monotonic()
    sh(lab, "jvb1", "systemctl stop jitsi-videobridge2")
    wait_for(lambda: fleet(lab) == [nick2], 60, "jicofo to drop jvb1 and keep jvb2")
    print("jicofo dropped a stopped bridge in {:.1f} s".format(time.monotonic() - started))
    log = jicofo_log(lab)[mark:]
    assert "Removed brewery instance: {}/{}".format(BREWERY, nick1) in log
    # A plain stop is not announced by the bridge (reference §7.2): jicofo reports a lost bridge.
    assert "Lost a bridge: {}/{}".format(BREWERY, nick1) in log
    assert "/" + nick2 not in log

    # While jvb1 is down its operator shortens the shutdown delay (kept through leave, byte for byte).
    sh(lab, "jvb1", "sed -i '1i {}' /etc/jitsi/videobridge/jvb.conf".format(SHORT_DELAY))
    started = time.monotonic()
    start_unit(lab, "jvb1", "jitsi-videobridge2")
    wait_for(lambda: fleet(lab) == sorted([nick1, nick2]), 60, "jvb1 back in jicofo")
    print("a started bridge was back in jicofo in {:.1f} s".format(time.monotonic() - started))

    sh(lab, "jvb2", "sed -i '1i {}' /etc/jitsi/videobridge/jvb.conf".format(SHORT_DELAY))
    for host in ("jvb1", "jvb2"):
        sh(lab, host, "systemctl stop jitsi-videobridge2")
    wait_for(lambda: fleet(lab) == [], 60, "jicofo to have no bridge")
    status, text = jicofo_health(lab)
    assert status == 500 and "No operational bridges" in text
    for host in ("jvb1", "jvb2"):
        start_unit(lab, host, "jitsi-videobridge2")
    wait_for(lambda: fleet(lab) == sorted([nick1, nick2]), 60, "both bridges back")
    assert jicofo_health(lab)[0] == 200


def next_version_deb(workdir):
    """build/jvb-join_V_all.deb rebuilt as V+lab1 (scripts/next-version-deb): ``(path, V)``."""
    debs = sorted(d for d in glob.glob(os.path.join(ROOT, "build", "jvb-join_*_all.deb")) if "+lab1" not in d)
    assert debs, "no jvb-join .deb in build/ (make deb)"
    out = subprocess.run([os.path.join(ROOT, "scripts", "next-version-deb"), debs[-1], workdir], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    version = subprocess.run(["dpkg-deb", "-f", debs[-1], "Version"], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.strip()
    return out, version


def test_upgrade_remove_and_purge_of_jvb_join_leave_the_bridge_running_and_joined(fleet_lab):
    lab = fleet_lab
    nick2 = nickname(lab, "jvb2")
    before = managed_hashes(lab, "jvb2")
    unit_before = unit(lab, "jvb2")
    workdir = tempfile.mkdtemp(prefix="jvb-join-next.")
    try:
        deb, version = next_version_deb(workdir)
        shutil.copy(deb, lab.path("jvb2", "/root/jvb-join-next.deb"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    started = time.monotonic()
    rc, out, err = sh(lab, "jvb2", "apt-get install -y -q /root/jvb-join-next.deb 2>&1", check=False)
    assert rc == 0, out + err
    print("upgrade to {}+lab1 took {:.1f} s".format(version, time.monotonic() - started))
    assert "Unpacking jvb-join ({}+lab1) over ({})".format(version, version) in out
    assert sh(lab, "jvb2", "jvb-join --version")[1].strip().endswith("+lab1")
    assert managed_hashes(lab, "jvb2") == before  # every config, and NRestarts/MainPID of the bridge
    assert unit(lab, "jvb2") == unit_before
    assert nick2 in fleet(lab)

    rc, out, err = sh(lab, "jvb2", "apt-get remove -y -q jvb-join 2>&1", check=False)
    assert rc == 0, out + err
    assert unit(lab, "jvb2") == unit_before and nick2 in fleet(lab)
    assert lab.exec("jvb2", ["test", "-e", "/var/lib/jvb-join/bridge.json"])[0] == 0

    rc, out, err = sh(lab, "jvb2", "apt-get purge -y -q jvb-join 2>&1", check=False)
    assert rc == 0, out + err
    assert "jvb-join leave" in out  # it says how to take the host out first
    assert unit(lab, "jvb2") == unit_before and nick2 in fleet(lab)
    after = managed_hashes(lab, "jvb2")
    assert after == before  # the bridge's config and jvb-join's join record are untouched
    for path in ("/var/log/jvb-join", "/usr/bin/jvb-join"):
        assert lab.exec("jvb2", ["test", "-e", path])[0] != 0, path
    rc, out, _ = lab.exec("jvb2", ["dpkg-query", "-W", "-f", "${Status}", "jvb-join"])
    assert "not-installed" in out or rc != 0
    # Installed again from the lab repository, it still knows the join (leave works from here).
    sh(lab, "jvb2", "apt-get install -y -q jvb-join >/dev/null")
    assert unit(lab, "jvb2") == unit_before


def test_leave_with_drain_waits_for_the_conference_then_jicofo_sees_a_shutdown(fleet_lab):
    lab = fleet_lab
    nick1, nick2 = nickname(lab, "jvb1"), nickname(lab, "jvb2")
    _, conf_joined, _ = sh(lab, "jvb1", "cat /etc/jitsi/videobridge/jvb.conf")
    legacy = "cat /etc/jitsi/videobridge/sip-communicator.properties 2>/dev/null || true"
    _, legacy_joined, _ = sh(lab, "jvb1", legacy)
    token_id = json.loads(sh(lab, "jvb1", "cat /var/lib/jvb-join/bridge.json")[1])["token_id"]
    jvb1_ip, jvb2_ip = lab.ip("jvb1"), lab.ip("jvb2")
    assert jvb1_ip in sh(lab, "jms", "ufw status")[1]  # the token's 5222 rule, while joined

    # With the server out of reach nothing changes, and the exit code says to retry later (75).
    before = managed_hashes(lab, "jvb1")
    route = "blackhole {}/32".format(lab.ip("jms"))
    sh(lab, "jvb1", "ip route add " + route)
    try:
        rc, out, err = lab.exec("jvb1", ["jvb-join", "leave", "--drain"], timeout=120)
    finally:
        sh(lab, "jvb1", "ip route del " + route)
    assert rc == 75, out + err
    assert "meet.lab.test" in err and managed_hashes(lab, "jvb1") == before

    # The plan: it changes nothing either.
    rc, out, err = lab.exec("jvb1", ["jvb-join", "leave", "--drain", "--dry-run"])
    assert rc == 0, out + err
    assert "would change" in out and "remove the account" in out
    assert managed_hashes(lab, "jvb1") == before

    status, _ = http(lab, "jvb1", "http://127.0.0.1:8080/debug/lab/conference",
                     {"participants": 3, "leave_every_seconds": 2})
    assert status == 200
    mark = len(jicofo_log(lab))
    started = time.monotonic()
    rc, out, err = lab.exec("jvb1", ["jvb-join", "leave", "--drain", "--timeout", "2m"], timeout=600)
    took = time.monotonic() - started
    assert rc == 0, out + err
    print("leave --drain with 3 participants leaving every 2 s took {:.1f} s".format(took))
    print("\n".join(l for l in err.splitlines() if "drain" in l or "shut" in l or "exited" in l))
    assert "draining: 3 participant(s)" in err and "draining: 0 participant(s)" in err
    assert "Backups of what was removed or changed: /var/backups/jvb-join/" in out

    log = wait_for(lambda: (lambda t: t if "Removed brewery instance: {}/{}".format(BREWERY, nick1) in t else None)(
        jicofo_log(lab)[mark:]), 60, "jicofo to remove jvb1")
    assert "{}/{} entered SHUTTING_DOWN".format(BREWERY, nick1) in log
    assert "Lost a bridge" not in log
    assert fleet(lab) == [nick2]

    # The host: bridge stopped and disabled, the admin's files as before the join, ports closed.
    state = unit(lab, "jvb1")
    assert state["ActiveState"] == "inactive" and state["UnitFileState"] == "disabled"
    assert sh(lab, "jvb1", "cat /etc/jitsi/videobridge/jvb.conf")[1] == "\n".join(
        l for l in conf_joined.split("\n") if "jvb-join.conf" not in l)
    assert legacy_joined.replace("#jvb-join# ", "") == sh(lab, "jvb1", legacy)[1]
    for path in ("/etc/jitsi/videobridge/jvb-join.conf", "/var/lib/jvb-join/bridge.json",
                 "/etc/sysctl.d/60-jvb-join.conf"):
        assert lab.exec("jvb1", ["test", "-e", path])[0] != 0, path
    rc, out, _ = sh(lab, "jvb1", "ls -R /var/backups/jvb-join")
    assert "jvb-join.conf" in out and "jvb.conf" in out
    ufw = sh(lab, "jvb1", "ufw status")[1]
    assert "10000/udp" not in ufw and "22/tcp" in ufw and "Status: active" in ufw
    # the server's certificate is out of the system store and Java's (a new join puts it back)
    trusted = sh(lab, "jvb1", "ls /usr/local/share/ca-certificates /etc/ssl/certs; "
                              "keytool -list -cacerts -storepass changeit 2>/dev/null | grep -c jvb-join || true")[1]
    assert "jvb-join-" not in trusted.rsplit("\n", 2)[0] and trusted.strip().endswith("0"), trusted

    # The server: the account is gone, and the token list says the bridge left.
    states = {t["id"]: t["state"] for t in json.loads(sh(lab, "jms", "jvb-join --json token list")[1])}
    print("token list on the server says the token of the bridge that left is {!r}".format(states[token_id]))
    assert states[token_id] in ("left", "gone")
    rc, _, _ = lab.exec("jms", ["sh", "-c", "ls /var/lib/prosody/auth%2emeet%2elab%2etest/accounts/ | "
                                            "grep -x 'jvb%2d{}.dat'".format(token_id)])
    assert rc != 0
    # The expiry timer's next run (started here, if the timer has not run since) notices the bridge
    # left: its 5222 rule and its account's prosody rights go; the other bridge's stay.
    sh(lab, "jms", "systemctl start jvb-join-expire.service")
    ufw = sh(lab, "jms", "ufw status")[1]
    assert jvb1_ip not in ufw and jvb2_ip in ufw, ufw
    rights = sh(lab, "jms", "cat /etc/prosody/jvb-join-bridges.cfg.lua")[1]
    assert "jvb-{}@".format(token_id) not in rights and "jvb-" in rights, rights

    # A second leave has nothing to do; a new token joins the host again under the same nickname.
    rc, out, err = lab.exec("jvb1", ["jvb-join", "leave"])
    assert rc == 0 and "nothing to do" in out, out + err
    token = create_token(lab, "again", "jvb1")
    rc, out, err, seconds = join(lab, "jvb1", token["token"])
    assert rc in (0, 2), out + err
    print("join after leave took {:.1f} s".format(seconds))
    assert nickname(lab, "jvb1") == nick1
    wait_for(lambda: fleet(lab) == sorted([nick1, nick2]), 60, "jvb1 back after a new join")


def test_leave_drain_timeout_cuts_the_rest_and_still_shuts_down_cleanly(fleet_lab):
    lab = fleet_lab
    nick2 = nickname(lab, "jvb2")
    status, _ = http(lab, "jvb2", "http://127.0.0.1:8080/debug/lab/conference", {"participants": 2})
    assert status == 200
    mark = len(jicofo_log(lab))
    started = time.monotonic()
    rc, out, err = lab.exec("jvb2", ["jvb-join", "leave", "--drain", "--timeout", "4s"], timeout=600)
    print("leave --drain --timeout 4s with 2 participants staying took {:.1f} s".format(time.monotonic() - started))
    assert rc == 2, out + err  # done, degraded: participants were cut
    assert "2 participant(s) still on the bridge" in out
    log = wait_for(lambda: (lambda t: t if "Removed brewery instance: {}/{}".format(BREWERY, nick2) in t else None)(
        jicofo_log(lab)[mark:]), 60, "jicofo to remove jvb2")
    assert "{}/{} entered SHUTTING_DOWN".format(BREWERY, nick2) in log and "Lost a bridge" not in log
    assert nick2 not in fleet(lab)
