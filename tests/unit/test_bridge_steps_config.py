"""The bridge's config writers: values cannot inject syntax, the admin's bytes are kept, and a
second run changes nothing."""

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from jvbjoin.formats import hocon
from jvbjoin.engine.core import Journal
from jvbjoin.errors import InputError, StepError
from jvbjoin.bridge.steps import config as bridge_config
from jvbjoin.bridge import model as nickname
from jvbjoin.bridge.steps.config import (
    INCLUDE_LINE, LEGACY_MARKER, BridgeFragment, JvbConfInclude, LegacyClient)

from helpers import PACKAGE_JVB_CONF, config_ctx, make_token, read, run_step, write

try:
    import pyhocon
except ImportError:  # not packaged for every Debian release: the JSON check below still runs
    pyhocon = None


LEGACY_COMPLETE = """org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.meet.example.com
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=abc#@
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.meet.example.com
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=0a1b
"""


def parse_hocon(text):
    return pyhocon.ConfigFactory.parse_string(text)


# --- quoting ---------------------------------------------------------------------------------

@settings(max_examples=300)
@given(st.text())
def test_quote_roundtrips_or_refuses(value):
    try:
        quoted = hocon.quote(value)
    except InputError:
        assert any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or 0xd800 <= ord(c) <= 0xdfff or c in "\u2028\u2029"
                   for c in value)
        return
    assert json.loads(quoted) == value
    assert "\n" not in quoted
    if pyhocon is not None:
        assert parse_hocon("a = " + quoted)["a"] == value


def shard_of(path):
    """The merged ``shard`` block as a reader sees it: pyhocon if installed, else ruby-hocon."""
    if pyhocon is not None:
        conf = pyhocon.ConfigFactory.parse_file(path)
        return dict(conf["videobridge"]["apis"]["xmpp-client"]["configs"]["shard"])
    return hocon_cli_get(path, "videobridge.apis.xmpp-client.configs.shard")


@pytest.mark.real_programs
@pytest.mark.parametrize("value", ['a"b', "back\\slash", "${x}", 'include "evil.conf"', "p}w{d",
                                   "#not-a-comment", "// nor this", "ünïcødé €", "  spaces  ", "a\u00a0b"])
def test_fragment_values_come_back_exactly(tmp_path, value):
    text = bridge_config.render_fragment(make_token(), value, "jvb-host-" + "0" * 8)
    path = tmp_path / "jvb-join.conf"
    path.write_text(text, encoding="utf-8")
    shard = shard_of(str(path))
    assert shard["PASSWORD"] == value
    assert shard["HOSTNAME"] == "meet.example.com"
    assert shard["PORT"] == 5222
    assert shard["DISABLE_CERTIFICATE_VERIFICATION"] is False
    assert set(shard) == {"HOSTNAME", "PORT", "DOMAIN", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME",
                          "DISABLE_CERTIFICATE_VERIFICATION"}


def test_newline_in_value_is_refused():
    with pytest.raises(InputError):
        bridge_config.render_fragment(make_token(), "a\nb", "n")


@pytest.mark.real_programs
def test_fragment_overrides_package_block(paths, tmp_path):
    ctx = config_ctx(paths)
    write(paths.machine_id, "m1\n")
    write(paths.jvb_conf, PACKAGE_JVB_CONF)
    for step in bridge_config.steps(ctx):
        run_step(step, ctx)
    # An include merges the included file's keys at its place: inline it, for readers that
    # do not follow includes (the hocon command edits documents).
    merged = read(paths.jvb_conf).replace(INCLUDE_LINE, read(paths.jvb_fragment))
    path = tmp_path / "merged.conf"
    path.write_text(merged, encoding="utf-8")
    shard = shard_of(str(path))
    assert shard["HOSTNAME"] == "meet.example.com"
    assert shard["PASSWORD"] == "p4ss"
    assert shard["DISABLE_CERTIFICATE_VERIFICATION"] is False
    if pyhocon is not None:  # and the include itself, followed by a reader that resolves it
        assert shard_of(paths.jvb_conf)["PASSWORD"] == "p4ss"


# --- the fragment file -----------------------------------------------------------------------

def test_fragment_mode_and_idempotence(paths):
    ctx = config_ctx(paths)
    write(paths.machine_id, "m1\n")
    os.makedirs(paths.jvb_dir)
    assert run_step(BridgeFragment(), ctx)
    st_ = os.stat(paths.jvb_fragment)
    assert stat.S_IMODE(st_.st_mode) == 0o640
    assert "p4ss" not in (BridgeFragment().check(config_ctx(paths, "other"))[0].diff or "")
    assert BridgeFragment().check(config_ctx(paths)) == []


def test_fragment_plan_shows_every_value_but_the_password(paths):
    """The plan's diff of the fragment is the file the join writes, with the password hidden and
    a nickname not made yet shown as its pattern; once the nickname exists it is shown as it is."""
    write(paths.machine_id, "m1\n")
    os.makedirs(paths.jvb_dir)
    ctx = config_ctx(paths, "hunter2-pass")
    diff = BridgeFragment().check(ctx)[0].diff
    assert "hunter2-pass" not in diff
    assert '+  PASSWORD = "(hidden: made on this host at the join, never shown)"\n' in diff
    proposed = nickname.bridge_nickname(ctx)
    assert proposed not in diff
    assert '+  MUC_NICKNAME = "{}<8 random hex digits, made at the join>"\n'.format(proposed[:-8]) in diff
    assert '+  MUC_JIDS = "jvbbrewery@internal.auth.meet.example.com"\n' in diff
    run_step(BridgeFragment(), ctx)
    stored = nickname.bridge_nickname(config_ctx(paths))
    assert BridgeFragment().check(config_ctx(paths, "next-pass"))[0].diff.endswith(
        "(only values that are not shown change)\n")
    ctx = config_ctx(paths, "next-pass")
    ctx.run.token = make_token(muc="jvbbrewery@internal.auth.meet2.example.com")
    diff = BridgeFragment().check(ctx)[0].diff
    assert "hunter2-pass" not in diff and "next-pass" not in diff
    assert '+  MUC_JIDS = "jvbbrewery@internal.auth.meet2.example.com"\n' in diff
    assert ' MUC_NICKNAME = "{}"\n'.format(stored) in diff


def test_fragment_missing_folder_dry_run_then_apply_refuses(paths):
    ctx = config_ctx(paths)
    changes = BridgeFragment().check(ctx)
    assert "after jitsi-videobridge2 is installed" in changes[0].summary
    with pytest.raises(StepError):
        BridgeFragment().apply(ctx, changes, Journal())


# --- the include line ------------------------------------------------------------------------

def test_include_missing_jvb_conf_is_planned_honestly(paths):
    ctx = config_ctx(paths)
    changes = JvbConfInclude().check(ctx)
    assert changes[0].summary == ("add include line to jvb.conf (after jitsi-videobridge2 creates {})"
                                  .format(paths.jvb_conf))
    with pytest.raises(StepError):
        JvbConfInclude().apply(ctx, changes, Journal())


def test_include_added_once_at_end(paths):
    write(paths.jvb_conf, "videobridge {\n}")
    ctx = config_ctx(paths)
    run_step(JvbConfInclude(), ctx)
    assert read(paths.jvb_conf) == "videobridge {\n}\n" + INCLUDE_LINE + "\n"
    assert JvbConfInclude().check(ctx) == []


def test_existing_include_anywhere_is_kept(paths):
    text = 'include "jvb-join.conf"\nvideobridge {\n}\n'
    write(paths.jvb_conf, text)
    assert JvbConfInclude().check(config_ctx(paths)) == []


hocon_line = st.one_of(
    st.sampled_from(["videobridge {", "}", "  # a comment", "// another", "", "   ",
                     "ice4j.harvest.mapping.aws.enabled = false", 'x = "y"  # tail', "unknown { a : 1 }",
                     "\tweird   =    spacing", "include \"other.conf\"", "a.b.c=[1,2,3]"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
            max_size=40))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(hocon_line, max_size=15), final_newline=st.booleans())
def test_include_keeps_every_byte(paths, lines, final_newline):
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    write(paths.jvb_conf, text)
    ctx = config_ctx(paths)
    run_step(JvbConfInclude(), ctx)
    after = read(paths.jvb_conf)
    if bridge_config.has_include(text):
        assert after == text
    else:
        assert after.startswith(text)
        assert after[len(text):] in (INCLUDE_LINE + "\n", "\n" + INCLUDE_LINE + "\n")
    assert JvbConfInclude().check(ctx) == []


# --- legacy sip-communicator.properties ---------------------------------------------------------

def test_complete_legacy_block_is_commented_out_and_restorable(paths):
    write(paths.jvb_legacy_properties, LEGACY_COMPLETE)
    ctx = config_ctx(paths)
    run_step(LegacyClient(), ctx)
    after = read(paths.jvb_legacy_properties)
    lines = after.splitlines()
    assert lines[0] == "org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true"
    assert all(l.startswith(LEGACY_MARKER) for l in lines if "xmpp.user." in l)
    assert bridge_config.restore_legacy(after) == LEGACY_COMPLETE
    assert LegacyClient().check(ctx) == []


def test_incomplete_legacy_block_is_left_and_reported(paths):
    text = "org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost\nfoo=bar\n"
    write(paths.jvb_legacy_properties, text)
    ctx = config_ctx(paths)
    assert LegacyClient().check(ctx) == []
    assert read(paths.jvb_legacy_properties) == text
    assert "incomplete legacy client settings (shard)" in ctx.degraded[0]


def test_lower_case_keys_count(paths):
    text = "".join("org.jitsi.videobridge.xmpp.user.b2.{}=v\n".format(k.lower())
                   for k in bridge_config.LEGACY_REQUIRED)
    assert bridge_config.complete_clients(bridge_config.legacy_clients(text)) == ["b2"]


def test_no_legacy_file_no_change(paths):
    assert LegacyClient().check(config_ctx(paths)) == []


legacy_key = st.sampled_from(bridge_config.LEGACY_REQUIRED + ("DOMAIN", "DISABLE_CERTIFICATE_VERIFICATION"))
props_line = st.one_of(
    st.builds(lambda cid, k, v, sep: "org.jitsi.videobridge.xmpp.user.{}.{}{}{}".format(cid, k, sep, v),
              st.sampled_from(["shard", "shard2", "b"]), legacy_key,
              st.text(alphabet="abc@#=:\\ ", max_size=8), st.sampled_from(["=", " = ", ": ", " "])),
    st.sampled_from(["# comment", "! bang comment", "", "org.jitsi.videobridge.ENABLE_STATISTICS=true",
                     "custom.key = value \\", "  continued", "org.ice4j.x=1"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(props_line, max_size=20), final_newline=st.booleans())
def test_legacy_writer_keeps_every_line(paths, lines, final_newline):
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    write(paths.jvb_legacy_properties, text)
    ctx = config_ctx(paths)
    complete = bridge_config.complete_clients(bridge_config.legacy_clients(text))
    run_step(LegacyClient(), ctx)
    after = read(paths.jvb_legacy_properties)
    if not complete:
        assert after == text
    else:
        assert bridge_config.restore_legacy(after) == text
        assert bridge_config.legacy_clients(after) == {}
        for before_line, after_line in zip(text.splitlines(), after.splitlines()):
            assert after_line in (before_line, LEGACY_MARKER + before_line)
    assert LegacyClient().check(ctx) == []


# --- nickname ---------------------------------------------------------------------------------

def test_nickname_stable_and_new_on_clone(paths):
    write(paths.machine_id, "aaaa\n")
    ctx = config_ctx(paths)
    first = nickname.bridge_nickname(ctx, create=True)
    assert first.startswith("jvb-") and len(first.rsplit("-", 1)[1]) == 8
    assert nickname.bridge_nickname(config_ctx(paths)) == first
    assert nickname.bridge_nickname(config_ctx(paths), create=True) == first
    write(paths.machine_id, "bbbb\n")
    cloned = nickname.bridge_nickname(config_ctx(paths), create=True)
    assert cloned != first
    assert nickname.bridge_nickname(config_ctx(paths)) == cloned


def test_nickname_dry_run_does_not_write(paths):
    ctx = config_ctx(paths)
    proposed = nickname.bridge_nickname(ctx)
    assert not os.path.exists(paths.nickname_file)
    assert nickname.bridge_nickname(ctx) == proposed


def test_fragment_uses_stored_nickname(paths):
    write(paths.machine_id, "m\n")
    os.makedirs(paths.jvb_dir)
    ctx = config_ctx(paths)
    run_step(BridgeFragment(), ctx)
    stored = json.loads(read(paths.nickname_file))["nickname"]
    assert 'MUC_NICKNAME = "{}"'.format(stored) in read(paths.jvb_fragment)


@pytest.mark.parametrize("value", ["tab\there", "bell\x07", "del\x7f"])
def test_control_characters_are_refused(value):
    with pytest.raises(InputError):
        hocon.quote(value)


# --- the real consumer's reading: ruby-hocon, the library jitsi's own postinst scripts use ------

def hocon_cli_get(path, key):
    import shutil
    import subprocess
    if shutil.which("hocon") is None:
        pytest.skip("the hocon command (ruby-hocon) is not installed")
    out = subprocess.run(["hocon", "-i", path, "-j", "get", key], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=30, check=True)
    return json.loads(out.stdout)


@pytest.mark.real_programs
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.sampled_from(['a"b', "back\\slash", "${x}", 'include "evil.conf"', "}{", "#", "ü€"]),
                       st.text(min_size=1, max_size=30)))
def test_fragment_read_by_ruby_hocon(tmp_path, value):
    try:
        text = bridge_config.render_fragment(make_token(), value, "jvb-h-00000000")
    except InputError:
        return
    path = tmp_path / "jvb-join.conf"
    path.write_text(text, encoding="utf-8")
    shard = hocon_cli_get(str(path), "videobridge.apis.xmpp-client.configs.shard")
    assert shard["PASSWORD"] == value
    assert shard["DISABLE_CERTIFICATE_VERIFICATION"] is False
    assert len(shard) == 8


def test_remove_include_gives_back_the_original():
    for text in ("videobridge {\n}\n", "a = 1", "", "x\n\n"):
        after = bridge_config.add_include(text)
        restored = bridge_config.remove_include(after)
        assert restored == (text if text.endswith("\n") or not text else text + "\n")


def test_whole_sequence_through_the_engine(paths):
    from jvbjoin.engine.core import Engine
    write(paths.machine_id, "m\n")
    write(paths.jvb_conf, PACKAGE_JVB_CONF)
    write(paths.jvb_legacy_properties, LEGACY_COMPLETE)
    ctx = config_ctx(paths)
    report = Engine(bridge_config.steps(ctx), ctx).run("join")
    assert len(report.changed) == 3
    assert "bridge" in ctx.changed
    again = config_ctx(paths)
    assert all(not changes for _, changes in Engine(bridge_config.steps(again), again).plan())


# --- relays (token create --region) ------------------------------------------------------------

def relay_ctx(paths, region="eu"):
    ctx = config_ctx(paths)
    ctx.run.token = make_token(region=region)
    return ctx


def relay_values(conf_path):
    """What the bridge reads for its relay settings (RelayConfig): each key from the older
    videobridge.octo first, then videobridge.relay."""
    tree = hocon_cli_get(conf_path, "videobridge")
    octo, relay = tree.get("octo", {}), tree.get("relay", {})
    return {key: octo.get(key, relay.get(key)) for key in ("enabled", "region", "relay-id")}


@pytest.mark.real_programs
def test_region_gives_the_relay_block_and_an_old_octo_setting_does_not_win(paths, tmp_path):
    ctx = relay_ctx(paths)
    write(paths.machine_id, "m1\n")
    write(paths.jvb_conf, PACKAGE_JVB_CONF + 'videobridge.octo { enabled = false, region = "old", '
                          'relay-id = "old-id", bind-address = "10.0.0.1" }\n')
    for step in bridge_config.steps(ctx):
        run_step(step, ctx)
    nick = nickname.bridge_nickname(config_ctx(paths))
    merged = read(paths.jvb_conf).replace(INCLUDE_LINE, read(paths.jvb_fragment))
    path = tmp_path / "merged.conf"
    path.write_text(merged, encoding="utf-8")
    assert relay_values(str(path)) == {"enabled": True, "region": "eu", "relay-id": nick}
    assert BridgeFragment().check(relay_ctx(paths)) == []  # a second run changes nothing


def test_no_region_no_relay_block(paths):
    text = bridge_config.render_fragment(make_token(), "pw", "jvb-h-00000000")
    assert "relay" not in text and "octo" not in text
    text = bridge_config.render_fragment(make_token(region="us-east"), "pw", "jvb-h-00000000",
                                         bridge_config.BridgeExtras(region="us-east"))
    assert 'region = "us-east"' in text and 'relay-id = "jvb-h-00000000"' in text


def test_relay_id_is_shown_as_the_nickname_pattern_in_the_plan(paths):
    write(paths.machine_id, "m1\n")
    os.makedirs(paths.jvb_dir)
    ctx = relay_ctx(paths)
    proposed = nickname.bridge_nickname(ctx)
    diff = BridgeFragment().check(ctx)[0].diff
    assert '+  region = "eu"\n' in diff
    assert '+  relay-id = "{}<8 random hex digits, made at the join>"\n'.format(proposed[:-8]) in diff


def test_legacy_region_property_that_would_win_is_refused(paths):
    write(paths.machine_id, "m1\n")
    os.makedirs(paths.jvb_dir)
    write(paths.jvb_legacy_properties, "org.jitsi.videobridge.REGION=us\n")
    with pytest.raises(StepError) as caught:
        BridgeFragment().check(relay_ctx(paths, "eu"))
    assert "org.jitsi.videobridge.REGION=us" in caught.value.message
    assert "Remove the org.jitsi.videobridge.REGION line" in caught.value.remedy
    assert BridgeFragment().check(relay_ctx(paths, "us"))  # the same region: joins
    assert BridgeFragment().check(config_ctx(paths))  # no region asked: the admin's line is left
