"""Regions with relays, in the lab: a server made with 'server install --region eu', two bridges
joined with tokens of '--region eu' and one with '--region us'. jicofo reads jvb-join's include and
selects by region; each bridge announces its region and its nickname as relay id, which
'jvb-join --json bridges' shows; the jicofo stand-in puts a conference of both regions on one
bridge per region joined by a relay; doctor's server-regions check is clean; a re-run of the server
install and of a join changes nothing."""

import concurrent.futures
import json
import time
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
