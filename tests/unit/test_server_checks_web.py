"""Doctor's checks of what a server install or tune was asked for (server tune, the Jitsi site, Let's
Encrypt): each check is skipped when its option was not used, and finds the fault a user would see
when it was."""

import json
import os
import time

import pytest

from jvbjoin.server.checks import services as server, web
from jvbjoin.doctor.core import Facts
from jvbjoin.server import tune

from helpers import DOMAIN, make_cert, write_file

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
