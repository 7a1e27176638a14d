"""Unattended installs in the lab, with no prompt and no manual step: a server and a bridge from
debconf preseeds, a bridge from the documented #cloud-config at first boot, a golden image's first
boot and a clone of it. During each, /proc/*/cmdline and environ are sampled; afterwards the
token and the password bytes are searched for on the host."""

import json
import os
import re
import sys
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, create_token, install_jvb_join, jicofo_log, nickname, repo_args, sh, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from jvbjoin.token import decode, encode  # noqa: E402

# What the man page tells provisioning tools to run after `apt-get install` of a preseeded jvb-join:
# it waits for the deferred join and fails if the join failed.
WAIT_FOR_PRESEED = ("while systemctl is-active --quiet jvb-join-preseed; do sleep 2; done; "
                    "! systemctl is-failed --quiet jvb-join-preseed")

# The lab's stand-in of download.jitsi.org: the one setting an operator using the default Jitsi
# repository does not need.
def lab_options(lab, host):
    args = repo_args(lab, host)
    sh(lab, host, "install -d -m 0755 /etc/jvb-join && printf 'jitsi-repo-url = %s\\njitsi-repo-key = %s\\n' "
                  "> /etc/jvb-join/options" % (args[1], args[3]))


SAMPLER = r"""
import os, time
seen, samples = set(), 0
out = open("/srv/proc-samples", "a")
while True:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (pid, what), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if data and data not in seen:
                seen.add(data)
                out.write(data.replace(b"\0", b" ").decode("utf-8", "replace") + "\n")
    samples += 1
    out.flush()
    with open("/srv/proc-samples.count", "w") as f:
        f.write(str(samples))
    time.sleep(0.1)
"""


def start_sampler(lab, host):
    sh(lab, host, "rm -f /srv/proc-samples*; systemctl reset-failed lab-sampler 2>/dev/null || true")
    lab.exec(host, ["systemd-run", "--unit=lab-sampler", "python3", "-c", SAMPLER], check=True)


def stop_sampler(lab, host):
    lab.exec(host, ["systemctl", "stop", "lab-sampler"], check=False)
    count = int(lab.exec(host, ["cat", "/srv/proc-samples.count"], check=True)[1])
    return count, lab.exec(host, ["cat", "/srv/proc-samples"], check=True)[1]


def bridge_password(lab, host):
    _, conf, _ = lab.exec(host, ["cat", "/etc/jitsi/videobridge/jvb-join.conf"], check=True)
    return json.loads(re.search(r"^\s*PASSWORD = (\".*\")\s*$", conf, re.M).group(1))


SEARCH = ("grep -rlF -D skip -f /srv/secrets /var/cache/debconf /var/log /etc /run /tmp /root 2>/dev/null; "
          "journalctl -o export | grep -caF -f /srv/secrets || true")


def secret_hits(lab, host, secrets, samples):
    """Files (and the journal) that hold a secret, outside the one root-only file that must."""
    secrets = [s for s in secrets if s]
    assert secrets and all(len(s) >= 12 for s in secrets)
    sh(lab, host, "umask 077; cat > /srv/secrets", input="\n".join(secrets) + "\n")
    _, out, _ = sh(lab, host, SEARCH, check=False)
    sh(lab, host, "rm -f /srv/secrets")
    lines = out.strip().splitlines()
    journal = int(lines.pop()) if lines and lines[-1].isdigit() else -1
    files = [f for f in lines if f != "/etc/jitsi/videobridge/jvb-join.conf"]
    sampled = [s for s in secrets if s in samples]
    return files, journal, sampled


def assert_no_secret_left(lab, host, token):
    count, samples = stop_sampler(lab, host)
    secrets = [token, decode(token).password]
    if lab.exec(host, ["test", "-e", "/etc/jitsi/videobridge/jvb-join.conf"])[0] == 0:
        secrets.append(bridge_password(lab, host))
    files, journal, sampled = secret_hits(lab, host, secrets, samples)
    print("{}: {} /proc samples, {} distinct command lines and environments; secret hits: files {}, "
          "journal {}, /proc {}".format(host, count, len(samples.splitlines()), files, journal, len(sampled)))
    assert count > 50
    assert files == [] and journal == 0 and sampled == []


def in_brewery(lab, host):
    nick = nickname(lab, host)
    wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick) in jicofo_log(lab),
             60, "jicofo to add {}".format(host))
    return nick


def preseed(lab, host, lines):
    sh(lab, host, "debconf-set-selections", input="".join(line + "\n" for line in lines))


@pytest.fixture(scope="module")
def server(lab):
    """The server itself comes from a preseeded role and domain: `apt install jvb-join` installs it."""
    lab.up("jms")
    lab_options(lab, "jms")
    preseed(lab, "jms", ["jvb-join jvb-join/role string server", "jvb-join jvb-join/domain string " + DOMAIN])
    started = time.monotonic()
    rc, out, err = sh(lab, "jms", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "
                                  "apt-get install -y -q jvb-join", check=False)
    assert rc == 0, out + err
    assert "installing the Jitsi Meet server for {} once the package manager has finished".format(DOMAIN) in err
    rc, out, err = sh(lab, "jms", WAIT_FOR_PRESEED, check=False, timeout=1500)
    assert rc == 0, lab.exec("jms", ["journalctl", "-u", "jvb-join-preseed", "--no-pager"])[1]
    print("preseeded server install took {:.1f} s".format(time.monotonic() - started))
    for unit in ("prosody", "jicofo", "nginx"):
        assert lab.exec("jms", ["systemctl", "is-active", unit])[1].strip() == "active", unit
    # The role acted once: it is cleared, so an upgrade does not install again.
    assert "jvb-join/role:" in lab.exec("jms", ["debconf-show", "jvb-join"], check=True)[1]
    assert not re.search(r"jvb-join/role: \S", lab.exec("jms", ["debconf-show", "jvb-join"], check=True)[1])
    yield lab
    lab.down()


def test_preseeded_token_joins_after_apt_and_leaves_no_secret(server):
    lab = server
    lab.up("pre1")
    token = create_token(lab, "preseed", "pre1")["token"]
    lab_options(lab, "pre1")
    start_sampler(lab, "pre1")
    preseed(lab, "pre1", ["jvb-join jvb-join/token password " + token])
    started = time.monotonic()
    rc, out, err = sh(lab, "pre1", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "
                                   "apt-get install -y -q jvb-join", check=False)
    assert rc == 0, out + err
    assert "joining this host as a bridge once the package manager has finished" in err
    rc, _, _ = sh(lab, "pre1", WAIT_FOR_PRESEED, check=False, timeout=1200)
    journal = lab.exec("pre1", ["journalctl", "-u", "jvb-join-preseed", "--no-pager"])[1]
    assert rc == 0, journal
    # It waited for the apt run that installed jvb-join instead of failing on its lock.
    in_brewery(lab, "pre1")
    print("preseeded join: install to brewery {:.1f} s".format(time.monotonic() - started))
    _, shown, _ = lab.exec("pre1", ["debconf-show", "jvb-join"], check=True)
    assert re.search(r"jvb-join/token: *$", shown, re.M) or "jvb-join/token:" not in shown
    assert_no_secret_left(lab, "pre1", token)


def test_a_failed_preseeded_join_is_reported_and_changes_nothing(server):
    lab = server
    lab.up("pre2")
    good = decode(create_token(lab, "badpin", "pre2")["token"])
    fields = {name: getattr(good, name) for name in good.__slots__}
    fields["pin"] = "sha256:" + "0" * 64
    token = encode(type(good)(**fields))
    lab_options(lab, "pre2")
    install_jvb_join(lab, "pre2")
    snapshot = ("find /etc /usr/share/keyrings /usr/local/share/ca-certificates -xdev -type f -print0 "
                "| sort -z | xargs -0 sha256sum; dpkg-query -W -f '${Package} ${Status}\\n'; ufw status verbose")
    before = sh(lab, "pre2", snapshot)[1]
    start_sampler(lab, "pre2")
    preseed(lab, "pre2", ["jvb-join jvb-join/token password " + token])
    rc, out, err = sh(lab, "pre2", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall jvb-join",
                      check=False)
    assert rc == 0, out + err
    rc, _, _ = sh(lab, "pre2", WAIT_FOR_PRESEED, check=False, timeout=600)
    assert rc == 1
    _, status, _ = lab.exec("pre2", ["systemctl", "status", "--no-pager", "-n", "20", "jvb-join-preseed"])
    print(status)
    assert "status=65" in status and "is not the pinned one" in status
    assert lab.exec("pre2", ["systemctl", "is-system-running"])[1].strip() == "degraded"
    assert sh(lab, "pre2", snapshot)[1] == before
    assert_no_secret_left(lab, "pre2", token)
