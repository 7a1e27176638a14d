"""prosody's verdict on its configuration, read from what prosodyctl 0.12 really printed (fixtures in
data/prosodyctl/): the packaged Jitsi template's obsolete option is a warning, a broken or
ineffective configuration is an error, whatever the exit code alone would say."""

import os

import pytest

from jvbjoin.server import prosody_check

from helpers import turn_ctx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "prosodyctl")


def recorded(name):
    with open(os.path.join(DATA, "check-config-{}.txt".format(name))) as handle:
        return handle.read()


def test_a_clean_config_passes_with_nothing_to_say():
    verdict = prosody_check.parse(0, recorded("clean"))
    assert verdict.ok and verdict.errors == [] and verdict.warnings == []


def test_the_jitsi_templates_obsolete_option_is_a_warning_not_an_error():
    verdict = prosody_check.parse(2, recorded("jitsi"))
    assert verdict.ok
    assert verdict.warnings == ["You have some obsolete options you can remove from the global section: "
                                "cross_domain_bosh"]


def test_a_note_prosody_does_not_count_stays_a_warning_whole():
    verdict = prosody_check.parse(2, recorded("orphan"))
    assert verdict.ok and len(verdict.warnings) == 2
    assert verdict.warnings[1].startswith("Your configuration contains the following unreferenced components")
    assert "turn.other.example.org" in verdict.warnings[1] and "disco_items" in verdict.warnings[1]


def test_an_option_that_only_works_globally_under_a_host_is_an_error():
    verdict = prosody_check.parse(2, recorded("misplaced"))
    assert not verdict.ok
    assert len(verdict.errors) == 1 and "set under x.example.com" in verdict.errors[0]
    assert "c2s_ports" in verdict.errors[0]
    assert any("'bosh_ports' -- instead, use 'http_ports'" in w for w in verdict.warnings)
    assert any("cross_domain_bosh" in w for w in verdict.warnings)


@pytest.mark.parametrize("name, words", [
    ("syntax", "'}' expected (to close '{' at line 88) near <eof>"),
    ("include", "Error loading included /etc/prosody/nope.cfg.lua"),
])
def test_a_config_prosody_cannot_load_is_an_error_naming_the_cause(name, words):
    verdict = prosody_check.parse(1, recorded(name))
    assert not verdict.ok and len(verdict.errors) == 1
    assert verdict.errors[0].startswith("Error:") and words in verdict.errors[0]


def test_an_unknown_finding_is_an_error_even_beside_a_known_warning():
    output = recorded("jitsi").replace("Done.", "\n    Something new is badly wrong here.\nDone.")
    verdict = prosody_check.parse(2, output)
    assert verdict.errors == ["Something new is badly wrong here."]


def test_a_check_that_stopped_half_way_is_an_error():
    output = recorded("jitsi").split("Done.")[0]
    assert not prosody_check.parse(1, output).ok


def test_check_config_runs_prosodyctl_without_a_shell(monkeypatch):
    from jvbjoin.system.run import Result
    seen = []

    def fake_run(argv, check=True, timeout=None, **kwargs):
        seen.append((argv, check))
        return Result(argv, 2, recorded("jitsi"), "")

    monkeypatch.setattr(prosody_check, "run", fake_run)
    assert prosody_check.check_config().ok
    assert seen == [(["prosodyctl", "check", "config"], False)]


# --- its two readers: doctor's prosody check and 'server turn' -------------------------------------

def _prosodyctl_says(monkeypatch, code, name):
    from jvbjoin.system.run import Result
    monkeypatch.setattr(prosody_check, "run", lambda argv, **kw: Result(argv, code, recorded(name), ""))


def _facts(paths):
    from jvbjoin.doctor.core import Facts
    facts = Facts(paths)
    facts.put("unit:prosody.service", {"LoadState": "loaded", "ActiveState": "active", "SubState": "running"})
    return facts


def test_doctor_passes_prosody_on_the_packaged_template_and_shows_the_warning_in_details(paths, monkeypatch):
    from jvbjoin.server.checks import services as server
    _prosodyctl_says(monkeypatch, 2, "jitsi")
    result = server.check_prosody(_facts(paths))
    assert result.status == "ok", result.detail
    assert any("cross_domain_bosh" in d for d in result.details)


def test_doctor_fails_prosody_on_a_real_error_naming_it(paths, monkeypatch):
    from jvbjoin.server.checks import services as server
    _prosodyctl_says(monkeypatch, 1, "syntax")
    result = server.check_prosody(_facts(paths))
    assert result.status == "fail" and "'}' expected" in result.detail
    assert result.remedy.startswith("prosodyctl check config")


@pytest.mark.parametrize("code, name, accepted", [(2, "jitsi", True), (2, "misplaced", False), (1, "include", False)])
def test_server_turn_reloads_prosody_unless_prosody_finds_an_error(paths, monkeypatch, code, name, accepted):
    from jvbjoin.engine.core import Journal
    from jvbjoin.errors import JvbJoinError
    from jvbjoin.server import turn
    monkeypatch.setattr(turn, "_gid", lambda name: None)
    reloads = []
    monkeypatch.setattr(turn, "reload_prosody", lambda domain: reloads.append(domain))
    _prosodyctl_says(monkeypatch, code, name)
    ctx = turn_ctx(paths)
    step = turn.ProsodyTurn()
    if accepted:
        step.apply(ctx, step.check(ctx), Journal())
        assert reloads == ["meet.example.com"]
    else:
        with pytest.raises(JvbJoinError) as err:
            step.apply(ctx, step.check(ctx), Journal())
        assert "prosody does not accept the TURN settings" in str(err.value.message) and reloads == []


def test_a_missing_auth_certificate_link_is_relinked_not_reconfigured(paths):
    """jitsi-meet-prosody's postinst links the auth certificate only when it generates one, and it
    generates one only while /var/lib/prosody has none: a reconfigure does not bring a link back."""
    from jvbjoin.server.checks import services as server
    from jvbjoin.doctor.core import Facts
    from jvbjoin.server import model
    os.makedirs(paths("/etc/prosody/conf.avail"))
    with open(paths("/etc/prosody/conf.avail/meet.example.com.cfg.lua"), "w") as f:
        f.write('Component "internal.auth.meet.example.com" "muc"\n')
    os.makedirs(paths("/var/lib/prosody"), exist_ok=True)
    with open(paths("/var/lib/prosody/auth.meet.example.com.crt"), "w") as f:
        f.write("CERT\n")
    result = server.check_auth_certificate(Facts(paths))
    assert result.status == "fail" and "is missing" in result.detail
    assert result.remedy.startswith("ln -sf /var/lib/prosody/auth.meet.example.com.crt "
                                    "/etc/prosody/certs/auth.meet.example.com.crt;")
    assert "systemctl restart prosody" in result.remedy
    os.unlink(paths("/var/lib/prosody/auth.meet.example.com.crt"))
    assert model.missing_auth_cert_remedy(paths, "meet.example.com").startswith("dpkg-reconfigure jitsi-meet-prosody")


def test_prosody_13s_wording_is_read_the_same_way():
    """Not recorded (prosody 13 is not installed here): its check.lua lists cross_domain_bosh as
    deprecated and adds notes it does not count, such as modules that failed to load."""
    output = ("Checking config...\n\n    You have some deprecated options in the global section:\n"
              "    'cross_domain_bosh' -- instead, use 'http_cors_override', see "
              "https://prosody.im/doc/http#cross-domain-cors-support\n\n"
              "    The following modules failed to load:\n\n        mod_foo: module not found\n\n"
              "    Check for typos and remove any obsolete/incompatible modules from your config.\n"
              "Done.\n\nProblems found, see above.\n")
    verdict = prosody_check.parse(2, output)
    assert verdict.ok and len(verdict.warnings) == 2 and "mod_foo" in verdict.warnings[1]
    bad = output.replace("Done.", "    The modules_enabled in the x.example.com section should not be a string but a list "
                                  "of strings, e.g.\nDone.")
    assert prosody_check.parse(2, bad).errors[0].startswith("The modules_enabled in the x.example.com section")
