"""`server install --cert letsencrypt` against pebble (Debian's ACME test server) on its own lab
host: the HTTP-01 challenge is answered by the Jitsi site on port 80, and the page on 443 then has a
certificate that chains to pebble's root. Slow (a second server): run by `make test-long`."""

import json

import pytest

from labkit import DOMAIN, doctor_check, doctor_check_with_fault, fetch, install_server, install_tools, long_scenario, repo_args, sh

pytestmark = [pytest.mark.lab, long_scenario()]

PEBBLE_CONFIG = """{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
 "certificate": "/etc/pebble/cert.pem", "privateKey": "/etc/pebble/key.pem",
 "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
"""


@pytest.fixture(scope="module")
def acme(lab):
    """pebble on host `acme`, with a TLS certificate from a CA made here; returns (directory, CA PEM)."""
    lab.down()
    lab.up("acme", "jms")  # together: each one's /etc/hosts names the other (meet.lab.test is jms)
    install_tools(lab, "acme", "pebble", "openssl")  # openssl: the lab's own CA for pebble's listener
    sh(lab, "acme", "mkdir -p /etc/pebble && cd /etc/pebble && "
                    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lab-acme-ca -keyout ca.key -out ca.pem 2>/dev/null && "
                    "openssl req -newkey rsa:2048 -nodes -subj /CN=acme.lab.test -keyout key.pem -out req.csr 2>/dev/null && "
                    "printf 'subjectAltName=DNS:acme.lab.test,DNS:acme\\n' > san.ext && "
                    "openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out cert.pem 2>/dev/null")
    sh(lab, "acme", "cat > /etc/pebble/pebble.json", input=PEBBLE_CONFIG)
    # No artificial validation delays and no injected bad nonces: the lab measures jvb-join, not retries.
    sh(lab, "acme", "systemd-run --unit=pebble -E PEBBLE_VA_NOSLEEP=1 -E PEBBLE_WFE_NONCEREJECT=0 "
                    "pebble -config /etc/pebble/pebble.json")
    ca = sh(lab, "acme", "cat /etc/pebble/ca.pem")[1]
    yield "https://acme.lab.test:14000/dir", ca
    lab.down()


def test_letsencrypt_certificate_from_the_acme_directory(acme, lab):
    directory, ca = acme
    sh(lab, "jms", "cat > /root/acme-ca.pem", input=ca)
    install_server(lab, "--cert", "letsencrypt", "--email", "admin@lab.test", "--acme-directory", directory,
                   "--acme-ca-file", "/root/acme-ca.pem")
    # The page on 443 has the issued certificate: it verifies against pebble's root, for the domain.
    root = fetch(lab, "jms", "https://acme.lab.test:15000/roots/0", "/root/acme-ca.pem")
    assert root["status"] == 200 and "BEGIN CERTIFICATE" in root["body"], root
    sh(lab, "jms", "cat > /root/pebble-root.pem", input=root["body"])
    page = fetch(lab, "jms", "https://{}/".format(DOMAIN), "/root/pebble-root.pem")
    assert page["status"] == 200, page
    rc, issuer, _ = sh(lab, "jms", "openssl x509 -noout -issuer -in /etc/jitsi/meet/{}.crt".format(DOMAIN))
    assert "Pebble" in issuer, issuer
    # certbot renews from the same directory and puts the result in the same files.
    renewal = sh(lab, "jms", "cat /etc/letsencrypt/renewal/{}.conf".format(DOMAIN))[1]
    assert "server = {}".format(directory) in renewal
    assert "/etc/jitsi/meet/{}.crt".format(DOMAIN) in renewal  # the deploy hook
    # A second run changes nothing (no new certificate).
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "install", "--domain", DOMAIN, "--cert",
                                    "letsencrypt", "--email", "admin@lab.test", "--acme-directory", directory,
                                    "--acme-ca-file", "/root/acme-ca.pem"] + repo_args(lab, "jms"), timeout=600)
    assert rc == 0, out + err
    assert json.loads(out)["changed"] == 0


def test_doctor_checks_the_certificate_its_renewal_and_its_deploy_hook(acme, lab):
    """After the install above: doctor finds the certificate in place; a stopped renewal timer and a
    lost deploy hook are each a failure naming the fix, and healthy again once undone."""
    check = doctor_check(lab, "jms", "server-letsencrypt")
    assert check["status"] == "ok" and "acme.lab.test:14000" in check["detail"], check
    print("doctor server-letsencrypt: {}".format(check["detail"]))
    stopped = doctor_check_with_fault(lab, "jms", "server-letsencrypt", "systemctl disable --now certbot.timer",
                                      "systemctl enable --now certbot.timer")
    assert stopped["status"] == "fail" and "certbot.timer" in stopped["detail"], stopped
    assert "systemctl enable --now certbot.timer" in stopped["remedy"]
    renewal = "/etc/letsencrypt/renewal/{}.conf".format(DOMAIN)
    hookless = doctor_check_with_fault(lab, "jms", "server-letsencrypt",
                                       "cp -a {0} /root/renewal.conf; sed -i '/^renew_hook/d' {0}".format(renewal),
                                       "cp -a /root/renewal.conf {}".format(renewal))
    assert hookless["status"] == "fail" and "deploy hook" in hookless["detail"], hookless
    assert "renew_hook = " in hookless["remedy"]
    # The site's certificate put back to a self-signed one: not what certbot got from the directory.
    crt = "/etc/jitsi/meet/{}.crt".format(DOMAIN)
    replaced = doctor_check_with_fault(
        lab, "jms", "server-letsencrypt",
        "cp -a {0} /root/site.crt; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN={1} "
        "-keyout /dev/null -out {0} 2>/dev/null".format(crt, DOMAIN),
        "cp -a /root/site.crt {}".format(crt))
    assert replaced["status"] == "fail" and "not the certificate certbot got" in replaced["detail"], replaced
    assert doctor_check(lab, "jms", "server-letsencrypt")["status"] == "ok"
