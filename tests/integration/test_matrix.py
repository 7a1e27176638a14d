"""The join scenario on every release in JVB_LAB_RELEASES (`make test-matrix`: Debian 11, 12, 13):
a server made by `jvb-join server install` where jvb-join supports the server role on that release
(Debian 12 otherwise), a bridge on the release joined from a token and seen in jicofo's brewery.
Releases where a role is not supported must be refused with a clear message (exit 64) that names the
override, and never half-installed."""

import time

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.matrix]

from labkit import (DOMAIN, create_token, install_jvb_join, install_server, jicofo_log, join, lab_releases, nickname,
                    repo_args, sh, wait_for)

# The README's support table: where `jvb-join server install` runs (prosody >= 0.12 in the archive).
SERVER_RELEASES = ("bookworm", "trixie")
RELEASE_NAMES = {"bullseye": "Debian GNU/Linux 11", "bookworm": "Debian GNU/Linux 12", "trixie": "Debian GNU/Linux 13"}
# Debian releases whose archive has no python3-dbus-next (Debian 10's is out of the lab's reach)
LACKS_DBUS_NEXT = ("bullseye",)
PACKAGES = "dpkg-query -W -f '${Package} ${Status}\\n' | sort"


def wait_in_brewery(lab, nick):
    wanted = "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick)
    wait_for(lambda: wanted in jicofo_log(lab), 60, "jicofo to add " + nick)


def dbus_next_source(lab, host):
    """Where apt took python3-dbus-next from: the repository `make repo` built (the lab's jvb-join
    repository) on a release whose archive lacks it, the release's own archive elsewhere."""
    policy = sh(lab, host, "apt-cache policy python3-dbus-next")[1]
    installed = [l.split()[-1] for l in policy.splitlines() if l.strip().startswith("Installed:")][0]
    table = policy.split("Version table:", 1)[1]
    urls, current = {}, None
    for line in table.splitlines():
        words = line.replace("***", "").split()
        if len(words) == 2 and words[1].isdigit():    # " *** 0.2.3-3 500": a version
            current = words[0]
        elif current and len(words) >= 3 and words[1].startswith("http"):
            urls.setdefault(current, []).append(words[1])
    return installed, urls.get(installed, [])


@pytest.fixture
def matrix_only(request):
    """The matrix is slow (a server per release): only `make test-matrix` (pytest -m matrix) runs it."""
    if "matrix" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the release matrix runs with `make test-matrix`")


@pytest.mark.parametrize("release", lab_releases())
def test_join_scenario_on(matrix_only, lab, release):
    lab.down()
    server_release = release if release in SERVER_RELEASES else "bookworm"
    bridge = "m-" + release
    lab.up("jms", release=server_release)
    started = time.monotonic()
    install_server(lab)
    server_seconds = time.monotonic() - started
    lab.up(bridge, release=release)
    token = create_token(lab, bridge, bridge)
    rc, out, err, seconds = join(lab, bridge, token["token"])
    assert rc in (0, 2), out + err
    nick = nickname(lab, bridge)
    wait_in_brewery(lab, nick)
    java = sh(lab, bridge, "readlink -f \"$(command -v java)\"")[1].strip()
    # jvb-join came with apt alone from the repository `make repo` builds, dbus-next with it where
    # the release's archive has none (Debian 11)
    dbus_next, urls = dbus_next_source(lab, bridge)
    repo = lab.repo_url + "/jvb-join"
    assert urls, dbus_next
    if release in LACKS_DBUS_NEXT:
        assert urls == [repo], (dbus_next, urls)
    else:
        assert any(u == lab.repo_url + "/debian" for u in urls), (dbus_next, urls)
    print("{}: server on {} installed in {:.1f} s; bridge joined in {:.1f} s; java {}; python3-dbus-next {} "
          "from {}".format(release, server_release, server_seconds, seconds, java, dbus_next, " ".join(urls)))


@pytest.mark.parametrize("release", [r for r in lab_releases() if r not in SERVER_RELEASES])
def test_server_install_refuses_an_unsupported_release(matrix_only, lab, release):
    host = "s-" + release
    lab.up(host, release=release)
    install_jvb_join(lab, host)
    before = sh(lab, host, PACKAGES)[1]
    rc, out, err = lab.exec(host, ["jvb-join", "server", "install", "--domain", DOMAIN] + repo_args(lab, host),
                            timeout=600)
    assert rc == 64, out + err
    assert "{} is not a release jvb-join supports as a server".format(RELEASE_NAMES[release]) in err
    assert "prosody" in err and "--allow-unsupported-release" in err
    assert sh(lab, host, PACKAGES)[1] == before


def test_a_bridge_on_an_unsupported_release_is_refused_then_joins_with_the_override(matrix_only, lab):
    """A host that says it is Debian 9: refused before anything changes (exit 64, the override named);
    with --allow-unsupported-release the join goes on and ends degraded (exit 2), in the brewery."""
    if lab.hosts().get("jms", {}).get("release") != "bookworm":
        # The bridge stand-in on Debian 12 (slixmpp 1.8) cannot log in to prosody 13 (stand-ins README).
        lab.down()
        install_server(lab)
    host = "m-stretch"
    lab.up(host)
    sh(lab, host, "sed -i 's/^VERSION_ID=.*/VERSION_ID=\"9\"/' /etc/os-release")
    token = create_token(lab, host, host)
    install_jvb_join(lab, host)
    before = sh(lab, host, PACKAGES + "; ls /etc/apt/sources.list.d")[1]
    rc, out, err, _ = join(lab, host, token["token"])
    assert rc == 64, out + err
    assert "Debian GNU/Linux 9 is not a release jvb-join supports as a bridge" in err
    assert "--allow-unsupported-release" in err
    assert sh(lab, host, PACKAGES + "; ls /etc/apt/sources.list.d")[1] == before
    rc, out, err, _ = join(lab, host, token["token"], "--allow-unsupported-release")
    assert rc == 2, out + err
    assert "running on debian 9, which jvb-join does not support as a bridge" in out
    nick = nickname(lab, host)
    wait_in_brewery(lab, nick)
