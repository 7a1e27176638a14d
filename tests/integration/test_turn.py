"""`jvb-join server turn` in the lab, the Hadoly way: coturn on 443 on its own name and address, no
nginx in front. A client gets time-limited credentials from prosody (XEP-0215, as the web client
does) and allocates a relay from a bridge host with coturn's own turnutils_uclient; credentials
made from another secret are refused; a relay towards the lab's own range is refused (the Hadoly
denied peer ranges hold 198.18.0.0/15, which the lab network is in).

One server for every scenario here; later modules get fresh hosts of the same names.
"""

import base64
import hashlib
import hmac
import json
import os
import time

import pytest

from labkit import DOMAIN, install_server, install_tools, sh

pytestmark = pytest.mark.lab

TURN = "turn." + DOMAIN
CERT, KEY = "/etc/ssl/turn.crt", "/etc/ssl/private/turn.key"
EXTDISCO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "extdisco.py")
SECRET_FILES = ["/etc/turnserver.conf", "/etc/prosody/jvb-join-turn.cfg.lua"]
MANAGED = SECRET_FILES + ["/etc/prosody/prosody.cfg.lua", "/etc/coturn/certs/{}.crt".format(TURN),
                          "/etc/coturn/certs/{}.key".format(TURN), "/etc/systemd/system/coturn.service.d/jvb-join.conf",
                          "/var/lib/jvb-join/server/turn.json", "/etc/ufw/user.rules"]


@pytest.fixture(scope="module")
def server(lab):
    install_server(lab)
    lab.up("jvb1")
    # turnutils_uclient comes with coturn; the bridge host's own TURN server stays off
    install_tools(lab, "jvb1", "coturn")
    sh(lab, "jvb1", "systemctl disable --now coturn >/dev/null 2>&1 || true")
    turn_ip = lab.ip("jms").rsplit(".", 1)[0] + ".250"
    sh(lab, "jms", "ip -4 addr show dev host0 | grep -q ' {0}/' || ip addr add {0}/24 dev host0".format(turn_ip))
    sh(lab, "jms", "test -f {key} || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN={t} "
                   "-addext subjectAltName=DNS:{t} -keyout {key} -out {cert} 2>/dev/null".format(t=TURN, key=KEY,
                                                                                              cert=CERT))
    lab.turn_ip = turn_ip
    yield lab
    lab.down()  # later modules get fresh hosts of the same names


def name_turn(lab, *hosts):
    """TURN's name in /etc/hosts (the lab rewrites the file when a host boots: set it before use)."""
    for host in hosts:
        sh(lab, host, "grep -q ' {1}$' /etc/hosts || echo '{0} {1}' >> /etc/hosts".format(lab.turn_ip, TURN))


def hashes(lab):
    out = {}
    for path in MANAGED:
        rc, data, _ = lab.exec("jms", ["sha256sum", path], check=False)
        out[path] = data.split()[0] if rc == 0 else None
    for unit in ("coturn", "prosody"):
        out[unit] = lab.exec("jms", ["systemctl", "show", unit, "-p", "MainPID", "-p", "NRestarts"], check=True)[1]
    return out


def credentials_from_prosody(lab):
    """What a guest of the meet domain gets from prosody: ``{type: service}``."""
    with open(EXTDISCO) as f:
        script = f.read()
    _, out, err = lab.exec("jms", ["python3", "-c", script, DOMAIN], check=True, timeout=60)
    services = json.loads(out)
    assert services, err
    return {s["type"]: s for s in services}


def rest_credentials(secret, ttl=3600):
    """The TURN REST-API scheme (coturn's use-auth-secret, prosody's algorithm "turn")."""
    username = str(int(time.time()) + ttl)
    return username, base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def allocate(lab, username, password, *flags, peer=None, seconds=20):
    """turnutils_uclient from the bridge host; its output. (These are a client's time-limited
    credentials, never the shared secret: the tool takes them on its command line only.)"""
    name_turn(lab, "jvb1")
    argv = ["timeout", str(seconds), "turnutils_uclient", "-v", "-n", "1", "-m", "1", "-u", username, "-w", password,
            "-p", "443", "-e", peer or lab.ip("jvb1")] + list(flags) + [TURN]
    _, out, err = lab.exec("jvb1", argv, check=False, timeout=60)
    return out + err


def allocate_tls(lab, username, password, attempts=6):
    """A TLS allocation on 443. turnutils_uclient's TLS connect stalls in the lab about one time in
    two (on a dedicated TLS port too, and with TLS 1.3 off), while openssl's handshake with the same
    coturn always completes: each attempt is a whole new allocation, the first success counts."""
    for attempt in range(1, attempts + 1):
        out = allocate(lab, username, password, "-t", "-S", seconds=8)
        if "Received relay addr" in out:
            print("TLS allocation on attempt {}".format(attempt))
            return out
    return out


def test_a_run_prosody_refuses_is_undone_whole(server):
    lab = server
    before = hashes(lab)
    # the admin's prosody config does not load: jvb-join must not leave coturn half configured
    sh(lab, "jms", "echo 'this is not lua' > /etc/prosody/conf.d/zz-broken.cfg.lua")
    try:
        rc, out, err = lab.exec("jms", ["jvb-join", "server", "turn"], check=False, timeout=600)
    finally:
        sh(lab, "jms", "rm -f /etc/prosody/conf.d/zz-broken.cfg.lua")
    assert rc == 1 and "prosody does not accept the TURN settings" in err, out + err
    assert "rolling back" in out + err
    assert hashes(lab) == before
    assert lab.exec("jms", ["dpkg", "-s", "coturn"], check=False)[0] != 0  # installed by the run, purged again


def test_turn_on_443_is_refused_while_the_web_server_listens_on_every_address(server):
    lab = server
    name_turn(lab, "jms")
    before = hashes(lab)
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "turn", "--host", TURN, "--port", "443",
                                    "--cert", CERT, "--key", KEY], check=False, timeout=300)
    assert rc == 1, out + err
    assert "443/tcp is taken on 0.0.0.0:443" in err and "listen <web address>:443" in err, err
    assert hashes(lab) == before
    assert lab.exec("jms", ["dpkg", "-s", "coturn"], check=False)[0] != 0  # nothing installed either


def test_turn_allocation_with_credentials_from_prosody_and_nothing_else(server):
    lab = server
    name_turn(lab, "jms")
    web_ip = lab.ip("jms")
    # the remedy the refusal gave: the web server on its own address (and loopback) only
    sh(lab, "jms", "f=/etc/nginx/sites-available/{d}.conf; sed -i -e 's/^\\(\\s*\\)listen 443 ssl/\\1listen "
                   "127.0.0.1:443 ssl;\\n\\1listen {ip}:443 ssl/' -e '/listen \\[::\\]:443/d' $f && nginx -t -q && "
                   "systemctl restart nginx".format(d=DOMAIN, ip=web_ip))
    started = time.monotonic()
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "turn", "--host", TURN, "--port", "443",
                                    "--cert", CERT, "--key", KEY], check=False, timeout=600)
    print("server turn took {:.1f} s".format(time.monotonic() - started))
    assert rc == 0, out + err

    # the secret: readable by coturn or prosody only, and nowhere in the output or jvb-join's log
    _, conf, _ = lab.exec("jms", ["cat", "/etc/turnserver.conf"], check=True)
    secret = [l.split("=", 1)[1] for l in conf.splitlines() if l.startswith("static-auth-secret=")]
    assert len(secret) == 1, conf
    secret = secret[0]
    _, modes, _ = lab.exec("jms", ["stat", "-c", "%n %a %U:%G"] + SECRET_FILES +
                           ["/etc/coturn/certs/{}.key".format(TURN)], check=True)
    assert modes.split("\n")[:3] == ["/etc/turnserver.conf 640 root:turnserver",
                                     "/etc/prosody/jvb-join-turn.cfg.lua 640 root:prosody",
                                     "/etc/coturn/certs/{}.key 640 root:turnserver".format(TURN)], modes
    _, log, _ = lab.exec("jms", ["cat", "/var/log/jvb-join/jvb-join.log"], check=False)
    assert secret not in out + err + log

    # a second run changes nothing: no file rewritten, coturn and prosody not restarted
    before = hashes(lab)
    # and a dry run with another port shows its diffs with the secret masked, and changes nothing
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "turn", "--port", "3478", "--dry-run"], check=False,
                            timeout=300)
    assert rc == 0 and "+listening-port=3478" in out and "(secret, not shown)" in out, out + err
    assert secret not in out + err
    assert "443/udp" in lab.exec("jms", ["ufw", "status"], check=True)[1]
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "turn"], check=False, timeout=300)
    assert rc == 0 and json.loads(out)["changed"] == 0, out + err
    assert hashes(lab) == before

    # what a client gets from prosody, used from a bridge host: UDP on 443, then TLS on 443 (turns)
    services = credentials_from_prosody(lab)
    assert (services["turn"]["host"], services["turn"]["port"], services["turns"]["port"]) == (TURN, "443", "443")
    user, password = services["turn"]["username"], services["turn"]["password"]
    assert abs(int(user) - time.time() - 86400) < 600  # time-limited: a day, as jitsi-meet-prosody's
    udp = allocate(lab, user, password)
    assert "Received relay addr: {}:".format(lab.turn_ip) in udp, udp
    tls = allocate_tls(lab, user, password)
    assert "TLS" in tls and "Received relay addr: {}:".format(lab.turn_ip) in tls, tls
    # what coturn presents on 443 is valid for the TURN name (checked against that certificate)
    sh(lab, "jvb1", "cat > /tmp/turn-ca.crt", input=lab.exec("jms", ["cat", CERT], check=True)[1])
    rc, out, err = lab.exec("jvb1", ["openssl", "s_client", "-connect", TURN + ":443", "-verify_hostname", TURN,
                                     "-CAfile", "/tmp/turn-ca.crt", "-verify_return_error"], input="",
                            check=False, timeout=60)
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out + err

    # the same scheme from the shared secret works; from another secret coturn allocates nothing
    good = allocate(lab, *rest_credentials(secret))
    assert "Received relay addr" in good, good
    wrong = allocate(lab, *rest_credentials("not-the-secret-" + secret[:8]))
    assert "Received relay addr" not in wrong and "Cannot complete Allocation" in wrong, wrong
    # a relay towards the lab's own range (198.18.0.0/15, in the Hadoly list) is refused
    assert "403 (Forbidden IP)" in udp, udp

    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "doctor", "--role", "server"], check=False, timeout=60)
    turn_check = [c for c in json.loads(out)["checks"] if c["id"] == "server-turn"][0]
    assert turn_check["status"] == "ok", turn_check


def test_jitsi_meet_turnserver_installed_later_is_found_by_doctor_and_a_rerun_mends_it(server):
    lab = server
    # the Jitsi package (the jitsi-meet meta package recommends it) moves a coturn config without its
    # marker aside and writes its own, with its own secret and ports: clients' credentials stop working
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q jitsi-meet-turnserver >/dev/null 2>&1")
    _, package_conf, _ = lab.exec("jms", ["cat", "/etc/turnserver.conf"], check=True)
    package_secret = [l.split("=", 1)[1] for l in package_conf.splitlines() if l.startswith("static-auth-secret=")][0]
    rc, out, _ = lab.exec("jms", ["jvb-join", "--json", "doctor", "--role", "server"], check=False, timeout=60)
    turn_check = [c for c in json.loads(out)["checks"] if c["id"] == "server-turn"][0]
    assert rc == 1 and turn_check["status"] == "fail", turn_check
    assert turn_check["remedy"].endswith("jvb-join server turn"), turn_check

    rc, out, err = lab.exec("jms", ["jvb-join", "server", "turn"], check=False, timeout=300)
    assert rc == 0 and "update /etc/turnserver.conf" in out, out + err
    _, conf, _ = lab.exec("jms", ["cat", "/etc/turnserver.conf"], check=True)
    lines = conf.splitlines()
    # the package's file stays its own: marker line first, the options in the way commented out
    assert lines[0] == "# jitsi-meet coturn config. Do not modify this line"
    for line in ("static-auth-secret=" + package_secret, "listening-port=3478", "no-tcp"):
        assert "#jvb-join# " + line in lines, conf
    rc, out, _ = lab.exec("jms", ["jvb-join", "--json", "doctor", "--role", "server"], check=False, timeout=60)
    turn_check = [c for c in json.loads(out)["checks"] if c["id"] == "server-turn"][0]
    assert turn_check["status"] == "ok", turn_check

    services = credentials_from_prosody(lab)
    user, password = services["turn"]["username"], services["turn"]["password"]
    assert "Received relay addr" in allocate(lab, user, password)
    assert "Received relay addr" in allocate(lab, user, password, "-t")  # TCP on 443 (no-tcp is off)
    assert "Received relay addr" in allocate_tls(lab, user, password)
    wrong = allocate(lab, *rest_credentials(package_secret))  # the secret prosody's global settings name
    assert "Received relay addr" not in wrong and "Cannot complete Allocation" in wrong, wrong
