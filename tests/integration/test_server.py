"""The server side in the lab: `bridges` names the token behind each bridge; a used or expired
token opens nothing on the server (whatever the bridge's clock says); 5222 is open only to the
sources tokens allow; the expiry timer runs on the server; --no-local-bridge takes the server's
own bridge out once external bridges are in, and --local-bridge brings it back."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.lab

from labkit import (DOMAIN, create_token, install_jvb_join, install_server, join, managed_hashes, nickname,
                    repo_args, wait_for)

# Log in with a token's account as a bridge would, over TLS pinned to the token's pin. The token
# comes on stdin; it is read with the clock at 0, as a bridge whose clock was set back would read
# it, so only the server can refuse it.
LOGIN_PROBE = r"""
import sys
from jvbjoin import token, xmpp
from jvbjoin.errors import JvbJoinError
t = token.decode(sys.stdin.read().strip(), now=0)
try:
    der = xmpp.verify_pin(t.host, t.port, t.domain, t.pin)
    xmpp.check_login(t.host, t.port, t.domain, t.user, t.password, der)
    print("login-ok")
except JvbJoinError as exc:
    print("refused: {}".format(exc))
"""

PORT_PROBE = ("import socket, sys\ntry:\n    socket.create_connection(('{}', 5222), timeout=5).close()\n"
              "    print('open')\nexcept OSError as exc:\n    print('closed', exc)\n").format(DOMAIN)


def login(lab, host, token_text):
    _, out, err = lab.exec(host, ["python3", "-c", LOGIN_PROBE], input=token_text + "\n", check=False, timeout=120)
    return (out + err).strip()


def jms_json(lab, *args, timeout=300):
    rc, out, err = lab.exec("jms", ["jvb-join", "--json"] + list(args), check=False, timeout=timeout)
    assert rc in (0, 2), out + err
    return rc, json.loads(out)


def timed(lab, *args):
    started = time.monotonic()
    rc, doc = jms_json(lab, *args)
    return rc, doc, time.monotonic() - started


@pytest.fixture(scope="module")
def fleet(lab):
    # The hosts work side by side where they do not depend on each other: the server installs
    # while the bridge hosts get jvb-join, and the two bridges join at the same time.
    lab.up("jms", "jvb1", "jvb2", "jvb3")
    with ThreadPoolExecutor(max_workers=3) as pool:
        # install_server: with the server's own bridge, as a plain install has
        work = [pool.submit(install_server, lab)]
        work += [pool.submit(install_jvb_join, lab, host) for host in ("jvb1", "jvb2")]
        for done in work:
            done.result()
    started = time.monotonic()
    alpha = create_token(lab, "alpha", "jvb1")
    print("token create took {:.1f} s".format(time.monotonic() - started))
    beta = create_token(lab, "beta", "jvb2")
    # unused, for the expiry test: its 10 s are over long before that test runs
    _, late = jms_json(lab, "token", "create", "--name", "late", "--ttl", "10s", "--host", DOMAIN)
    with ThreadPoolExecutor(max_workers=2) as pool:
        joins = {host: pool.submit(join, lab, host, tok["token"]) for host, tok in (("jvb1", alpha), ("jvb2", beta))}
        for host, done in joins.items():
            rc, out, err, seconds = done.result()
            assert rc in (0, 2), out + err
            print("join of {} took {:.1f} s (both at once)".format(host, seconds))
    yield {"alpha": alpha, "beta": beta, "late": late,
           "nick1": nickname(lab, "jvb1"), "nick2": nickname(lab, "jvb2")}
    lab.down()


# First: every later `token list` expires unused tokens itself; this one must see the timer do it.
def test_an_expired_token_is_removed_by_the_timer_and_refused_on_the_server(fleet, lab):
    rc, out, _ = lab.exec("jms", ["systemctl", "is-enabled", "jvb-join-expire.timer"], check=False)
    assert out.strip() == "enabled"
    rc, out, _ = lab.exec("jms", ["systemctl", "is-active", "jvb-join-expire.timer"], check=False)
    assert out.strip() == "active"
    # on a bridge the package installs the timer but nothing enables it
    rc, out, _ = lab.exec("jvb1", ["systemctl", "is-enabled", "jvb-join-expire.timer"], check=False)
    assert out.strip() == "disabled"

    late = fleet["late"]["id"]

    def timer_expired_it():
        _, log, _ = lab.exec("jms", ["journalctl", "-u", "jvb-join-expire.service", "--no-pager", "-o", "cat"],
                             check=False)
        return "expired {}".format(late) in log
    started = time.monotonic()
    wait_for(timer_expired_it, 130, "the expiry timer to remove the unused token's account")
    print("expiry timer removed the account {:.0f} s into the wait".format(time.monotonic() - started))
    out = login(lab, "jvb2", fleet["late"]["token"])
    assert out.startswith("refused"), out
    tokens = json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True)[1])
    assert {t["id"]: t["state"] for t in tokens}[late] == "expired"
    # the bridge's own check refuses it too, before anything changes there
    before = managed_hashes(lab, "jvb1")
    rc, out, err, _ = join(lab, "jvb1", fleet["late"]["token"])
    assert rc == 65 and "expired" in err, out + err
    assert managed_hashes(lab, "jvb1") == before


def test_bridges_names_the_token_of_each_bridge(fleet, lab):
    def both():
        _, doc, seconds = timed(lab, "bridges")
        nicks = {b["nickname"] for b in doc["bridges"]}
        return (doc, seconds) if {fleet["nick1"], fleet["nick2"]} <= nicks else None
    doc, seconds = wait_for(both, 60, "jicofo to see both bridges")
    print("bridges took {:.1f} s".format(seconds))
    by_nick = {b["nickname"]: b for b in doc["bridges"]}
    one, two = by_nick[fleet["nick1"]], by_nick[fleet["nick2"]]
    assert (one["token"], one["token_name"]) == (fleet["alpha"]["id"], "alpha")
    assert (two["token"], two["token_name"]) == (fleet["beta"]["id"], "beta")
    assert one["address"] == lab.ip("jvb1") and two["address"] == lab.ip("jvb2")
    assert one["account"].startswith("jvb-") and one["account"].endswith("@auth." + DOMAIN)
    assert one["version"] and one["state"] == "ok" and one["stress"] is not None
    # the server's own bridge logs in with the shared account
    local = [b for b in doc["bridges"] if b["nickname"] not in (fleet["nick1"], fleet["nick2"])]
    assert [b["token_name"] for b in local] == ["(shared jvb account)"]
    # the unused token's account is listed as not in the brewery
    assert fleet["late"]["id"] not in {b["token"] for b in doc["bridges"]}
    rc, text, _ = lab.exec("jms", ["jvb-join", "bridges"], check=True)
    assert fleet["nick1"] in text and "{} (alpha)".format(fleet["alpha"]["id"]) in text
    tokens = json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"], check=True)[1])
    assert {t["name"]: t.get("nickname") for t in tokens}["alpha"] == fleet["nick1"]


def test_a_used_token_logs_in_nowhere(fleet, lab):
    # the same probe logs in with an unused token (so a refusal below means something) ...
    _, fresh = jms_json(lab, "token", "create", "--name", "probe", "--host", DOMAIN)
    assert login(lab, "jvb2", fresh["token"]) == "login-ok"
    # ... and is refused with the token jvb1 joined with: its password was changed at first login
    out = login(lab, "jvb2", fleet["alpha"]["token"])
    assert out.startswith("refused"), out
    lab.exec("jms", ["jvb-join", "token", "revoke", fresh["id"]], check=True)


RIGHTS_PROBE = (">local cm = require'core.configmanager'; "
                "print('unlimited', table.concat(cm.get('auth.{0}', 'unlimited_jids') or {{}}, ' ')); "
                "print('admins', table.concat(cm.get('internal.auth.{0}', 'admins') or {{}}, ' '))").format(DOMAIN)


def test_token_accounts_have_the_rights_of_the_shared_account(fleet, lab):
    """What prosody runs with: the token accounts beside jvb@ in unlimited_jids and the brewery admins."""
    _, out, _ = lab.exec("jms", ["prosodyctl", "shell", RIGHTS_PROBE], check=True)
    lists = {line.split(" ", 1)[0].split("\t")[0]: line for line in out.splitlines()
             if line.startswith(("unlimited", "admins"))}
    tokens = {t["name"]: t for t in json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"],
                                                         check=True)[1])}
    for kind in ("unlimited", "admins"):
        assert "jvb@auth." + DOMAIN in lists[kind], lists
        for name in ("alpha", "beta"):
            assert "{}@auth.{}".format(tokens[name]["user"], DOMAIN) in lists[kind], lists
        assert "{}@auth.{}".format(tokens["probe"]["user"], DOMAIN) not in lists[kind]  # revoked


def test_client_port_is_open_only_to_allowed_sources(fleet, lab):
    for host, want in (("jvb1", "open"), ("jvb2", "open"), ("jvb3", "closed")):
        _, out, _ = lab.exec(host, ["python3", "-c", PORT_PROBE], check=False, timeout=60)
        assert out.startswith(want), (host, out)


def test_no_local_bridge_takes_the_servers_bridge_out_and_local_bridge_brings_it_back(fleet, lab):
    def local_state():
        _, out, _ = lab.exec("jms", ["systemctl", "is-enabled", "jitsi-videobridge2"], check=False)
        _, act, _ = lab.exec("jms", ["systemctl", "is-active", "jitsi-videobridge2"], check=False)
        _, ufw, _ = lab.exec("jms", ["ufw", "status"], check=False)
        return out.strip(), act.strip(), "10000/udp" in ufw

    assert local_state() == ("enabled", "active", True)
    args = ["server", "install", "--domain", DOMAIN] + repo_args(lab, "jms")
    started = time.monotonic()
    _, report = jms_json(lab, *(args + ["--no-local-bridge"]))
    print("server install --no-local-bridge took {:.1f} s".format(time.monotonic() - started))
    assert report["changed"] >= 1
    assert local_state() == ("disabled", "inactive", False)
    wait_for(lambda: len(jms_json(lab, "bridges")[1]["bridges"]) == 2, 60, "jicofo to drop the local bridge")
    # the choice holds: a plain re-run changes nothing
    _, report = jms_json(lab, *args)
    assert report["changed"] == 0, report
    assert local_state() == ("disabled", "inactive", False)
    # and is undone by --local-bridge
    jms_json(lab, *(args + ["--local-bridge"]))
    assert local_state() == ("enabled", "active", True)


def test_bridges_says_what_to_do_when_jicofo_is_down(fleet, lab):
    lab.exec("jms", ["systemctl", "stop", "jicofo"], check=True)
    try:
        # jicofo's stop only signals: its daemon answers until it has shut down
        wait_for(lambda: lab.exec("jms", ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', "
                                          "8888), 1)"], check=False)[0] != 0, 30, "jicofo's daemon to stop")
        rc, out, err = lab.exec("jms", ["jvb-join", "bridges"], check=False)
        assert rc == 1 and "jicofo does not answer on http://127.0.0.1:8888" in err, out + err
        assert "systemctl status jicofo" in err
    finally:
        lab.exec("jms", ["systemctl", "start", "jicofo"], check=True)
    rc, out, err = lab.exec("jvb1", ["jvb-join", "bridges"], check=False)
    assert rc == 1 and "not a Jitsi Meet server" in err, out + err
