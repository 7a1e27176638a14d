"""Doctor's checks of the extras a join or a server install was asked for (NAT, STUN, server tune,
the Jitsi site, Let's Encrypt), and the STUN client behind the STUN check: each check is skipped
when its option was not used, and finds the fault a user would see when it was."""

import json
import os
import socket
import struct
import threading
import time

import pytest

from jvbjoin.formats import stun
from jvbjoin.bridge.checks import nat
from jvbjoin.server.checks import services as server, web
from jvbjoin.doctor.core import Facts
from jvbjoin.server import tune

from helpers import DOMAIN, JVB_CONF, facts_for, make_cert, write_file

# --- the STUN client (RFC 5389; vectors from RFC 5769 §2.2 and §2.3) --------------------------------

TXID = bytes.fromhex("b7e7a701bc34d686fa87dfae")
SOFTWARE = bytes.fromhex("80220010") + b"test vector     "  # 16 bytes: no padding to skip


def response(attributes, kind=stun.BINDING_SUCCESS, txid=TXID):
    body = b"".join(attributes)
    return struct.pack("!HHI", kind, len(body), stun.MAGIC_COOKIE) + txid + body


def test_a_binding_request_is_a_bare_header_with_the_cookie():
    message, txid = stun.binding_request(TXID)
    assert message == bytes.fromhex("000100002112a442") + TXID and txid == TXID
    assert len(stun.binding_request()[1]) == 12


def test_xor_mapped_address_ipv4_from_rfc_5769():
    xor = bytes.fromhex("00200008" "0001a147" "e112a643")
    assert stun.parse_response(response([SOFTWARE, xor]), TXID) == ("192.0.2.1", 32853)


def test_xor_mapped_address_ipv6_from_rfc_5769():
    xor = bytes.fromhex("00200014" "0002a147" "0113a9faa5d3f179bc25f4b5bed2b9d9")
    assert stun.parse_response(response([xor]), TXID) == ("2001:db8:1234:5678:11:2233:4455:6677", 32853)


def test_xor_mapped_address_wins_over_mapped_address_and_an_old_server_is_read_too():
    mapped = bytes.fromhex("00010008" "00010d05" "c6336407")  # 198.51.100.7:3333, not xor'ed
    xor = bytes.fromhex("00200008" "0001a147" "e112a643")
    assert stun.parse_response(response([mapped, xor]), TXID) == ("192.0.2.1", 32853)
    assert stun.parse_response(response([mapped]), TXID) == ("198.51.100.7", 3333)


@pytest.mark.parametrize("data, message", [
    (response([], txid=b"\0" * 12), "not for this request"),
    (response([]), "no mapped address"),
    (response([bytes.fromhex("00090010" "00000401") + b"Unauthorized"], kind=stun.BINDING_ERROR), "error 401"),
    (b"\x01\x01\x00", "too short"),
    (response([bytes.fromhex("00200004" "0001a147")]), "too short"),
    (response([bytes.fromhex("00200008" "0001a147")]), "past the end"),
])
def test_answers_that_carry_no_address_are_errors(data, message):
    with pytest.raises(stun.StunError, match=message):
        stun.parse_response(data, TXID)


class StunServer:
    """A STUN server on loopback that answers with the sender's address (after ``drop`` silent requests)."""

    def __init__(self, drop=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.drop = drop
        self.requests = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                data, (ip, port) = self.sock.recvfrom(2048)
            except OSError:
                return
            self.requests += 1
            if self.requests <= self.drop:
                continue
            xport = port ^ (stun.MAGIC_COOKIE >> 16)
            xaddr = bytes(a ^ b for a, b in zip(socket.inet_aton(ip), struct.pack("!I", stun.MAGIC_COOKIE)))
            attr = struct.pack("!HHBBH", stun.XOR_MAPPED_ADDRESS, 8, 0, 1, xport) + xaddr
            self.sock.sendto(response([attr], txid=data[8:20]), (ip, port))

    def close(self):
        self.sock.close()


def test_a_request_on_loopback_gets_the_source_address_after_a_lost_packet():
    srv = StunServer(drop=1)
    try:
        started = time.monotonic()
        ip, port = stun.mapped_address("127.0.0.1", srv.port, source="127.0.0.1", timeout=3.0)
    finally:
        srv.close()
    assert ip == "127.0.0.1" and port > 0 and srv.requests == 2
    assert 0.4 < time.monotonic() - started < 2.0  # sent again after 0.5 s of silence


def test_no_answer_is_an_error_within_the_time_limit():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        started = time.monotonic()
        with pytest.raises(stun.StunError, match="no answer"):
            stun.mapped_address("127.0.0.1", silent.getsockname()[1], timeout=0.8)
        assert time.monotonic() - started < 1.5
    finally:
        silent.close()


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


# --- server-tune ------------------------------------------------------------------------------------

CONFIG_JS = "var config = {\n    resolution: 720,\n};\n"


def tuned(paths, config_lines, record):
    write_file(paths, "/etc/jitsi/meet/{}-config.js".format(DOMAIN), CONFIG_JS + config_lines)
    write_file(paths, "/var/lib/jvb-join/server/tune.json", json.dumps(record))


def test_tune_is_skipped_when_nothing_was_tuned(jms):
    assert web.check_tune(Facts(jms)).status == "skipped"


def test_tuned_lines_in_place_are_ok(jms):
    text = tune.tune_text("", "config", {"resolution": "480", "startAudioOnly": "true"})
    tuned(jms, text, {"config": {"resolution": "480", "startAudioOnly": "true"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "ok" and "2 setting" in result.detail


def test_a_later_admin_line_warns_and_a_removed_line_fails(jms):
    text = tune.tune_text("", "config", {"resolution": "480", "startAudioOnly": "true"})
    tuned(jms, text + "config['resolution'] = 720;\n", {"config": {"resolution": "480", "startAudioOnly": "true"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "warn" and "config.resolution is set again on line" in result.detail
    tuned(jms, text.splitlines(True)[0], {"config": {"resolution": "480", "startAudioOnly": "true"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "fail" and "startAudioOnly" in result.detail
    assert result.remedy == "jvb-join server tune --config startAudioOnly=true"


def test_a_marked_line_edited_by_hand_warns(jms):
    text = tune.tune_text("", "config", {"resolution": "360"})
    tuned(jms, text, {"config": {"resolution": "480"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "warn" and "config.resolution is 360 (set to 480)" in result.detail


def test_an_interface_file_replaced_by_an_upgrade_loses_the_lines(jms):
    tuned(jms, "", {"interface": {"SHOW_JITSI_WATERMARK": "false"}})
    write_file(jms, "/usr/share/jitsi-meet/interface_config.js", "var interfaceConfig = {};\n")
    result = web.check_tune(Facts(jms))
    assert result.status == "fail" and "--interface SHOW_JITSI_WATERMARK=false" in result.remedy


def test_server_tune_keeps_its_record_and_unset_takes_a_key_out(paths, monkeypatch):
    write_file(paths, "/etc/jitsi/meet/{}-config.js".format(DOMAIN), CONFIG_JS)
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    def run(config):
        return tune.tune(tune.TuneOptions(DOMAIN, config), paths, lambda *a, **k: None)
    run({"resolution": "480", "startAudioOnly": "true"})
    assert tune.read_record(paths) == {"config": {"resolution": "480", "startAudioOnly": "true"}, "interface": {}}
    run({"startAudioOnly": None})
    assert tune.read_record(paths)["config"] == {"resolution": "480"}


# --- web-server: the Jitsi site ---------------------------------------------------------------------

LOADED = {"LoadState": "loaded", "ActiveState": "active", "SubState": "running"}
MISSING = {"LoadState": "not-found"}


def web_facts(paths, apache=True):
    facts = Facts(paths)
    facts.put("unit:nginx.service", MISSING if apache else LOADED)
    facts.put("unit:apache2.service", LOADED if apache else MISSING)
    return facts


def test_web_server_fails_when_the_jitsi_site_is_not_enabled(jms, monkeypatch):
    monkeypatch.setattr(server, "_program", lambda argv, timeout=4.0: (True, "Syntax OK"))
    result = server.check_web_server(web_facts(jms))
    assert result.status == "fail" and "not enabled in apache2" in result.detail
    assert result.remedy == "a2ensite {0}; systemctl reload apache2".format(DOMAIN)
    write_file(jms, "/etc/apache2/sites-enabled/{}.conf".format(DOMAIN), "<VirtualHost *:443>\n")
    result = server.check_web_server(web_facts(jms))
    assert result.status == "ok" and "serves the Jitsi site" in result.detail


def test_web_server_configtest_failure_comes_first(jms, monkeypatch):
    monkeypatch.setattr(server, "_program", lambda argv, timeout=4.0: (False, "AH00526: Syntax error"))
    result = server.check_web_server(web_facts(jms, apache=False))
    assert result.status == "fail" and "nginx has configuration errors" in result.detail


# --- server-letsencrypt -------------------------------------------------------------------------------

HOOK = ('install -m 0644 "$RENEWED_LINEAGE/fullchain.pem" /etc/jitsi/meet/{0}.crt && '
        'install -m 0640 "$RENEWED_LINEAGE/privkey.pem" /etc/jitsi/meet/{0}.key && systemctl reload nginx').format(DOMAIN)
TIMER_OK = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}


@pytest.fixture
def le(jms, monkeypatch):
    """A server with a certbot lineage from a lab ACME directory, deployed to the site's files."""
    _, pem, _ = make_cert(DOMAIN, ca=False, days=80)
    write_file(jms, "/etc/letsencrypt/renewal/{}.conf".format(DOMAIN),
          "version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/{0}\n\n[renewalparams]\n"
          "account = abc\nserver = https://acme.lab.test:14000/dir\nauthenticator = webroot\n"
          "renew_hook = {1}\n".format(DOMAIN, HOOK))
    write_file(jms, "/etc/letsencrypt/live/{}/fullchain.pem".format(DOMAIN), pem)
    write_file(jms, "/etc/jitsi/meet/{}.crt".format(DOMAIN), pem)
    monkeypatch.setattr(web, "served_certificate", lambda domain, port=443, timeout=2.0: tune_der(pem))
    return jms


def tune_der(pem):
    from jvbjoin.formats.pin import der_of
    return der_of(pem)


def le_facts(paths, timer=None, coturn=None):
    facts = web_facts(paths, apache=False)
    facts.put("unit:certbot.timer", TIMER_OK if timer is None else timer)
    facts.put("unit:coturn.service", coturn or MISSING)
    return facts


def test_letsencrypt_is_skipped_without_a_certbot_lineage(jms):
    assert web.check_letsencrypt(le_facts(jms)).status == "skipped"


def test_a_deployed_renewed_certificate_is_ok(le):
    result = web.check_letsencrypt(le_facts(le))
    assert result.status == "ok" and "https://acme.lab.test:14000/dir" in result.detail, result.detail


@pytest.mark.parametrize("days, status", [(20, "warn"), (10, "fail"), (-1, "fail")])
def test_expiry_warns_at_30_days_and_fails_at_14(le, monkeypatch, days, status):
    real = time.time
    monkeypatch.setattr(web.time, "time", lambda: real() + (80 - days) * 86400)
    assert web.check_letsencrypt(le_facts(le)).status == status


def test_a_stopped_timer_or_a_lost_hook_fails(le):
    result = web.check_letsencrypt(le_facts(le, timer={"LoadState": "loaded", "ActiveState": "inactive",
                                                      "UnitFileState": "disabled"}))
    assert result.status == "fail" and "certbot.timer" in result.detail
    assert "systemctl enable --now certbot.timer" in result.remedy
    conf = le("/etc/letsencrypt/renewal/{}.conf".format(DOMAIN))
    with open(conf) as f:
        text = f.read()
    write_file(le, "/etc/letsencrypt/renewal/{}.conf".format(DOMAIN), text.replace("systemctl reload nginx", "true"))
    result = web.check_letsencrypt(le_facts(le))
    assert result.status == "fail" and "reload nginx" in result.detail and "renew_hook = " in result.remedy


def test_a_hook_script_in_renewal_hooks_counts(le):
    conf = le("/etc/letsencrypt/renewal/{}.conf".format(DOMAIN))
    with open(conf) as f:
        text = f.read()
    write_file(le, "/etc/letsencrypt/renewal/{}.conf".format(DOMAIN), text.replace("renew_hook", "# renew_hook"))
    write_file(le, "/etc/letsencrypt/renewal-hooks/deploy/jitsi", "#!/bin/sh\n" + HOOK + "\n", 0o755)
    assert web.check_letsencrypt(le_facts(le)).status == "ok"


def test_a_site_certificate_that_is_not_certbots_fails(le):
    _, other, _ = make_cert(DOMAIN, ca=False)
    write_file(le, "/etc/jitsi/meet/{}.crt".format(DOMAIN), other)
    result = web.check_letsencrypt(le_facts(le))
    assert result.status == "fail" and "not the certificate certbot got" in result.detail


def test_an_old_certificate_still_served_warns(le, monkeypatch):
    _, other, _ = make_cert(DOMAIN, ca=False)
    monkeypatch.setattr(web, "served_certificate", lambda domain, port=443, timeout=2.0: tune_der(other))
    result = web.check_letsencrypt(le_facts(le))
    assert result.status == "warn" and result.remedy == "systemctl reload nginx"


def test_coturn_on_the_certificate_needs_the_hook_to_restart_it(le):
    write_file(le, "/etc/turnserver.conf", "cert=/etc/jitsi/meet/{0}.crt\npkey=/etc/jitsi/meet/{0}.key\n".format(DOMAIN))
    result = web.check_letsencrypt(le_facts(le, coturn=LOADED))
    assert result.status == "warn" and "coturn" in result.detail


def test_a_tuned_option_the_client_no_longer_reads_warns_with_unset(jms):
    text = tune.tune_text("", "config", {"openBridgeChannel": '"websocket"', "resolution": "480"})
    tuned(jms, text, {"config": {"openBridgeChannel": '"websocket"', "resolution": "480"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "warn" and "config.openBridgeChannel is set, but the web client no longer reads it" \
        in result.detail
    assert result.remedy == "jvb-join server tune --unset openBridgeChannel"
    # its line gone by hand: still only the record to clean, not a line to put back
    tuned(jms, tune.tune_text("", "config", {"resolution": "480"}),
          {"config": {"openBridgeChannel": '"websocket"', "resolution": "480"}})
    result = web.check_tune(Facts(jms))
    assert result.status == "warn" and result.remedy == "jvb-join server tune --unset openBridgeChannel"
