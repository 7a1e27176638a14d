"""The fragment beyond the XMPP client: the private REST API held on loopback, and a bridge behind
NAT (--advertise-ip, --stun-server) written as the bridge reads it; NAT off unless asked, and a
second run changes nothing."""

import os
import shutil
import subprocess
import sys

import pytest

from jvbjoin.cli import main as cli
from jvbjoin.bridge import nat
from jvbjoin.engine.core import Journal
from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.bridge.steps import config as bridge_config
from jvbjoin.bridge.steps.config import INCLUDE_LINE, BridgeFragment

from helpers import PACKAGE_JVB_CONF, config_ctx, read, write

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab", "standins",
                       "jitsi-videobridge2", "usr", "share", "jitsi-videobridge", "standin")


def joined(paths, **kwargs):
    ctx = config_ctx(paths, **kwargs)
    write(paths.machine_id, "m1\n")
    os.makedirs(paths.jvb_dir, exist_ok=True)
    if not os.path.exists(paths.jvb_conf):
        write(paths.jvb_conf, PACKAGE_JVB_CONF)
    for step in bridge_config.steps(ctx):
        changes = step.check(ctx)
        if changes:
            step.apply(ctx, changes, Journal())
    return ctx


def test_by_default_no_nat_keys_and_the_rest_api_on_loopback(paths):
    joined(paths)
    text = read(paths.jvb_fragment)
    for key in ("static-mappings", "stun.addresses"):
        assert key not in text
    assert 'videobridge.http-servers.private.host = "127.0.0.1"' in text


def test_nat_then_a_rerun_changes_nothing_and_dropping_it_rewrites(paths):
    joined(paths, advertise_ip="203.0.113.7", local_ip="10.0.0.5", stun_servers=["stun.example.org:3478"])
    text = read(paths.jvb_fragment)
    assert '{ local-address = "10.0.0.5", public-address = "203.0.113.7" }' in text
    assert 'ice4j.harvest.mapping.stun.addresses = ["stun.example.org:3478"]' in text
    again = config_ctx(paths, advertise_ip="203.0.113.7", local_ip="10.0.0.5", stun_servers=["stun.example.org:3478"])
    assert BridgeFragment().check(again) == []
    # A later join without the options turns them off again: the fragment says what was asked.
    assert BridgeFragment().check(config_ctx(paths))
    joined(paths)
    assert "static-mappings" not in read(paths.jvb_fragment)


def test_stun_none_is_an_empty_list(paths):
    joined(paths, stun_servers=[])
    assert "ice4j.harvest.mapping.stun.addresses = []" in read(paths.jvb_fragment)


@pytest.mark.real_programs
def test_the_bridge_reads_what_jvb_join_writes(paths, tmp_path):
    """The lab bridge's config reader (ruby-hocon, the real package's dependency) over jvb.conf with
    jvb-join's include: REST on, loopback, the mapping, and the package's STUN list replaced."""
    if shutil.which("ruby") is None or subprocess.run(["ruby", "-e", 'require "hocon"'],
                                                      stderr=subprocess.DEVNULL).returncode:
        pytest.skip("ruby-hocon is not installed")
    joined(paths, advertise_ip="203.0.113.7", local_ip="10.0.0.5", stun_servers=["stun.example.org:3478"])
    sys.path.insert(0, STANDIN)
    try:
        import jvbconfig
    finally:
        sys.path.remove(STANDIN)
    settings = jvbconfig.load_settings({"config.file": paths.jvb_conf})
    assert settings.colibri_rest is True
    assert settings.private_host == "127.0.0.1"
    assert [(m["localAddress"], m["publicAddress"]) for m in settings.static_mappings] == [
        ("10.0.0.5", "203.0.113.7")]
    stun = jvbconfig.get_path(settings.conf, "ice4j.harvest.mapping.stun.addresses")
    assert stun == ["stun.example.org:3478"]
    assert read(paths.jvb_conf).endswith(INCLUDE_LINE + "\n")


def test_a_legacy_stun_list_that_wins_is_reported_as_degraded(paths):
    write(paths.jvb_legacy_properties,
          "org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES=meet-jit-si-turnrelay.jitsi.net:443\n")
    ctx = joined(paths, stun_servers=["stun.example.org:3478"])
    assert len(ctx.degraded) == 1 and "STUN_MAPPING_HARVESTER_ADDRESSES" in ctx.degraded[0]
    assert joined(paths).degraded == []  # nothing asked, nothing to say


@pytest.mark.parametrize("value", ["203.0.113.7 ", "2001:db8::7"])
def test_advertise_ip_accepts_addresses(value):
    assert nat.advertise_ip(value) == value.strip()


@pytest.mark.parametrize("value", ["meet.example.com", "127.0.0.1", "0.0.0.0", "::1", "fe80::1",
                                   '1.2.3.4" }\nvideobridge.apis.rest.enabled = true #', ""])
def test_advertise_ip_refuses_what_cannot_carry_media(value):
    with pytest.raises(UsageError):
        nat.advertise_ip(value)


def test_stun_servers():
    assert nat.stun_servers(()) is None
    assert nat.stun_servers(["none"]) == []
    assert nat.stun_servers(["a.example:3478", "192.0.2.1:443", "a.example:3478"]) == [
        "a.example:3478", "192.0.2.1:443"]
    for bad in ["a.example", "a.example:0", "a.example:70000", "[2001:db8::1]:3478", 'x"]:1']:
        with pytest.raises(UsageError):
            nat.stun_servers([bad])


def test_local_address_must_be_this_hosts():
    assert nat.local_address("127.0.0.1", "ignored", 5222) == "127.0.0.1"
    assert nat.local_address(None, "127.0.0.1", 5222) == "127.0.0.1"
    with pytest.raises(JvbJoinError) as err:
        nat.local_address("192.0.2.55", "ignored", 5222)
    assert "--local-ip" in err.value.remedy
    with pytest.raises(UsageError):
        nat.local_address("not-an-address", "ignored", 5222)


def test_cli_checks_the_nat_options_before_reading_a_token(capsys):
    assert cli.main(["join", "--local-ip", "10.0.0.5", "--token-file", "/nonexistent"]) == 64
    assert cli.main(["join", "--advertise-ip", "meet.example.com", "--token-file", "/nonexistent"]) == 64
    assert "--advertise-ip" in capsys.readouterr().err
