"""Regions, relays and shards, in the lab, on one fleet (a second server install would cost a
minute): a server made with 'server install --region eu', two bridges joined with tokens of
'--region eu' and one with '--region us'.

- jicofo reads jvb-join's include and selects by region; each bridge announces its region and its
  nickname as relay id, which 'jvb-join --json bridges' shows; the jicofo stand-in places a
  conference of both regions on one bridge per region; doctor's server-regions check is clean; a
  re-run of the server install and of a join changes nothing.
- a conference across regions gets a relay whose ICE connects over the media port; with that port
  blocked between the two bridges a new conference's relay fails and doctor's relays check names it.
- the us bridge joins a second server (jms2, meet2.lab.test) too, is in both breweries, and
  'leave --server' takes it out of the second one only.
- region groups, then --no-regions, which takes jvb-join's lines out again (last: regions end off).
"""

import concurrent.futures
import json
import time
import urllib.parse

import pytest

pytestmark = pytest.mark.lab

from labkit import (DOMAIN, doctor_check, install_jvb_join, join, long_scenario, managed_hashes, nickname, repo_args,
                    wait_for)

REGIONS = {"jvb1": "eu", "jvb2": "eu", "jvb3": "us"}

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


def install_second_server(lab):
    """jms2 as meet2.lab.test, for the shard scenario."""
    install_jvb_join(lab, "jms2")
    install = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN2] + repo_args(lab, "jms2")
    return lab.exec("jms2", install, timeout=1200)


@pytest.fixture(scope="module")
def fleet_of_regions(lab):
    """A server made by 'server install --region eu' and three bridges joined at once with tokens of
    their regions, and a second server (jms2) made while they join (the scenarios of this module
    share them: a server install costs a minute)."""
    lab.up("jms")
    install_jvb_join(lab, "jms")
    install = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--region", "eu"] + repo_args(lab, "jms")
    rc, out, err = lab.exec("jms", install, timeout=1200)
    assert rc == 0, out + err
    lab.up("jvb1", "jvb2", "jvb3")
    lab.up("jms2")  # after the bridges: they learn its names when it comes up
    tokens = {}
    for host in REGIONS:
        tokens[host] = region_token(lab, host)
        assert tokens[host]["region"] == REGIONS[host]
    # the three join at once, as a fleet does
    with concurrent.futures.ThreadPoolExecutor(len(REGIONS) + 1) as pool:
        second = pool.submit(install_second_server, lab)
        joins = {host: pool.submit(join, lab, host, tokens[host]["token"]) for host in REGIONS}
    for host, done in joins.items():
        rc, out_join, err_join, seconds = done.result()
        assert rc in (0, 2), out_join + err_join
        print("{} joined in {:.1f} s".format(host, seconds))
    rc, out_second, err_second = second.result()
    assert rc == 0, out_second + err_second
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


def test_a_relay_between_regions_connects_and_a_firewall_on_the_media_port_makes_it_fail_and_doctor_name_it(
        fleet_of_regions):
    """A conference of an eu and a us participant, started through the jicofo stand-in, is put on one
    bridge per region, whose relay's ICE connects over the media port; with UDP 10000 from the eu
    bridge dropped on jvb3, a new conference's relay fails and doctor on both bridges names it."""
    lab, nicks = fleet_of_regions.lab, fleet_of_regions.nicks
    call = """import sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:8888" + sys.argv[2], method=sys.argv[1])
print(urllib.request.urlopen(req, timeout=90).read().decode())"""
    bridge_debug = """import json, sys, urllib.request
get = lambda p: json.loads(urllib.request.urlopen("http://127.0.0.1:8080" + p, timeout=10).read().decode())
out = {}
for cid, conf in get("/debug")["conferences"].items():
    for rid, relay in get("/debug/" + cid)["conferences"][cid]["relays"].items():
        out.setdefault(conf.get("name"), {})[rid] = relay["ice_transport"]
print(json.dumps(out))"""

    def jicofo(method, path):
        return json.loads(lab.exec("jms", ["python3", "-c", call, method, path], check=True, timeout=120)[1])

    def relays_on(host):
        return json.loads(lab.exec(host, ["python3", "-c", bridge_debug], check=True, timeout=60)[1])

    def start():
        doc = jicofo("POST", "/debug/conference?" + urllib.parse.urlencode({"participants": "eu,us"}))
        assert not doc["errors"] and len(doc["relays"]) == 1, doc
        return doc

    # which lab host runs each bridge (the server's own bridge is the one jvb-join bridges lists besides)
    by_nick = {nick: host for host, nick in nicks.items()}
    started_names, block = [], None

    def state_of(host, conference, peer):
        return relays_on(host).get(conference, {}).get(peer, {})

    def doctor_on(hosts):
        with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
            return dict(zip(hosts, pool.map(lambda h: doctor_check(lab, h, "relays"), hosts)))
    try:
        first = start()
        started_names.append(first["name"])
        where = [p["bridge"].rpartition("/")[2] for p in first["participants"]]
        assert where[1] == nicks["jvb3"] and where[0] != where[1], first
        eu_nick, us_nick = where
        eu_host = by_nick.get(eu_nick, "jms")
        assert eu_host == "jms" or REGIONS[eu_host] == "eu", first
        wait_for(lambda: state_of(eu_host, first["name"], us_nick).get("iceConnected")
                 and state_of("jvb3", first["name"], eu_nick).get("iceConnected"),
                 30, "the relay between {} and {} connected on both".format(eu_nick, us_nick))
        for host, result in doctor_on((eu_host, "jvb3")).items():
            assert result["status"] == "ok" and "connected to" in result["detail"], (host, result)
        jicofo("DELETE", "/debug/conference/" + started_names.pop())
        assert first["name"] not in relays_on("jvb3")

        # UDP 10000 from the eu bridge dropped on jvb3, before jvb-join's allow rule
        block = ["-s", lab.ip(eu_host), "-p", "udp", "--dport", "10000", "-j", "DROP"]
        lab.exec("jvb3", ["iptables", "-w", "-I", "INPUT", "1"] + block, check=True)
        second, started = start(), time.monotonic()
        started_names.append(second["name"])
        assert [p["bridge"].rpartition("/")[2] for p in second["participants"]] == where, second
        wait_for(lambda: state_of(eu_host, second["name"], us_nick).get("iceFailed")
                 and state_of("jvb3", second["name"], eu_nick).get("iceFailed"),
                 40, "the relay between {} and {} failed on both".format(eu_nick, us_nick))
        assert not state_of(eu_host, second["name"], us_nick)["iceConnected"]
        print("relay {} ({}) - {} (jvb3) failed {:.1f} s after the conference started".format(
            eu_nick, eu_host, us_nick, time.monotonic() - started))
        found = doctor_on((eu_host, "jvb3"))
        for host, peer in ((eu_host, us_nick), ("jvb3", eu_nick)):
            assert found[host]["status"] == "fail", (host, found[host])
            assert "relay to " + peer in found[host]["detail"] and "10000/udp" in found[host]["detail"], found[host]
            assert "port 10000 proto udp" in found[host]["remedy"], found[host]
    finally:
        # the fleet as it was for later scenarios: no block, no conference
        if block is not None:
            lab.exec("jvb3", ["iptables", "-w", "-D", "INPUT"] + block, check=True)
        for name in started_names:
            jicofo("DELETE", "/debug/conference/" + name)
    assert not relays_on(eu_host) and doctor_check(lab, eu_host, "relays")["status"] == "ok"


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

    # jvb3 was up before jms2 (made by the fixture): it learned its names when jms2 came up
    assert lab.exec("jvb3", ["getent", "hosts", DOMAIN2], check=False)[0] == 0
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


# make test shows both with jicofo's own parser and the rollback in tests/unit/test_server_regions.py;
# this scenario, with the jicofo stand-in's selection, runs in make test-long.
@long_scenario()
def test_region_groups_then_regions_off_take_out_only_jvb_joins_lines(fleet_of_regions):
    """Last in this module: it turns regions off. A group puts a participant of a region without
    bridges on a bridge of its group, not of the server's region; --no-regions then takes jvb-join's
    files and lines out of jicofo and the server's own bridge, and jicofo selects by region no more."""
    lab = fleet_of_regions.lab
    base = ["jvb-join", "--json", "server", "install", "--domain", DOMAIN] + repo_args(lab, "jms")

    def placed(region):
        doc = jicofo_get(lab, "/debug/select?" + urllib.parse.urlencode({"participants": region}))
        return doc["participants"][0]["bridge"].rpartition("/")[2]
    assert placed("ca") != fleet_of_regions.nicks["jvb3"]  # no group: the server's region (eu)
    rc, out, err = lab.exec("jms", base + ["--region", "eu", "--region-group", "us,ca"], timeout=1200)
    assert rc == 0, out + err
    assert [s["step"] for s in json.loads(out)["steps"] if s["status"] == "changed"] == ["jicofo-regions"]
    assert wait_for(lambda: placed("ca") == fleet_of_regions.nicks["jvb3"], 60, "jicofo to place ca in us's group")

    rc, out, err = lab.exec("jms", base + ["--no-regions"], timeout=1200)
    assert rc == 0, out + err
    changed = {s["step"] for s in json.loads(out)["steps"] if s["status"] == "changed"}
    assert changed == {"jicofo-regions", "local-bridge-relay"}, changed
    assert jicofo_get(lab, "/debug")["bridge_selector"]["strategy"] != "RegionBasedBridgeSelectionStrategy"
    for path in ("/etc/jitsi/jicofo/jicofo.conf", "/etc/jitsi/videobridge/jvb.conf"):
        assert "added by jvb-join: regions" not in lab.exec("jms", ["cat", path], check=True)[1]
        assert "added by jvb-join: relays" not in lab.exec("jms", ["cat", path], check=True)[1]
    for path in ("/etc/jitsi/jicofo/jvb-join.conf", "/etc/jitsi/videobridge/jvb-join-relay.conf"):
        assert lab.exec("jms", ["test", "-e", path])[0] == 1, path
    # the region tokens are still live: doctor says jicofo does not select by region
    assert doctor_check(lab, "jms", "server-regions")["status"] == "warn"
    rc, out, err = lab.exec("jms", base + ["--no-regions"], timeout=1200)
    assert rc == 0 and json.loads(out)["changed"] == 0, out + err
