"""The heart of the product, in the lab: a Jitsi Meet server made by jvb-join, and bridges joined
to its brewery from tokens, with TLS verified, proven by jicofo's own log."""

import json
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, create_token, jicofo_log, join, managed_hashes, nickname, repo_args, sh, wait_for


TOKENS = {}  # token texts of the joined bridges, for the tests that re-run their join


def test_server_install_makes_a_working_server_without_prompts(server):
    lab = server
    for unit in ("prosody", "jicofo", "nginx"):
        rc, out, _ = lab.exec("jms", ["systemctl", "is-active", unit])
        assert out.strip() == "active", unit
    probe = ("import ssl, urllib.request; c = ssl.create_default_context(); c.check_hostname = False; "
             "c.verify_mode = ssl.CERT_NONE; print(urllib.request.urlopen('https://127.0.0.1/', context=c).status)")
    rc, out, err = lab.exec("jms", ["python3", "-c", probe])
    assert out.strip() == "200", err
    # A second run changes nothing.
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "install", "--domain", DOMAIN]
                            + repo_args(lab, "jms"), timeout=600)
    assert rc == 0, out + err
    assert json.loads(out)["changed"] == 0


SNAPSHOT = ("find /etc /var/lib/dpkg /var/cache/debconf /usr/share/keyrings /usr/local/share/ca-certificates "
            "-xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum; "
            "ufw status verbose; systemctl list-unit-files --state=enabled --no-legend")


def prosody_log(lab):
    return lab.exec("jms", ["cat", "/var/log/prosody/prosody.log"], check=False)[1]


def assert_one_start_and_no_failed_login(lab, host, prosody_lines):
    """A fresh join started the bridge once, with jvb-join's settings: the package's install did not
    start it first with its own (localhost, a password no server knows), and the server logged no
    failed login while the bridge joined. No hold is left behind."""
    journal = sh(lab, host, "journalctl -u jitsi-videobridge2 -o cat --no-pager")[1]
    starts = [line for line in journal.splitlines() if line.startswith("Started ")]
    assert len(starts) == 1, journal
    rc, out, _ = lab.exec(host, ["sh", "-c", "ls /run/systemd/system/jitsi-videobridge2.service "
                                 "/run/jvb-join/bridge-start-hold 2>/dev/null; systemctl is-enabled jitsi-videobridge2"],
                          check=False)
    assert out.strip() == "enabled", out
    failed = [line for line in prosody_lines.splitlines() if "fail" in line.lower() and "auth" in line.lower()]
    assert not failed, failed
    # Prosody 0.12 logs a failed SASL login only at debug level: the bridge's own log is the witness
    # of every login it tried (the package's settings would fail against localhost or the server).
    jvb_log = sh(lab, host, "cat /var/log/jitsi/jvb.log")[1]
    assert "Failed to connect/login" not in jvb_log, jvb_log[-3000:]
    assert jvb_log.count("Starting jitsi-videobridge version") == 1, jvb_log[-3000:]
    print("{}: {} start of jitsi-videobridge2, no failed login in jvb.log nor in {} prosody log lines".format(
        host, len(starts), len(prosody_lines.splitlines())))


def test_dry_run_changes_nothing(server):
    lab = server
    lab.up("jvb3")
    sh(lab, "jvb3", "apt-get update -q >/dev/null && apt-get install -y -q jvb-join >/dev/null")
    token = create_token(lab, "dry", "jvb3")
    before = sh(lab, "jvb3", SNAPSHOT)[1]
    assert before.count("/etc/") > 100 and "Status:" in before  # the snapshot really covers the host
    rc, out, err, _ = join(lab, "jvb3", token["token"], "--dry-run")
    assert rc == 0, out + err
    plan = json.loads(out)
    assert plan["dry_run"] is True and any(s["status"] == "planned" for s in plan["steps"])
    after = sh(lab, "jvb3", SNAPSHOT)[1]
    assert after == before
    # The plan shows the diff of the include line it would add once the package creates jvb.conf.
    assert any(c["target"].endswith("jvb-join.conf") or "jvb.conf" in c["summary"]
               for s in plan["steps"] for c in s["changes"])


def test_two_bridges_join_with_verified_tls_and_a_rerun_changes_nothing(server):
    lab = server
    lab.up("jvb1", "jvb2")
    first = create_token(lab, "first", "jvb1")
    TOKENS["first"] = first["token"]
    prosody_before = len(prosody_log(lab))
    rc, out, err, seconds = join(lab, "jvb1", first["token"])
    assert rc in (0, 2), out + err
    report = json.loads(out)
    assert report["verified"] is True
    print("join took {:.1f} s".format(seconds))
    assert_one_start_and_no_failed_login(lab, "jvb1", prosody_log(lab)[prosody_before:])
    nick1 = nickname(lab, "jvb1")
    wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick1) in jicofo_log(lab),
             30, "jicofo to add jvb1")

    second = create_token(lab, "second", "jvb2")
    rc, out, err, _ = join(lab, "jvb2", second["token"])
    assert rc in (0, 2), out + err
    nick2 = nickname(lab, "jvb2")
    assert nick1 != nick2
    log = wait_for(lambda: (lambda t: t if "/{}".format(nick2) in t else None)(jicofo_log(lab)), 30, "jvb2 in jicofo")
    assert "Added new videobridge: Bridge[jid=jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick1) in log

    # TLS stayed on: nothing under /etc turns verification off, and the bridge never said it did.
    for host in ("jvb1", "jvb2"):
        rc, out, _ = lab.exec(host, ["grep", "-rilE", "disable_certificate_verification *[=:] *true", "/etc"])
        assert out == "", out
        rc, out, _ = lab.exec(host, ["grep", "-c", "Disabling certificate verification!", "/var/log/jitsi/jvb.log"])
        assert out.strip() == "0"

    # A second run with the same token: no file rewritten, no restart, 0 changed.
    before = managed_hashes(lab, "jvb1")
    started = time.monotonic()
    rc, out, err, _ = join(lab, "jvb1", first["token"])
    rerun = time.monotonic() - started
    assert rc in (0, 2), out + err
    assert json.loads(out)["changed"] == 0
    assert managed_hashes(lab, "jvb1") == before
    print("no-op re-run took {:.1f} s".format(rerun))

    # The token is single use: its password no longer logs in.
    state = lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True)[1]
    states = {t["id"]: t["state"] for t in json.loads(state)}
    assert states[first["id"]] == "joined" and states[second["id"]] == "joined"


def test_a_rerun_leaves_a_held_bridge_running_and_refuses_another_version(server):
    """Operators pin the bridge with 'apt-mark hold': a re-run still changes nothing and does not
    restart it; a token for another version is refused before anything changes."""
    lab = server
    if "first" not in TOKENS:
        pytest.skip("needs the joined jvb1 of the previous test")
    sh(lab, "jvb1", "apt-mark hold jitsi-videobridge2 >/dev/null")
    try:
        pid = lambda: sh(lab, "jvb1", "systemctl show -p MainPID --value jitsi-videobridge2")[1].strip()
        before, hashes = pid(), managed_hashes(lab, "jvb1")
        assert before != "0"
        rc, out, err, _ = join(lab, "jvb1", TOKENS["first"])
        assert rc in (0, 2), out + err
        report = json.loads(out)
        assert report["changed"] == 0, out
        assert pid() == before and managed_hashes(lab, "jvb1") == hashes
        assert "restart" not in out

        rc, out, err = lab.exec("jms", ["jvb-join", "--json", "token", "create", "--name", "other-version",
                                        "--host", DOMAIN, "--jvb-version", "2.3-1-g0000000-1"], check=True)
        snapshot = sh(lab, "jvb1", "dpkg -l; systemctl show -p MainPID jitsi-videobridge2; " + SNAPSHOT)[1]
        rc, out, err, _ = join(lab, "jvb1", json.loads(out)["token"])
        assert rc == 1, out + err
        assert "held at version" in err and "apt-mark unhold jitsi-videobridge2" in err
        assert sh(lab, "jvb1", "dpkg -l; systemctl show -p MainPID jitsi-videobridge2; " + SNAPSHOT)[1] == snapshot
    finally:
        sh(lab, "jvb1", "apt-mark unhold jitsi-videobridge2 >/dev/null")


def test_a_full_disk_is_named_and_the_run_rolled_back(server):
    """/etc/jitsi/videobridge on a full filesystem (a small tmpfs): a join that must write there
    exits 1 with id disk-full, naming the path and the space left, and changes nothing."""
    lab = server
    if "first" not in TOKENS:
        pytest.skip("needs the joined jvb1 of the previous tests")
    folder = "/etc/jitsi/videobridge"
    sh(lab, "jvb1", "cp -a {0} /root/videobridge.saved && mount -t tmpfs -o size=256k tmpfs {0} && "
                    "cp -a /root/videobridge.saved/. {0}/ && "
                    "(dd if=/dev/zero of={0}/filler bs=4k >/dev/null 2>&1 || true)".format(folder))
    try:
        pid = sh(lab, "jvb1", "systemctl show -p MainPID --value jitsi-videobridge2")[1]
        # SNAPSHOT stays on /'s filesystem (-xdev): the tmpfs is listed on its own
        state = SNAPSHOT + "; find {} -type f ! -name filler -print0 | sort -z | xargs -0 sha256sum".format(folder)
        before = sh(lab, "jvb1", state)[1]
        assert "jvb.conf" in before
        # a public address behind NAT: the bridge's settings in jvb-join.conf change
        rc, out, err, _ = join(lab, "jvb1", TOKENS["first"], "--advertise-ip", "198.18.0.99")
        assert rc == 1, out + err
        report = json.loads(out)
        assert report["error"]["id"] == "disk-full" and report["rolled_back"] is True, out
        assert "No space left to write {}/".format(folder) in err and "MiB free" in err, err
        assert "internal error" not in err
        assert sh(lab, "jvb1", state)[1] == before
        assert sh(lab, "jvb1", "systemctl show -p MainPID --value jitsi-videobridge2")[1] == pid
    finally:
        sh(lab, "jvb1", "umount {} && rm -rf /root/videobridge.saved".format(folder))


def test_revoking_one_token_takes_only_its_bridge_out(server):
    lab = server
    tokens = json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True)[1])
    joined = [t for t in tokens if t["state"] == "joined"]
    if len(joined) < 2:
        pytest.skip("needs the two bridges of the previous test")
    first = [t for t in joined if t["name"] == "first"][0]
    nick1 = nickname(lab, "jvb1")
    nick2 = nickname(lab, "jvb2")
    started = time.monotonic()
    lab.exec("jms", ["jvb-join", "token", "revoke", first["id"]], check=True)
    wait_for(lambda: "Removed brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick1) in jicofo_log(lab),
             30, "jicofo to remove the revoked bridge")
    print("revoke to removal took {:.1f} s".format(time.monotonic() - started))
    assert "Removed brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick2) not in jicofo_log(lab)


def test_a_bridge_that_cannot_work_is_rolled_back(server):
    """UDP 10000 taken by another program: the bridge runs but is unhealthy, so the join fails,
    exits 1, and the host is back as it was (packages, configs, firewall, units, trust)."""
    lab = server
    lab.up("jvb4")
    sh(lab, "jvb4", "apt-get update -q >/dev/null && apt-get install -y -q jvb-join >/dev/null")
    token = create_token(lab, "udp", "jvb4")
    lab.exec("jvb4", ["systemd-run", "--unit=udp-squatter", "python3", "-c",
                      "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                      "s.bind(('0.0.0.0', 10000)); time.sleep(3600)"], check=True)
    # The package's own postinst adds the jvb user and jitsi group; its purge removes the user but
    # leaves the group, as the real jitsi-videobridge2 does: account files are outside the claim.
    snapshot = ("find /etc /var/lib/dpkg/info /usr/share/keyrings /usr/local/share/ca-certificates -xdev -type f "
                "! -name 'passwd*' ! -name 'group*' ! -name 'shadow*' ! -name 'gshadow*' -print0 "
                "| sort -z | xargs -0 sha256sum; dpkg-query -W -f '${Package} ${Status}\\n' | grep ' installed$'; "
                "ufw status verbose; systemctl list-unit-files --state=enabled --no-legend; "
                # debconf's answers and flags (seen), and jvb-join's own folders, empty ones included
                "sha256sum /var/cache/debconf/config.dat /var/cache/debconf/templates.dat; "
                "{ find /var/lib/jvb-join 2>/dev/null || true; } | sort")
    before = sh(lab, "jvb4", snapshot)[1]
    assert "jitsi-videobridge2" not in before
    rc, out, err, seconds = join(lab, "jvb4", token["token"], "--verify-timeout", "20")
    assert rc == 1, out + err
    assert "did not join the brewery" in err and "Failed to bind single-port" in err
    assert sh(lab, "jvb4", snapshot)[1] == before
    print("failed join rolled back in {:.1f} s".format(seconds))
    # The token's password was given back: the same token works once the port is free.
    lab.exec("jvb4", ["systemctl", "stop", "udp-squatter"], check=True)
    rc, out, err, _ = join(lab, "jvb4", token["token"])
    assert rc in (0, 2), out + err
