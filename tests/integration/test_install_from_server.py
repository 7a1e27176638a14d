"""The bridges' repository a server publishes (jvbjoin.server.repo), checked by real gpg and apt:
apt takes it as signed, refuses it re-signed by another key, and refuses a modified package; a second
publish of the same versions changes nothing; an upgrade republishes.

No lab and no network: fake .debs, a dpkg status and apt's cache in a temporary root."""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from jvbjoin.engine.core import Journal
from jvbjoin.system.paths import Paths
from jvbjoin.server import repo

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("gpg", "gpgv", "dpkg-deb", "apt-get")),
                                reason="needs gpg, gpgv, dpkg-deb and apt-get")


def fake_deb(folder, package, version):
    tree = os.path.join(folder, package + version)
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, "DEBIAN"))
    os.makedirs(os.path.join(tree, "usr/share/doc", package))
    with open(os.path.join(tree, "usr/share/doc", package, "README"), "w") as f:
        f.write("%s %s\n" % (package, version))
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
        f.write("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.org>\n"
                "Description: stand-in\n" % (package, version))
    sums = subprocess.run(["md5sum", "usr/share/doc/%s/README" % package], cwd=tree, check=True,
                          stdout=subprocess.PIPE).stdout
    with open(os.path.join(tree, "DEBIAN", "md5sums"), "wb") as f:
        f.write(sums)
    deb = os.path.join(folder, "%s_%s_all.deb" % (package, version))
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", tree, deb], check=True, stdout=subprocess.DEVNULL)
    return deb, sums


def install(paths, versions, debs_dir):
    """A dpkg status with these versions installed, their md5sums, and their .debs in apt's cache."""
    status = []
    cache = paths(repo.APT_CACHE)
    os.makedirs(cache, exist_ok=True)
    os.makedirs(paths("/var/lib/dpkg/info"), exist_ok=True)
    for package, version in versions.items():
        deb, sums = fake_deb(debs_dir, package, version)
        shutil.copy(deb, cache)
        with open(paths("/var/lib/dpkg/info/%s.md5sums" % package), "wb") as f:
            f.write(sums)
        status.append("Package: %s\nStatus: install ok installed\nVersion: %s\n" % (package, version))
    with open(paths.dpkg_status, "w") as f:
        f.write("\n".join(status))


@pytest.fixture
def tree():
    top = tempfile.mkdtemp(prefix="jsr.", dir="/tmp")
    os.chmod(top, 0o755)
    paths = Paths(os.path.join(top, "root"))
    debs = os.path.join(top, "debs")
    os.makedirs(debs)
    yield paths, debs, top
    subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=repo.key_home(paths)), check=False)
    shutil.rmtree(top, ignore_errors=True)


def apt(top, url, *args):
    """apt-get with its own lists and cache, the published key and a source for url."""
    work = os.path.join(top, "apt")
    shutil.rmtree(work, ignore_errors=True)
    for d in ("lists/partial", "cache/archives/partial", "parts", "dl"):
        os.makedirs(os.path.join(work, d))
    open(os.path.join(work, "status"), "w").close()
    with open(os.path.join(work, "sources.list"), "w") as f:
        f.write("deb [signed-by=%s/jvb-join.asc] %s stable main\n" % (work, url))
    shutil.copy(os.path.join(url[len("file://"):] + "-key", "jvb-join.asc"), work)
    for dirpath, dirnames, filenames in os.walk(top):
        os.chmod(dirpath, 0o777 if dirpath.startswith(work) else 0o755)
    opts = ["-o", "Dir::Etc::SourceList=%s/sources.list" % work, "-o", "Dir::Etc::SourceParts=%s/parts" % work,
            "-o", "Dir::Etc::PreferencesParts=%s/parts" % work, "-o", "Dir::State::Lists=%s/lists" % work,
            "-o", "Dir::State::status=%s/status" % work, "-o", "Dir::Cache=%s/cache" % work,
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-q"]
    update = subprocess.run(["apt-get"] + opts + ["update"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    if update.returncode != 0 or "W: " in update.stdout:
        return update
    return subprocess.run(["apt-get"] + opts + list(args), cwd=os.path.join(work, "dl"), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)


def served(paths, top):
    """A copy of the published tree as a bridge would see it, and its key as the join line checks it."""
    copy = os.path.join(top, "served")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(repo.repo_dir(paths), copy)
    os.makedirs(copy + "-key", exist_ok=True)
    shutil.copy(os.path.join(copy, "jvb-join.asc"), copy + "-key")
    return copy


def test_published_signed_refused_when_resigned_or_modified_and_republished_on_upgrade(tree):
    paths, debs, top = tree
    install(paths, {"jvb-join": "1.2-1", "python3-dbus-next": "0.2.3-3"}, debs)
    repo.publish(paths, Journal(), lambda line: None)
    repo.clean_work(paths)
    assert not repo.stale(paths)
    # the key stays on the server, 0700 and 0600; the published tree holds no secret
    home = repo.key_home(paths)
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for dirpath, dirnames, filenames in os.walk(home):
        for name in filenames:
            if os.path.isfile(os.path.join(dirpath, name)):
                assert stat.S_IMODE(os.stat(os.path.join(dirpath, name)).st_mode) == 0o600
    published = [os.path.join(d, n) for d, _, ns in os.walk(repo.repo_dir(paths)) for n in ns]
    assert all(b"PRIVATE KEY" not in open(p, "rb").read() for p in published)
    assert sorted(os.path.relpath(p, repo.repo_dir(paths)) for p in published if "/binary-" not in p) == [
        "dists/stable/InRelease", "dists/stable/Release", "dists/stable/Release.gpg", "jvb-join.asc",
        "pool/main/jvb-join_1.2-1_all.deb", "pool/main/python3-dbus-next_0.2.3-3_all.deb"]
    copy = served(paths, top)
    ok = apt(top, "file://" + copy, "download", "jvb-join", "python3-dbus-next")
    assert ok.returncode == 0, ok.stdout
    assert sorted(os.listdir(os.path.join(top, "apt", "dl"))) == [
        "jvb-join_1.2-1_all.deb", "python3-dbus-next_0.2.3-3_all.deb"]

    # a modified package: apt refuses it by its hash in the signed index
    with open(os.path.join(copy, "pool/main/jvb-join_1.2-1_all.deb"), "ab") as f:
        f.write(b"\0")
    bad = apt(top, "file://" + copy, "download", "jvb-join")
    assert bad.returncode != 0 and ("Hash Sum mismatch" in bad.stdout or "Size mismatch" in bad.stdout), bad.stdout
    assert not os.listdir(os.path.join(top, "apt", "dl"))

    # the same repository re-signed by another key: apt refuses the index
    copy = served(paths, top)
    other = os.path.join(top, "other")
    os.makedirs(other, mode=0o700)
    env = dict(os.environ, GNUPGHOME=other)
    gpg = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(gpg + ["--quick-gen-key", "Other <o@example.org>", "ed25519", "sign", "never"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    suite = os.path.join(copy, "dists/stable")
    os.unlink(os.path.join(suite, "InRelease"))
    os.unlink(os.path.join(suite, "Release.gpg"))
    subprocess.run(gpg + ["--clearsign", "--output", os.path.join(suite, "InRelease"), os.path.join(suite, "Release")],
                   env=env, check=True)
    subprocess.run(gpg + ["--detach-sign", "--armor", "--output", os.path.join(suite, "Release.gpg"),
                          os.path.join(suite, "Release")], env=env, check=True)
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)
    bad = apt(top, "file://" + copy, "download", "jvb-join")
    assert bad.returncode != 0 or "W: " in bad.stdout, bad.stdout
    assert "NO_PUBKEY" in bad.stdout or "not signed" in bad.stdout, bad.stdout
    assert not os.listdir(os.path.join(top, "apt", "dl"))

    # a second publish of the same versions is not needed; an upgrade republishes, with the same key
    key = hashlib.sha256(open(repo.public_key_path(paths), "rb").read()).hexdigest()
    install(paths, {"jvb-join": "1.3-1", "python3-dbus-next": "0.2.3-3"}, debs)
    assert repo.stale(paths)
    report = repo.refresh(paths, lambda line: None)
    assert [r.step.name for r in report.results if r.changes] == ["bridge-repository"]
    assert repo.published_versions(paths) == {"jvb-join": "1.3-1", "python3-dbus-next": "0.2.3-3"}
    assert repo.key_sha256(paths) == key
    assert not [n for n in os.listdir(os.path.dirname(repo.repo_dir(paths))) if n.startswith(".publish")]
    assert not repo.refresh(paths, lambda line: None).changed


# --- in the lab: a bare bridge host installs jvb-join from the server and joins -------------------------

RESIGN = """set -eu
home=$(mktemp -d) && chmod 700 "$home"
export GNUPGHOME="$home"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'Not the server <x@example.org>' ed25519 sign never 2>/dev/null
cd /var/www/jvb-join/debian/dists/stable
rm -f InRelease Release.gpg
gpg --batch --clearsign --output InRelease Release
gpg --batch --detach-sign --armor --output Release.gpg Release
{publish_key}
gpgconf --kill all; rm -rf "$home"
"""


def bare_host(lab, host):
    """A fresh bookworm host with only the Debian mirror: the lab's jvb-join source and key removed,
    and the lab's Jitsi mirror given in /etc/jvb-join/options (download.jitsi.org is out of reach)."""
    from labkit import sh
    lab.up(host)
    source = sh(lab, host, "cat /etc/apt/sources.list.d/jvb-join.sources")[1]
    key = source.split("Signed-By:", 1)[1].split()[0]
    _, url, _ = lab.exec(host, ["cat", "/root/lab/jitsi-repo.url"], check=True)
    sh(lab, host, "rm -f /etc/apt/sources.list.d/jvb-join.sources {} && rm -rf /var/lib/apt/lists/* && "
                  "install -d -m 0755 /etc/jvb-join && printf 'jitsi-repo-url = %s\\njitsi-repo-key = "
                  "/root/lab/jitsi-repo.gpg\\n' {} > /etc/jvb-join/options && apt-get update -q >/dev/null".format(
                      key, url.strip()))
    rc, out, _ = lab.exec(host, ["apt-cache", "policy", "jvb-join"], check=False)
    assert "Candidate" not in out and lab.exec(host, ["dpkg", "-s", "jvb-join"], check=False)[0] != 0, out
    assert sh(lab, host, "ls /etc/apt/sources.list.d")[1].split() == ["lab-debian.sources"]


def refused(lab, host, line, why):
    """The line fails on host, installs nothing, and says why; its source and key are then removed."""
    from labkit import sh
    before = sh(lab, host, "dpkg-query -W -f '${Package} ${Status}\\n'")[1]
    rc, out, err = lab.exec(host, ["sh", "-c", line], check=False, timeout=600)
    assert rc != 0, out + err
    assert why in out + err, out + err
    assert sh(lab, host, "dpkg-query -W -f '${Package} ${Status}\\n'")[1] == before
    assert lab.exec(host, ["dpkg", "-s", "jvb-join"], check=False)[0] != 0
    sh(lab, host, "rm -f /etc/apt/sources.list.d/jvb-join.sources /etc/apt/keyrings/jvb-join.asc")
    return out + err


@pytest.mark.lab
def test_a_bare_bridge_installs_jvb_join_from_the_server_with_the_printed_line_and_joins(server):
    from labkit import DOMAIN, doctor_check, fetch, jicofo_log, nickname, repo_args, sh, wait_for
    lab = server
    # what server install published: the version it runs, behind nginx on port 80, the key kept 0600
    version = sh(lab, "jms", "dpkg-query -W -f '${Version}' jvb-join")[1]
    packages = sh(lab, "jms", "cat /var/www/jvb-join/debian/dists/stable/main/binary-amd64/Packages")[1]
    assert "Package: jvb-join\nVersion: {}\n".format(version) in packages
    assert "Package: python3-dbus-next\n" in packages
    assert sh(lab, "jms", "stat -c '%a' /var/lib/jvb-join/server/repo-key")[1].strip() == "700"
    assert set(sh(lab, "jms", "find /var/lib/jvb-join/server/repo-key -type f -exec stat -c '%a' {} +")[1]
               .split()) == {"600"}
    inrelease = sh(lab, "jms", "sha256sum /var/www/jvb-join/debian/dists/stable/InRelease")[1]
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "install", "--domain", DOMAIN]
                            + repo_args(lab, "jms"), timeout=600)
    assert rc == 0 and json.loads(out)["changed"] == 0, out + err
    assert sh(lab, "jms", "sha256sum /var/www/jvb-join/debian/dists/stable/InRelease")[1] == inrelease

    bare_host(lab, "jvbr1")
    base = "http://{}/jvb-join/debian/".format(DOMAIN)
    assert fetch(lab, "jvbr1", base + "jvb-join.asc")["status"] == 200
    assert fetch(lab, "jvbr1", base)["status"] == 403  # no listing of the folder
    assert fetch(lab, "jvbr1", "http://{}/jvb-join/".format(DOMAIN))["status"] == 301  # nothing else served
    rc, line, err = lab.exec("jms", ["jvb-join", "token", "create", "--name", "from-server", "--host", DOMAIN,
                                     "--allow-from", lab.ip("jvbr1"), "--print-join-command"], check=False)
    assert rc == 0, line + err
    line = line.strip()
    assert "\n" not in line
    token = line.rsplit("printf '%s\\n' ", 1)[1].split(" | ", 1)[0]
    print("join line ({} characters): {}".format(len(line), line.replace(token, "<token>")))
    rc, out, err = lab.exec("jvbr1", ["sh", "-c", line], timeout=1500)
    assert rc in (0, 2), (out + err)[-4000:]  # 2: done, degraded (a container's read-only sysctls)
    nick = nickname(lab, "jvbr1")
    wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick) in jicofo_log(lab),
             60, "jicofo to add the bridge installed from the server")
    assert sh(lab, "jvbr1", "dpkg-query -W -f '${Version}' jvb-join")[1] == version
    assert sh(lab, "jvbr1", "apt-cache policy jvb-join | grep -c 'jvb-join/debian'")[1].strip() != "0"
    # the bridge told the server its version: the server's doctor finds the fleet on one version
    check = doctor_check(lab, "jms", "bridge-versions")
    assert check["status"] == "ok", check
    assert any(d.endswith(": jvb-join " + version) for d in check["details"]), check

    # the same line against a repository re-signed with another key, then with that key published
    # too, then against a modified package: refused, nothing installed
    bare_host(lab, "jvbr2")
    sh(lab, "jms", "rm -rf /root/good && cp -a /var/www/jvb-join/debian /root/good")
    sh(lab, "jms", RESIGN.format(publish_key=""))
    refused(lab, "jvbr2", line, "NO_PUBKEY")
    sh(lab, "jms", RESIGN.format(publish_key="gpg --armor --export > /var/www/jvb-join/debian/jvb-join.asc"))
    refused(lab, "jvbr2", line, "Hash Sum mismatch")
    # one byte changed, the size kept: only the hash in the signed index tells
    sh(lab, "jms", "rm -rf /var/www/jvb-join/debian && cp -a /root/good /var/www/jvb-join/debian && "
                   "printf x | dd of=$(ls /var/www/jvb-join/debian/pool/main/jvb-join_*_all.deb) bs=1 seek=4000 "
                   "conv=notrunc status=none")
    refused(lab, "jvbr2", line, "Hash Sum mismatch")
    sh(lab, "jms", "rm -rf /var/www/jvb-join/debian && mv /root/good /var/www/jvb-join/debian")

    # an upgrade of the server's jvb-join republishes (the package's postinst); doctor then names the
    # bridge left behind, and 'apt-get upgrade' on the bridge takes the new version, which it reports
    newer = version + "+up1"
    sh(lab, "jms", "rm -rf /root/up && dpkg-deb -R $(ls /var/www/jvb-join/debian/pool/main/jvb-join_*_all.deb) "
                   "/root/up && sed -i 's/^Version: .*/Version: {0}/' /root/up/DEBIAN/control && "
                   "dpkg-deb -b --root-owner-group /root/up /var/cache/apt/archives/jvb-join_{0}_all.deb >/dev/null && "
                   "apt-get install -y -q /var/cache/apt/archives/jvb-join_{0}_all.deb >/dev/null".format(newer))
    wait_for(lambda: "Package: jvb-join\nVersion: {}\n".format(newer) in sh(
        lab, "jms", "cat /var/www/jvb-join/debian/dists/stable/main/binary-amd64/Packages")[1], 120,
        "the server to republish its repository after the upgrade")
    assert sh(lab, "jms", "sha256sum /var/www/jvb-join/debian/jvb-join.asc")[1].split()[0] == \
        line.split("SHA256:", 1)[1].split()[0]  # the same key: bridges keep trusting it
    check = doctor_check(lab, "jms", "bridge-versions")
    assert check["status"] == "warn" and "runs {}".format(version) in check["detail"], check
    sh(lab, "jvbr1", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q >/dev/null")
    assert sh(lab, "jvbr1", "dpkg-query -W -f '${Version}' jvb-join")[1] == newer
    wait_for(lambda: doctor_check(lab, "jms", "bridge-versions")["status"] == "ok", 120,
             "the upgraded bridge to report its version")
