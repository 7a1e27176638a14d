"""`jvb-join server tune`: client settings as marked lines in config.js and interface_config.js;
every other byte of the admin's file stays, a second run changes nothing, --unset takes a line out."""

import os

import pytest
from hypothesis import given, settings, strategies as st

from jvbjoin.cli import main as cli
from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.server import tune
from jvbjoin.server.tune import MARK, TuneOptions, js_value, marked_settings, tune_text

CONFIG_JS = """var config = {
    hosts: { domain: 'meet.example.com' },
    // startAudioOnly: false,
    resolution: 720,\r
};
// the admin's own line, no newline at the end"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(text)


def read(path):
    with open(path, newline="") as f:
        return f.read()


def test_lines_are_appended_then_replaced_in_place_then_removed():
    once = tune_text(CONFIG_JS, "config", {"startAudioOnly": "true", "resolution": "480"})
    assert once.startswith(CONFIG_JS + "\n")  # every byte of the admin's, a newline added at its end
    assert once.endswith("config.startAudioOnly = true; {0}\nconfig.resolution = 480; {0}\n".format(MARK))
    assert tune_text(once, "config", {"startAudioOnly": "true", "resolution": "480"}) == once
    changed = tune_text(once, "config", {"resolution": "360"})
    assert changed == once.replace("resolution = 480", "resolution = 360")
    removed = tune_text(changed, "config", {"startAudioOnly": None, "resolution": None})
    assert removed == CONFIG_JS + "\n"
    assert marked_settings(changed, "config") == {"startAudioOnly": "true", "resolution": "360"}


def test_a_line_the_admin_wrote_like_ours_without_the_mark_is_theirs():
    text = "config.resolution = 720;\n"
    assert tune_text(text, "config", {"resolution": None}) == text
    assert tune_text(text, "config", {"resolution": "480"}) == text + "config.resolution = 480; {}\n".format(MARK)


@settings(max_examples=200)
@given(st.one_of(st.text(), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=3)))
def test_values_stay_one_literal_on_one_line(value):
    literal = js_value(value)
    assert "\n" not in literal and "\r" not in literal and "<" not in literal
    assert "\u2028" not in literal and "\u2029" not in literal
    text = tune_text("var config = {};\n", "config", {"k": literal})
    assert text.count("\n") == 2 and marked_settings(text, "config") == {"k": literal}


def test_parse_setting():
    assert tune.parse_setting("startAudioOnly=true", "--config") == ("startAudioOnly", True)
    assert tune.parse_setting("resolution=480", "--config") == ("resolution", 480)
    assert tune.parse_setting("defaultLanguage=fr", "--config") == ("defaultLanguage", "fr")
    for bad in ["noequals", "a.b=1", "x y=1", "=1", "p2p.enabled=false"]:
        with pytest.raises(UsageError):
            tune.parse_setting(bad, "--config")


def run_tune(paths, **kw):
    return tune.tune(TuneOptions(**kw), paths, lambda *_: None)


@pytest.fixture
def server(paths, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    write(paths("/etc/jitsi/meet/meet.example.com-config.js"), CONFIG_JS)
    write(paths("/usr/share/jitsi-meet/interface_config.js"), "var interfaceConfig = {\n    APP_NAME: 'Jitsi Meet'\n};\n")
    return paths


def test_tune_writes_both_files_keeps_a_backup_and_a_rerun_changes_nothing(server):
    paths = server
    config_path = paths("/etc/jitsi/meet/meet.example.com-config.js")
    report = run_tune(paths, config={"startAudioOnly": "true"}, interface={"APP_NAME": js_value("Meet")})
    assert len(report.changed) == 3  # config.js, interface_config.js, and the record doctor reads
    assert read(config_path) == CONFIG_JS + "\nconfig.startAudioOnly = true; {}\n".format(MARK)
    assert "interfaceConfig.APP_NAME = \"Meet\";" in read(paths("/usr/share/jitsi-meet/interface_config.js"))
    backups = [os.path.join(d, f) for d, _, fs in os.walk(paths.backups) for f in fs]
    assert any(read(b) == CONFIG_JS for b in backups)
    again = run_tune(paths, config={"startAudioOnly": "true"}, interface={"APP_NAME": js_value("Meet")})
    assert again.changed == []


def test_dry_run_changes_nothing_and_shows_the_diff(server):
    paths = server
    config_path = paths("/etc/jitsi/meet/meet.example.com-config.js")
    report = run_tune(paths, config={"resolution": "480"}, dry_run=True)
    assert read(config_path) == CONFIG_JS
    [diff] = [c.diff for r in report.results for c in r.changes if c.target == config_path]
    assert "+config.resolution = 480; " + MARK in diff


def test_domain_is_found_or_asked_for(server):
    paths = server
    assert tune.find_domain(paths, None) == "meet.example.com"
    with pytest.raises(JvbJoinError):
        tune.find_domain(paths, "other.example.com")
    write(paths("/etc/jitsi/meet/second.example.com-config.js"), "")
    with pytest.raises(UsageError):
        tune.find_domain(paths, None)


def test_not_a_server(paths):
    with pytest.raises(JvbJoinError) as err:
        run_tune(paths, config={"resolution": "480"})
    assert "server install" in err.value.remedy


def test_cli_nothing_to_tune_and_bad_keys_are_64(capsys):
    assert cli.main(["server", "tune"]) == 64
    assert cli.main(["server", "tune", "--config", "a.b=1"]) == 64
    assert cli.main(["server", "tune", "--unset", "a b"]) == 64


# --- the packaged config.js ------------------------------------------------------------------------

STANDIN_CONFIG_JS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 "tests", "lab", "standins", "jitsi-meet-web-config", "usr", "share",
                                 "jitsi-meet-web-config", "config.js")


def test_the_packaged_config_js_keeps_every_byte_and_its_commented_options_stay_commented():
    """The lab's stand-in of jitsi-meet-web-config's config.js (its options and layout as upstream
    ships them): commented options whose names jvb-join sets, block comments, comments with quotes,
    braces and slashes. jvb-join's lines go after everything, the rest stays as it was."""
    with open(STANDIN_CONFIG_JS) as f:
        text = f.read().replace("jitsi-meet.example.com", "meet.example.com")
    settings = {"startAudioOnly": "true", "resolution": "480", "disableAudioLevels": "true",
                "roomPasswordNumberOfDigits": "6"}
    tuned = tune_text(text, "config", settings)
    assert tuned.startswith(text)
    added = tuned[len(text):].splitlines()
    assert added == ["config.{} = {}; {}".format(k, v, MARK) for k, v in settings.items()]
    assert marked_settings(tuned, "config") == settings
    assert tune_text(tuned, "config", dict.fromkeys(settings)) == text


def test_jaas_lines_the_package_appends_after_jvb_join_s_win_and_doctor_can_tell():
    """jitsi-meet-web-config appends its JaaS defaults (roomPasswordNumberOfDigits among them) to an
    old config.js when JaaS is chosen later: a line after jvb-join's, which wins in the browser."""
    from jvbjoin.server.checks.web import tune_findings
    with open(STANDIN_CONFIG_JS) as f:
        text = f.read()
    tuned = tune_text(text, "config", {"roomPasswordNumberOfDigits": "6"})
    tuned += ("var enableJaaS = true;\n"
              "config.roomPasswordNumberOfDigits = 10; // appended once; the package looks for this comment\n")
    missing, edited, overridden = tune_findings(tuned, "config", {"roomPasswordNumberOfDigits": "6"})
    assert (missing, edited) == ([], [])
    assert overridden == ["config.roomPasswordNumberOfDigits is set again on line {}".format(
        len(tuned.splitlines()))]


def test_an_option_the_client_no_longer_reads_is_refused_and_can_still_be_unset(server):
    paths = server
    config_path = paths("/etc/jitsi/meet/meet.example.com-config.js")
    with pytest.raises(UsageError) as err:
        run_tune(paths, config={"openBridgeChannel": js_value("websocket")})
    assert "openBridgeChannel" in str(err.value) and "bridgeChannel" in err.value.remedy
    assert read(config_path) == CONFIG_JS
    # an old server tuned before: its line can be taken out
    write(config_path, CONFIG_JS + '\nconfig.openBridgeChannel = "websocket"; {}\n'.format(MARK))
    run_tune(paths, config={"openBridgeChannel": None})
    assert read(config_path) == CONFIG_JS + "\n"


def test_cli_open_bridge_channel_is_refused_with_what_to_do(capsys):
    assert cli.main(["server", "tune", "--open-bridge-channel", "websocket"]) == 64
    out, err = capsys.readouterr()
    assert "openBridgeChannel" in out + err
