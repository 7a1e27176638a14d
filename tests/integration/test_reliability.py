"""Reliability and secrets in the lab: a join SIGKILLed at random moments converges on the next run,
and no token or password shows up in any process's command line or environment, in logs, debconf,
history, temporary or backup folders, on the bridge or on the server.

JVB_LAB_KILLS (default 1; `make test-long` uses more) sets how many fresh hosts get two kills each.
"""

import base64
import json
import os
import random
import re
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import (DOMAIN, create_token, install_jvb_join, install_server, jicofo_log, long_scenario, nickname,
                    repo_args, sh, wait_for)

# Folders where a join writes; no file in them may be empty or a leftover temporary file.
WRITTEN = "/etc/jitsi /var/lib/jvb-join /etc/apt/sources.list.d /usr/share/keyrings " \
          "/usr/local/share/ca-certificates /etc/sysctl.d /etc/ufw /etc/default"

# Reads every process's command line and environment as often as it can, keeps what it saw in a
# root-only file; the secrets are searched for afterwards, outside, so they are never given to it.
SAMPLER = r"""
import os, time
seen, samples = set(), 0
while not os.path.exists('/root/sampler.stop'):
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            for what in ('cmdline', 'environ'):
                try:
                    with open('/proc/%s/%s' % (pid, what), 'rb') as f:
                        seen.add(f.read())
                except OSError:
                    pass
    samples += 1
    time.sleep(0.002)
fd = os.open('/root/sampler.out', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b'%d\n' % samples + b'\n--\n'.join(sorted(seen)))
os.close(fd)
"""

SEARCHED = ("/var/log /var/cache/debconf /root/.bash_history /tmp /var/tmp /run /var/backups "
            "/etc/systemd /var/lib/jvb-join")


@pytest.fixture(scope="module")
def server(lab):
    # The server's process sampler runs from before `server install` to the end of the secrets test.
    lab.up("jms")
    start_sampler(lab, "jms")
    yield install_server(lab)
    lab.down()


def join_argv(lab, host, *extra):
    return ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host) + list(extra)


def no_torn_files(lab, host):
    rc, out, _ = lab.exec(host, ["bash", "-c", "find {} -xdev -type f \\( -empty -o -name '.jvb-join-tmp.*' \\) "
                                               "2>/dev/null; true".format(WRITTEN)])
    return out.split()


# make test kills joins at random points in tests/unit/test_crash.py (real processes, every step);
# these rounds on fresh lab hosts add apt's and dpkg's own state and run in make test-long.
@long_scenario()
def test_join_killed_at_random_moments_converges_on_the_next_run(server):
    """Each round: a fresh bridge host, a kill during the join, another during its re-run, then a
    run that must finish the join. Every other kill takes jvb-join alone (its apt-get or dpkg
    children run on, as after an OOM kill); the others take its whole process group (a dropped
    SSH session)."""
    lab = server
    rounds = int(os.environ.get("JVB_LAB_KILLS", "1"))
    seed = int(os.environ.get("JVB_LAB_KILL_SEED", "6"))
    # a join from scratch takes 6-8 s on a quiet machine (apt installs Java and the bridge from
    # about 0.3 s to 5 s), more under load: the first kill lands in its first 4 s
    clean_join = float(os.environ.get("JVB_LAB_JOIN_SECONDS", "4"))
    rng = random.Random(seed)
    outcomes, landed = [], 0
    for r in range(rounds):
        host = "jvbk{}".format(r)
        lab.up(host)
        install_jvb_join(lab, host)
        token = create_token(lab, "killed{}".format(r), host)["token"]
        empty_before = set(no_torn_files(lab, host))
        for k, after in enumerate((rng.uniform(0.5, clean_join), rng.uniform(0.3, 5.0))):
            after = round(after, 1)
            alone = ["--foreground"] if (r + k) % 2 else []
            rc, out, err = lab.exec(host, ["timeout", "-s", "KILL"] + alone + [str(after)] + join_argv(lab, host),
                                    input=token + "\n", timeout=1200)
            killed = rc in (137, -9)  # timeout's own code, or timeout killed along with its group
            landed += killed
            assert killed or k, "the first kill of {} ({} s) came after the join had ended".format(host, after)
            outcomes.append((host, after, "alone" if alone else "group", "killed" if killed else rc))
            # A killed run may leave a temporary file (the next run removes it), never an empty one.
            left = [p for p in no_torn_files(lab, host) if p not in empty_before and ".jvb-join-tmp." not in p]
            assert not left, "after a kill at {} s: empty files {}".format(after, left)
            repaired = not killed and repaired_dpkg(lab, host, rc, out)
            if repaired:
                outcomes.append((host, "ran, as the error said: " + repaired))
            elif not killed:
                assert rc in (0, 2), "{}: run ended {}: {}{}".format(host, rc, out, err)
        started = time.monotonic()
        rc, out, err = lab.exec(host, join_argv(lab, host), input=token + "\n", timeout=1200)
        repaired = repaired_dpkg(lab, host, rc, out)
        if repaired:
            outcomes.append((host, "ran, as the error said: " + repaired))
            rc, out, err = lab.exec(host, join_argv(lab, host), input=token + "\n", timeout=1200)
        assert rc in (0, 2), out + err
        assert json.loads(out)["verified"] is True
        print("{}: converging run took {:.1f} s".format(host, time.monotonic() - started))
        nick = nickname(lab, host)
        wait_for(lambda: "Added brewery instance: jvbbrewery@internal.auth.{}/{}".format(DOMAIN, nick)
                 in jicofo_log(lab), 60, "jicofo to add {}".format(host))
        assert [p for p in no_torn_files(lab, host) if p not in empty_before] == []
        assert sh(lab, host, "dpkg --audit; test ! -e /var/lib/jvb-join/restart-pending && echo no-pending")[1] \
            .strip() == "no-pending"
        # No hold on the bridge's start is left: no runtime mask, no marker, the unit enabled.
        assert sh(lab, host, "ls /run/systemd/system/jitsi-videobridge2.service /run/jvb-join/bridge-start-hold "
                  "2>/dev/null || true; systemctl is-enabled jitsi-videobridge2")[1].strip() == "enabled"
        # Converged means a further run has nothing left to do.
        rc, out, err = lab.exec(host, join_argv(lab, host), input=token + "\n", timeout=1200)
        assert rc in (0, 2) and json.loads(out)["changed"] == 0, out + err
        lab.stop(host)
    print("kills (host, seconds, whom, outcome): {}".format(outcomes))
    print("{} of {} kills landed during a run; {} of {} hosts converged (seed {})".format(
        landed, 2 * rounds, rounds, rounds, seed))


def repaired_dpkg(lab, host, rc, out):
    """A kill of the whole group can stop dpkg half way: jvb-join then refuses (1) with the commands
    that repair dpkg as it was left, which the operator runs as printed; those commands, or None.
    The run after them shows whether they were the right ones."""
    if rc != 1:
        return None
    error = json.loads(out)["error"]
    if error["id"] != "dpkg-interrupted":
        return None
    commands = [c for c in re.findall(r"'([^']+)'", error["remedy"]) if c.startswith(("dpkg ", "apt-get "))]
    assert commands, error["remedy"]
    script = "; ".join(c.replace("apt-get ", "apt-get -y -q ", 1) + " >/dev/null 2>&1" for c in commands)
    sh(lab, host, "export DEBIAN_FRONTEND=noninteractive; " + script + "; true")
    return "; ".join(commands)


def token_secrets(token):
    """The token and the account password inside it (the token's middle part is base64url JSON)."""
    body = token.split(".")[1]
    fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode())
    return {"token": token, "token password": fields["password"]}


def start_sampler(lab, host):
    sh(lab, host, "rm -f /root/sampler.stop /root/sampler.out; cat > /root/sampler.py", input=SAMPLER)
    lab.exec(host, ["systemd-run", "--unit=secret-sampler", "--collect", "python3", "/root/sampler.py"], check=True)


def stop_sampler(lab, host):
    lab.exec(host, ["touch", "/root/sampler.stop"], check=True)
    wait_for(lambda: lab.exec(host, ["test", "-s", "/root/sampler.out"])[0] == 0, 60, "the sampler's output")
    rc, out, _ = lab.exec(host, ["base64", "-w0", "/root/sampler.out"], check=True)
    data = base64.b64decode(out)
    samples, _, seen = data.partition(b"\n")
    sh(lab, host, "rm -f /root/sampler.out /root/sampler.py /root/sampler.stop")
    return int(samples), seen


def search_files(lab, host, secrets, extra=""):
    """Hits of each secret under the searched folders, the journal and world-readable files."""
    hits = {}
    script = ("journalctl -o export --no-pager > /root/journal.export 2>/dev/null || true; "
              "{{ echo /root/journal.export; find {} {} -xdev -type f; "
              "find /etc /var /srv /opt /home -xdev -type f -perm -o=r; }} 2>/dev/null | sort -u | tr '\\n' '\\0' "
              "| xargs -0 -r grep -lF -f /root/secrets.txt 2>/dev/null || true; "
              "rm -f /root/secrets.txt /root/journal.export")
    for name, secret in secrets.items():
        sh(lab, host, "umask 077; cat > /root/secrets.txt", input=secret + "\n")
        out = sh(lab, host, script.format(SEARCHED, extra), timeout=600)[1].split()
        hits[name] = [p for p in out if p != "/root/secrets.txt"]
    return hits


def test_no_secret_in_processes_logs_debconf_history_temp_or_backups(server):
    lab = server
    lab.up("jvbs")
    install_jvb_join(lab, "jvbs")
    start_sampler(lab, "jvbs")
    token = create_token(lab, "sampled", "jvbs")["token"]
    rc, out, err = lab.exec("jvbs", join_argv(lab, "jvbs"), input=token + "\n", timeout=1200)
    assert rc in (0, 2), out + err
    samples = {host: stop_sampler(lab, host) for host in ("jms", "jvbs")}
    secrets = token_secrets(token)
    fragment = lab.exec("jvbs", ["cat", "/etc/jitsi/videobridge/jvb-join.conf"], check=True)[1]
    secrets["bridge password"] = json.loads(re.search(r'PASSWORD\s*=\s*("[^"]*")', fragment).group(1))
    # The bridge secret server install generates for the packages: in debconf's root-only
    # passwords.dat (where the packages keep it), never on a command line or in an environment.
    jvbsecret = sh(lab, "jms", "sed -n '/^Name: jitsi-videobridge\\/jvbsecret$/,/^$/s/^Value: //p' "
                               "/var/cache/debconf/passwords.dat")[1].strip()
    assert len(jvbsecret) >= 16
    assert jvbsecret.encode() not in samples["jms"][1]
    for host, (count, seen) in samples.items():
        # The sampler really saw the run: jvb-join's own processes are in what it kept.
        assert b"jvb-join" in seen, host
        assert count > 50, (host, count)
        for name, secret in secrets.items():
            assert secret.encode() not in seen, "{} in a process's cmdline or environ on {}".format(name, host)
            piece = secret[len(secret) // 2:][:12]  # the token's start is the same in every token
            assert piece.encode() not in seen, "part of the {} seen on {}".format(name, host)
    print("samples of /proc/*/cmdline and environ: " + ", ".join(
        "{} {} ({} distinct)".format(h, c, len(s.split(b"\n--\n"))) for h, (c, s) in samples.items()))
    hits = {host: search_files(lab, host, secrets) for host in ("jms", "jvbs")}
    # The one designated place: the bridge's own config fragment (root:jitsi 0640) holds its password.
    mode = lab.exec("jvbs", ["stat", "-c", "%a %U:%G", "/etc/jitsi/videobridge/jvb-join.conf"], check=True)[1].strip()
    assert mode == "640 root:jitsi"
    print("secret hits: {}".format(hits))
    assert hits == {host: {name: [] for name in secrets} for host in ("jms", "jvbs")}
