"""The bridges' repository on the server: when it is stale, which .deb it publishes, and the join
line it gives token create."""

import hashlib
import os

import pytest

from jvbjoin.errors import StepError
from jvbjoin.system.run import Result
from jvbjoin.server import repo

from helpers import write

STATUS = ("Package: jvb-join\nStatus: install ok installed\nVersion: 1.2-1\n\n"
          "Package: python3-dbus-next\nStatus: install ok installed\nVersion: 0.2.3-3\n")


def publish_index(paths, versions):
    base = repo.repo_dir(paths)
    text = "\n".join("Package: {}\nVersion: {}\nArchitecture: all\n".format(n, v) for n, v in versions.items())
    write(os.path.join(base, "dists/stable/main/binary-amd64/Packages"), text)
    write(os.path.join(base, "dists/stable/InRelease"), "signed")
    write(os.path.join(base, "jvb-join.asc"), "KEY")
    os.makedirs(repo.key_home(paths), exist_ok=True)


def test_the_repository_is_stale_until_it_holds_the_installed_versions(paths):
    write(paths.dpkg_status, STATUS)
    assert repo.stale(paths) and not repo.published_here(paths)
    publish_index(paths, {"jvb-join": "1.2-1", "python3-dbus-next": "0.2.3-3"})
    assert not repo.stale(paths) and repo.published_here(paths)
    # the server's jvb-join was upgraded: the repository must follow
    write(paths.dpkg_status, STATUS.replace("1.2-1", "1.3-1"))
    assert repo.stale(paths)


def test_the_join_command_checks_the_published_key_and_uses_the_tokens_host(paths):
    assert repo.join_command(paths, "meet.example.com", "TOKEN") is None
    publish_index(paths, {"jvb-join": "1.2-1"})
    line = repo.join_command(paths, "meet.example.com", "TOKEN")
    assert "SHA256:" + hashlib.sha256(b"KEY").hexdigest() in line
    assert "URIs: http://meet.example.com/jvb-join/debian\\n" in line
    assert repo.repo_url("2001:db8::1") == "http://[2001:db8::1]/jvb-join/debian"


def fake_dpkg_deb(debs):
    """dpkg-deb --field / --info md5sums answered from ``{path: (control, md5sums)}``."""
    def fake(argv, **kw):
        if argv[:2] == ["dpkg-deb", "--field"] and argv[2] in debs:
            return Result(argv, 0, debs[argv[2]][0], "")
        if argv[:2] == ["dpkg-deb", "--info"] and argv[2] in debs:
            return Result(argv, 0, debs[argv[2]][1], "")
        if argv[:2] == ["apt-get", "-q"]:
            return Result(argv, 100, "", "E: Can't find a source to download version '1.2-1' of 'jvb-join:all'")
        raise AssertionError(argv)
    return fake


def test_the_published_deb_is_the_one_dpkg_installed(paths, monkeypatch):
    write(paths("/var/lib/dpkg/info/jvb-join.md5sums"), "aa  usr/bin/jvb-join\n")
    cache = paths(repo.APT_CACHE)
    good, other, changed = (os.path.join(cache, n) for n in (
        "jvb-join_1.2-1_all.deb", "jvb-join_1.1-1_all.deb", "jvb-join_1.2-1+x_all.deb"))
    debs = {good: ("Package: jvb-join\nVersion: 1.2-1\n", "aa  usr/bin/jvb-join\n"),
            other: ("Package: jvb-join\nVersion: 1.1-1\n", "aa  usr/bin/jvb-join\n"),
            changed: ("Package: jvb-join\nVersion: 1.2-1\n", "bb  usr/bin/jvb-join\n")}
    for path in debs:
        write(path, "deb")
    monkeypatch.setattr(repo, "run", fake_dpkg_deb(debs))
    assert repo.find_deb(paths, "jvb-join", "1.2-1", str(paths("/tmp")), lambda line: None) == good
    # only a file whose sums differ: not published; apt-get download is asked, and its failure named
    os.unlink(good)
    os.makedirs(paths("/tmp"), exist_ok=True)
    with pytest.raises(StepError) as err:
        repo.find_deb(paths, "jvb-join", "1.2-1", str(paths("/tmp")), lambda line: None)
    assert "apt-get download jvb-join=1.2-1" in str(err.value) and "Can't find a source" in str(err.value)
