"""doctor on a bridge that serves two servers: the link and brewery checks run for each server,
named by it; the further server's client is jvb-join's own (no warning); a bridge in one brewery
of two is failed for the other server only."""

import json
import os

import pytest

from jvbjoin.formats import pin
from jvbjoin.doctor.core import run_checks
from jvbjoin.bridge import brewery, shards
from jvbjoin.bridge.checks import base, link, servers

from helpers import NICK, facts_for, write, write_file

AUTH2 = "auth.meet2.example.com"
MUC2 = "jvbbrewery@internal." + AUTH2
FRAGMENT2 = """videobridge.apis.xmpp-client.configs.jvb-join-auth_meet2_example_com {{
  HOSTNAME = "meet2.example.com"
  PORT = 5222
  DOMAIN = "{auth}"
  USERNAME = "jvb-def"
  PASSWORD = "second-password"
  MUC_JIDS = "{muc}"
  MUC_NICKNAME = "{nick}"
  DISABLE_CERTIFICATE_VERIFICATION = false
}}
"""


@pytest.fixture
def two(host, cert):
    der, pem = cert
    sub = shards.ServerPaths(host, AUTH2)
    write(sub.bridge_state, json.dumps({"server": "meet2.example.com", "port": 5222, "domain": AUTH2,
                                        "meet": "meet2.example.com", "muc": MUC2, "user": "jvb-def",
                                        "pin": pin.spki_pin(der), "password_changed": True}))
    write(sub.jvb_fragment, FRAGMENT2.format(auth=AUTH2, muc=MUC2, nick=NICK))
    with open(host.jvb_conf, "a") as handle:
        handle.write(shards.include_line(AUTH2) + "\n")
    write_file(host, "/usr/local/share/ca-certificates/jvb-join-{}.crt".format(AUTH2), pem)
    return host


def metrics(joined, configured):
    return {"jitsi_jvb_muc_clients_connected": float(joined), "jitsi_jvb_muc_clients_configured": float(configured),
            "jitsi_jvb_mucs_joined": float(joined), "jitsi_jvb_mucs_configured": float(configured)}


def test_each_server_has_its_link_and_brewery_checks_named_by_it(two, host):
    checks = base.checks(two)
    ids = [c.id for c in checks]
    at = ids.index("brewery") + 1
    assert ids[at:at + 5] == ["{}@{}".format(i, AUTH2) for i in servers.PER_SERVER]
    titles = {c.id: c.title for c in checks}
    assert titles["brewery"] == "in the brewery (meet.example.com)"
    assert titles["brewery@" + AUTH2] == "in the brewery (meet2.example.com)"
    assert checks[ids.index("brewery@" + AUTH2)].requires[-3:] == (
        "account-login@" + AUTH2, "trust-store@" + AUTH2, "cert-verification")
    # a bridge of one server has the checks it always had
    assert [c.id for c in base.checks(None)] == [c.id for c in base.base_checks()]


def test_a_bridge_in_both_breweries_is_healthy_for_both_servers(two, cert, monkeypatch):
    monkeypatch.setattr(brewery.Server, "occupants", lambda self, timeout=20: pytest.fail("no server is asked"))
    facts = facts_for(two, metrics=metrics(2, 2), cert_der=cert[0])
    facts.put("server-cert@" + AUTH2, cert[0])
    wanted = ["xmpp-config", "trust-store", "account-login", "brewery"]
    wanted += ["{}@{}".format(i, AUTH2) for i in ("trust-store", "account-login", "brewery")]
    by_id = {c.id: c for c in base.checks(two)}
    results = {r.id: r for r in run_checks([by_id[i] for i in wanted], facts)}
    assert {i: r.status for i, r in results.items()} == {i: "ok" for i in wanted}, \
        {i: r.detail for i, r in results.items()}
    assert "jvb-def@" + AUTH2 in results["account-login@" + AUTH2].detail
    assert MUC2 in results["brewery@" + AUTH2].detail


def test_in_one_brewery_of_two_the_other_server_is_named(two, cert, monkeypatch):
    monkeypatch.setattr(brewery.Server, "occupants",
                        lambda self, timeout=20: {NICK} if self.record["domain"] != AUTH2 else set())
    facts = facts_for(two, metrics=metrics(1, 2), cert_der=cert[0])
    facts.put("server-cert@" + AUTH2, cert[0])
    assert link.check_brewery(facts).status == "ok"
    result = servers.on_server(link.check_brewery, AUTH2)(facts)
    assert result.status == "fail" and MUC2 in result.detail and AUTH2 in result.detail


def test_a_further_servers_missing_certificate_fails_its_trust_check_only(two, monkeypatch):
    missing = two("/usr/local/share/ca-certificates/jvb-join-{}.crt".format(AUTH2))
    os.remove(missing)
    facts = facts_for(two)
    assert link.check_trust_store(facts).status == "ok"
    result = servers.on_server(link.check_trust_store, AUTH2)(facts)
    assert result.status == "fail" and missing in result.detail


def test_another_client_not_made_by_jvb_join_still_warns(two):
    with open(two.jvb_conf, "a") as handle:
        handle.write('videobridge.apis.xmpp-client.configs.extra { HOSTNAME = "x", USERNAME = "u", PASSWORD = "p", '
                     'MUC_JIDS = "m@x", MUC_NICKNAME = "n" }\n')
    result = base.check_xmpp_config(facts_for(two))
    assert result.status == "warn" and "extra" in result.detail and "jvb-join-auth" not in result.detail
