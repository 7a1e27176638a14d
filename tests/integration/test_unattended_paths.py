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

from jvbjoin.formats.token import decode, encode  # noqa: E402

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
    with open("/srv/proc-samples.count.tmp", "w") as f:
        f.write(str(samples))
    os.replace("/srv/proc-samples.count.tmp", "/srv/proc-samples.count")
    time.sleep(0.1)
"""


def start_sampler(lab, host, at_boot=False):
    """Sample from now on, or (at_boot) from early in the next boot, before cloud-init and the
    first-boot unit. The unit stays enabled, so a clone of the host samples from its boot too."""
    sh(lab, host, "mkdir -p /srv && cat > /srv/sampler.py && cat > /etc/systemd/system/lab-sampler.service <<'UNIT'\n"
                  "[Unit]\nDescription=lab: sample command lines and environments\nDefaultDependencies=no\n"
                  "After=local-fs.target\nConflicts=shutdown.target\n"
                  "Before=shutdown.target cloud-init-local.service jvb-join-firstboot.service\n"
                  "[Service]\nExecStart=/usr/bin/python3 /srv/sampler.py\n"
                  "[Install]\nWantedBy=sysinit.target\nUNIT\n"
                  "systemctl daemon-reload && systemctl enable -q lab-sampler && systemctl stop lab-sampler && "
                  "rm -f /srv/proc-samples /srv/proc-samples.count", input=SAMPLER)
    if not at_boot:
        lab.exec(host, ["systemctl", "start", "lab-sampler"], check=True)


def stop_sampler(lab, host):
    lab.exec(host, ["systemctl", "stop", "lab-sampler"], check=False)
    count = int(lab.exec(host, ["cat", "/srv/proc-samples.count"], check=True)[1])
    return count, lab.exec(host, ["cat", "/srv/proc-samples"], check=True)[1]


def bridge_password(lab, host):
    _, conf, _ = lab.exec(host, ["cat", "/etc/jitsi/videobridge/jvb-join.conf"], check=True)
    return json.loads(re.search(r"^\s*PASSWORD = (\".*\")\s*$", conf, re.M).group(1))


SEARCH = ("grep -rlF -D skip -f /srv/secrets /var/cache/debconf /var/log /etc /run /tmp /root 2>/dev/null || true; "
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
    assert count > 10  # about 10 a second while the run lasted
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
    assert "installing the Jitsi Meet server for {} once the package manager has finished".format(DOMAIN) in out + err
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
    assert "joining this host as a bridge once the package manager has finished" in out + err
    rc, _, _ = sh(lab, "pre1", WAIT_FOR_PRESEED, check=False, timeout=1200)
    journal = lab.exec("pre1", ["journalctl", "-u", "jvb-join-preseed", "--no-pager"])[1]
    assert rc == 0, journal
    # It waited for the apt run that installed jvb-join instead of failing on its lock.
    assert re.search(r"waiting for the dpkg lock, held by .*apt-get", journal), journal
    in_brewery(lab, "pre1")
    print("preseeded join: install to brewery {:.1f} s".format(time.monotonic() - started))
    _, value, _ = lab.exec("pre1", ["debconf-communicate", "jvb-join"], input="GET jvb-join/token\n", check=True)
    assert value.strip() == "0"  # the question is there, with an empty value
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
    start_sampler(lab, "pre2")
    before = sh(lab, "pre2", snapshot)[1]
    preseed(lab, "pre2", ["jvb-join jvb-join/token password " + token])
    rc, out, err = sh(lab, "pre2", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall jvb-join",
                      check=False)
    assert rc == 0, out + err
    rc, _, _ = sh(lab, "pre2", WAIT_FOR_PRESEED, check=False, timeout=600)
    assert rc == 1
    _, status, _ = lab.exec("pre2", ["systemctl", "status", "--no-pager", "-n", "20", "jvb-join-preseed"])
    print(status)
    assert "status=65" in status and "does not match the token" in status
    assert lab.exec("pre2", ["systemctl", "is-system-running"])[1].strip() == "degraded"
    assert sh(lab, "pre2", snapshot)[1] == before
    assert_no_secret_left(lab, "pre2", token)


def put_first_boot_token(lab, host, token):
    sh(lab, host, "install -d -m 0755 /etc/jvb-join && umask 077 && cat > /etc/jvb-join/token", input=token + "\n")


def removed_count(lab, nick):
    return jicofo_log(lab).count("Removed brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick))


def test_golden_image_joins_at_first_boot_and_a_clone_does_not_fight_it(server):
    lab = server
    lab.up("gold")
    lab_options(lab, "gold")
    install_jvb_join(lab, "gold")
    # Installed and enabled, but it does nothing without a token.
    assert lab.exec("gold", ["systemctl", "is-enabled", "jvb-join-firstboot"])[1].strip() == "enabled"
    _, show, _ = lab.exec("gold", ["systemctl", "show", "-p", "ConditionResult", "jvb-join-firstboot"], check=True)
    assert show.strip() == "ConditionResult=no"
    token = create_token(lab, "gold", "gold")["token"]
    put_first_boot_token(lab, "gold", token)
    start_sampler(lab, "gold", at_boot=True)
    lab.stop("gold")
    started = time.monotonic()
    lab.start("gold", timeout=1200)  # booting ends when the first-boot join has ended
    gold = in_brewery(lab, "gold")
    print("golden image: boot to brewery {:.1f} s".format(time.monotonic() - started))
    assert lab.exec("gold", ["test", "-e", "/etc/jvb-join/token"])[0] == 1
    _, journal, _ = lab.exec("gold", ["journalctl", "-b", "-u", "jvb-join-firstboot", "--no-pager"], check=True)
    assert re.search(r"jvb-join firstboot: this host joined( \(degraded, see above\))?; the token file was deleted",
                     journal), journal
    assert_no_secret_left(lab, "gold", token)

    # The image of a joined host, copied to a new host: new machine-id, same files.
    gold_id = lab.exec("gold", ["cat", "/etc/machine-id"], check=True)[1]
    lab.stop("gold")
    lab.clone("gold", "clone", timeout=300)
    lab.start("gold")
    wait_for(lambda: jicofo_log(lab).count("Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(
        DOMAIN, gold)) >= 2, 60, "the original back in the brewery")
    removed = removed_count(lab, gold)
    assert lab.exec("clone", ["cat", "/etc/machine-id"], check=True)[1] != gold_id
    assert lab.exec("clone", ["cat", "/var/lib/jvb-join/nickname"], check=True)[1].count(gold) == 1
    # The clone's bridge does not start with the original's account and nickname.
    _, show, _ = lab.exec("clone", ["systemctl", "show", "-p", "ConditionResult", "-p", "ActiveState",
                                    "jitsi-videobridge2"], check=True)
    assert "ConditionResult=no" in show and "ActiveState=inactive" in show, show
    # Given a token of its own, the clone joins as itself; the original stays in the brewery.
    token = create_token(lab, "clone", "clone")["token"]
    start_sampler(lab, "clone")
    put_first_boot_token(lab, "clone", token)
    started = time.monotonic()
    rc, out, err = lab.exec("clone", ["systemctl", "start", "jvb-join-firstboot"], timeout=1200)
    assert rc == 0, lab.exec("clone", ["journalctl", "-u", "jvb-join-firstboot", "--no-pager"])[1]
    clone = in_brewery(lab, "clone")
    print("clone: token to brewery {:.1f} s".format(time.monotonic() - started))
    assert clone != gold
    time.sleep(10)
    assert removed_count(lab, gold) == removed
    assert_no_secret_left(lab, "clone", token)


def armored(key):
    """An OpenPGP key in ASCII armor (RFC 4880 §6), as repositories publish theirs."""
    import base64
    crc = 0xB704CE
    for byte in bytearray(key):
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    body = base64.b64encode(key).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    check = base64.b64encode(bytes([(crc >> 16) & 255, (crc >> 8) & 255, crc & 255])).decode()
    return "\n".join(["-----BEGIN PGP PUBLIC KEY BLOCK-----", ""] + lines + ["=" + check,
                                                                             "-----END PGP PUBLIC KEY BLOCK-----"]) + "\n"


def lab_user_data(lab, host, token):
    """docs/cloud-init.yaml with the lab's repositories, keys and token in place of the operator's."""
    import yaml
    with open(os.path.join(ROOT, "docs", "cloud-init.yaml")) as handle:
        text = handle.read()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    jitsi_url = repo_args(lab, host)[1]
    keys = {"/etc/apt/keyrings/jvb-join.asc": lab.path(host, "/etc/apt/keyrings/jvb-join-lab.gpg"),
            "/etc/apt/keyrings/jitsi.asc": lab.path(host, "/root/lab/jitsi-repo.gpg")}
    for entry in doc["write_files"]:
        if entry["path"] == "/etc/jvb-join/token":
            assert entry["content"] == "JOIN_TOKEN\n" and entry["permissions"] == "0600"
            entry["content"] = token + "\n"
            continue
        with open(keys.pop(entry["path"]), "rb") as handle:
            entry["content"] = armored(handle.read())
    assert keys == {}
    sources = doc["apt"]["sources"]
    sources["jvb-join.list"]["source"] = sources["jvb-join.list"]["source"].replace(
        "https://jvb-join.example.org/debian", lab.repo_url + "/jvb-join")
    sources["jitsi.list"]["source"] = sources["jitsi.list"]["source"].replace(
        "https://download.jitsi.org stable/", jitsi_url + " stable main")
    assert doc["packages"] == ["jvb-join"] and doc["runcmd"] == [["systemctl", "start", "jvb-join-firstboot.service"]]
    assert "JOIN_TOKEN" not in yaml.safe_dump(doc)
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False)


def test_cloud_init_document_joins_the_bridge_at_first_boot(server):
    lab = server
    lab.up("cinit")
    # The image: Debian with cloud-init, no jvb-join, no jvb-join source (the document adds it).
    sh(lab, "cinit", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "
                     "apt-get install -y -q cloud-init >/dev/null && rm /etc/apt/sources.list.d/jvb-join.sources")
    # lab image settings: the seed is local, the lab sets the address, only C.UTF-8 is generated
    sh(lab, "cinit", "printf 'datasource_list: [NoCloud, None]\\nnetwork: {config: disabled}\\nlocale: C.UTF-8\\n' "
                     "> /etc/cloud/cloud.cfg.d/99-lab.cfg && cloud-init clean --logs")
    lab_options(lab, "cinit")
    token = create_token(lab, "cloud", "cinit")["token"]
    user_data = lab_user_data(lab, "cinit", token)
    sh(lab, "cinit", "install -d -m 0700 /var/lib/cloud/seed/nocloud && cd /var/lib/cloud/seed/nocloud && "
                     "umask 077 && cat > user-data && printf 'instance-id: lab-cinit-1\\n' > meta-data",
       input=user_data)
    start_sampler(lab, "cinit", at_boot=True)
    lab.stop("cinit")
    started = time.monotonic()
    lab.start("cinit", timeout=600)
    booted = time.monotonic() - started
    # The boot ends with the document's runcmd, which ends with the join.
    _, journal, _ = lab.exec("cinit", ["journalctl", "-u", "jvb-join-firstboot", "--no-pager"], check=True)
    assert "jvb-join firstboot: this host joined" in journal, journal
    in_brewery(lab, "cinit")
    print("cloud-init: boot {:.1f} s, boot to brewery {:.1f} s".format(booted, time.monotonic() - started))
    rc, out, _ = lab.exec("cinit", ["cloud-init", "status", "--long"])
    assert "status: done" in out, out
    sh(lab, "cinit", "rm -rf /var/lib/cloud/seed")  # the lab's seed; a cloud serves it instead
    # cloud-init keeps the user-data it ran (root only), as it does on every cloud: said in the document.
    _, kept, _ = sh(lab, "cinit", "grep -rlF -f /dev/stdin /var/lib/cloud || true", input=token + "\n")
    print("cloud-init's own copies of the user-data: " + " ".join(kept.split()))
    assert_no_secret_left(lab, "cinit", token)
