"""What lab scenarios share: shell in a host, the lab's Jitsi repository, jicofo's log, waiting,
a server made by `jvb-join server install`, tokens, joins. Import it from a test module:

    from labkit import DOMAIN, install_server, create_token, join, sh, wait_for
"""

import json
import os
import time

DOMAIN = "meet.lab.test"


def lab_releases():
    """The Debian releases the lab prepares (JVB_LAB_RELEASES, default bookworm)."""
    return os.environ.get("JVB_LAB_RELEASES", "bookworm").split()


def sh(lab, host, script, input=None, check=True, timeout=900):
    return lab.exec(host, ["bash", "-euo", "pipefail", "-c", script], input=input, check=check, timeout=timeout)


def repo_args(lab, host):
    _, url, _ = lab.exec(host, ["cat", "/root/lab/jitsi-repo.url"], check=True)
    return ["--jitsi-repo-url", url.strip(), "--jitsi-repo-key", "/root/lab/jitsi-repo.gpg"]


def jicofo_log(lab):
    _, out, _ = lab.exec("jms", ["cat", "/var/log/jitsi/jicofo.log"], check=False)
    return out


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError("timed out after {} s waiting for {}".format(timeout, what))


def managed_hashes(lab, host):
    """Hashes of every file a join manages, plus the bridge unit's restart counters."""
    paths = ["/etc/jitsi/videobridge/jvb.conf", "/etc/jitsi/videobridge/jvb-join.conf",
             "/etc/jitsi/videobridge/logging.properties", "/etc/sysctl.d/60-jvb-join.conf",
             "/etc/apt/sources.list.d/jitsi-stable.sources", "/usr/share/keyrings/jitsi-keyring.gpg",
             "/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/var/lib/jvb-join/bridge.json",
             "/var/lib/jvb-join/nickname"]
    out = {}
    for path in paths:
        rc, data, _ = lab.exec(host, ["sha256sum", path], check=False)
        out[path] = data.split()[0] if rc == 0 else None
    _, show, _ = lab.exec(host, ["systemctl", "show", "jitsi-videobridge2", "-p", "NRestarts",
                                 "-p", "ActiveEnterTimestampMonotonic", "-p", "MainPID"], check=True)
    out["unit"] = show.strip()
    return out


def install_server(lab, *extra):
    """Boot jms, install jvb-join from the lab repository and run `server install` on it."""
    lab.up("jms")
    sh(lab, "jms", "apt-get update -q >/dev/null && apt-get install -y -q jvb-join >/dev/null")
    started = time.monotonic()
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "install", "--domain", DOMAIN] + repo_args(lab, "jms")
                            + list(extra),
                            timeout=1200)
    assert rc == 0, out + err
    print("server install took {:.1f} s".format(time.monotonic() - started))
    return lab


def install_jvb_join(lab, host):
    sh(lab, host, "dpkg -s jvb-join >/dev/null 2>&1 || "
                  "{ apt-get update -q >/dev/null && apt-get install -y -q jvb-join >/dev/null; }")


def nickname(lab, host):
    return json.loads(lab.exec(host, ["cat", "/var/lib/jvb-join/nickname"], check=True)[1])["nickname"]


def create_token(lab, name, allow_from):
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "token", "create", "--name", name, "--host", DOMAIN,
                                    "--allow-from", lab.ip(allow_from)], check=False)
    assert rc == 0, out + err
    return json.loads(out)


def join(lab, host, token, *extra):
    install_jvb_join(lab, host)
    started = time.monotonic()
    rc, out, err = lab.exec(host, ["jvb-join", "--json", "join", "--token-file", "-"] + repo_args(lab, host)
                            + list(extra), input=token + "\n", timeout=1200)
    return rc, out, err, time.monotonic() - started




# Log in with a token's account as a bridge would, over TLS pinned to the token's pin. The token
# comes on stdin; it is read with the clock at 0, as a bridge whose clock was set back would read
# it, so only the server can refuse it.
LOGIN_PROBE = r"""
import sys
from jvbjoin.formats import token
from jvbjoin.xmpp import probe, session
from jvbjoin.errors import JvbJoinError
t = token.decode(sys.stdin.read().strip(), now=0)
try:
    der = probe.verify_pin(t.host, t.port, t.domain, t.pin)
    session.check_login(t.host, t.port, t.domain, t.user, t.password, der)
    print("login-ok")
except JvbJoinError as exc:
    print("refused: {}".format(exc))
"""


def login(lab, host, token_text):
    """``login-ok`` or ``refused: ...`` for a login with the token's own user and password."""
    _, out, err = lab.exec(host, ["python3", "-c", LOGIN_PROBE], input=token_text + "\n", check=False, timeout=120)
    return (out + err).strip()


def install_tools(lab, host, *packages):
    """Debian packages a scenario uses as an operator would (curl, ...), from the lab mirror, if missing."""
    sh(lab, host, "dpkg -s {0} >/dev/null 2>&1 || {{ apt-get update -q >/dev/null && "
                  "apt-get install -y -q {0} >/dev/null; }}".format(" ".join(packages)))


_FETCH = """import json, ssl, sys, urllib.error, urllib.request
class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
ctx = ssl.create_default_context(cafile=sys.argv[2] or None)
if not sys.argv[2]:
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
opener = urllib.request.build_opener(Keep, urllib.request.HTTPSHandler(context=ctx))
try:
    r = opener.open(sys.argv[1], timeout=10)
except urllib.error.HTTPError as e:
    r = e
except OSError as e:
    print(json.dumps({"status": 0, "error": str(e)}))
    sys.exit(0)
print(json.dumps({"status": r.status if hasattr(r, "status") else r.code, "headers": dict(r.headers.items()),
                  "body": r.read().decode("utf-8", "replace")}))
"""


def fetch(lab, host, url, cafile=""):
    """GET ``url`` from inside ``host`` with python3 (in every lab host): {status, headers, body};
    status 0 with an error when nothing answers. No redirects followed; without ``cafile`` any
    certificate is accepted (the page's own checks are the test's business)."""
    _, out, _ = lab.exec(host, ["python3", "-c", _FETCH, url, cafile], check=True, timeout=60)
    return json.loads(out)


def long_scenario():
    """The mark of a slow lab scenario: it runs under `make test-long` (JVB_LAB_LONG=1), not `make test`."""
    import os
    import pytest
    return pytest.mark.skipif(os.environ.get("JVB_LAB_LONG") != "1", reason="a long lab scenario: make test-long")


HAND_PROCEDURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "hand-procedure")


def hand_procedure(lab, host, *extra, **kw):
    """Run the tutorials' hand procedure (scripts/hand-procedure) on host against the server jms,
    fed on stdin as the benchmarks run it. Returns (rc, stdout, stderr); rc 0: jicofo added the bridge."""
    with open(HAND_PROCEDURE) as f:
        script = f.read()
    return lab.exec(host, ["bash", "-s", "--", "--domain", DOMAIN] + list(extra), input=script,
                    timeout=kw.get("timeout", 1200))


# What a failed or refused run must leave exactly as it was: files under /etc and the trust and
# key folders, dpkg's database, debconf, ufw, enabled units. Account files are left out: a package's
# purge removes its user but keeps its group, as the real jitsi-videobridge2 does. So are debconf's
# *-old files: debconf keeps there the previous version of its database at every write.
SNAPSHOT = ("find /etc /var/lib/dpkg /var/cache/debconf /usr/share/keyrings /usr/local/share/ca-certificates "
            "-xdev -type f ! -name 'passwd*' ! -name 'group*' ! -name 'shadow*' ! -name 'gshadow*' ! -name '*.dat-old' "
            "! -path '/var/lib/dpkg/lock*' ! -path '/var/lib/dpkg/triggers/Lock' -print0 2>/dev/null "
            "| sort -z | xargs -0 sha256sum; ufw status verbose; systemctl list-unit-files --state=enabled --no-legend")


def snapshot(lab, host):
    return sh(lab, host, SNAPSHOT)[1]


def doctor_check(lab, host, check_id):
    """One check of ``jvb-join doctor --json`` on ``host``: {id, status, detail, remedy, details, ...}."""
    rc, out, err = lab.exec(host, ["jvb-join", "doctor", "--json"], check=False, timeout=60)
    try:
        report = json.loads(out)
    except ValueError:
        raise AssertionError("doctor on {} printed no JSON (exit {}): {}{}".format(host, rc, out, err))
    found = [c for c in report["checks"] if c["id"] == check_id]
    assert found, "doctor on {} has no check {}: {}".format(host, check_id, [c["id"] for c in report["checks"]])
    return found[0]


def doctor_check_with_fault(lab, host, check_id, inject, undo):
    """That doctor check on ``host`` while the shell script ``inject`` has put a fault in place;
    ``undo`` runs after, whatever happened."""
    sh(lab, host, inject)
    try:
        return doctor_check(lab, host, check_id)
    finally:
        sh(lab, host, undo)


def start_unit(lab, host, unit, attempts=3):
    """``systemctl start unit`` right after a stop. The lab's containers run systemd on a host whose
    PID 1 is not systemd: removing a stopped unit's cgroup fails there ("Failed to kill control
    group ... Input/output error"), and a start soon after can then fail with status=219/CGROUP
    (measured: 2 of 15 immediate stop/start pairs). That is the lab, not what is tested: such a
    start is tried again; any other failure is raised."""
    for attempt in range(attempts):
        rc, out, err = lab.exec(host, ["systemctl", "start", unit])
        if rc == 0:
            return
        journal = lab.exec(host, ["journalctl", "-u", unit, "-n", "20", "--no-pager"])[1]
        if "219/CGROUP" not in journal or attempt == attempts - 1:
            raise AssertionError("systemctl start {} on {} failed: {}\n{}".format(unit, host, err, journal))
        lab.exec(host, ["systemctl", "reset-failed", unit])
        time.sleep(1)
