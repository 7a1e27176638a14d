"""Doctor's checks against a bridge or server tree in a temporary root, with facts (units, metrics,
the server's certificate) given by the test: each check finds the fault a user would see."""

import json
import os
import threading
import time

import pytest

from jvbjoin.bridge.checks import base as bridge, link
from jvbjoin.doctor import core
from jvbjoin.doctor.facts import detect_role
from jvbjoin.doctor.runner import diagnose
from jvbjoin.cli import doctor_output as render
from jvbjoin.server.checks import services as server
from jvbjoin.bridge.checks import host as host_checks
from jvbjoin.doctor.core import Check, Facts, fail, ok, run_checks, warn
from jvbjoin.errors import TokenError, UnreachableError, UsageError

from helpers import AUTH, DOMAIN, FRAGMENT, JVB_CONF, MACHINE, MUC, NICK, facts_for, make_cert, write_file

# --- the runner ----------------------------------------------------------------------------------

def test_a_check_whose_prerequisite_failed_is_skipped_naming_it():
    checks = [Check("a", "A", "g", lambda f: fail("broken", "fix a")),
              Check("b", "B", "g", lambda f: ok("fine"), requires=("a",)),
              Check("c", "C", "g", lambda f: warn("meh", "fix c"))]
    results = run_checks(checks, Facts(None))
    assert [(r.id, r.status) for r in results] == [("a", "fail"), ("b", "skipped"), ("c", "warn")]
    assert "a failed" in results[1].detail
    assert core.exit_code(results) == 1
    assert core.exit_code(results[2:]) == 2
    assert core.exit_code([results[1]]) == 0


def test_a_skip_for_a_failed_prerequisite_blocks_in_turn():
    checks = [Check("reach", "R", "g", lambda f: fail("unreachable")),
              Check("login", "L", "g", lambda f: ok("in"), requires=("reach",)),
              Check("brewery", "B", "g", lambda f: fail("not in"), requires=("login",))]
    results = run_checks(checks, Facts(None))
    assert [r.status for r in results] == ["fail", "skipped", "skipped"]
    assert "reach failed" in results[2].detail


def test_a_hanging_check_fails_on_its_own_time_limit_and_the_rest_report():
    release = threading.Event()
    checks = [Check("slow", "slow", "g", lambda f: release.wait(10) and ok("late"), timeout=0.3),
              Check("fast", "fast", "g", lambda f: ok("quick"))]
    started = time.monotonic()
    results = run_checks(checks, Facts(None), total=2.0)
    release.set()
    assert time.monotonic() - started < 5.0  # well before the hanging check's 10 s (lenient: busy CI machines)
    assert [(r.id, r.status) for r in results] == [("slow", "fail"), ("fast", "ok")]
    assert "no answer within" in results[0].detail


def test_an_error_in_a_check_is_its_failure_with_the_remedy():
    def raises(_facts):
        raise UnreachableError("Cannot reach the XMPP server at x:5222: timed out.", "Open 5222.")
    results = run_checks([Check("x", "X", "g", raises), Check("y", "Y", "g", lambda f: 1 / 0)], Facts(None))
    assert results[0].status == "fail" and results[0].remedy == "Open 5222."
    assert results[1].status == "fail" and "ZeroDivisionError" in results[1].detail


def test_ignored_checks_do_not_run(host):
    ran = []
    results = run_checks([Check("a", "A", "g", lambda f: ran.append(1) or fail("x"))], Facts(None), ignore=["a"])
    assert ran == [] and results[0].status == "skipped" and "--ignore" in results[0].detail


def test_unknown_ignore_id_is_a_usage_error_listing_the_ids(host):
    with pytest.raises(UsageError) as err:
        diagnose(host, "bridge", ignore=["no-such-check"])
    assert "brewery" in err.value.remedy


def test_role_is_detected_from_what_jvb_join_left(paths):
    assert detect_role(paths) is None
    write_file(paths, "/var/lib/jvb-join/server/tokens.json", "[]")
    assert detect_role(paths) == "server"
    write_file(paths, "/var/lib/jvb-join/bridge.json", "{}")
    assert detect_role(paths) == "bridge"


# --- bridge checks ---------------------------------------------------------------------------------

def test_healthy_bridge_passes_the_config_checks(host, cert):
    facts = facts_for(host, cert_der=cert[0])
    for check in (bridge.check_xmpp_config, bridge.check_cert_verification, bridge.check_nickname,
                  link.check_server_certificate, link.check_trust_store, link.check_brewery,
                  host_checks.check_rest_loopback, bridge.check_logging, bridge.check_service):
        result = check(facts)
        assert result.status == "ok", (check.__name__, result.detail)


def test_service_stopped_and_restart_loop(host):
    result = bridge.check_service(facts_for(host, unit={"ActiveState": "inactive", "SubState": "dead"}))
    assert result.status == "fail" and "systemctl start" in result.remedy
    loop = bridge.check_service(facts_for(host, unit={"ActiveState": "activating", "SubState": "auto-restart",
                                                      "NRestarts": 4}))
    assert loop.status == "fail" and "restart loop" in loop.detail
    recent = bridge.check_service(facts_for(host, unit={"NRestarts": 2,
                                                        "ActiveEnterTimestamp": int((time.time() - 5) * 1e6)}))
    assert recent.status == "fail" and "keeps restarting" in recent.detail
    old = bridge.check_service(facts_for(host, unit={"NRestarts": 1}))
    assert old.status == "warn"


def test_legacy_block_wins_over_jvb_conf(host):
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties", "".join(
        "org.jitsi.videobridge.xmpp.user.shard.{}=x\n".format(k)
        for k in ("HOSTNAME", "DOMAIN", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")))
    result = bridge.check_xmpp_config(facts_for(host))
    assert result.status == "fail" and "legacy" in result.detail and "ignores jvb.conf" in result.detail


def test_a_commented_out_legacy_block_does_not_count(host):
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties", "".join(
        "#jvb-join# org.jitsi.videobridge.xmpp.user.shard.{}=x\n".format(k)
        for k in ("HOSTNAME", "DOMAIN", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME")))
    assert bridge.check_xmpp_config(facts_for(host)).status == "ok"


def test_hostname_localhost_is_named(host):
    write_file(host, "/etc/jitsi/videobridge/jvb-join.conf", FRAGMENT.format(host="localhost", auth=AUTH, muc=MUC, nick=NICK))
    result = bridge.check_xmpp_config(facts_for(host))
    assert result.status == "fail" and "HOSTNAME is 'localhost'" in result.detail


def test_a_key_after_the_include_line_wins(host):
    with open(host("/etc/jitsi/videobridge/jvb.conf"), "a") as handle:
        handle.write('videobridge.apis.xmpp-client.configs.shard.USERNAME = "someone-else"\n')
    result = bridge.check_xmpp_config(facts_for(host))
    assert result.status == "fail" and "USERNAME" in result.detail


def test_missing_include_line(host):
    write_file(host, "/etc/jitsi/videobridge/jvb.conf", JVB_CONF.replace('include "jvb-join.conf"', "#"))
    result = bridge.check_xmpp_config(facts_for(host))
    assert result.status == "fail" and "does not include" in result.detail


def test_verification_disabled_anywhere_fails(host):
    with open(host("/etc/jitsi/videobridge/jvb.conf"), "a") as handle:
        handle.write("videobridge.apis.xmpp-client.configs.shard.DISABLE_CERTIFICATE_VERIFICATION = true\n")
    assert bridge.check_cert_verification(facts_for(host)).status == "fail"
    write_file(host, "/etc/jitsi/videobridge/jvb.conf", JVB_CONF)
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties",
          "org.jitsi.videobridge.xmpp.user.shard.DISABLE_CERTIFICATE_VERIFICATION=true\n")
    assert bridge.check_cert_verification(facts_for(host)).status == "fail"
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties",
          "#jvb-join# org.jitsi.videobridge.xmpp.user.shard.DISABLE_CERTIFICATE_VERIFICATION=true\n")
    assert bridge.check_cert_verification(facts_for(host)).status == "ok"
    # Java properties: a space or a colon ends the key as well as '='
    for line in ("org.jitsi.videobridge.xmpp.user.shard.DISABLE_CERTIFICATE_VERIFICATION true\n",
                 "org.jitsi.videobridge.xmpp.user.shard.DISABLE_CERTIFICATE_VERIFICATION : true\n"):
        write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties", line)
        assert bridge.check_cert_verification(facts_for(host)).status == "fail", line


def test_cloned_host_and_changed_nickname(host):
    write_file(host, "/etc/machine-id", "f" * 32 + "\n")
    result = bridge.check_nickname(facts_for(host))
    assert result.status == "fail" and "cloned" in result.detail
    write_file(host, "/etc/machine-id", MACHINE + "\n")
    write_file(host, "/etc/jitsi/videobridge/jvb-join.conf", FRAGMENT.format(host=DOMAIN, auth=AUTH, muc=MUC, nick="other"))
    assert bridge.check_nickname(facts_for(host)).status == "fail"


def test_replaced_server_certificate_fails_the_pin(host):
    other, _, _ = make_cert(AUTH, key_type="ec")
    result = link.check_server_certificate(facts_for(host, cert_der=other))
    assert result.status == "fail" and "not the one this bridge joined with" in result.detail
    assert "token create" in result.remedy


def test_unreachable_server_is_a_failure_with_the_port(host, monkeypatch):
    from jvbjoin.xmpp import probe

    def refuse(*args, **kwargs):
        raise probe.unreachable(DOMAIN, 5222, "the connection timed out")
    monkeypatch.setattr(probe, "fetch_server_certificate", refuse)
    results = {r.id: r for r in run_checks(
        [c for c in bridge.checks() if c.id in ("server-reachable", "server-certificate")], facts_for(host))}
    assert results["server-reachable"].status == "fail" and "5222" in results["server-reachable"].detail
    assert results["server-certificate"].status == "skipped"


def test_trust_stores(host):
    os.remove(host("/etc/ssl/certs/java/cacerts"))
    write_file(host, "/etc/ssl/certs/java/cacerts", b"\xfe\xed\xfe\xed nothing")
    assert "Java" in link.check_trust_store(facts_for(host)).detail
    os.remove(host("/usr/local/share/ca-certificates/jvb-join-{}.crt".format(AUTH)))
    assert link.check_trust_store(facts_for(host)).status == "fail"


def test_login_is_not_tried_while_the_bridge_is_logged_in(host, monkeypatch):
    from jvbjoin.xmpp import session
    calls = []
    monkeypatch.setattr(session, "check_login", lambda *a, **k: calls.append(a))
    assert link.check_account_login(facts_for(host)).status == "ok"
    assert calls == []


def test_a_refused_login_names_the_account(host, cert, monkeypatch):
    from jvbjoin.xmpp import session
    seen = {}

    def refuse(server, port, domain, user, password, der, timeout):
        seen.update(user=user, password=password)
        raise TokenError("refused")
    monkeypatch.setattr(session, "check_login", refuse)
    facts = facts_for(host, metrics={"jitsi_jvb_muc_clients_connected": 0.0}, cert_der=cert[0])
    result = link.check_account_login(facts)
    assert result.status == "fail" and "jvb-abc@" + AUTH in result.detail
    assert seen == {"user": "jvb-abc", "password": "s3cret-password"}
    assert "s3cret" not in result.detail + (result.remedy or "")


def test_brewery_uses_the_muc_gauge_not_only_health(host):
    result = link.check_brewery(facts_for(host, metrics={"jitsi_jvb_muc_clients_connected": 0.0,
                                                           "jitsi_jvb_mucs_joined": 0.0}, health=(True, "")))
    assert result.status == "fail" and "says healthy" in result.detail
    down = Facts(host)

    def no_api():
        raise OSError("connection refused")
    with pytest.raises(OSError):
        down.get("metrics", no_api)  # what the REST API's silence leaves for every check
    assert "does not answer" in link.check_brewery(down).detail


def test_rest_on_all_addresses_fails(host):
    write_file(host, "/proc/net/tcp", "  sl  local_address rem_address   st\n"
                                 "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000\n")
    result = host_checks.check_rest_loopback(facts_for(host))
    assert result.status == "fail" and "0.0.0.0:8080" in result.detail


def test_firewall_without_media_port_or_disabled(host):
    write_file(host, "/etc/ufw/user.rules", "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n")
    result = host_checks.check_firewall(facts_for(host))
    assert result.status == "fail" and "10000/udp" in result.detail and "ufw allow 10000/udp" in result.remedy
    write_file(host, "/etc/ufw/ufw.conf", "ENABLED=no\n")
    assert "ufw enable" in host_checks.check_firewall(facts_for(host)).remedy


def test_verbose_logging_warns(host):
    write_file(host, "/etc/jitsi/videobridge/logging.properties",
          "handlers= java.util.logging.ConsoleHandler, java.util.logging.FileHandler\n.level=ALL\n")
    result = bridge.check_logging(facts_for(host))
    assert result.status == "warn" and "FileHandler" in result.detail and "ALL" in result.detail
    # the same file with ':' and ' ' separators, which Java reads alike (and the join edits alike)
    write_file(host, "/etc/jitsi/videobridge/logging.properties",
          "handlers: java.util.logging.ConsoleHandler, java.util.logging.FileHandler\n.level FINE\n")
    result = bridge.check_logging(facts_for(host))
    assert result.status == "warn" and "FileHandler" in result.detail and "FINE" in result.detail


def test_kernel_settings_are_skipped_in_a_container_and_checked_outside(host):
    write_file(host, "/etc/sysctl.d/20-jvb-udp-buffers.conf", "net.core.rmem_max=10485760\n")
    write_file(host, "/etc/sysctl.d/60-jvb-join.conf", "vm.swappiness = 1\n")
    write_file(host, "/proc/sys/net/core/rmem_max", "212992\n")
    write_file(host, "/proc/sys/vm/swappiness", "60\n")
    facts = facts_for(host)
    facts.put("container", True)
    assert host_checks.check_udp_buffers(facts).status == "skipped"
    facts = facts_for(host)
    facts.put("container", False)
    assert host_checks.check_udp_buffers(facts).status == "warn"
    assert host_checks.check_swappiness(facts).status == "warn"


@pytest.mark.parametrize("offset,status", [(1, "ok"), (-45, "warn"), (7200, "fail")])
def test_clock_against_the_server(host, monkeypatch, offset, status):
    monkeypatch.setattr(link, "server_time", lambda server, timeout=2.0: time.time() - offset)
    assert link.check_clock(facts_for(host)).status == status


def test_clock_is_skipped_when_the_server_does_not_answer(host, monkeypatch):
    def refuse(server, timeout=2.0):
        raise OSError("timed out")
    monkeypatch.setattr(link, "server_time", refuse)
    assert link.check_clock(facts_for(host)).status == "skipped"


def test_package_versions(host, monkeypatch):
    write_file(host, "/var/lib/dpkg/status", "Package: jitsi-videobridge2\nStatus: install ok installed\n"
                                        "Version: 2.3-312-ga29d97d13-1\n\n")
    from jvbjoin.bridge import api as bridge_api
    monkeypatch.setattr(bridge_api.BridgeAPI, "version", lambda self: {"version": "2.3.312-ga29d97d13"})
    assert bridge.check_package(facts_for(host)).status == "ok"
    monkeypatch.setattr(bridge_api.BridgeAPI, "version", lambda self: {"version": "2.3.200-gaaaaaaaa"})
    assert bridge.check_package(facts_for(host)).status == "warn"
    os.remove(host("/var/lib/dpkg/status"))
    assert bridge.check_package(facts_for(host)).status == "fail"


def test_package_against_the_fleets_version(host):
    write_file(host, "/var/lib/dpkg/status", "Package: jitsi-videobridge2\nStatus: install ok installed\n"
                                        "Version: 2.3-300-gbbbbbbbb-1\n\n")
    state = json.loads(open(host("/var/lib/jvb-join/bridge.json")).read())
    state["jvb"] = "2.3-312-ga29d97d13-1"
    write_file(host, "/var/lib/jvb-join/bridge.json", json.dumps(state), 0o600)
    result = bridge.check_package(facts_for(host))
    assert result.status == "warn" and "apt-get install jitsi-videobridge2=2.3-312-ga29d97d13-1" == result.remedy


def test_not_joined_bridge_says_how_to_join(paths):
    result = bridge.check_xmpp_config(Facts(paths))
    assert result.status == "fail" and "jvb-join <token>" in result.remedy


HAND_PROPERTIES = ("org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=meet.example.com\n"
                   "org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.com\n"
                   "org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\n"
                   "org.jitsi.videobridge.xmpp.user.shard.PASSWORD=secret\n"
                   "org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=jvbbrewery@internal.auth.meet.example.com\n"
                   "org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=jvb-hand\n")


def test_a_bridge_made_by_hand_is_said_once_with_what_its_own_config_says(paths):
    from jvbjoin.doctor import runner as doctor
    write_file(paths, "/etc/jitsi/videobridge/sip-communicator.properties", HAND_PROPERTIES)
    write_file(paths, "/etc/jitsi/videobridge/jvb.conf", "videobridge {}\n")
    facts = facts_for(paths)
    results = {c.id: c.func(facts) for c in bridge.checks()
               if c.id in ("xmpp-config", "nickname", "server-reachable", "server-certificate", "trust-store",
                           "account-login", "brewery", "clock")}
    failed = [i for i, r in results.items() if r.status == "fail"]
    assert failed == ["xmpp-config"], {i: r.detail for i, r in results.items()}
    assert "meet.example.com as jvb-hand" in results["xmpp-config"].detail
    assert all(results[i].status == "skipped" for i in results if i != "xmpp-config")
    assert doctor.subject("bridge", facts) == "jvb-hand of meet.example.com"


def test_a_clone_held_back_on_purpose_is_told_to_join_with_its_own_token(host):
    write_file(host, "/etc/machine-id", "f" * 32 + "\n")
    result = bridge.check_service(facts_for(host, unit={"ActiveState": "inactive", "SubState": "dead"}))
    assert result.status == "fail" and "copy of a joined bridge" in result.detail
    assert "systemctl start" not in result.remedy and "token create" in result.remedy


# --- server checks ----------------------------------------------------------------------------------

def store(paths, records):
    write_file(paths, "/var/lib/jvb-join/server/tokens.json", json.dumps(records), 0o600)


def record(token_id, created, exp, **extra):
    base = {"id": token_id, "name": "", "user": "jvb-" + token_id, "domain": AUTH, "meet": DOMAIN,
            "created": created, "exp": exp, "verifier": "aa", "allow_from": None}
    base.update(extra)
    return base


def account(paths, token_id, key="aa"):
    write_file(paths, "/var/lib/prosody/auth%2emeet%2eexample%2ecom/accounts/jvb%2d{}.dat".format(token_id),
          'return {\n\t["stored_key"] = "%s";\n};\n' % key)


def test_unused_token_past_half_its_life_warns(jms):
    now = time.time()
    store(jms, [record("old", now - 700, now + 300), record("new", now - 10, now + 3600)])
    account(jms, "old")
    account(jms, "new")
    result = server.check_tokens(Facts(jms))
    assert result.status == "warn" and "old" in result.detail and "new" not in result.detail
    assert "jvb-join token revoke old" in result.remedy


def test_a_token_whose_bridge_is_in_the_brewery_does_not_warn(jms, monkeypatch):
    now = time.time()
    store(jms, [record("used", now - 700, now + 300)])
    account(jms, "used", key="bb")  # the bridge changed the password
    monkeypatch.setattr(server, "brewery_accounts", lambda facts: {"jvb-used@" + AUTH})
    assert server.check_tokens(Facts(jms)).status == "ok"


def test_a_changed_password_alone_is_not_a_join(jms, monkeypatch):
    # a join that rolled back after the password change leaves another stored key, and no bridge
    now = time.time()
    store(jms, [record("rolled", now - 700, now + 300)])
    account(jms, "rolled", key="bb")
    monkeypatch.setattr(server, "brewery_accounts", lambda facts: set())
    result = server.check_tokens(Facts(jms))
    assert result.status == "warn" and "rolled" in result.detail


def test_bridges_seen_by_jicofo_against_accounts_joined(jms, monkeypatch):
    now = time.time()
    store(jms, [record("a", now, now + 60, joined=int(now)), record("b", now, now + 60, joined=int(now)),
                record("c", now, now + 60, joined=int(now))])
    account(jms, "a", key="bb")
    account(jms, "b", key="bb")  # c has no account any more: it left, and is not expected
    facts = Facts(jms)
    facts.put("unit:jitsi-videobridge2.service", {"ActiveState": "inactive"})
    from jvbjoin.server import jicofo
    monkeypatch.setattr(jicofo, "bridge_counts", lambda: {"bridge_count": 1, "operational_bridge_count": 1})
    assert server.check_bridges(facts).status == "warn"
    monkeypatch.setattr(jicofo, "bridge_counts", lambda: {"bridge_count": 0, "operational_bridge_count": 0})
    assert server.check_bridges(facts).status == "fail"
    monkeypatch.setattr(jicofo, "bridge_counts", lambda: {"bridge_count": 2, "operational_bridge_count": 2})
    assert server.check_bridges(facts).status == "ok"


def test_jicofo_metrics_are_read_from_the_bridge_selector_gauges(monkeypatch):
    from jvbjoin.server import jicofo
    text = ("# TYPE jitsi_jicofo_bridge_selector_bridge_count gauge\n"
            "jitsi_jicofo_bridge_selector_bridge_count 3\n"
            "jitsi_jicofo_bridge_selector_operational_bridge_count 2\njitsi_jicofo_healthy 1\n")
    monkeypatch.setattr(jicofo, "_get", lambda path, timeout: (200, text))
    assert jicofo.bridge_counts() == {"bridge_count": 3, "operational_bridge_count": 2}


def test_server_firewall_names_the_closed_5222_rule(jms):
    now = time.time()
    store(jms, [record("a", now, now + 600, allow_from="198.51.100.7"),
                record("b", now, now + 600, allow_from="203.0.113.9")])
    account(jms, "a")
    account(jms, "b")
    result = server.check_firewall(Facts(jms))
    assert result.status == "fail" and "203.0.113.9" in result.detail and "198.51.100.7" not in result.detail


def test_replaced_auth_certificate(jms, monkeypatch):
    from jvbjoin.xmpp import probe
    other, other_pem, _ = make_cert(AUTH, key_type="ec")

    def down(*a, **k):
        raise OSError("prosody down")
    monkeypatch.setattr(probe, "fetch_server_certificate", down)
    assert server.check_auth_certificate(Facts(jms)).status == "ok"
    write_file(jms, "/etc/prosody/certs/auth.{}.crt".format(DOMAIN), other_pem.decode() if isinstance(other_pem, bytes) else other_pem)
    result = server.check_auth_certificate(Facts(jms))
    assert result.status == "fail" and "not the one tokens were made for" in result.detail


def test_brewery_jid_of_jicofo(jms):
    assert server.check_brewery_muc(Facts(jms)).status == "ok"
    write_file(jms, "/etc/jitsi/jicofo/jicofo.conf", "jicofo {}\n")
    assert server.check_brewery_muc(Facts(jms)).status == "fail"


def test_local_bridge_beside_external_ones_warns(jms):
    now = time.time()
    store(jms, [record("a", now, now + 60, joined=int(now))])
    account(jms, "a", key="bb")
    facts = Facts(jms)
    facts.put("unit:jitsi-videobridge2.service", {"ActiveState": "active"})
    assert server.check_local_bridge(facts).status == "warn"


# --- output ------------------------------------------------------------------------------------------

def test_text_and_json_show_the_same_results():
    results = run_checks([Check("a", "A", "Group 1", lambda f: ok("fine", ["more"])),
                          Check("b", "B", "Group 2", lambda f: fail("broken", "do this"))], Facts(None))
    text = render.text("bridge", "jvb-x of meet", results)
    assert "[ ok ] a" in text and "[FAIL] b" in text and "fix: do this" in text and "more" not in text
    assert "1 failure(s)" in text
    assert "more" in render.text("bridge", "x", results, verbose=True)
    data = json.loads(render.as_json("bridge", "x", results, 1))
    assert data["failures"] == ["b"] and data["exit_code"] == 1
    assert [c["id"] for c in data["checks"]] == ["a", "b"] and data["checks"][1]["remedy"] == "do this"


def test_every_check_id_is_unique_and_requires_only_earlier_checks():
    for checks in (bridge.checks(), server.checks()):
        seen = set()
        for check in checks:
            assert check.id not in seen
            assert set(check.requires) <= seen
            seen.add(check.id)


# --- status -------------------------------------------------------------------------------------------

def test_status_reads_when_the_bridge_joined_the_brewery(host):
    write_file(host, "/var/log/jitsi/jvb.log",
          "JVB 2026-11-21 02:39:49.848 INFO: [30] MucClient$MucWrapper.join#776: Joined MUC: {}\n"
          "JVB 2026-11-21 03:00:00.000 INFO: [30] MucClient$MucWrapper.join#776: Joined MUC: {}\n".format(MUC, MUC))
    from jvbjoin.bridge import status
    from jvbjoin.cli.output import status_table
    assert status.joined_since(host, MUC) == "2026-11-21 03:00:00"
    text = status_table({"role": "bridge", "server": DOMAIN + ":5222", "meet": DOMAIN, "account": "a@b",
                         "nickname": NICK, "service": "active/running", "in_brewery": True,
                         "in_brewery_since": "2026-11-21 03:00:00", "conferences": 2, "participants": 5,
                         "drain": False, "graceful_shutdown": False})
    assert "yes, since 2026-11-21 03:00:00" in text and "participants  5" in text and "drain         no" in text


@pytest.mark.parametrize("code", [0, 1, 2])
def test_the_cli_exits_with_the_code_doctor_hands_back(monkeypatch, capsys, code):
    import jvbjoin.doctor.runner
    from jvbjoin.cli import main as cli
    seen = {}
    result = ok("in step")
    result.id, result.group, result.seconds = "clock", "host", 0.5
    results = [result]

    def fake(paths, role=None, ignore=()):
        seen.update(ignore=ignore, role=role)
        return jvbjoin.doctor.runner.Diagnosis("bridge", "jvb-x of meet", results, code, 1.0)
    monkeypatch.setattr(jvbjoin.doctor.runner, "examine", fake)
    assert cli.main(["doctor", "--json", "-v", "--ignore", "clock", "--role", "bridge"]) == code
    assert seen == {"ignore": ("clock",), "role": "bridge"}
    assert json.loads(capsys.readouterr().out)["exit_code"] == code  # --json of doctor
    assert cli.main(["doctor", "-v"]) == code
    assert "(0.50 s)" in capsys.readouterr().out  # -v of doctor: each check's time


def test_java_on_the_units_path(paths):
    assert bridge.check_java(Facts(paths)).status == "fail"
    write_file(paths, "/usr/lib/jvm/java-17/bin/java", "#!/bin/sh\n", 0o755)
    os.makedirs(paths("/usr/bin"), exist_ok=True)
    os.symlink(paths("/usr/lib/jvm/java-17/bin/java"), paths("/usr/bin/java"))
    assert bridge.check_java(Facts(paths)).status == "ok"
    os.remove(paths("/usr/lib/jvm/java-17/bin/java"))
    result = bridge.check_java(Facts(paths))
    assert result.status == "fail" and "update-alternatives" in result.remedy


def test_websockets_turned_on_by_hand_are_read_whoever_wrote_them(host):
    from jvbjoin.bridge.checks import websockets
    write_file(host, "/etc/jitsi/videobridge/jvb.conf", JVB_CONF + "videobridge.http-servers.public.port = 9090\n"
                                                               "videobridge.websockets.enabled = true\n")
    write_file(host, "/proc/net/tcp", "  sl  local_address rem_address   st\n"
                                 "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n"
                                 "   1: 00000000:2382 00000000:0000 0A 00000000:00000000\n")
    cut = websockets.check_bridge_websockets(facts_for(host))
    assert cut.status == "fail" and "ufw keeps the server" in cut.detail and "9090" in cut.remedy
    write_file(host, "/etc/ufw/user.rules", open(host("/etc/ufw/user.rules")).read() +
          "### tuple ### allow tcp 9090 0.0.0.0/0 any 198.51.100.2 in comment=6a7662\n")
    result = websockets.check_bridge_websockets(facts_for(host))
    assert result.status == "ok" and "9090" in result.detail


def test_a_missing_conffile_is_restored_with_force_confmiss_not_a_plain_reinstall(host):
    """logging.properties and the UDP buffer file are conffiles of jitsi-videobridge2: dpkg keeps an
    admin's deletion on a plain --reinstall, so the remedy removes the file and forces missing
    conffiles back (the lab shows both: tests/integration/test_fidelity.py)."""
    for path in ("/etc/jitsi/videobridge/logging.properties", "/etc/sysctl.d/20-jvb-udp-buffers.conf"):
        if os.path.exists(host(path)):
            os.unlink(host(path))
    result = bridge.check_logging(facts_for(host))
    assert result.status == "warn" and "logging.properties is missing" in result.detail
    assert result.remedy == ("rm -f /etc/jitsi/videobridge/logging.properties; apt-get install --reinstall "
                             "-o Dpkg::Options::=--force-confmiss jitsi-videobridge2")
    facts = facts_for(host)
    facts.put("container", False)
    result = host_checks.check_udp_buffers(facts)
    assert result.status == "warn"
    assert result.remedy == ("rm -f /etc/sysctl.d/20-jvb-udp-buffers.conf; apt-get install --reinstall "
                             "-o Dpkg::Options::=--force-confmiss jitsi-videobridge2")
