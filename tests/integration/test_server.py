"""The server side in the lab: `bridges` names the token behind each bridge; a used or expired
token opens nothing on the server (whatever the bridge's clock says), and a used one is refused on a
fresh host before anything is installed; 5222 is open only to the sources tokens allow; the expiry
timer runs on the server; the brewery refuses a guest of the meeting page over c2s and over BOSH
through nginx; --no-local-bridge takes the server's own bridge out once external bridges are in,
and --local-bridge brings it back; a bridge that re-joins with a new token leaves one account."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.lab

from labkit import (DOMAIN, create_token, install_jvb_join, install_server, join, login, managed_hashes, nickname,
                    repo_args, sh, snapshot, wait_for)

PORT_PROBE = ("import socket, sys\ntry:\n    socket.create_connection(('{}', 5222), timeout=5).close()\n"
              "    print('open')\nexcept OSError as exc:\n    print('closed', exc)\n").format(DOMAIN)


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
        # the next tests need jicofo back: its REST API answers and it is connected (not 503)
        probe = ("import urllib.request, urllib.error\n"
                 "try:\n    print(urllib.request.urlopen('http://127.0.0.1:8888/about/health', timeout=2).status)\n"
                 "except urllib.error.HTTPError as e:\n    print(e.code)\n"
                 "except OSError:\n    print(0)\n")
        wait_for(lambda: lab.exec("jms", ["python3", "-c", probe], check=False)[1].strip() in ("200", "500"), 60,
                 "jicofo to answer and be connected again")
    rc, out, err = lab.exec("jvb1", ["jvb-join", "bridges"], check=False)
    assert rc == 1 and "not a Jitsi Meet server" in err, out + err


# A guest of the meeting page: an anonymous login on the meet domain over BOSH through nginx on 443
# (as the web client does), then a videobridge's presence, with colibri stats, to the brewery.
BOSH_GUEST = r"""
import re, ssl, sys, urllib.request
URL, DOMAIN, ROOM = "https://{0}/http-bind", "{0}", "jvbbrewery@internal.auth.{0}/guest-bosh-probe"
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
rid = [4242]
def body(inner="", **attrs):
    rid[0] += 1
    extra = "".join(' {{}}="{{}}"'.format(k.replace("_", ":"), v) for k, v in attrs.items())
    return ('<body rid="{{}}" xmlns="http://jabber.org/protocol/httpbind"{{}}>{{}}</body>'
            .format(rid[0], extra, inner)).encode()
def post(data):
    req = urllib.request.Request(URL, data=data, headers={{"Content-Type": "text/xml; charset=utf-8"}})
    return urllib.request.urlopen(req, context=ctx, timeout=20).read().decode()
first = post(body(to=DOMAIN, wait="10", hold="1", ver="1.6", xmpp_version="1.0",
                  xmlns_xmpp="urn:xmpp:xbosh", **{{"xml_lang": "en"}}))
sid = re.search(r"sid=['\"]([^'\"]+)", first).group(1)  # prosody quotes attributes with '
out = post(body('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', sid=sid))
assert "success" in out, out
post(body(sid=sid, to=DOMAIN, xmpp_restart="true", xmlns_xmpp="urn:xmpp:xbosh"))
out = post(body('<iq type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>', sid=sid))
assert "<jid>" in out, out
out = post(body('<presence to="{{}}"><x xmlns="http://jabber.org/protocol/muc"/>'
                '<stats xmlns="http://jitsi.org/protocol/colibri"><stat name="stress_level" value="0.0"/></stats>'
                '</presence>'.format(ROOM), sid=sid))
for _ in range(3):
    if "guest-bosh-probe" in out:
        break
    out += post(body(sid=sid))
print("refused" if re.search(r"type=['\"]error", out) and "forbidden" in out else "entered", out[-400:])
""".format(DOMAIN)

C2S_GUEST = r"""
from jvbjoin.xmpp import session as xmpp
entered, condition = xmpp.guest_enters_brewery("{0}", 5222, "{0}", "jvbbrewery@internal.auth.{0}")
print("entered" if entered else "refused " + str(condition))
""".format(DOMAIN)


def test_the_brewery_refuses_a_guest_over_c2s_and_over_bosh_through_nginx(fleet, lab):
    # jvb2 may reach 5222 (its token allows it); every host reaches 443
    _, out, err = lab.exec("jvb2", ["python3", "-c", C2S_GUEST], check=False, timeout=120)
    assert out.strip() == "refused forbidden", out + err
    _, out, err = lab.exec("jvb3", ["python3", "-c", BOSH_GUEST], check=False, timeout=120)
    assert out.startswith("refused"), out + err
    _, log, _ = lab.exec("jms", ["cat", "/var/log/jitsi/jicofo.log"], check=True)
    assert "jvb-join-guest-probe" not in log and "guest-bosh-probe" not in log
    _, log, _ = lab.exec("jms", ["sh", "-c", "cat /var/log/prosody/prosody.log"], check=False)
    assert "entry to the brewery" in log
    # doctor's own try of the same, and the real bridges are still in
    rc, out, _ = lab.exec("jms", ["jvb-join", "--json", "doctor"], check=False)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert checks["brewery-access"]["status"] == "ok", checks["brewery-access"]
    assert checks["jicofo-rest"]["status"] == "ok", checks["jicofo-rest"]
    nicks = {b["nickname"] for b in jms_json(lab, "bridges")[1]["bridges"]}
    assert {fleet["nick1"], fleet["nick2"]} <= nicks


def test_a_used_token_is_refused_on_a_fresh_host_before_anything_is_installed(fleet, lab):
    # a host the server lets reach 5222 (a token of its own allows it), given the token jvb2 used
    own = create_token(lab, "gamma", "jvb3")
    install_jvb_join(lab, "jvb3")
    before = snapshot(lab, "jvb3")
    rc, out, err = lab.exec("jvb3", ["jvb-join", "join", "--token-file", "-"] + repo_args(lab, "jvb3"),
                            input=fleet["beta"]["token"] + "\n", check=False, timeout=300)
    assert rc == 65 and "already used" in err, out + err
    assert snapshot(lab, "jvb3") == before
    # /etc, dpkg's status and debconf as they were: no package came, not even Java
    lab.exec("jms", ["jvb-join", "token", "revoke", own["id"]], check=True)


def test_an_open_brewery_and_jicofos_rest_port_fail_doctor_and_server_install_closes_both(fleet, lab):
    include = "/etc/prosody/jvb-join-bridges.cfg.lua"
    # the brewery as the packages leave it, and jicofo's REST API on every interface (as before 1.0-1138)
    sh(lab, "jms", "cp /etc/prosody/prosody.cfg.lua /root/prosody.cfg.lua.keep && "
                   "grep -v 'jvb-join-bridges.cfg.lua' /root/prosody.cfg.lua.keep > /etc/prosody/prosody.cfg.lua && "
                   "systemctl restart prosody && "
                   "echo 'jicofo.rest.host = \"0.0.0.0\"' >> /etc/jitsi/jicofo/jicofo.conf && "
                   "systemctl restart jicofo")
    wait_for(lambda: sh(lab, "jms", "python3 -c \"import socket; socket.create_connection(('{}', 8888), 2); "
                                     "print('open')\" 2>/dev/null || true".format(lab.ip("jms")))[1].strip() == "open",
             60, "jicofo's REST port to answer on the server's address")
    _, out, err = lab.exec("jvb2", ["python3", "-c", C2S_GUEST], check=False, timeout=120)
    assert out.strip() == "entered", out + err  # the fault is real: a guest gets in
    rc, out, _ = lab.exec("jms", ["jvb-join", "--json", "doctor"], check=False)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    check = checks["brewery-access"]
    assert rc == 1 and check["status"] == "fail" and "open" in check["detail"], check
    assert "server install" in check["remedy"]
    assert checks["jicofo-rest"]["status"] == "fail" and lab.ip("jms") in checks["jicofo-rest"]["detail"]
    _, report = jms_json(lab, "server", "install", "--domain", DOMAIN, *repo_args(lab, "jms"))
    assert report["changed"] >= 1
    assert include in sh(lab, "jms", "cat /etc/prosody/prosody.cfg.lua")[1]
    rc, out, _ = lab.exec("jms", ["jvb-join", "--json", "doctor"], check=False)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert checks["brewery-access"]["status"] == "ok", checks["brewery-access"]
    assert checks["jicofo-rest"]["status"] == "ok", checks["jicofo-rest"]
    _, out, err = lab.exec("jvb2", ["python3", "-c", C2S_GUEST], check=False, timeout=120)
    assert out.strip() == "refused forbidden", out + err
    wait_for(lambda: {fleet["nick1"], fleet["nick2"]} <= {b["nickname"] for b in jms_json(lab, "bridges")[1]["bridges"]},
             90, "both bridges back in the brewery after prosody's restart")


def token_states(lab):
    return {t["id"]: t["state"] for t in json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"],
                                                             check=True)[1])}


def test_a_rejoin_with_a_new_token_leaves_one_account_for_the_bridge(fleet, lab):
    # the server has seen the bridge's account in the brewery
    wait_for(lambda: token_states(lab)[fleet["alpha"]["id"]] == "joined", 60, "jvb1's token to count as joined")
    fresh = create_token(lab, "alpha-again", "jvb1")
    rc, out, err, _ = join(lab, "jvb1", fresh["token"])
    assert rc in (0, 2), out + err
    states = token_states(lab)
    assert states[fresh["id"]] == "joined"
    assert states[fleet["alpha"]["id"]] == "left", states  # the bridge handed the old account back
    assert login(lab, "jvb2", fleet["alpha"]["token"]).startswith("refused")
    users = {t["id"]: t["user"] for t in json.loads(lab.exec("jms", ["jvb-join", "--json", "token", "list"],
                                                             check=True)[1])}
    rights = sh(lab, "jms", "cat /etc/prosody/jvb-join-bridges.cfg.lua")[1]
    assert users[fleet["alpha"]["id"]] not in rights and users[fresh["id"]] in rights
