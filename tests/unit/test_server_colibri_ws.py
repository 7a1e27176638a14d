"""Colibri websockets per bridge: the token's ws fields, the bridge's settings and port rule, and
the server's nginx routes (one file per bridge, one marked include line in the site, nginx -t
before a reload, everything put back when nginx -t refuses)."""

import os

import pytest

from jvbjoin.formats import token as tok
from jvbjoin.errors import StepError, TokenError, UsageError
from jvbjoin.system.run import Result
from jvbjoin.server import colibri_ws, nginx
from jvbjoin.server.colibri_ws import INCLUDE_LINE, add_include, remove_include
from jvbjoin.bridge.steps.config import BridgeExtras, render_fragment
from jvbjoin.bridge.steps.websockets import COMMENT, websocket_rules

from helpers import facts_for, join_ctx, make_token, write_file

HERE = os.path.dirname(os.path.abspath(__file__))
SITE_TEMPLATE = os.path.join(HERE, "..", "lab", "standins", "jitsi-meet-web-config", "usr", "share",
                             "jitsi-meet-web-config", "jitsi-meet.example")
DOMAIN = "meet.example.com"
NOW = 1800000000


def site_text():
    with open(SITE_TEMPLATE) as f:
        return f.read().replace("jitsi-meet.example.com", DOMAIN)


# --- the token ----------------------------------------------------------------------------------

def test_the_ws_fields_travel_in_the_token_and_stay_out_when_not_asked():
    with_ws = make_token(ws="bridge2", wsfrom="198.18.0.2")
    back = tok.decode(tok.encode(with_ws), now=NOW)
    assert (back.ws, back.wsfrom) == ("bridge2", "198.18.0.2")
    plain = tok.encode(make_token())
    assert tok.decode(plain, now=NOW).ws is None
    # a token without websockets is byte for byte what it was before the fields existed
    import base64
    import json
    body = plain.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert "ws" not in payload and "wsfrom" not in payload


@pytest.mark.parametrize("extra", [dict(ws="bridge2"), dict(wsfrom="198.18.0.2"),
                                   dict(ws="default-id", wsfrom="198.18.0.2"),
                                   dict(ws="Bridge/2", wsfrom="198.18.0.2"),
                                   dict(ws="bridge2", wsfrom="server.example.com")])
def test_bad_ws_fields_are_refused(extra):
    with pytest.raises(TokenError):
        make_token(**extra)


def test_the_fragment_turns_websockets_on_with_the_bridges_own_server_id():
    text = render_fragment(make_token(), "pw", "jvb-x", BridgeExtras(websocket_id="bridge2",
                                                                     websocket_domain=DOMAIN + ":443"))
    assert "videobridge.http-servers.public.port = 9090" in text
    assert 'server-id = "bridge2"' in text and 'domains = ["{}:443"]'.format(DOMAIN) in text
    assert "enabled = true" in text
    assert "websockets" not in render_fragment(make_token(), "pw", "jvb-x", BridgeExtras())


def test_the_port_rule_is_found_by_its_comment():
    comment = COMMENT.encode().hex()
    rules = ("### tuple ### allow tcp 9090 0.0.0.0/0 any 198.18.0.2 in comment={}\n"
             "### tuple ### allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in comment=6a76622d6a6f696e\n"
             "### tuple ### allow tcp 9090 0.0.0.0/0 any 198.18.0.9 in\n").format(comment)
    assert websocket_rules(rules) == [("9090", "tcp", "198.18.0.2")]


# --- the site's include line ----------------------------------------------------------------------

def test_the_include_goes_into_the_443_server_before_its_first_regex_location():
    site = site_text()
    edited = add_include(site)
    lines = edited.splitlines()
    at = [i for i, line in enumerate(lines) if INCLUDE_LINE in line]
    assert len(at) == 1
    # after 'listen 443', before every regex location (the tenant catch-all would take /colibri-ws/...)
    listen = [i for i, line in enumerate(lines) if "listen 443" in line][0]
    regex = [i for i, line in enumerate(lines) if line.strip().startswith("location ~")]
    assert listen < at[0] < min(regex)
    assert lines[at[0]] == "    " + INCLUDE_LINE
    assert add_include(edited) == edited
    assert remove_include(edited) == site


def test_crlf_and_comments_with_braces_are_kept():
    site = ("# a { in a comment\r\nserver {\r\n    listen 80;\r\n}\r\nserver {\r\n    listen [::]:443 ssl;"
            "  # }\r\n    location = /x { return 200; }\r\n    location ~ ^/y { return 404; }\r\n}\r\n")
    edited = add_include(site)
    assert "    " + INCLUDE_LINE + "\r\n    location ~ ^/y" in edited
    assert remove_include(edited) == site


def test_a_site_without_an_https_server_is_refused():
    with pytest.raises(StepError):
        add_include("server {\n    listen 80;\n}\n")


# --- the routes ------------------------------------------------------------------------------------

def account(paths, user, key="ab" * 20):
    folder = paths("/var/lib/prosody/auth%2emeet%2eexample%2ecom/accounts")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, user.replace("-", "%2d") + ".dat"), "w") as f:
        f.write('return {\n["stored_key"] = "%s";\n};\n' % key)


def record(token_id, server_id, address, name=""):
    return {"id": token_id, "name": name, "user": "jvb-" + token_id, "domain": "auth." + DOMAIN, "meet": DOMAIN,
            "exp": NOW + 3600, "created": NOW, "verifier": "ab" * 20,
            "colibri_ws": {"id": server_id, "address": address, "from": "198.18.0.2"}}


@pytest.fixture
def server(paths, monkeypatch):
    site = colibri_ws.site_path(paths, DOMAIN)
    os.makedirs(os.path.dirname(site))
    with open(site, "w") as f:
        f.write(site_text())
    os.makedirs(paths("/etc/prosody/conf.avail"))
    with open(paths("/etc/prosody/conf.avail", DOMAIN + ".cfg.lua"), "w") as f:
        f.write('Component "internal.auth.{}" "muc"\n'.format(DOMAIN))
    calls = []
    answers = {"nginx -t": Result(["nginx", "-t"], 0, "", "syntax is ok")}

    def fake_run(argv, **kw):
        calls.append(argv)
        return answers[" ".join(argv)]
    monkeypatch.setattr(nginx, "run", fake_run)
    import jvbjoin.system.systemd as systemd
    monkeypatch.setattr(systemd, "state_of", lambda name: {"ActiveState": "inactive"})
    return paths, site, calls, answers


def read(path):
    with open(path) as f:
        return f.read()


def test_routes_follow_the_tokens_and_the_site_comes_back_byte_for_byte(server):
    paths, site, calls, _ = server
    before = read(site)
    records = [record("aaaaaaaa", "bridge1", "198.18.0.3", "bridge1"), record("bbbbbbbb", "jvb-bbbbbbbb", "fd00::4")]
    account(paths, "jvb-aaaaaaaa")
    account(paths, "jvb-bbbbbbbb")
    plan = colibri_ws.sync(paths, records, dry_run=True, now=NOW)
    changes = plan.results[0].changes
    assert [c.summary.split()[0] for c in changes] == ["create", "create", "update"]
    assert INCLUDE_LINE in changes[2].diff and not os.path.exists(colibri_ws.routes_dir(paths))
    report = colibri_ws.sync(paths, records, now=NOW)
    assert report.results[0].status == "changed" and calls == [["nginx", "-t"]]
    one = read(colibri_ws.route_path(paths, "bridge1"))
    assert "location ~ ^/colibri-ws/bridge1/(.*) {" in one
    assert "proxy_pass http://198.18.0.3:9090/colibri-ws/bridge1/$1$is_args$args;" in one
    assert colibri_ws.route_target(read(colibri_ws.route_path(paths, "jvb-bbbbbbbb"))) == (
        "fd00::4", 9090, "jvb-bbbbbbbb")
    assert remove_include(read(site)) == before
    # again: nothing to do, nginx not even tested
    assert colibri_ws.sync(paths, records, now=NOW).results[0].status == "unchanged"
    assert len(calls) == 1
    # the first bridge left (its account is gone): its route goes, the other stays
    os.remove(paths("/var/lib/prosody/auth%2emeet%2eexample%2ecom/accounts/jvb%2daaaaaaaa.dat"))
    records[0]["joined"] = NOW
    colibri_ws.sync(paths, records, now=NOW)
    assert not os.path.exists(colibri_ws.route_path(paths, "bridge1"))
    assert os.path.exists(colibri_ws.route_path(paths, "jvb-bbbbbbbb"))
    # the second token is revoked: the last route and the include line go
    records[1]["revoked"] = NOW
    colibri_ws.sync(paths, records, now=NOW)
    assert read(site) == before and os.listdir(colibri_ws.routes_dir(paths)) == []


def test_nginx_refusing_the_configuration_puts_every_file_back(server):
    paths, site, calls, answers = server
    before = read(site)
    account(paths, "jvb-aaaaaaaa")
    answers["nginx -t"] = Result(["nginx", "-t"], 1, "", "nginx: [emerg] unknown directive \"x\"\n"
                                 "nginx: configuration file /etc/nginx/nginx.conf test failed")
    with pytest.raises(StepError) as err:
        colibri_ws.sync(paths, [record("aaaaaaaa", "bridge1", "198.18.0.3")], now=NOW)
    assert "test failed" in err.value.message and "put back" in err.value.remedy
    assert read(site) == before and not os.path.exists(colibri_ws.route_path(paths, "bridge1"))
    # a backup of the admin's site was kept
    backups = [os.path.join(d, f) for d, _, fs in os.walk(paths.backups) for f in fs]
    assert any(b.endswith(DOMAIN + ".conf") for b in backups)


def test_server_ids_come_from_the_name_and_stay_unique():
    taken = [record("aaaaaaaa", "bridge-2", "198.18.0.3")]
    assert colibri_ws.server_id_for("Bridge 2", "cccccccc", []) == "bridge-2"
    assert colibri_ws.server_id_for("Bridge 2", "cccccccc", taken) == "jvb-cccccccc"
    assert colibri_ws.server_id_for("default-id", "cccccccc", []) == "jvb-cccccccc"
    assert colibri_ws.server_id_for(None, "cccccccc", []) == "jvb-cccccccc"


@pytest.mark.parametrize("text", ["bridge.example.com", "0.0.0.0", "", "198.18.0.300"])
def test_the_bridge_address_must_be_an_ip_address(text):
    with pytest.raises(UsageError):
        colibri_ws.bridge_address(text)


# --- doctor ----------------------------------------------------------------------------------------


WS_FRAGMENT = ('videobridge.http-servers.public.port = 9090\n'
               'videobridge.websockets {\n  enabled = true\n  server-id = "bridge2"\n'
               '  domains = ["meet.example.com:443"]\n  tls = true\n}\n')
LISTEN_9090 = ("  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n"
               "   1: 00000000:2382 00000000:0000 0A 00000000:00000000\n")


def test_bridge_websockets_is_skipped_when_not_asked_and_finds_what_breaks_it(host):
    from jvbjoin.bridge.checks import websockets as checks
    assert checks.check_bridge_websockets(facts_for(host)).status == "skipped"
    fragment = host("/etc/jitsi/videobridge/jvb-join.conf")
    with open(fragment, "a") as f:
        f.write(WS_FRAGMENT)
    # asked, but nothing listens on 9090
    result = checks.check_bridge_websockets(facts_for(host))
    assert result.status == "fail" and "9090" in result.detail
    write_file(host, "/proc/net/tcp", LISTEN_9090)
    rules = host("/etc/ufw/user.rules")
    with open(rules, "a") as f:
        f.write("### tuple ### allow tcp 9090 0.0.0.0/0 any 198.18.0.2 in comment={}\n".format(COMMENT.encode().hex()))
    result = checks.check_bridge_websockets(facts_for(host))
    assert result.status == "ok" and "bridge2" in result.detail and "198.18.0.2" in result.detail
    # a legacy property the bridge reads first takes the server-id away
    write_file(host, "/etc/jitsi/videobridge/sip-communicator.properties",
               "org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=default-id\n")
    result = checks.check_bridge_websockets(facts_for(host))
    assert result.status == "fail" and "COLIBRI_WS_SERVER_ID" in result.detail
    os.remove(host("/etc/jitsi/videobridge/sip-communicator.properties"))
    # a setting after the include line wins over jvb-join's
    with open(host("/etc/jitsi/videobridge/jvb.conf"), "a") as f:
        f.write('videobridge.websockets.server-id = "default-id"\n')
    result = checks.check_bridge_websockets(facts_for(host))
    assert result.status == "fail" and "default-id" in result.detail


def test_server_colibri_ws_sees_a_missing_and_a_stale_route(server):
    from jvbjoin.server.checks import websockets as checks
    from jvbjoin.doctor.core import Facts
    paths = server[0]
    assert checks.check_server_colibri_ws(Facts(paths)).status == "skipped"
    records = [record("aaaaaaaa", "bridge1", "198.18.0.3")]
    account(paths, "jvb-aaaaaaaa")
    os.makedirs(paths.server_state)
    import json
    with open(os.path.join(paths.server_state, "tokens.json"), "w") as f:
        json.dump(records, f)
    result = checks.check_server_colibri_ws(Facts(paths))
    assert result.status == "warn" and "no route for bridge1" in result.detail
    colibri_ws.sync(paths, records)
    result = checks.check_server_colibri_ws(Facts(paths))
    assert result.status == "ok" and "1 route(s)" in result.detail
    os.remove(paths("/var/lib/prosody/auth%2emeet%2eexample%2ecom/accounts/jvb%2daaaaaaaa.dat"))
    result = checks.check_server_colibri_ws(Facts(paths))
    assert result.status == "warn" and "gone: bridge1" in result.detail


def test_nginx_is_reloaded_back_only_when_it_saw_the_new_files(server, monkeypatch):
    import jvbjoin.system.systemd as systemd
    from jvbjoin.engine.core import Context, Journal
    paths, site, calls, answers = server
    account(paths, "jvb-aaaaaaaa")
    monkeypatch.setattr(systemd, "state_of", lambda name: {"ActiveState": "active", "SubState": "running"})
    reloads = []
    monkeypatch.setattr(systemd, "with_systemd", lambda action: reloads.append("reload"))
    step = colibri_ws.Routes(DOMAIN, [record("aaaaaaaa", "bridge1", "198.18.0.3")], NOW)
    ctx = Context(paths)
    answers["nginx -t"] = Result(["nginx", "-t"], 1, "", "nginx: configuration file test failed")
    journal = Journal()
    with pytest.raises(StepError):
        step.apply(ctx, step.check(ctx), journal)
    assert journal.rollback() == [] and reloads == []
    answers["nginx -t"] = Result(["nginx", "-t"], 0, "", "ok")
    journal = Journal()
    step.apply(ctx, step.check(ctx), journal)
    assert reloads == ["reload"]
    assert journal.rollback() == [] and reloads == ["reload", "reload"]
    assert not os.path.exists(colibri_ws.route_path(paths, "bridge1"))


def test_the_port_rule_follows_the_token_and_leave_closes_it(paths, monkeypatch):
    from jvbjoin.engine.core import Journal
    from jvbjoin.bridge.steps import websockets
    rules_file = paths("/etc/ufw/user.rules")
    os.makedirs(os.path.dirname(rules_file))
    ran = []

    def fake_run(argv, **kw):
        ran.append(argv)
        # ufw writes the rule with its comment, hex-encoded, and deletes it by its terms
        if argv[1] == "allow":
            with open(rules_file, "a") as f:
                f.write("### tuple ### allow tcp 9090 0.0.0.0/0 any {} in comment={}\n".format(
                    argv[3], COMMENT.encode().hex()))
        else:
            with open(rules_file) as f:
                kept = [line for line in f if " {} in ".format(argv[4]) not in line]
            with open(rules_file, "w") as f:
                f.writelines(kept)
        return Result(argv, 0, "Rule updated", "")
    monkeypatch.setattr(websockets, "run", fake_run)

    def run_step(step, token):
        ctx = join_ctx(paths, token, firewall=True)
        changes = step.check(ctx)
        step.apply(ctx, changes, Journal())
        return changes

    changes = run_step(websockets.WebsocketPort(), make_token(ws="bridge2", wsfrom="198.18.0.2"))
    assert [c.summary for c in changes] == ["allow 9090/tcp from the server 198.18.0.2 only (colibri websockets)"]
    assert ran[-1] == ["ufw", "allow", "from", "198.18.0.2", "to", "any", "port", "9090", "proto", "tcp",
                       "comment", COMMENT]
    assert run_step(websockets.WebsocketPort(), make_token(ws="bridge2", wsfrom="198.18.0.2")) == []
    # a join with a token without websockets takes the rule away; so does leave
    run_step(websockets.WebsocketPort(), make_token())
    assert ran[-1] == ["ufw", "delete", "allow", "from", "198.18.0.2", "to", "any", "port", "9090", "proto", "tcp"]
    assert websockets.current_rules(paths) == []
    run_step(websockets.WebsocketPort(), make_token(ws="bridge2", wsfrom="198.18.0.2"))
    assert len(run_step(websockets.CloseWebsocketPort(), None)) == 1
    assert websockets.current_rules(paths) == [] and run_step(websockets.CloseWebsocketPort(), None) == []


def test_after_a_reload_the_new_workers_are_waited_for(paths, monkeypatch):
    def worker(pid, text=b"nginx: worker process\0"):
        os.makedirs(paths("/proc", str(pid)), exist_ok=True)
        with open(paths("/proc", str(pid), "cmdline"), "wb") as f:
            f.write(text)
    worker(10)
    worker(11, b"nginx: master process /usr/sbin/nginx\0")
    before = colibri_ws.nginx_workers(paths)
    assert before == {"10"}
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:
            worker(12)
    monkeypatch.setattr(colibri_ws.time, "sleep", sleep)
    colibri_ws.wait_for_new_workers(paths, before)
    assert sleeps == [0.1, 0.1, 0.1, 0.2]
    colibri_ws.wait_for_new_workers(paths, set())  # nothing known before: nothing to wait for
    assert len(sleeps) == 4
