"""`server install --web apache` (the Shibboleth tutorial's web server), in the lab: Apache is chosen
before the Jitsi packages are installed, so they configure Apache and nginx never arrives; the page,
config.js and BOSH answer on 443 through Apache. Slow (a second server): run by `make test-long`."""

import json

import pytest

from labkit import DOMAIN, doctor_check, doctor_check_with_fault, fetch, install_server, long_scenario, repo_args

pytestmark = [pytest.mark.lab, long_scenario()]  # a second server install: make test-long


@pytest.fixture(scope="module")
def apache_server(lab):
    lab.down()  # a fresh jms: the web server is chosen at install time
    install_server(lab, "--web", "apache")
    yield lab
    lab.down()


def test_the_web_page_is_served_by_apache_and_nginx_is_absent(apache_server):
    lab = apache_server
    for unit in ("apache2", "prosody", "jicofo"):
        assert lab.exec("jms", ["systemctl", "is-active", unit])[1].strip() == "active", unit
    rc, _, _ = lab.exec("jms", ["dpkg-query", "-W", "-f", "${Status}", "nginx"])
    status = lab.exec("jms", ["dpkg-query", "-W", "-f", "${Status}", "nginx"])[1]
    assert rc != 0 or "not-installed" in status, status
    assert lab.exec("jms", ["test", "-e", "/etc/nginx"])[0] != 0
    site = "/etc/apache2/sites-enabled/{}.conf".format(DOMAIN)
    assert lab.exec("jms", ["test", "-e", site])[0] == 0
    # The page on 443, from Apache, as a browser on the network reaches it.
    page = fetch(lab, "jms", "https://{}/".format(DOMAIN))
    assert page["status"] == 200, page
    assert page["headers"].get("Server", "").startswith("Apache"), page["headers"]
    # config.js is the domain's, through Apache's alias; BOSH reaches prosody through the proxy.
    config = fetch(lab, "jms", "https://{}/config.js".format(DOMAIN))
    assert "domain: '{}'".format(DOMAIN) in config["body"]
    bosh = fetch(lab, "jms", "https://{}/http-bind".format(DOMAIN))
    assert bosh["status"] == 200, bosh
    # Plain HTTP is redirected to HTTPS, as the site template says.
    plain = fetch(lab, "jms", "http://{}/".format(DOMAIN))
    assert plain["status"] == 301 and plain["headers"]["Location"] == "https://{}/".format(DOMAIN), plain
    # A second run changes nothing.
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--web", "apache"]
                            + repo_args(lab, "jms"), timeout=600)
    assert rc == 0, out + err
    assert json.loads(out)["changed"] == 0


def test_doctor_checks_apache_and_the_jitsi_site(apache_server):
    lab = apache_server
    check = doctor_check(lab, "jms", "web-server")
    assert check["status"] == "ok" and "apache2" in check["detail"], check
    disabled = doctor_check_with_fault(lab, "jms", "web-server",
                                       "a2dissite {} >/dev/null && systemctl reload apache2".format(DOMAIN),
                                       "a2ensite {} >/dev/null && systemctl reload apache2".format(DOMAIN))
    assert disabled["status"] == "fail" and "not enabled in apache2" in disabled["detail"], disabled
    assert disabled["remedy"].startswith("a2ensite {}".format(DOMAIN))
    # A broken directive: apache2ctl configtest fails, and doctor shows its lines.
    broken = doctor_check_with_fault(lab, "jms", "web-server",
                                     "echo 'NoSuchDirective on' > /etc/apache2/conf-enabled/zz-broken.conf",
                                     "rm /etc/apache2/conf-enabled/zz-broken.conf")
    assert broken["status"] == "fail" and "configuration errors" in broken["detail"], broken
    assert doctor_check(lab, "jms", "web-server")["status"] == "ok"
    assert doctor_check(lab, "jms", "server-letsencrypt")["status"] == "skipped"
