"""Joins on hosts that are not fresh Debian installs: one prepared by hand the 2020 way of the
tutorials, and hosts reached over SSH on a non-default port (classic sshd and socket activation).
Also: the plan of --dry-run is what the join then writes, and after a join every step's check
finds nothing left to do."""

import difflib
import hashlib
import json
import re

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, create_token, jicofo_log, join, nickname, sh, wait_for

BRIDGE_DIR = "/etc/jitsi/videobridge"
BACKUPS = "/var/backups/jvb-join"
LEGACY_NICK = "jvb-hadoly-2"

# --- what the admin wrote in 2020 (tutorials 000, 001 and 004) --------------------------------

# /etc/jitsi/videobridge/config as the 2020 package wrote it (reference §2.1, 2020-09-25 shape).
LEGACY_CONFIG = """# Jitsi Videobridge settings

# sets the XMPP domain (default: none)
JVB_HOSTNAME={domain}

# sets the hostname of the XMPP server (default: domain if set, localhost otherwise)
JVB_HOST=

# sets the port of the XMPP server (default: 5275)
JVB_PORT=5347

# sets the shared secret used to authenticate to the XMPP server
JVB_SECRET=fg4t55z

# extra options to pass to the JVB daemon
JVB_OPTS="--apis=,"

# adds java system props that are passed to jvb (default are for home and logging config file)
JAVA_SYS_PROPS="-Dconfig.file=/etc/jitsi/videobridge/jvb.conf -Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi -Dnet.java.sip.communicator.SC_HOME_DIR_NAME=videobridge -Dnet.java.sip.communicator.SC_LOG_DIR_LOCATION=/var/log/jitsi -Djava.util.logging.config.file=/etc/jitsi/videobridge/logging.properties"
""".format(domain=DOMAIN)

# jvb.conf of 2020 (websockets only) with the admin's colibri websocket id (tutorial 004),
# comments in both HOCON styles, a key this bridge does not know, trailing blanks and a tab.
LEGACY_JVB_CONF = """videobridge {
    http-servers {
        public {
            port = 9090
        }
    }
    websockets {
        enabled = true
        domain = "%s:443"
        tls = true
        # one nginx location per bridge on the server: /colibri-ws/jvb-hadoly-2/ (ops, 2020-04-12)
        server-id = jvb-hadoly-2
    }
    // not read by this version; kept for the next upgrade   \n\tops-ticket = "#4711"
}
""" % DOMAIN

# sip-communicator.properties copied from the server with the nickname changed (tutorial 000
# step 5), DISABLE_CERTIFICATE_VERIFICATION as the tutorials set it, the admin's own comments,
# an old commented-out key, a key no Jitsi program reads and a value continued on a second line.
LEGACY_PROPERTIES = """# Copied from the main server on 2020-04-12, MUC_NICKNAME changed (ticket #4711)
org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES=meet-jit-si-turnrelay.jitsi.net:443
org.jitsi.videobridge.DISABLE_TCP_HARVESTER=true
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.STATISTICS_TRANSPORT=muc
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME={domain}
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.{domain}
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD={{password}}
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.{domain}
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME={nick}
org.jitsi.videobridge.xmpp.user.shard.DISABLE_CERTIFICATE_VERIFICATION=true
#org.jitsi.videobridge.xmpp.user.shard.SECURITY_MODE=disabled
! stats for the munin plugin (tutorial 004)
org.jitsi.videobridge.rest.private.jetty.host=127.0.0.1
org.example.ops.contact = ops@example.org, \\
    noc@example.org
""".format(domain=DOMAIN, nick=LEGACY_NICK)

# The tutorials' hand procedure up to the restart; the JMS's jvb password comes on stdin.
PREPARE_2020 = r"""
read -r SECRET
# sshd moved to a non-default port, as many hardening guides advise
printf 'Port 2200\n' > /etc/ssh/sshd_config.d/port.conf
systemctl restart ssh
# Step 1: the Jitsi repository as a one-line list, its key trusted for every source (apt-key add)
echo "deb $(cat /root/lab/jitsi-repo.url) stable main" >> /etc/apt/sources.list.d/jitsi-stable.list
cp /root/lab/jitsi-repo.gpg /etc/apt/trusted.gpg.d/jitsi-key.gpg
apt-get update -q >/dev/null
# Step 4: the package; its installer asks for the server's domain. (jvb-join, which the
# operator installs later, comes in the same apt run only to save the lab a second one.)
echo "jitsi-videobridge2 jitsi-videobridge/jvb-hostname string %(domain)s" | debconf-set-selections
DEBIAN_FRONTEND=noninteractive apt-get install -y -q jitsi-videobridge2 jvb-join >/dev/null
# Step 5: the admin's files; file logging off (tutorial 004)
cd /etc/jitsi/videobridge
cat > config <<'EOF'
%(config)sEOF
cat > jvb.conf <<'EOF'
%(jvb_conf)sEOF
cat > sip-communicator.properties <<'EOF'
%(properties)sEOF
PROPS=$(<sip-communicator.properties)  # builtins only: the password never goes on a command line
printf '%%s\n' "${PROPS/\{password\}/$SECRET}" > sip-communicator.properties
chown jvb:jitsi config jvb.conf sip-communicator.properties
chmod 640 config jvb.conf sip-communicator.properties
sed -i 's/^java.util.logging.FileHandler.level = ALL$/java.util.logging.FileHandler.level = OFF/' logging.properties
grep -qx 'java.util.logging.FileHandler.level = OFF' logging.properties
# Step 6
systemctl restart jitsi-videobridge2
""" % {"domain": DOMAIN, "config": LEGACY_CONFIG, "jvb_conf": LEGACY_JVB_CONF, "properties": LEGACY_PROPERTIES}

ADMIN_FILES = ["config", "jvb.conf", "sip-communicator.properties", "logging.properties"]
CLIENT_KEY = "org.jitsi.videobridge.xmpp.user."
# A line that switches TLS verification off, not commented out (HOCON, properties, shell).
ACTIVE_TLS_OFF = r"^[[:space:]]*[^#![:space:]/][^#!]*disable[_-]certificate[_-]verification[[:space:]]*[=:][[:space:]]*\"?true"


def read_file(lab, host, path):
    """The exact bytes of a file in a host (None if missing)."""
    try:
        with open(lab.path(host, path), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def log_size(lab, host):
    return len(read_file(lab, host, "/var/log/jitsi/jvb.log") or b"")


def log_since(lab, host, offset):
    return (read_file(lab, host, "/var/log/jitsi/jvb.log") or b"")[offset:].decode("utf-8", "replace")


def backups(lab, host):
    """{original path: backup bytes} of every file under jvb-join's backup folder."""
    _, out, _ = lab.exec(host, ["find", BACKUPS, "-type", "f"], check=False)
    found = {}
    for path in out.split():
        original = "/" + path[len(BACKUPS) + 1:].split("/", 1)[1]  # drop the run folder
        found[original] = read_file(lab, host, path)
    return found


def files_with_tls_off(lab, host):
    return lab.exec(host, ["grep", "-rilE", ACTIVE_TLS_OFF, "/etc"])[1].split()


def assert_include_appended(before, after):
    """jvb.conf after the join: every byte it had, then the one marked include line."""
    added = after[len(before):]
    assert after.startswith(before) and added.startswith(b'include "jvb-join.conf"')
    assert added.count(b"\n") == 1 and added.endswith(b"\n")


def assert_tls_verified(lab, host, log_offset):
    left = files_with_tls_off(lab, host)
    assert left == [], "TLS verification still switched off in: {}".format(left)
    after = log_since(lab, host, log_offset)
    assert "Disabling certificate verification!" not in after
    assert "disableCertificateVerification=false" in after  # the client that runs now verifies


def assert_nothing_left_to_do(lab, host, token):
    """A second --dry-run after the join: every step's check finds nothing to change."""
    rc, out, err, seconds = join(lab, host, token, "--dry-run")
    assert rc in (0, 2), out + err
    plan = json.loads(out)
    pending = [(s["step"], c["summary"]) for s in plan["steps"] for c in s["changes"]]
    assert pending == [] and {s["status"] for s in plan["steps"]} == {"unchanged"}, pending
    print("{}: dry run after the join took {:.1f} s and plans nothing".format(host, seconds))


# --- an SSH session held open through the join ------------------------------------------------

def open_ssh_session(lab, host, port):
    """From jms, an SSH session into host:port that stays open until release_ssh_session; its
    output goes to a file on jms. Returns once the session is up."""
    unit = "ssh-to-{}".format(host)
    lab.exec(host, ["rm", "-f", "/run/session-open", "/run/session-release"], check=True)
    script = ("touch /run/session-open; while [ ! -e /run/session-release ]; do sleep 1; done; "
              "echo alive after the join")
    lab.exec("jms", ["systemd-run", "--unit", unit, "-p", "StandardOutput=file:/root/{}.out".format(unit),
                     "-p", "StandardError=file:/root/{}.err".format(unit),
                     "ssh", "-p", str(port), "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
                     host, script], check=True)
    wait_for(lambda: lab.exec(host, ["test", "-e", "/run/session-open"])[0] == 0, 30,
             "the SSH session into {} on port {}".format(host, port))
    return unit


def release_ssh_session(lab, host, unit):
    """Ends the session from the bridge's side; its last words must come back over the old connection."""
    lab.exec(host, ["touch", "/run/session-release"], check=True)
    out = wait_for(lambda: (lambda t: t if "alive" in t else None)(
        lab.exec("jms", ["cat", "/root/{}.out".format(unit)])[1]), 30, "the SSH session to print alive")
    assert out.strip() == "alive after the join"


def assert_ssh_port_open_and_others_filtered(lab, host, port, status):
    assert "Status: active" in status
    assert re.search(r"^{}/tcp +ALLOW IN +Anywhere".format(port), status, re.M), status
    rc, out, err = lab.exec("jms", ["ssh", "-p", str(port), "-o", "ConnectTimeout=15", host, "echo new login"])
    assert out.strip() == "new login", err
    # ufw really filters: a port nothing listens on is dropped, not refused.
    probe = ("import socket; s = socket.socket(); s.settimeout(3)\n"
             "try:\n    s.connect(('{}', 2399)); print('open')\n"
             "except socket.timeout:\n    print('filtered')\n"
             "except ConnectionRefusedError:\n    print('refused')").format(lab.ip(host))
    assert lab.exec("jms", ["python3", "-c", probe])[1].strip() == "filtered"


# --- the plan against what the join wrote --------------------------------------------------

def plan_files(lab, host, token):
    """The --dry-run plan's file changes {path: change} and each file's bytes before the join."""
    rc, out, err, _ = join(lab, host, token, "--dry-run")
    assert rc in (0, 2), out + err
    plan = json.loads(out)
    files = {c["target"]: c for s in plan["steps"] for c in s["changes"] if c["kind"] == "file"}
    return plan, files, {path: read_file(lab, host, path) for path in files}


def masked_like_the_plan(content, planned_diff, nick):
    """The fragment as the plan shows it: the password hidden, the nickname drawn at the join
    replaced by the pattern the plan showed."""
    hidden = re.search(r'^\+  PASSWORD = (".*")$', planned_diff, re.M).group(1)
    pattern = re.search(r'^\+  MUC_NICKNAME = (".*")$', planned_diff, re.M).group(1)
    content = re.sub(r'(?m)^(  PASSWORD = ).*$', lambda m: m.group(1) + hidden, content.decode())
    return content.replace('"{}"'.format(nick), pattern).encode()


def assert_written_as_planned(lab, host, files, before):
    """The plan's diff of each file against the diff between the file before the join and after:
    - a planned diff must be the same unified diff, byte for byte; a binary file (the keyring)
      the same size and SHA-256; the fragment is compared with its password and random nickname
      masked as the plan masks them (the nickname's random part is drawn at the join: a dry run
      cannot know it);
    - jvb.conf and logging.properties, when the package creates them during the join, have no
      diff in the plan: jvb.conf must then be the package's file (as jvb-join backed it up before
      its edit) plus the include line, and logging.properties the package's conffile, untouched,
      since it already logs as jvb-join wants."""
    nick = nickname(lab, host)
    saved = backups(lab, host)
    for path, change in sorted(files.items()):
        after = read_file(lab, host, path)
        diff = change.get("diff")
        if diff is None and path.endswith("/jvb.conf"):
            assert change["summary"].startswith("add include line")
            assert_include_appended(saved[path], after)
            continue
        if diff is None and path.endswith("/logging.properties"):
            _, conffiles, _ = lab.exec(host, ["dpkg-query", "-W", "-f", "${Conffiles}", "jitsi-videobridge2"])
            assert "{} {}".format(path, hashlib.md5(after).hexdigest()) in conffiles
            continue
        assert diff, "the plan shows no diff for " + path
        if "binary content:" in diff:
            assert diff.endswith("{} bytes, sha256 {}\n".format(len(after), hashlib.sha256(after).hexdigest()))
            continue
        old, new = before[path], after
        if path.endswith("/jvb-join.conf"):
            new = masked_like_the_plan(new, diff, nick)
        written = "".join(difflib.unified_diff(
            [] if old is None else old.decode().splitlines(True), new.decode().splitlines(True),
            path if old is not None else "/dev/null", path))
        assert written == diff, path


# --- the scenarios ----------------------------------------------------------------------------

def test_a_host_prepared_the_2020_way_joins_and_keeps_every_admin_line(server):
    lab = server
    lab.up("jvb1")
    token = create_token(lab, "legacy", "jvb1")  # also lets jvb1 reach 5222
    # The tutorials copy the shared jvb account's password from the server.
    secret = re.search(r'PASSWORD="([^"]+)"', read_file(lab, "jms", BRIDGE_DIR + "/jvb.conf").decode()).group(1)
    sh(lab, "jvb1", PREPARE_2020, input=secret + "\n")
    # As in 2020 it works, with TLS verification off.
    wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, LEGACY_NICK)
             in jicofo_log(lab), 60, "the hand-made bridge in the brewery")
    assert "Disabling certificate verification!" in log_since(lab, "jvb1", 0)
    assert files_with_tls_off(lab, "jvb1") == [BRIDGE_DIR + "/sip-communicator.properties"]
    originals = {name: read_file(lab, "jvb1", BRIDGE_DIR + "/" + name) for name in ADMIN_FILES}
    apt_list = read_file(lab, "jvb1", "/etc/apt/sources.list.d/jitsi-stable.list")
    offset = log_size(lab, "jvb1")
    _, files, before = plan_files(lab, "jvb1", token["token"])
    assert {BRIDGE_DIR + "/jvb.conf", BRIDGE_DIR + "/sip-communicator.properties"} <= set(files)

    session = open_ssh_session(lab, "jvb1", 2200)
    rc, out, err, seconds = join(lab, "jvb1", token["token"])
    assert rc in (0, 2), out + err
    report = json.loads(out)
    assert report["verified"] is True
    print("join of the 2020 host took {:.1f} s".format(seconds))
    release_ssh_session(lab, "jvb1", session)
    assert_ssh_port_open_and_others_filtered(lab, "jvb1", 2200, sh(lab, "jvb1", "ufw status verbose")[1])

    # Every admin line byte for byte: jvb.conf gains one marked line at its end, the client block
    # of the properties file is commented out with the marker, the other files are untouched.
    after = {name: read_file(lab, "jvb1", BRIDGE_DIR + "/" + name) for name in ADMIN_FILES}
    assert_include_appended(originals["jvb.conf"], after["jvb.conf"])
    lines = originals["sip-communicator.properties"].decode().splitlines(True)
    expected = "".join("#jvb-join# " + l if l.startswith(CLIENT_KEY) else l for l in lines)
    assert sum(l.startswith(CLIENT_KEY) for l in lines) == 7
    assert after["sip-communicator.properties"].decode() == expected
    for name in ("config", "logging.properties"):
        assert after[name] == originals[name], name
    assert read_file(lab, "jvb1", "/etc/apt/sources.list.d/jitsi-stable.list") == apt_list
    assert read_file(lab, "jvb1", "/etc/apt/sources.list.d/jitsi-stable.sources") is None  # no second source

    # Backups of what was touched, identical to the originals.
    saved = backups(lab, "jvb1")
    for name in ("jvb.conf", "sip-communicator.properties"):
        assert saved.get(BRIDGE_DIR + "/" + name) == originals[name], name

    assert_written_as_planned(lab, "jvb1", files, before)

    # In the brewery under its own account and nickname, TLS verified.
    nick = nickname(lab, "jvb1")
    wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick)
             in jicofo_log(lab), 30, "jicofo to add the joined bridge")
    assert "Removed brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, LEGACY_NICK) in jicofo_log(lab)
    assert_tls_verified(lab, "jvb1", offset)
    assert_nothing_left_to_do(lab, "jvb1", token["token"])


def test_ssh_through_socket_activation_survives_and_the_plan_is_what_the_join_writes(server):
    """A fresh host whose sshd is socket-activated on port 2222; its plan is compared with what
    the join writes (see assert_written_as_planned)."""
    lab = server
    lab.up("jvb2")
    sh(lab, "jvb2", "mkdir -p /etc/systemd/system/ssh.socket.d; "
                    "printf '[Socket]\\nListenStream=\\nListenStream=2222\\n' > /etc/systemd/system/ssh.socket.d/port.conf; "
                    "systemctl daemon-reload; systemctl disable --now ssh.service 2>/dev/null; "
                    "systemctl enable --now ssh.socket 2>/dev/null")
    token = create_token(lab, "fresh", "jvb2")
    plan, files, before = plan_files(lab, "jvb2", token["token"])
    firewall = [c["target"] for s in plan["steps"] if s["step"] == "firewall" for c in s["changes"]]
    assert firewall == ["2222/tcp", "10000/udp", "ufw"]
    assert set(files) >= {"/etc/jitsi/videobridge/jvb-join.conf", "/etc/jitsi/videobridge/jvb.conf",
                          "/etc/apt/sources.list.d/jitsi-stable.sources", "/usr/share/keyrings/jitsi-keyring.gpg",
                          "/etc/sysctl.d/60-jvb-join.conf"}

    session = open_ssh_session(lab, "jvb2", 2222)
    rc, out, err, seconds = join(lab, "jvb2", token["token"])
    assert rc in (0, 2), out + err
    assert json.loads(out)["verified"] is True
    print("join of a fresh host took {:.1f} s".format(seconds))
    release_ssh_session(lab, "jvb2", session)
    status = sh(lab, "jvb2", "ufw status verbose")[1]
    assert_ssh_port_open_and_others_filtered(lab, "jvb2", 2222, status)
    assert re.search(r"^10000/udp +ALLOW IN +Anywhere", status, re.M)

    assert_written_as_planned(lab, "jvb2", files, before)
    offset = log_size(lab, "jvb2")
    assert_nothing_left_to_do(lab, "jvb2", token["token"])
    rc, out, err, seconds = join(lab, "jvb2", token["token"])
    assert rc in (0, 2) and json.loads(out)["changed"] == 0, out + err
    print("no-op re-run took {:.1f} s".format(seconds))
    assert log_since(lab, "jvb2", offset).count("Starting jitsi-videobridge") == 0  # not restarted
