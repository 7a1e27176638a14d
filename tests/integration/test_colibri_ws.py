"""Colibri websockets for a legacy server, in the lab: two bridges joined with tokens made by
'token create --colibri-ws', each with its own server-id; through the server's nginx on 443 a
websocket request for one server-id reaches that bridge and no other; port 9090 is open to the
server only; after a leave (and the timer's next run) and a revoke the routes are gone, the site
is byte for byte as before, and nginx still serves."""

import concurrent.futures
import json
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, join, sh, wait_for

# The bridge's wait between SHUTTING_DOWN and its exit (1 minute by default), shortened by the
# operator's own line in jvb.conf so that the lab does not wait a minute for the leave.
SHORT_DELAY = "videobridge.shutdown.shutting-down-delay = 3 seconds"

SITE = "/etc/nginx/sites-available/{}.conf".format(DOMAIN)
ROUTES = "/etc/nginx/jvb-join-colibri-ws"

# A websocket handshake (or a plain GET) through nginx on 443, as a browser's bridge channel opens it.
_REQUEST = """import http.client, json, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
conn = http.client.HTTPSConnection("127.0.0.1", 443, context=ctx, timeout=10)
headers = {"Host": sys.argv[2]}
if sys.argv[3] == "upgrade":
    headers.update({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
conn.request("GET", sys.argv[1], headers=headers)
r = conn.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode("utf-8", "replace")}))
"""


def request(lab, path, upgrade=True):
    _, out, _ = lab.exec("jms", ["python3", "-c", _REQUEST, path, DOMAIN, "upgrade" if upgrade else "plain"],
                         check=True, timeout=60)
    return json.loads(out)


def create_ws_token(lab, host, name=None):
    argv = ["jvb-join", "--json", "token", "create", "--host", DOMAIN, "--allow-from", lab.ip(host),
            "--colibri-ws", lab.ip(host)]
    if name:
        argv += ["--name", name]
    rc, out, err = lab.exec("jms", argv, check=False)
    assert rc == 0, out + err
    return json.loads(out)


def jvb_log(lab, host):
    return lab.exec(host, ["cat", "/var/log/jitsi/jvb.log"], check=True)[1]


def doctor(lab, host, check_id):
    _, out, _ = lab.exec(host, ["jvb-join", "doctor", "--json"], check=False, timeout=120)
    return {r["id"]: r for r in json.loads(out)["checks"]}[check_id]


def routes(lab):
    return sh(lab, "jms", "ls {} 2>/dev/null || true".format(ROUTES))[1].split()


def reaches(lab, source, address, port):
    rc, _, _ = lab.exec(source, ["timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/{}/{}".format(address, port)],
                        check=False)
    return rc == 0


def test_each_bridge_gets_its_own_route_and_loses_it_when_it_goes(server):
    lab = server
    site_before = sh(lab, "jms", "sha256sum " + SITE)[1].split()[0]
    lab.up("jvb1", "jvb2")

    # nginx refuses its configuration (an admin's broken file): no token, no account, no route
    sh(lab, "jms", "echo 'not an nginx directive here;' > /etc/nginx/conf.d/broken.conf")
    rc, out, err = lab.exec("jms", ["jvb-join", "token", "create", "--colibri-ws", lab.ip("jvb1")], check=False)
    assert rc == 1 and "nginx -t refused" in err and "put back" in err, out + err
    assert sh(lab, "jms", "sha256sum " + SITE)[1].split()[0] == site_before
    assert routes(lab) == []
    assert json.loads(sh(lab, "jms", "jvb-join --json token list")[1]) == []
    sh(lab, "jms", "rm /etc/nginx/conf.d/broken.conf")

    started = time.monotonic()
    tokens = {"jvb1": create_ws_token(lab, "jvb1", "Bridge A"), "jvb2": create_ws_token(lab, "jvb2")}
    ids = {host: t["colibri_ws"]["id"] for host, t in tokens.items()}
    assert ids == {"jvb1": "bridge-a", "jvb2": "jvb-" + tokens["jvb2"]["id"]}
    print("two tokens with routes: {:.1f} s".format(time.monotonic() - started))
    # both bridges join at once, as a fleet would
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        joins = dict(zip(("jvb1", "jvb2"), pool.map(lambda h: join(lab, h, tokens[h]["token"]), ("jvb1", "jvb2"))))
    for host, (rc, out, err, seconds) in sorted(joins.items()):
        assert rc in (0, 2), out + err
        assert json.loads(out)["verified"] is True
        print("join of {} with websockets: {:.1f} s".format(host, seconds))
    for host in ("jvb1", "jvb2"):
        # the bridge announces its own server-id, behind the meet domain's 443
        assert "Registering servlet with baseUrls = [wss://{}:443/colibri-ws/{}]".format(
            DOMAIN, ids[host]) in jvb_log(lab, host)

    # Through nginx: each server-id reaches its own bridge, which knows no such conference (403,
    # logged there); the other bridge never sees it.
    for host, other in (("jvb1", "jvb2"), ("jvb2", "jvb1")):
        conference = "conf-of-" + host
        answer = request(lab, "/colibri-ws/{}/{}/endpoint1?pwd=x".format(ids[host], conference))
        assert answer["status"] == 403 and "authentication failed" in answer["body"], answer
        assert "Received request for an nonexistent conference: " + conference in jvb_log(lab, host)
        assert conference not in jvb_log(lab, other)
        # without an upgrade it is the bridge's servlet answering too
        assert request(lab, "/colibri-ws/{}/c/e".format(ids[host]), upgrade=False)["status"] == 405
    # a server-id no bridge has is not routed to any bridge
    stray = request(lab, "/colibri-ws/nobody/conf-x/e")
    assert stray["status"] != 403 and "mismatching server ID" not in jvb_log(lab, "jvb1") + jvb_log(lab, "jvb2")

    # 9090 is for the server's nginx only
    assert reaches(lab, "jms", lab.ip("jvb1"), 9090)
    assert not reaches(lab, "jvb2", lab.ip("jvb1"), 9090)
    assert doctor(lab, "jvb1", "bridge-websockets")["status"] == "ok"
    check = doctor(lab, "jms", "server-colibri-ws")
    assert check["status"] == "ok" and "2 route(s)" in check["detail"], check

    # jvb1 leaves: its account goes; the timer's next run takes its route away
    sh(lab, "jvb1", "sed -i '1i {}' /etc/jitsi/videobridge/jvb.conf && systemctl restart jitsi-videobridge2".format(
        SHORT_DELAY))
    rc, out, err = lab.exec("jvb1", ["jvb-join", "leave"], check=False, timeout=300)
    assert rc in (0, 2), out + err
    assert "9090" not in sh(lab, "jvb1", "ufw status")[1]
    # what the next sync would do, without doing it
    _, plan, _ = sh(lab, "jms", "jvb-join server colibri-ws --dry-run")
    assert "remove {}/{}.conf".format(ROUTES, ids["jvb1"]) in plan, plan
    assert len(routes(lab)) == 2
    started = time.monotonic()
    sh(lab, "jms", "systemctl start jvb-join-expire.service")
    print("route sync after a leave (the timer's run): {:.1f} s".format(time.monotonic() - started))
    assert routes(lab) == ["{}.conf".format(ids["jvb2"])]
    assert request(lab, "/colibri-ws/{}/conf-late/e".format(ids["jvb1"]))["status"] != 403
    assert "conf-late" not in jvb_log(lab, "jvb2")
    assert request(lab, "/colibri-ws/{}/conf-still/e".format(ids["jvb2"]))["status"] == 403

    # the last token is revoked: no route, no include line, the admin's site as it was; nginx serves
    sh(lab, "jms", "jvb-join token revoke " + tokens["jvb2"]["id"])
    assert routes(lab) == []
    assert sh(lab, "jms", "sha256sum " + SITE)[1].split()[0] == site_before
    sh(lab, "jms", "nginx -t 2>&1")
    assert request(lab, "/", upgrade=False)["status"] == 200
    wait_for(lambda: doctor(lab, "jms", "server-colibri-ws")["status"] == "skipped", 30,
             "doctor to find no websocket tokens left")
