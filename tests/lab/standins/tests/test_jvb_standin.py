"""Unit tests of the jitsi-videobridge2 lab stand-in's pure logic: config precedence (§2.1), the
stats presence (§3.4), the log format (§4.1, §4.3) and the metrics text.

No root, no network. The HOCON tests run ruby-hocon (a Depends of the real package) and are
skipped where ruby-hocon is not installed.
"""

import datetime
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "..", "jitsi-videobridge2", "usr", "share", "jitsi-videobridge",
                       "standin")
sys.path.insert(0, STANDIN)

import jvbconfig  # noqa: E402


def _have_ruby_hocon():
    if not shutil.which("ruby"):
        return False
    return subprocess.run(["ruby", "-e", 'require "hocon"'], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


needs_hocon = pytest.mark.skipif(not _have_ruby_hocon(), reason="ruby-hocon is not installed")

POSTINST_CONF = """videobridge {
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.meet.lab.test"
            USERNAME=jvb
            PASSWORD="ab@#cd12"
            MUC_JIDS="jvbbrewery@internal.auth.meet.lab.test"
            MUC_NICKNAME=6a0c2d4e-1111-2222-3333-444455556666
        }
    }
}
ice4j {
    harvest {
        mapping {
            aws {
                enabled = false
            }
            stun {
                addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]
            }
        }
    }
}
"""

LEGACY_COMPLETE = """# written by the 2020 postinst
org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.old.example
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=oldsecret
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.old.example
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=old-nick
"""


def make_tree(tmp_path, jvb_conf=None, legacy=None):
    home = tmp_path / "etc"
    conf_dir = home / "videobridge"
    conf_dir.mkdir(parents=True)
    if jvb_conf is not None:
        (conf_dir / "jvb.conf").write_text(jvb_conf)
    if legacy is not None:
        (conf_dir / "sip-communicator.properties").write_text(legacy)
    return {
        "config.file": str(conf_dir / "jvb.conf"),
        "net.java.sip.communicator.SC_HOME_DIR_LOCATION": str(home),
        "net.java.sip.communicator.SC_HOME_DIR_NAME": "videobridge",
    }


# -- precedence and client keys (§2.1) ---------------------------------------------------------

@needs_hocon
def test_postinst_jvb_conf_gives_one_client_with_tls_ifpossible_on_localhost(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF))
    assert settings.client_source == "new"
    [client] = settings.clients
    assert client.id == "shard"
    assert client.hostname == "localhost"
    assert client.port == 5222
    assert client.domain == "auth.meet.lab.test"
    assert client.password == "ab@#cd12"
    assert client.muc_jids == ["jvbbrewery@internal.auth.meet.lab.test"]
    assert client.security_mode == "ifpossible"
    assert not client.disable_certificate_verification


@pytest.mark.parametrize("nickname", ["3e58291a-1a2b-4c3d-8e9f-012e456789ab",  # a double too big
                                      "12e45678-1a2b-4c3d-8e9f-0123456789ab",
                                      "12345678-1a2b-4c3d-8e9f-0123456789ab"])
@needs_hocon
def test_an_unquoted_uuid_nickname_is_read_as_text_whatever_its_digits(tmp_path, nickname):
    """uuidgen can write a last group that starts like a number out of a double's range; the
    Java library reads the whole value as text, so must the stand-in (it once exited 78 here)."""
    conf = POSTINST_CONF.replace("6a0c2d4e-1111-2222-3333-444455556666", nickname)
    [client] = jvbconfig.load_settings(make_tree(tmp_path, conf)).clients
    assert client.nickname == nickname


@needs_hocon
def test_reference_defaults_apply(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF))
    assert (settings.private_host, settings.private_port) == ("127.0.0.1", 8080)
    assert settings.udp_port == 10000
    assert settings.stats_interval == 5
    assert settings.presence_interval == 5
    assert settings.colibri_rest is False
    assert settings.rest["shutdown"] is False
    assert settings.rest["health"] and settings.rest["drain"] and settings.rest["prometheus"]
    assert settings.shutting_down_delay == 60
    assert settings.graceful_max == 24 * 3600


@needs_hocon
def test_complete_legacy_client_makes_jvb_conf_clients_ignored(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF, LEGACY_COMPLETE))
    assert settings.client_source == "legacy"
    assert [c.nickname for c in settings.clients] == ["old-nick"]
    assert settings.clients[0].domain == "auth.old.example"


@needs_hocon
def test_incomplete_legacy_client_is_dropped_and_jvb_conf_wins(tmp_path):
    legacy = "\n".join(l for l in LEGACY_COMPLETE.splitlines() if "PASSWORD" not in l)
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF, legacy))
    assert settings.client_source == "new"
    assert [c.nickname for c in settings.clients] == ["6a0c2d4e-1111-2222-3333-444455556666"]


@needs_hocon
def test_each_included_client_config_is_a_client_of_its_own(tmp_path):
    """A bridge that serves two servers: jvb.conf includes one file per server, and every entry of
    videobridge.apis.xmpp-client.configs is a client (XmppClientConnectionConfig), each with its
    own server, account and brewery; the package's "shard" is overridden by the first file."""
    tree = make_tree(tmp_path, POSTINST_CONF + 'include "jvb-join.conf"\ninclude "jvb-join-auth.meet2.lab.test.conf"\n')
    folder = os.path.dirname(tree["config.file"])
    with open(os.path.join(folder, "jvb-join.conf"), "w") as handle:
        handle.write('videobridge.apis.xmpp-client.configs.shard { HOSTNAME = "meet.lab.test", USERNAME = "jvb-a", '
                     'PASSWORD = "pa", MUC_NICKNAME = "jvb-x" }\n')
    with open(os.path.join(folder, "jvb-join-auth.meet2.lab.test.conf"), "w") as handle:
        handle.write('videobridge.apis.xmpp-client.configs.jvb-join-auth_meet2_lab_test { HOSTNAME = "meet2.lab.test", '
                     'DOMAIN = "auth.meet2.lab.test", USERNAME = "jvb-b", PASSWORD = "pb", '
                     'MUC_JIDS = "jvbbrewery@internal.auth.meet2.lab.test", MUC_NICKNAME = "jvb-x" }\n')
    clients = jvbconfig.load_settings(tree).clients
    assert [(c.id, c.hostname, c.domain, c.username, c.muc_jids) for c in clients] == [
        ("jvb-join-auth_meet2_lab_test", "meet2.lab.test", "auth.meet2.lab.test", "jvb-b",
         ["jvbbrewery@internal.auth.meet2.lab.test"]),
        ("shard", "meet.lab.test", "auth.meet.lab.test", "jvb-a", ["jvbbrewery@internal.auth.meet.lab.test"])]


@needs_hocon
def test_lowercase_keys_and_domain_defaults_to_hostname(tmp_path):
    conf = """videobridge.apis.xmpp-client.configs.a {
        hostname = "xmpp.example.test", port = 5223, username = jvb, password = pw
        muc_jids = "b1@internal.auth.example.test, b2@internal.auth.example.test"
        muc_nickname = n1, disable_certificate_verification = true }
    videobridge.apis.xmpp-client.configs.incomplete { HOSTNAME = x }"""
    settings = jvbconfig.load_settings(make_tree(tmp_path, conf))
    [client] = settings.clients
    assert client.domain == "xmpp.example.test"
    assert client.port == 5223
    assert client.muc_jids == ["b1@internal.auth.example.test", "b2@internal.auth.example.test"]
    assert client.disable_certificate_verification
    assert client.security_mode == "required"


@needs_hocon
def test_relative_include_resolves_against_including_folder(tmp_path):
    params = make_tree(tmp_path, 'include "extra/more.conf"\n')
    extra = tmp_path / "etc" / "videobridge" / "extra"
    extra.mkdir()
    (extra / "more.conf").write_text("videobridge.http-servers.private.host = 0.0.0.0\n"
                                     "videobridge.stats.interval = 2 seconds\n")
    cwd = os.getcwd()
    try:
        os.chdir(str(tmp_path))
        settings = jvbconfig.load_settings(params)
    finally:
        os.chdir(cwd)
    assert settings.private_host == "0.0.0.0"
    assert settings.presence_interval == 2  # substitution of stats.interval in reference.conf


@needs_hocon
def test_unparsable_jvb_conf_is_a_config_error(tmp_path):
    with pytest.raises(jvbconfig.ConfigError):
        jvbconfig.load_settings(make_tree(tmp_path, "videobridge { apis = \n"))
    assert jvbconfig.CONFIG_ERROR_EXIT == 78


@needs_hocon
def test_missing_jvb_conf_means_reference_only(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path))
    assert settings.clients == []
    assert settings.private_port == 8080


@needs_hocon
def test_legacy_rest_keys(tmp_path):
    legacy = ("org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true\n"
              "org.jitsi.videobridge.ENABLE_REST_COLIBRI=false\n")
    conf = "videobridge.apis.rest.enabled = true\n"
    settings = jvbconfig.load_settings(make_tree(tmp_path, conf, legacy))
    assert settings.rest["shutdown"] is True
    assert settings.colibri_rest is False  # the legacy flag can only veto


@needs_hocon
def test_static_mappings_new_keys_after_the_legacy_pair(tmp_path):
    legacy = ("org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS=10.0.0.5\n"
              "org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS=198.51.100.9\n")
    conf = POSTINST_CONF + ('ice4j.harvest.mapping.static-mappings = [\n'
                            '  { local-address = "10.0.0.5", public-address = "203.0.113.7" }\n]\n')
    settings = jvbconfig.load_settings(make_tree(tmp_path, conf, legacy))
    assert [(m["localAddress"], m["publicAddress"]) for m in settings.static_mappings] == [
        ("10.0.0.5", "198.51.100.9"), ("10.0.0.5", "203.0.113.7")]
    assert jvbconfig.mapping_text(settings.static_mappings[1]) == (
        "StaticMapping(localAddress=10.0.0.5, publicAddress=203.0.113.7, localPort=null, "
        "publicPort=null, name=null)")


@needs_hocon
def test_static_mappings_absent_by_default_and_half_a_port_pair_is_a_config_error(tmp_path):
    assert jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF)).static_mappings == []
    only_legacy_local = "org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS=10.0.0.5\n"
    other = tmp_path / "other"
    other.mkdir()
    assert jvbconfig.load_settings(make_tree(other, POSTINST_CONF, only_legacy_local)).static_mappings == []
    bad = tmp_path / "bad"
    bad.mkdir()
    conf = ('ice4j.harvest.mapping.static-mappings = [ { local-address = "10.0.0.5", '
            'public-address = "203.0.113.7", local-port = 10000 } ]\n')
    with pytest.raises(jvbconfig.ConfigError):
        jvbconfig.load_settings(make_tree(bad, conf))


def test_security_mode_explicit_wins():
    client = jvbconfig.ClientConfig("x", {"HOSTNAME": "127.0.0.1", "SECURITY_MODE": "REQUIRED"})
    assert client.security_mode == "required"
    for host in ("localhost", "127.0.0.1", "::1"):
        assert jvbconfig.ClientConfig("x", {"HOSTNAME": host}).security_mode == "ifpossible"
    assert jvbconfig.ClientConfig("x", {"HOSTNAME": "10.0.0.1"}).security_mode == "required"


def test_properties_parser():
    props = jvbconfig.parse_properties(
        "# c\n! c\nkey.a = 1\nkey.b:two\nkey.c=x\\\n  y\nkey.d=p@ss#word\n")
    assert props == {"key.a": "1", "key.b": "two", "key.c": "xy", "key.d": "p@ss#word"}


def test_sys_props():
    props = jvbconfig.parse_sys_props(["-Dconfig.file=/a/b.conf", "-Dx=y=z", "other"])
    assert props == {"config.file": "/a/b.conf", "x": "y=z"}


def test_durations():
    assert jvbconfig.parse_duration("5 seconds") == 5
    assert jvbconfig.parse_duration("1 minutes") == 60
    assert jvbconfig.parse_duration("24 hours") == 86400
    assert jvbconfig.parse_duration(1500) == 1.5
    assert jvbconfig.parse_duration("250ms") == 0.25
    with pytest.raises(jvbconfig.ConfigError):
        jvbconfig.parse_duration("5 fortnights")


def test_describe_has_no_password():
    client = jvbconfig.ClientConfig("shard", {"HOSTNAME": "localhost", "PASSWORD": "s3cret",
                                              "MUC_JIDS": "a@b", "USERNAME": "jvb",
                                              "MUC_NICKNAME": "n"})
    text = client.describe()
    assert "s3cret" not in text
    assert text.startswith("[ org.jitsi.xmpp.mucclient.MucClientConfiguration id=shard ")
    assert "port=null" in text and "mucs=[a@b]" in text


# -- stats presence (§3.4) ----------------------------------------------------------------------

def test_stats_stanza_has_the_keys_jicofo_reads():
    state = {"participants": 4, "conferences": 1, "drain": True, "graceful_shutdown": False,
             "shutting_down": False, "healthy": True, "mucs_configured": 1, "mucs_joined": 1,
             "muc_clients_configured": 1, "muc_clients_connected": 1}
    when = datetime.datetime(2026, 8, 20, 12, 0, 0, 123000)
    root = ET.fromstring(jvbconfig.stats_xml(state, when))
    assert root.tag == "{http://jitsi.org/protocol/colibri}stats"
    stats = dict((s.get("name"), s.get("value")) for s in root)
    assert all(s.tag == "{http://jitsi.org/protocol/colibri}stat" for s in root)
    for key in ("stress_level", "average_participant_stress", "graceful_shutdown", "shutting_down",
                "drain", "version", "healthy"):
        assert key in stats
    assert stats["version"] == "2.3.312-ga29d97d13"
    assert stats["drain"] == "true"
    assert stats["graceful_shutdown"] == "false"
    assert stats["participants"] == stats["endpoints"] == "4"
    assert stats["current_timestamp"] == "2026-08-20 12:00:00.123"
    assert stats["mucs_joined"] == "1"
    float(stats["stress_level"])


def test_stats_json_types():
    data = jvbconfig.stats_json({"participants": 2, "conferences": 1})
    assert data["participants"] == 2 and data["octo_endpoints"] == 0
    assert data["healthy"] is True and data["version"] == "2.3.312-ga29d97d13"


def test_metrics_text():
    text = jvbconfig.metrics_text({"mucs_joined": 1, "mucs_configured": 1, "conferences": 2,
                                   "participants": 5, "drain": True})
    lines = dict(l.split(" ", 1) for l in text.splitlines() if not l.startswith("#"))
    assert lines["jitsi_jvb_mucs_joined"] == "1.0"
    assert lines["jitsi_jvb_mucs_configured"] == "1.0"
    assert lines["jitsi_jvb_conferences"] == "2.0"
    assert lines["jitsi_jvb_participants"] == "5.0"
    assert lines["jitsi_jvb_drain"] == "1.0"
    assert "# TYPE jitsi_jvb_conferences gauge" in text


# -- log format (§4.1, §4.3) -------------------------------------------------------------------

def test_log_line_format():
    when = datetime.datetime(2026, 8, 20, 12, 0, 1, 42000)
    line = jvbconfig.format_log_line("JVB", when, "INFO", 30,
                                     (("hostname", "localhost"), ("id", "shard")),
                                     "MucClient$MucWrapper.join#776",
                                     "Joined MUC: jvbbrewery@internal.auth.meet.lab.test")
    assert line == ("JVB 2026-08-20 12:00:01.042 INFO: [30] [hostname=localhost id=shard] "
                    "MucClient$MucWrapper.join#776: Joined MUC: "
                    "jvbbrewery@internal.auth.meet.lab.test")


def test_program_name_from_logging_properties(tmp_path):
    current = tmp_path / "new.properties"
    current.write_text("org.jitsi.utils.logging2.JitsiLogFormatter.programname=JVB\n")
    old = tmp_path / "old.properties"  # 2019-09..2021-01 conffile: no prefix
    old.write_text("net.java.sip.communicator.util.ScLogFormatter.programname=JVB\n")
    assert jvbconfig.program_name(str(current)) == "JVB"
    assert jvbconfig.program_name(str(old)) == ""
    line = jvbconfig.format_log_line("", datetime.datetime(2026, 1, 2, 3, 4, 5), "INFO", 1, None,
                                     "MainKt.main#1", "x")
    assert line == "2026-01-02 03:04:05.000 INFO: [1] MainKt.main#1: x"


def test_shipped_logging_properties_names_jvb():
    path = os.path.join(HERE, "..", "jitsi-videobridge2", "etc", "jitsi", "videobridge",
                        "logging.properties")
    assert jvbconfig.program_name(path) == "JVB"


# -- colibri websockets (§2.1 WebsocketServiceConfig, §2.4 per-bridge routing) ----------------------

PACKAGE_2025_WEBSOCKETS = """videobridge {
    http-servers { public { port = 9090 } }
    websockets { enabled = true, domain = "meet.lab.test:443", tls = true }
}
"""


@needs_hocon
def test_websockets_off_and_no_public_server_by_default(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF))
    assert settings.public_port == -1
    assert settings.websockets["enabled"] is False and settings.websockets["server_id"] is None
    assert jvbconfig.websocket_answer(settings.websockets, "/colibri-ws/default-id/c/e", True)[0] == 404


@needs_hocon
def test_the_2025_package_block_gives_default_id_and_a_later_server_id_wins(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, PACKAGE_2025_WEBSOCKETS))
    ws = settings.websockets
    assert settings.public_port == 9090 and ws["server_id"] == "default-id"
    assert jvbconfig.websocket_base_urls(ws) == ["wss://meet.lab.test:443/colibri-ws/default-id"]
    conf = PACKAGE_2025_WEBSOCKETS + ('videobridge.websockets { server-id = "bridge2", '
                                      'domains = ["meet.lab.test:443"] }\n')
    ws = jvbconfig.load_settings(make_tree(tmp_path / "b", conf)).websockets
    # the legacy single domain is not repeated when domains has it
    assert jvbconfig.websocket_base_urls(ws) == ["wss://meet.lab.test:443/colibri-ws/bridge2"]


@needs_hocon
def test_legacy_websocket_properties_come_first(tmp_path):
    legacy = ("org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=old-id\n"
              "org.jitsi.videobridge.rest.COLIBRI_WS_DOMAIN=old.example:443\n"
              "org.jitsi.videobridge.rest.jetty.port=9091\n")
    conf = PACKAGE_2025_WEBSOCKETS + 'videobridge.websockets { server-id = "bridge2", domains = ["x:443"] }\n'
    settings = jvbconfig.load_settings(make_tree(tmp_path, conf, legacy))
    assert settings.public_port == 9091
    assert settings.websockets["server_id"] == "old-id"
    assert settings.websockets["domains"] == ["old.example:443", "x:443"]
    off = jvbconfig.load_settings(make_tree(tmp_path / "b", conf, "org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=true\n"))
    assert off.websockets["enabled"] is False


def test_the_servlet_answers_as_the_real_one():
    ws = {"enabled": True, "server_id": "bridge2", "domains": ["m:443"], "tls": True}
    answer = jvbconfig.websocket_answer
    assert answer(ws, "/colibri-ws/bridge2/conf1/ep1", False)[:2] == (405, "HTTP method GET is not supported by this URL")
    status, message, logged = answer(ws, "/colibri-ws/bridge2/conf1/ep1", True)
    assert (status, message) == (403, "authentication failed") and "nonexistent conference: conf1" in logged
    status, message, logged = answer(ws, "/colibri-ws/other/conf1/ep1", True)
    assert (status, message) == (404, "server ID mismatch") and "expected 'bridge2', received 'other'" in logged
    assert answer(ws, "/colibri-ws/bridge2/conf1", True)[:2] == (404, "invalid path")
    assert answer(ws, "/about/health", True)[0] == 404
    page = jvbconfig.jetty_error_page(403, "authentication failed", "/colibri-ws/<x>")
    assert "HTTP ERROR 403 authentication failed" in page and "&lt;x&gt;" in page


# -- relays (RelayConfig, VideobridgeStatisticsShim) -------------------------------------------

@needs_hocon
def test_relays_off_by_default_and_no_region_or_relay_id_in_the_stats(tmp_path):
    settings = jvbconfig.load_settings(make_tree(tmp_path, POSTINST_CONF))
    assert settings.relay == {"enabled": False, "region": None, "relay_id": None}
    stats = dict(jvbconfig.stats_dict({}))
    assert "region" not in stats and "relay_id" not in stats


@needs_hocon
def test_the_older_octo_keys_and_the_legacy_region_are_read_first(tmp_path):
    conf = POSTINST_CONF + 'videobridge.relay { enabled = true, region = "eu", relay-id = "a" }\n'
    assert jvbconfig.load_settings(make_tree(tmp_path, conf)).relay == {
        "enabled": True, "region": "eu", "relay_id": "a"}
    octo = conf + 'videobridge.octo { enabled = false, region = "old", relay-id = "old-id" }\n'
    assert jvbconfig.load_settings(make_tree(tmp_path / "b", octo)).relay == {
        "enabled": False, "region": "old", "relay_id": "old-id"}
    legacy = jvbconfig.load_settings(make_tree(tmp_path / "c", conf, "org.jitsi.videobridge.REGION=us\n"))
    assert legacy.relay["region"] == "us"
    bind = POSTINST_CONF + 'videobridge.relay.enabled = true\nvideobridge.octo.bind-address = "10.0.0.5"\n'
    assert jvbconfig.load_settings(make_tree(tmp_path / "d", bind)).relay["relay_id"] == "10.0.0.5"
    with pytest.raises(jvbconfig.ConfigError):
        jvbconfig.load_settings(make_tree(tmp_path / "e", POSTINST_CONF + "videobridge.relay.enabled = true\n"))


def test_stats_carry_the_relay_id_while_enabled_and_the_region_whenever_set():
    stats = dict(jvbconfig.stats_dict({"region": "eu", "relay_id": "jvb-1"}))
    assert stats["region"] == "eu" and stats["relay_id"] == "jvb-1"
    stats = dict(jvbconfig.stats_dict({"region": "eu", "relay_id": None}))
    assert stats["region"] == "eu" and "relay_id" not in stats
