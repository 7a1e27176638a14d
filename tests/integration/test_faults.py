"""Faults a join must survive or refuse cleanly, in the lab: an impostor server or a server without
TLS, the dpkg lock held for a while or for too long, an interrupted dpkg, a Jitsi repository that
vanishes half way, or one that is unsigned or tampered with. Refusals change nothing on the host."""

import json
import os
import shutil
import sys
import time

import pytest

pytestmark = pytest.mark.lab
from labkit import (DOMAIN, create_token, doctor_check, install_jvb_join, join, login, long_scenario,
                    repo_args, sh, snapshot, wait_for)

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
from jvbjoin.formats import token as token_format  # noqa: E402

# The repository faults take a few minutes more: they run in `make test-long` (JVB_LAB_LONG=1).
long_only = long_scenario()

NO_STARTTLS = r"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 5299))
s.listen(5)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        c.recv(4096)
        c.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>"
                  b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  b"<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        c.recv(4096)
    except OSError:
        pass
    c.close()
"""

HOLD_LOCK = ("import fcntl, sys, time; f = open('/var/lib/dpkg/lock-frontend', 'w'); "
             "fcntl.lockf(f, fcntl.LOCK_EX); time.sleep(float(sys.argv[1]))")
LOCK_IS_HELD = ("import fcntl, sys; f = open('/var/lib/dpkg/lock-frontend', 'w')\n"
                "try:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(0)\nsys.exit(1)\n")


def hold_lock(lab, host, unit, seconds):
    lab.exec(host, ["systemd-run", "--unit=" + unit, "--collect", "python3", "-c", HOLD_LOCK, str(seconds)],
             check=True)
    wait_for(lambda: lab.exec(host, ["python3", "-c", LOCK_IS_HELD])[0] == 0, 30, "the dpkg lock to be held")


def changed(token, **fields):
    return token_format.encode(token_format.decode(token).replace(**fields))


def test_refusals_change_nothing_then_a_held_lock_is_waited_for(server):
    """Wrong pin, no STARTTLS, lock held too long, interrupted dpkg: each refused with its exit
    code and the host byte for byte as before; then a lock held for 20 s is waited out and the
    join succeeds; the bridge's REST API is not reachable from the server."""
    lab = server
    lab.up("jvbf")
    install_jvb_join(lab, "jvbf")
    good = create_token(lab, "faults", "jvbf")["token"]
    before = snapshot(lab, "jvbf")
    figures = {}

    # An impostor: the same server name, another certificate (the pin is of another key).
    rc, out, err, figures["wrong pin"] = join(lab, "jvbf", changed(good, pin="sha256:" + "ab" * 32))
    assert rc == 65 and "does not match the token" in err, out + err
    assert snapshot(lab, "jvbf") == before

    # A server that offers no STARTTLS: refused before any password is sent.
    sh(lab, "jvbf", "cat > /root/notls.py", input=NO_STARTTLS)
    lab.exec("jvbf", ["systemd-run", "--unit=notls", "--collect", "python3", "/root/notls.py"], check=True)
    wait_for(lambda: "5299" in sh(lab, "jvbf", "ss -ltn")[1], 30, "the no-TLS server")
    rc, out, err, figures["no starttls"] = join(lab, "jvbf", changed(good, host="jvbf.lab.test", port=5299))
    assert rc == 65 and "TLS" in err, out + err
    lab.exec("jvbf", ["systemctl", "stop", "notls"], check=False)
    sh(lab, "jvbf", "rm -f /root/notls.py")
    assert snapshot(lab, "jvbf") == before

    # dpkg stopped half way by an earlier run: refused with the command that repairs it.
    sh(lab, "jvbf", "touch /var/lib/dpkg/updates/0001")
    rc, out, err, _ = join(lab, "jvbf", good)
    sh(lab, "jvbf", "rm -f /var/lib/dpkg/updates/0001")
    assert rc == 1 and "dpkg --configure -a" in err, out + err
    assert json.loads(out)["error"]["id"] == "dpkg-interrupted"
    assert snapshot(lab, "jvbf") == before

    # A package left unpacked but not configured (what 'dpkg --audit' lists) is reported, not
    # configured behind the operator's back.
    sh(lab, "jvbf", "cd /tmp && apt-get download -q python3-debian >/dev/null && "
                    "dpkg --unpack /tmp/python3-debian_*.deb >/dev/null 2>&1")
    unpacked = snapshot(lab, "jvbf")
    rc, out, err, _ = join(lab, "jvbf", good)
    assert rc == 1 and "packages not configured: python3-debian (unpacked)" in err, out + err
    assert json.loads(out)["error"]["id"] == "dpkg-interrupted"
    assert snapshot(lab, "jvbf") == unpacked
    sh(lab, "jvbf", "dpkg --configure -a >/dev/null && rm -f /tmp/python3-debian_*.deb")

    # dpkg killed while unpacking leaves the package "reinstreq half-installed" (what a killed join
    # left of libnss3): neither 'dpkg --configure -a' nor 'apt-get -f install' repairs that, the
    # printed 'apt-get install --reinstall' does.
    sh(lab, "jvbf", "sed -i '/^Package: python3-debian$/,/^$/ s/^Status: .*/Status: install reinstreq half-installed/' "
                    "/var/lib/dpkg/status")
    rc, out, err, _ = join(lab, "jvbf", good)
    assert rc == 1 and "python3-debian (half-installed)" in err, out + err
    remedy = json.loads(out)["error"]["remedy"]
    assert "'apt-get install --reinstall python3-debian'" in remedy and "configure -a" not in remedy, remedy
    sh(lab, "jvbf", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall python3-debian >/dev/null 2>&1")
    assert sh(lab, "jvbf", "dpkg-query -W -f '${Status}' python3-debian")[1] == "install ok installed"
    before = snapshot(lab, "jvbf")  # dpkg's own bookkeeping (status-old) moved on

    # The dpkg lock held longer than --lock-timeout: exit 75 naming the holder, nothing changed.
    hold_lock(lab, "jvbf", "lockholder", 600)
    rc, out, err, figures["lock too long"] = join(lab, "jvbf", good, "--lock-timeout", "5")
    lab.exec("jvbf", ["systemctl", "stop", "lockholder"], check=False)
    assert rc == 75 and "python3 (pid" in err, out + err
    assert snapshot(lab, "jvbf") == before

    # Held for 20 s (unattended-upgrades at first boot): waited for, then the join goes through.
    held_from = time.monotonic()
    hold_lock(lab, "jvbf", "lockholder2", 20)
    started = time.monotonic()
    # Without --json, so that the progress lines show (the wait names the holder).
    rc, out, err = lab.exec("jvbf", ["jvb-join", "join", "--token-file", "-", "--lock-timeout", "120"]
                            + repo_args(lab, "jvbf"), input=good + "\n", timeout=1200)
    figures["join behind a 20 s lock"] = time.monotonic() - started
    assert rc in (0, 2), out + err
    assert time.monotonic() - held_from >= 19
    assert "waiting for the dpkg lock, held by python3" in err, err
    rc, out, err, _ = join(lab, "jvbf", good)
    assert rc in (0, 2) and json.loads(out)["verified"] is True and json.loads(out)["changed"] == 0, out + err

    # The bridge's REST API (8080) answers on the bridge itself, never from another host.
    probe = ("import socket, sys; s = socket.socket(); s.settimeout(3)\n"
             "try:\n    s.connect((sys.argv[1], 8080)); print('open')\n"
             "except OSError as e:\n    print('closed', e)\n")
    assert lab.exec("jvbf", ["python3", "-c", probe, "127.0.0.1"], check=True)[1].startswith("open")
    outside = lab.exec("jms", ["python3", "-c", probe, lab.ip("jvbf")], check=True)[1]
    assert outside.startswith("closed"), outside
    listeners = sh(lab, "jvbf", "ss -Hltn 'sport = :8080'")[1]
    assert listeners.strip() and all(" 127.0.0.1:8080 " in l or " [::1]:8080 " in l
                                     for l in listeners.strip().splitlines()), listeners
    print("seconds: " + ", ".join("{} {:.1f}".format(k, v) for k, v in figures.items()))
    lab.stop("jvbf")


def served_copy(lab, host, tamper):
    """A copy of the lab's Jitsi repository served inside ``host`` on 127.0.0.1:8099, changed by ``tamper``."""
    target = lab.path(host, "/srv/jitsi")
    if os.path.exists(target):
        shutil.rmtree(target)
    shutil.copytree(os.path.join(lab.www, "jitsi"), target)
    tamper(target)
    lab.exec(host, ["systemd-run", "--unit=copyrepo", "--collect", "python3", "-m", "http.server", "8099",
                    "--bind", "127.0.0.1", "--directory", "/srv"], check=True)
    wait_for(lambda: "8099" in sh(lab, host, "ss -ltn")[1], 30, "the copied repository")


def stop_copy(lab, host):
    lab.exec(host, ["systemctl", "stop", "copyrepo"], check=False)
    shutil.rmtree(lab.path(host, "/srv/jitsi"), ignore_errors=True)


def copy_args():
    return ["--jitsi-repo-url", "http://127.0.0.1:8099/jitsi", "--jitsi-repo-key", "/root/lab/jitsi-repo.gpg"]


def tamper_package(root):
    for folder, _, names in os.walk(os.path.join(root, "pool")):
        for name in names:
            if name.startswith("jitsi-videobridge2_"):
                with open(os.path.join(folder, name), "ab") as handle:
                    handle.write(b"\0tampered")


def unsign(root):
    for name in ("InRelease", "Release.gpg"):
        os.unlink(os.path.join(root, "dists", "stable", name))


@long_only
@pytest.mark.parametrize("tamper, what", [(tamper_package, "a tampered package"), (unsign, "an unsigned repository")])
def test_tampered_or_unsigned_repository_is_refused(server, tamper, what):
    lab = server
    host = "jvbr"
    lab.up(host)
    install_jvb_join(lab, host)
    token = create_token(lab, "repo-" + tamper.__name__, host)["token"]
    served_copy(lab, host, tamper)
    try:
        before = snapshot(lab, host)
        rc, out, err = lab.exec(host, ["jvb-join", "--json", "join", "--token-file", "-"] + copy_args(),
                                input=token + "\n", timeout=1200)
        assert rc == 1, (what, out + err)
        assert "signature or checksums could not be verified" in err, err
        assert "never installs unsigned" in err
        assert lab.exec(host, ["dpkg", "-s", "jitsi-videobridge2"])[0] != 0, what
        assert snapshot(lab, host) == before
    finally:
        stop_copy(lab, host)
        lab.stop(host)


@long_only
def test_repository_vanishing_half_way_is_exit_75_and_a_rerun_succeeds(server):
    """The Jitsi repository's index is read, then its packages are gone when apt fetches them (a
    mirror half way through a sync, a repository taken down): temporary (75), nothing installed,
    and the same token joins once the repository is back."""
    lab = server
    host = "jvbn"
    lab.up(host)
    install_jvb_join(lab, host)
    token = create_token(lab, "vanish", host)["token"]
    before = snapshot(lab, host)
    pool = os.path.join(lab.www, "jitsi", "pool")
    os.rename(pool, pool + ".gone")
    try:
        cut = time.monotonic()
        rc, output, err = lab.exec(host, ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host),
                                   input=token + "\n", timeout=1200)
        output += err
        gave_up = time.monotonic() - cut
    finally:
        os.rename(pool + ".gone", pool)
    assert rc == 75, output
    assert "could not be reached" in output
    assert snapshot(lab, host) == before
    print("repository cut: exit 75 after {:.1f} s".format(gave_up))
    rc, out, err = lab.exec(host, ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host),
                            input=token + "\n", timeout=1200)
    assert rc in (0, 2), out + err
    assert json.loads(out)["verified"] is True
    lab.stop(host)


ADMIN_JVB_CONF = """# the admin's own jvb.conf, with a value the bridge cannot read
videobridge {
  stats {
    interval = "5 fortnights"
  }
}
"""


def test_a_bridge_that_rejects_its_configuration_fails_the_join_at_once(server):
    """The bridge starts, then exits on a setting it cannot read: the join says so as soon as
    systemd sees it (not after the whole verification timeout) and rolls back to the admin's file."""
    lab = server
    host = "jvbr"
    lab.up(host)
    install_jvb_join(lab, host)
    lab.exec(host, ["sh", "-c", "mkdir -p /etc/jitsi/videobridge && cat > /etc/jitsi/videobridge/jvb.conf"],
             input=ADMIN_JVB_CONF, check=True)
    # a short-lived token: once the join has rolled back, it must stop working at its expiry
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "token", "create", "--name", "rejects", "--ttl", "75s",
                                    "--host", DOMAIN, "--allow-from", lab.ip(host)], check=False)
    assert rc == 0, out + err
    created = json.loads(out)
    token = created["token"]
    started = time.monotonic()
    rc, out, err = lab.exec(host, ["jvb-join", "join", "--token-file", "-", "--verify-timeout", "600"]
                            + repo_args(lab, host), input=token + "\n", timeout=1200)
    seconds = time.monotonic() - started
    print("bridge rejecting its configuration: exit {} after {:.1f} s".format(rc, seconds))
    assert rc not in (0, 2), out + err
    assert "jitsi-videobridge2.service" in err and "rolling back" in out + err, out + err
    assert "rejected its configuration" in err or "restart loop" in err, err
    # the bridge's own reason, read before the rollback's purge deleted /var/log/jitsi
    assert "Last lines of /var/log/jitsi/jvb.log" in err and "fortnights" in err, err
    assert seconds < 300, "waited for the verification timeout instead of failing at once"
    assert lab.exec(host, ["cat", "/etc/jitsi/videobridge/jvb.conf"], check=True)[1] == ADMIN_JVB_CONF
    assert lab.exec(host, ["test", "-e", "/etc/jitsi/videobridge/jvb-join.conf"])[0] == 1
    # the server's certificate trusted by the run is out of the system store again (no link left)
    assert "jvb-join" not in sh(lab, host, "ls /etc/ssl/certs /usr/local/share/ca-certificates")[1]
    # On the server the rolled-back token is not "joined" (its password was changed and set back,
    # which changed the stored key twice), and at its expiry the timer removes its account: a login
    # with the token's own user and password fails, and the rights file no longer names it.
    def state():
        tokens = json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True)[1])
        return {t["id"]: t for t in tokens}[created["id"]]
    assert state()["state"] == "unused"
    user = state()["user"]
    wait_for(lambda: time.time() > created["expires"] + 1, 200, "the token's expiry")
    # what the minutely timer runs, run now (test_server.py shows the timer itself doing it)
    sh(lab, "jms", "systemctl start jvb-join-expire.service")
    wait_for(lambda: "expired {}".format(created["id"]) in lab.exec(
        "jms", ["journalctl", "-u", "jvb-join-expire.service", "--no-pager", "-o", "cat"], check=False)[1],
        30, "the expiry run to remove the rolled-back token's account")
    assert login(lab, host, token).startswith("refused")
    assert user not in sh(lab, "jms", "cat /etc/prosody/jvb-join-bridges.cfg.lua")[1]
    assert state()["state"] == "expired"
    lab.stop(host)


HADOLY_JVB_CONF = """# colibri websockets turned on by hand, as tutorial 004 does
videobridge {
  http-servers { public { port = 9090 } }
  websockets { enabled = true, domain = "meet.lab.test:443", tls = true, server-id = "jvbh" }
}
"""

REACH = ("import socket, sys\ntry:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4).close()\n"
         "    print('open')\nexcept OSError as exc:\n    print('closed', exc)\n")


def test_turning_ufw_on_keeps_the_hand_made_websockets_for_the_server_and_asks_before_cutting(server):
    """A Hadoly-style host: ufw off, websockets on 9090 turned on by hand in jvb.conf, and another
    service of the admin's on 8081. Unattended, the join refuses to cut 8081 and changes nothing;
    with --firewall-cut-ok it turns ufw on with 9090 open to the server only, and doctor sees the
    websockets it did not write."""
    lab = server
    host = "jvbh"
    lab.up(host)
    install_jvb_join(lab, host)
    sh(lab, host, "mkdir -p /etc/jitsi/videobridge && cat > /etc/jitsi/videobridge/jvb.conf", input=HADOLY_JVB_CONF)
    lab.exec(host, ["systemd-run", "--unit=adminweb", "--collect", "python3", "-m", "http.server", "8081"], check=True)
    wait_for(lambda: ":8081 " in sh(lab, host, "ss -Hltn")[1], 30, "the admin's web service")
    token = create_token(lab, "hadoly", host)["token"]
    before = snapshot(lab, host)
    rc, out, err, _ = join(lab, host, token)
    assert rc == 1 and "8081/tcp (python3)" in out + err and "firewall-would-cut" in out + err, out + err
    assert "9090/tcp (" not in out + err  # the bridge's own websocket port is kept, not cut
    assert snapshot(lab, host) == before
    rc, out, err, _ = join(lab, host, token, "--firewall-cut-ok")
    assert rc in (0, 2), out + err
    status = sh(lab, host, "ufw status")[1]
    assert "Status: active" in status and "9090/tcp" in status and lab.ip("jms") in status, status
    assert lab.exec("jms", ["python3", "-c", REACH, lab.ip(host), "9090"], check=True)[1].startswith("open")
    assert lab.exec("jms", ["python3", "-c", REACH, lab.ip(host), "8081"], check=True)[1].startswith("closed")
    check = doctor_check(lab, host, "bridge-websockets")
    assert check["status"] == "ok" and "9090" in check["detail"], check
    lab.exec(host, ["systemctl", "stop", "adminweb"], check=False)
    lab.stop(host)


def test_server_install_names_what_turning_ufw_on_would_cut_and_changes_nothing(server):
    """The same promise on a server: a host with ufw off and an admin's service on 8081 is not
    cut off by `server install` unattended; the refusal comes before any package or file."""
    lab = server
    host = "jmsc"
    lab.up(host)
    install_jvb_join(lab, host)
    lab.exec(host, ["systemd-run", "--unit=adminweb", "--collect", "python3", "-m", "http.server", "8081"], check=True)
    wait_for(lambda: ":8081 " in sh(lab, host, "ss -Hltn")[1], 30, "the admin's web service")
    assert "Status: inactive" in sh(lab, host, "ufw status")[1]
    before = snapshot(lab, host)
    rc, out, err = lab.exec(host, ["jvb-join", "--json", "server", "install", "--domain", "cut." + DOMAIN]
                            + repo_args(lab, host), timeout=600)
    assert rc == 1 and json.loads(out)["error"]["id"] == "firewall-would-cut", out + err
    assert "8081/tcp (python3)" in err, err
    assert snapshot(lab, host) == before
    assert sh(lab, host, "dpkg-query -W -f '${Status}' prosody 2>/dev/null || true")[1] == ""
    lab.exec(host, ["systemctl", "stop", "adminweb"], check=False)
    lab.stop(host)
