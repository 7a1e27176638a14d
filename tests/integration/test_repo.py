"""`make repo` (scripts/repo): the signed repository the project publishes, and its key handling.

Real reprepro, gpg and gpgv on small stand-in packages (no network, no root, no lab); the lab's
jvb-join repository is built by the same script, and `make test-matrix` installs from it."""

import os
import pathlib
import shutil
import stat
import subprocess
import tempfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REPO = os.path.join(ROOT, "scripts", "repo")

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("reprepro", "gpg", "gpgv", "dpkg-deb")),
                                reason="needs reprepro, gpg, gpgv and dpkg-deb (scripts/setup installs them)")


def fake_deb(folder, package, version):
    tree = os.path.join(folder, package)
    os.makedirs(os.path.join(tree, "DEBIAN"))
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
        f.write("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.org>\n"
                "Section: python\nPriority: optional\nDescription: stand-in\n" % (package, version))
    deb = os.path.join(folder, "%s_%s_all.deb" % (package, version))
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", tree, deb], check=True, stdout=subprocess.DEVNULL)
    return deb


@pytest.fixture
def work():
    # short paths: gpg-agent's sockets live in the key's home when /run/user/UID does not exist,
    # and a socket path has at most 107 bytes
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="jr.", dir="/tmp"))
    debs = tmp_path / "debs"
    debs.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    for name in ("XDG_DATA_HOME", "GNUPGHOME", "JVB_REPO_KEY", "JVB_REPO_GNUPGHOME", "JVB_REPO_URL"):
        env.pop(name, None)
    w = {"tmp": tmp_path, "home": home, "env": env, "out": tmp_path / "out",
         "jvb": fake_deb(str(debs), "jvb-join", "9.9.9"),
         "dbus": fake_deb(str(debs), "python3-dbus-next", "0.2.3-3")}
    yield w
    for gnupg in (home / ".local/share/jvb-join/repo-key", tmp_path / "publisher"):
        if gnupg.exists():
            subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "all"], check=False)
    shutil.rmtree(str(tmp_path), ignore_errors=True)


def make_repo(w, *extra):
    argv = [REPO, "--out", str(w["out"]), "--deb", w["jvb"], "--dbus-next-deb", w["dbus"],
            "--url", "http://repo.example.org/debian"] + list(extra)
    return subprocess.run(argv, env=w["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def signer_of(w):
    """The fingerprint gpgv reports for InRelease, checked against the published jvb-join.asc."""
    keyring = str(w["tmp"] / "trusted.gpg")
    with open(str(w["out"] / "jvb-join.asc"), "rb") as armored:
        key = subprocess.run(["gpg", "--batch", "--dearmor"], stdin=armored, stdout=subprocess.PIPE,
                             check=True, env=w["env"]).stdout
    with open(keyring, "wb") as f:
        f.write(key)
    p = subprocess.run(["gpgv", "--status-fd", "1", "--keyring", keyring, str(w["out"] / "dists/stable/InRelease")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr
    return [l.split()[2] for l in p.stdout.splitlines() if l.startswith("[GNUPG:] VALIDSIG")][0]


def test_a_first_run_makes_a_key_kept_0600_outside_the_repository_and_signs_with_it(work):
    p = make_repo(work)
    assert p.returncode == 0, p.stderr
    assert "making the repository signing key" in p.stderr
    keys = work["home"] / ".local/share/jvb-join/repo-key"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    files = [f for f in keys.rglob("*") if f.is_file()]
    assert any(f.parent.name == "private-keys-v1.d" for f in files)
    assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {oct(0o600)}
    published = sorted(str(f.relative_to(work["out"])) for f in work["out"].rglob("*") if f.is_file())
    assert "jvb-join.asc" in published and "dists/stable/InRelease" in published
    assert not any("private" in f or f.endswith(".key") for f in published)
    assert all(b"PRIVATE KEY" not in (work["out"] / f).read_bytes() for f in published)
    fpr = signer_of(work)
    packages = (work["out"] / "dists/stable/main/binary-amd64/Packages").read_text()
    assert "Package: jvb-join\nVersion: 9.9.9" in packages
    assert "Package: python3-dbus-next\nVersion: 0.2.3-3" in packages
    assert (work["out"] / "jvb-join.sources").read_text() == (
        "Types: deb\nURIs: http://repo.example.org/debian\nSuites: stable\nComponents: main\n"
        "Signed-By: /etc/apt/keyrings/jvb-join.asc\n")
    # the next run signs with the same key: hosts that trust it keep trusting the repository
    p = make_repo(work)
    assert p.returncode == 0, p.stderr
    assert "making the repository signing key" not in p.stderr
    assert signer_of(work) == fpr


def test_the_publishers_key_signs_when_given(work):
    home = work["tmp"] / "publisher"
    home.mkdir(mode=0o700)
    env = dict(work["env"], GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                    "Publisher <p@example.org>", "ed25519", "sign", "never"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listed = subprocess.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env, check=True,
                            stdout=subprocess.PIPE, universal_newlines=True).stdout
    fpr = [l.split(":")[9] for l in listed.splitlines() if l.startswith("fpr:")][0]
    work["env"]["JVB_REPO_KEY"] = fpr
    work["env"]["JVB_REPO_GNUPGHOME"] = str(home)
    p = make_repo(work)
    assert p.returncode == 0, p.stderr
    assert signer_of(work) == fpr
    assert not (work["home"] / ".local/share/jvb-join").exists()
    # a key that is not there is named, and nothing is published
    shutil.rmtree(str(work["out"]))
    work["env"]["JVB_REPO_KEY"] = "0" * 40
    p = make_repo(work)
    assert p.returncode == 1 and "no secret key" in p.stderr
    assert not work["out"].exists()


def test_a_key_home_inside_the_repository_is_refused(work):
    p = make_repo(work, "--gnupghome", str(work["out"] / "keys"))
    assert p.returncode == 1 and "must be outside the repository" in p.stderr
    assert not work["out"].exists()
