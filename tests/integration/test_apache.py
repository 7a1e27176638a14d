"""`server install --web apache` (the Shibboleth tutorial's web server), in the lab: Apache is chosen
before the Jitsi packages are installed, so they configure Apache and nginx never arrives; the page,
config.js and BOSH answer on 443 through Apache."""

import json

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, install_server, install_tools, repo_args, sh


@pytest.fixture(scope="module")
def apache_server(lab):
    lab.down()  # a fresh jms: the web server is chosen at install time
    install_server(lab, "--web", "apache")
    install_tools(lab, "jms", "curl")
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
    _, out, _ = sh(lab, "jms", "curl -sk -o /dev/null -D - https://{}/ | tr -d '\\r'".format(DOMAIN))
    assert out.startswith("HTTP/") and " 200" in out.splitlines()[0], out
    assert "Server: Apache" in out, out
    # config.js is the domain's, through Apache's alias; BOSH reaches prosody through the proxy.
    _, config, _ = sh(lab, "jms", "curl -sk https://{}/config.js".format(DOMAIN))
    assert "domain: '{}'".format(DOMAIN) in config
    _, bosh, _ = sh(lab, "jms", "curl -sk -o /dev/null -w '%{http_code}' https://" + DOMAIN + "/http-bind")
    assert bosh == "200", bosh
    # Plain HTTP is redirected to HTTPS, as the site template says.
    _, redirect, _ = sh(lab, "jms", "curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://" + DOMAIN + "/")
    assert redirect.startswith("301 https://{}/".format(DOMAIN)), redirect
    # A second run changes nothing.
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--web", "apache"]
                            + repo_args(lab, "jms"), timeout=600)
    assert rc == 0, out + err
    assert json.loads(out)["changed"] == 0
