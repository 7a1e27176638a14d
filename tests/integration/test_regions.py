"""Regions with relays, in the lab: a server made with 'server install --region eu', two bridges
joined with tokens of '--region eu' and one with '--region us'. jicofo reads jvb-join's include and
selects by region; each bridge announces its region and its nickname as relay id, which
'jvb-join --json bridges' shows; the jicofo stand-in puts a conference of both regions on one
bridge per region joined by a relay; doctor's server-regions check is clean; a re-run of the server
install and of a join changes nothing."""

import concurrent.futures
import json
import urllib.parse

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, doctor_check, install_jvb_join, join, managed_hashes, nickname, repo_args, wait_for

REGIONS = {"jvb1": "eu", "jvb2": "eu", "jvb3": "us"}

_GET = """import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:8888" + sys.argv[1], timeout=10).read().decode())"""


def jicofo_get(lab, path):
    return json.loads(lab.exec("jms", ["python3", "-c", _GET, path], check=True, timeout=60)[1])


def region_token(lab, host):
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "token", "create", "--name", host, "--host", DOMAIN,
                                    "--allow-from", lab.ip(host), "--region", REGIONS[host]], check=False)
    assert rc == 0, out + err
    return json.loads(out)


def fleet(lab):
    return json.loads(lab.exec("jms", ["jvb-join", "--json", "bridges"], check=True, timeout=120)[1])["bridges"]


class Fleet:
    """The module's fleet: the server (installed with --region eu), the three bridges' tokens and
    nicknames, and what the first server install changed."""

    def __init__(self, lab, first_install, tokens, nicks):
        self.lab, self.first_install, self.tokens, self.nicks = lab, first_install, tokens, nicks


@pytest.fixture(scope="module")
def fleet_of_regions(lab):
    """A server made by 'server install --region eu' and three bridges joined at once with tokens of
    their regions (the scenarios of this module share them: a second server install costs a minute)."""
    lab.up("jms")
    install_jvb_join(lab, "jms")
    install = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--region", "eu"] + repo_args(lab, "jms")
    rc, out, err = lab.exec("jms", install, timeout=1200)
    assert rc == 0, out + err
    lab.up("jvb1", "jvb2", "jvb3")
    tokens = {}
    for host in REGIONS:
        tokens[host] = region_token(lab, host)
        assert tokens[host]["region"] == REGIONS[host]
    # the three join at once, as a fleet does
    with concurrent.futures.ThreadPoolExecutor(len(REGIONS)) as pool:
        joins = {host: pool.submit(join, lab, host, tokens[host]["token"]) for host in REGIONS}
    for host, done in joins.items():
        rc, out_join, err_join, seconds = done.result()
        assert rc in (0, 2), out_join + err_join
        print("{} joined in {:.1f} s".format(host, seconds))
    yield Fleet(lab, json.loads(out), tokens, {host: nickname(lab, host) for host in REGIONS})
    lab.down()


def test_bridges_of_two_regions_show_their_regions_and_relay_ids_and_reruns_change_nothing(fleet_of_regions):
    lab, tokens, nicks = fleet_of_regions.lab, fleet_of_regions.tokens, fleet_of_regions.nicks
    changed = {s["step"] for s in fleet_of_regions.first_install["steps"] if s["status"] == "changed"}
    assert {"jicofo-regions", "local-bridge-relay"} <= changed, changed
    install = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--region", "eu"] + repo_args(lab, "jms")
    rc, out, err = lab.exec("jms", install, timeout=1200)
    assert rc == 0 and json.loads(out)["changed"] == 0, out + err
    assert jicofo_get(lab, "/debug")["bridge_selector"]["strategy"] == "RegionBasedBridgeSelectionStrategy"

    def all_seen():
        seen = {b["nickname"]: b for b in fleet(lab)}
        return seen if all(n in seen and seen[n]["region"] for n in nicks.values()) else None
    seen = wait_for(all_seen, 60, "the three bridges with their regions in 'jvb-join bridges'")
    for host, nick in nicks.items():
        assert (seen[nick]["region"], seen[nick]["relay_id"]) == (REGIONS[host], nick), seen[nick]
        assert seen[nick]["token"] == tokens[host]["id"]
    local = [b for n, b in seen.items() if n not in nicks.values()]
    assert len(local) == 1 and local[0]["region"] == "eu" and local[0]["relay_id"] == local[0]["nickname"]

    # jicofo's choice for a conference of an eu and a us participant: one bridge per region, one relay
    placed = jicofo_get(lab, "/debug/select?" + urllib.parse.urlencode({"participants": "eu,us,eu"}))
    where = [p["bridge"].rpartition("/")[2] for p in placed["participants"]]
    regions = {b["nickname"]: b["region"] for b in seen.values()}
    assert [regions[n] for n in where] == ["eu", "us", "eu"] and where[0] == where[2], placed
    assert where[1] == nicks["jvb3"] and len(placed["relays"]) == 1, placed

    result = doctor_check(lab, "jms", "server-regions")
    assert result["status"] == "ok", result

    # A re-run of a join with its token changes nothing.
    before = managed_hashes(lab, "jvb3")
    rc, out, err, _ = join(lab, "jvb3", tokens["jvb3"]["token"])
    assert rc in (0, 2), out + err
    assert json.loads(out)["changed"] == 0
    assert managed_hashes(lab, "jvb3") == before


DOMAIN2 = "meet2.lab.test"
# what a join to a further server writes, beside the files of the first server's join
# (named by its XMPP domain, auth.meet2.lab.test)
SECOND = ("/etc/jitsi/videobridge/jvb-join-auth.meet2.lab.test.conf",
          "/var/lib/jvb-join/servers/auth.meet2.lab.test.json",
          "/usr/local/share/ca-certificates/jvb-join-auth.meet2.lab.test.crt")

# the token of jms2 with another host: another server of the same XMPP domain, as a bridge sees it
_OTHER_HOST = """import sys
from jvbjoin.formats import token
t = token.decode(sys.stdin.read().strip())
print(token.encode(t.replace(host="jms2.lab.test")))"""


def test_a_bridge_serves_a_second_server_and_leaves_only_it(fleet_of_regions):
    """jvb3, joined to jms, joins jms2 (meet2.lab.test) with a token of jms2: it is in both
    breweries, status lists both servers, the first server's files are as they were, a re-run
    changes nothing, a token of another server of the same domain is refused; 'leave --server
    meet2.lab.test' takes it out of jms2 only."""
    lab, nick = fleet_of_regions.lab, fleet_of_regions.nicks["jvb3"]

    def hashes():
        out = managed_hashes(lab, "jvb3")
        for path in SECOND:
            rc, data, _ = lab.exec("jvb3", ["sha256sum", path], check=False)
            out[path] = data.split()[0] if rc == 0 else None
        return out

    def in_brewery(host):
        return nick in {b["nickname"] for b in json.loads(
            lab.exec(host, ["jvb-join", "--json", "bridges"], check=True, timeout=120)[1])["bridges"]}

    def status():
        return json.loads(lab.exec("jvb3", ["jvb-join", "--json", "status"], check=True, timeout=60)[1])

    lab.up("jms2")
    # jvb3 was up before jms2: it learns its names when jms2 comes up
    assert lab.exec("jvb3", ["getent", "hosts", DOMAIN2], check=False)[0] == 0
    install_jvb_join(lab, "jms2")
    install = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN2] + repo_args(lab, "jms2")
    rc, out, err = lab.exec("jms2", install, timeout=1200)
    assert rc == 0, out + err
    rc, out, err = lab.exec("jms2", ["jvb-join", "--json", "token", "create", "--name", "jvb3", "--host", DOMAIN2,
                                     "--allow-from", lab.ip("jvb3")], check=False)
    assert rc == 0, out + err
    token = json.loads(out)["token"]
    jvb_conf = lab.exec("jvb3", ["cat", "/etc/jitsi/videobridge/jvb.conf"], check=True)[1]
    before = hashes()
    rc, out, err, seconds = join(lab, "jvb3", token)
    assert rc in (0, 2), out + err
    # the join proved jvb3 in jms2's brewery and back in jms's after its restart
    assert not [line for line in json.loads(out)["degraded"] if "brewery" in line], out
    print("jvb3 joined jms2 in {:.1f} s".format(seconds))
    after = hashes()
    first = ("/etc/jitsi/videobridge/jvb-join.conf", "/var/lib/jvb-join/bridge.json", "/var/lib/jvb-join/nickname",
             "/etc/ufw/user.rules", "/etc/sysctl.d/60-jvb-join.conf")
    assert {p: after[p] for p in first} == {p: before[p] for p in first}
    assert all(after[p] for p in SECOND), after
    # jvb.conf: its lines as they were, then the second server's include line
    assert lab.exec("jvb3", ["cat", "/etc/jitsi/videobridge/jvb.conf"], check=True)[1] == jvb_conf + \
        "include \"jvb-join-auth.meet2.lab.test.conf\"  # added by jvb-join; remove with " \
        "'jvb-join leave --server auth.meet2.lab.test'\n"

    wait_for(lambda: in_brewery("jms2") and in_brewery("jms"), 60, "jvb3 in the breweries of jms and jms2")
    st = wait_for(lambda: (lambda s: s if all(x["in_brewery"] for x in s["servers"]) else None)(status()), 30,
                  "both servers in_brewery in jvb3's status")
    assert [s["server"] for s in st["servers"]] == [DOMAIN, DOMAIN2], st
    assert st["server"].startswith(DOMAIN) and st["in_brewery"] and st["servers"][1]["nickname"] == nick, st
    # doctor checks the way to each server and its brewery, named by the server
    checks = {c["id"]: c for c in json.loads(lab.exec("jvb3", ["jvb-join", "doctor", "--json"], check=False,
                                                       timeout=60)[1])["checks"]}
    ids = ["xmpp-config"] + [check_id + suffix for check_id in ("brewery", "account-login", "trust-store",
                                                                "server-certificate")
                             for suffix in ("", "@auth." + DOMAIN2)]
    assert {i: checks[i]["status"] for i in ids} == {i: "ok" for i in ids}, {i: checks[i] for i in ids}
    assert DOMAIN2 in checks["brewery@auth." + DOMAIN2]["title"]

    # a re-run of either server's join changes nothing
    for again in (token, fleet_of_regions.tokens["jvb3"]["token"]):
        rc, out, err, _ = join(lab, "jvb3", again)
        assert rc in (0, 2) and json.loads(out)["changed"] == 0, out + err
        assert hashes() == after

    # another server with a domain jvb3 serves: refused before anything is changed
    other = lab.exec("jvb3", ["python3", "-c", _OTHER_HOST], input=token + "\n", check=True)[1].strip()
    rc, out, err, _ = join(lab, "jvb3", other)
    assert rc == 1 and json.loads(out)["error"]["id"] == "domain-served", out + err
    assert hashes() == after

    rc, out, err = lab.exec("jvb3", ["jvb-join", "--json", "leave", "--server", DOMAIN2], check=False, timeout=600)
    assert rc == 0, out + err
    assert json.loads(out)["still_serving"] == [DOMAIN], out
    wait_for(lambda: not in_brewery("jms2"), 60, "jvb3 gone from jms2's brewery")
    assert wait_for(lambda: in_brewery("jms"), 60, "jvb3 still in jms's brewery")
    st = status()
    assert [s["server"] for s in st["servers"]] == [DOMAIN] and st["servers"][0]["in_brewery"], st
    assert lab.exec("jvb3", ["cat", "/etc/jitsi/videobridge/jvb.conf"], check=True)[1] == jvb_conf
    assert all(hashes()[p] is None for p in SECOND)
