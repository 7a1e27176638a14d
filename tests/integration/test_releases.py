"""Releases in the lab: the Debian 10 path (Temurin from an Adoptium repository, a shim for the
Jitsi package's OpenJDK dependency, the java alternative, Temurin's own trust store) to a joined
bridge. The lab has no Debian 10 archive any more: the host is a Debian 12 one given Debian 10's
os-release, so jvb-join takes every decision it takes on buster, with bookworm's packages."""

import json
import os

import pytest

from labkit import DOMAIN, create_token, install_jvb_join, join, sh

pytestmark = pytest.mark.lab

HERE = os.path.dirname(os.path.abspath(__file__))
BUSTER_OS_RELEASE = os.path.join(HERE, "..", "unit", "data", "os-release", "debian-10")


def test_debian_10_bridge_gets_temurin_and_joins(server):
    lab = server
    lab.up("buster1")
    with open(BUSTER_OS_RELEASE) as handle:
        sh(lab, "buster1", "rm -f /etc/os-release && cat > /etc/os-release", input=handle.read())
    install_jvb_join(lab, "buster1")
    token = create_token(lab, "buster", "buster1")
    url = lab.exec("buster1", ["cat", "/root/lab/adoptium-repo.url"], check=True)[1].strip()
    adoptium = ["--adoptium-repo-url", url, "--adoptium-repo-key", "/root/lab/adoptium-repo.gpg"]
    rc, out, err, seconds = join(lab, "buster1", token["token"], *adoptium)
    assert rc in (0, 2), out + err
    assert json.loads(out)["verified"] is True
    print("Debian 10 path join took {:.1f} s".format(seconds))

    source = lab.exec("buster1", ["cat", "/etc/apt/sources.list.d/adoptium.sources"], check=True)[1]
    assert "URIs: {}\nSuites: buster\n".format(url) in source
    assert "Signed-By: /etc/apt/keyrings/adoptium.gpg" in source
    query = lab.exec("buster1", ["update-alternatives", "--query", "java"], check=True)[1]
    assert "Value: /usr/lib/jvm/temurin-17-jre-amd64/bin/java" in query
    assert "Status: manual" in query
    status = sh(lab, "buster1", "dpkg-query -W -f '${Status} ${Provides}\\n' jvb-join-temurin-17-compat")[1]
    assert status.startswith("install ok installed") and "openjdk-17-jre-headless" in status

    # The running bridge runs on Temurin, and Temurin's own store trusts the server's certificate.
    args = sh(lab, "buster1", "ps -o args= -u jvb")[1]
    assert "--java-home /usr/lib/jvm/temurin-17-jre-amd64" in args, args
    fingerprint = sh(lab, "buster1", "openssl x509 -noout -fingerprint -sha256 -in "
                                     "/usr/local/share/ca-certificates/jvb-join-auth.{}.crt".format(DOMAIN))[1]
    fingerprint = fingerprint.strip().split("=", 1)[1]
    store = sh(lab, "buster1", "keytool -list -keystore /etc/ssl/certs/adoptium/cacerts -storepass changeit")[1]
    assert fingerprint in store

    # A second run changes nothing.
    rc, out, err, _ = join(lab, "buster1", token["token"], *adoptium)
    assert rc in (0, 2), out + err
    assert json.loads(out)["changed"] == 0


def test_an_unsupported_release_is_refused_before_any_change(server):
    lab = server
    lab.up("bionic1")
    sh(lab, "bionic1", "rm -f /etc/os-release && printf 'NAME=\"Ubuntu\"\\nID=ubuntu\\nVERSION_ID=\"18.04\"\\n"
                       "VERSION_CODENAME=bionic\\n' > /etc/os-release")
    install_jvb_join(lab, "bionic1")
    token = create_token(lab, "bionic", "bionic1")
    rc, out, err, _ = join(lab, "bionic1", token["token"])
    assert rc == 64, out + err
    assert "is not a release jvb-join supports as a bridge" in err and "--allow-unsupported-release" in err
    assert lab.exec("bionic1", ["test", "-e", "/etc/apt/sources.list.d/jitsi-stable.sources"])[0] != 0
