"""Doctor's checks of a bridge behind NAT (--advertise-ip, --stun-server): skipped when the join did not
ask, and the fault a user would see when it did."""

from jvbjoin.formats import stun
from jvbjoin.bridge.checks import nat

from helpers import JVB_CONF, facts_for, write_file

# --- bridge-nat -------------------------------------------------------------------------------------

FRAGMENT_NAT = """
ice4j.harvest.mapping.static-mappings = [
  { local-address = "127.0.0.1", public-address = "203.0.113.7" }
]
"""
STARTED = ("2026-11-21 05:00:00.000 INFO: [1] Main.main#95: Starting jitsi-videobridge version 2.3.312\n"
           "2026-11-21 05:00:01.000 INFO: [1] MappingCandidateHarvesters.initialize#145: Using "
           "org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=127.0.0.1:9/udp, mask=203.0.113.7:9/udp)\n")


def with_fragment(paths, extra):
    path = paths("/etc/jitsi/videobridge/jvb-join.conf")
    with open(path, "a") as f:
        f.write(extra)


def test_nat_and_stun_are_skipped_when_the_join_did_not_ask(host):
    facts = facts_for(host)
    assert nat.check_nat(facts).status == "skipped"
    assert nat.check_stun(facts).status == "skipped"
    with_fragment(host, "ice4j.harvest.mapping.stun.addresses = []\n")
    assert "--stun-server none" in nat.check_stun(facts_for(host)).detail


def test_the_mapping_read_and_announced_by_the_bridge_is_ok(host):
    with_fragment(host, FRAGMENT_NAT)
    write_file(host, "/var/log/jitsi/jvb.log", "old start\n" + STARTED)
    result = nat.check_nat(facts_for(host))
    assert result.status == "ok" and "announces 203.0.113.7 for 127.0.0.1" in result.detail


def test_a_later_line_in_jvb_conf_that_replaces_the_mapping_fails(host):
    with_fragment(host, FRAGMENT_NAT)
    write_file(host, "/etc/jitsi/videobridge/jvb.conf", JVB_CONF + "ice4j.harvest.mapping.static-mappings = []\n")
    result = nat.check_nat(facts_for(host))
    assert result.status == "fail" and "does not read jvb-join's mapping" in result.detail
    assert "static-mappings" in result.remedy


def test_a_legacy_pair_comes_first_and_does_not_hide_ours(host):
    with_fragment(host, FRAGMENT_NAT)
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties",
          "org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS=10.0.0.5\n"
          "org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS=198.51.100.9\n")
    write_file(host, "/var/log/jitsi/jvb.log", STARTED)
    assert nat.check_nat(facts_for(host)).status == "ok"


def test_a_local_address_that_is_not_this_hosts_fails(host):
    with_fragment(host, FRAGMENT_NAT.replace("127.0.0.1", "192.0.2.55"))
    result = nat.check_nat(facts_for(host))
    assert result.status == "fail" and "192.0.2.55 is not an address of this host" in result.detail
    assert "--local-ip" in result.remedy


def test_a_bridge_started_without_the_mapping_fails_with_a_restart(host):
    with_fragment(host, FRAGMENT_NAT)
    write_file(host, "/var/log/jitsi/jvb.log", STARTED + STARTED.splitlines()[0] + "\n")
    result = nat.check_nat(facts_for(host))
    assert result.status == "fail" and "no static mapping since its last start" in result.detail
    assert result.remedy.startswith("systemctl restart jitsi-videobridge2")


def test_without_the_bridge_log_the_config_is_still_checked(host):
    with_fragment(host, FRAGMENT_NAT)
    result = nat.check_nat(facts_for(host))
    assert result.status == "ok" and any("does not show the bridge's last start" in d for d in result.details)


def test_announced_mappings_read_ice4j_lines_ipv4_and_ipv6():
    text = ("Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=10.0.0.5:9/udp, mask=203.0.113.7:9/udp)\n"
            "Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=[fd00::5]:9/udp, mask=[2001:db8::7]:9/udp)\n")
    assert nat.announced_mappings(text) == [("10.0.0.5", "203.0.113.7"), ("fd00::5", "2001:db8::7")]


# --- bridge-stun ------------------------------------------------------------------------------------

def stun_answers(monkeypatch, answer):
    asked = []

    def fake(host, port, source=None, timeout=2.0):
        asked.append((host, port, source))
        if isinstance(answer, Exception):
            raise answer
        return answer
    monkeypatch.setattr(stun, "mapped_address", fake)
    return asked


def test_stun_sees_the_advertised_address(host, monkeypatch):
    with_fragment(host, FRAGMENT_NAT + 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]\n')
    asked = stun_answers(monkeypatch, ("203.0.113.7", 40000))
    result = nat.check_stun(facts_for(host))
    assert result.status == "ok" and "203.0.113.7" in result.detail
    assert asked == [("stun.example.org", 3478, "127.0.0.1")]  # from the address the NAT maps


def test_stun_seeing_another_address_than_the_advertised_one_warns(host, monkeypatch):
    with_fragment(host, FRAGMENT_NAT + 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]\n')
    stun_answers(monkeypatch, ("198.51.100.20", 40000))
    result = nat.check_stun(facts_for(host))
    assert result.status == "warn" and "198.51.100.20" in result.detail and "203.0.113.7" in result.detail
    assert "--advertise-ip 198.51.100.20" in result.remedy


def test_no_stun_answer_fails(host, monkeypatch):
    with_fragment(host, 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]\n')
    stun_answers(monkeypatch, stun.StunError("no answer from stun.example.org:3478 within 2.0 s"))
    result = nat.check_stun(facts_for(host))
    assert result.status == "fail" and "no STUN server answered" in result.detail


def test_stun_without_nat_sees_this_hosts_own_address(host, monkeypatch):
    with_fragment(host, 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]\n')
    asked = stun_answers(monkeypatch, ("127.0.0.1", 40000))
    result = nat.check_stun(facts_for(host))
    assert result.status == "ok" and "no NAT" in result.detail and asked[0][2] is None


def test_a_legacy_stun_list_wins_over_jvb_join_and_warns(host, monkeypatch):
    with_fragment(host, 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]\n')
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties",
          "org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES=meet-jit-si-turnrelay.jitsi.net:443\n")
    asked = stun_answers(monkeypatch, ("127.0.0.1", 40000))
    result = nat.check_stun(facts_for(host))
    assert result.status == "warn" and "meet-jit-si-turnrelay.jitsi.net:443" in result.detail
    assert asked[0][:2] == ("meet-jit-si-turnrelay.jitsi.net", 443)  # what the bridge really asks
