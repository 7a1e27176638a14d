"""The checks of a Jitsi Meet server that takes external bridges: prosody, jicofo and the web
server, the auth certificate bridges pin, the TURN server when one was configured, the brewery, the
bridges jicofo sees against the accounts issued, tokens, the firewall, and a local bridge left
running beside external ones."""

import os
import time

from jvbjoin.errors import CommandError, JvbJoinError
from jvbjoin.formats import hocon, pin
from jvbjoin.formats.pin import not_after as not_after_of
from jvbjoin.system import files, ufw
from jvbjoin.system.netinfo import is_loopback
from jvbjoin.system.run import run
from jvbjoin.xmpp import probe
from jvbjoin.doctor.core import Check, fail, ok, warn
from jvbjoin.doctor import facts as F
from jvbjoin.bridge.checks.host import check_disk_space, check_options_file
from jvbjoin.bridge.checks.relays import check_relays
from jvbjoin.server import jicofo, model, prosody, prosody_check
from jvbjoin.server.checks import boundary, regions, web, websockets
from jvbjoin.server.checks.facts import domain, domain_or, unit_check
from jvbjoin.server.checks.turn import check_turn

XMPP_PORT = 5222
JICOFO_CONF = "/etc/jitsi/jicofo/jicofo.conf"


def _program(argv, timeout=4.0):
    """``(ok, output)`` of a read-only check program; (None, why) when it cannot be run."""
    try:
        result = run(argv, check=False, timeout=timeout)
    except CommandError as exc:
        return None, exc.message
    return result.ok, (result.stdout + result.stderr).strip()


def check_prosody(facts):
    bad = unit_check(facts, "prosody.service", "prosody")
    if bad:
        return bad
    try:
        verdict = prosody_check.check_config(timeout=4.0)
    except CommandError:
        return ok("prosody is active")
    if not verdict.ok:
        return fail("prosody's configuration has errors: {}".format(verdict.errors[0]),
                    "prosodyctl check config   (fix what it shows, then: systemctl restart prosody)",
                    verdict.errors + verdict.warnings)
    if verdict.warnings:  # the packaged template's own obsolete options: prosody runs with them
        return ok("prosody is active, its configuration checks out ({} warning(s) from prosodyctl check "
                  "config, none that stops it)".format(len(verdict.warnings)), verdict.warnings)
    return ok("prosody is active, its configuration checks out")


def check_jicofo(facts):
    bad = unit_check(facts, "jicofo.service", "jicofo")
    if bad:
        installed = F.unit_state(facts, "jicofo.service").get("LoadState") != "not-found"
        left = jicofo.left_pid_file(facts.paths) if installed else None
        if left is None:
            return bad
        pid, alive = left
        held = ("a jicofo that still runs outside its unit (pid {})".format(pid) if alive
                else "a jicofo that is gone (pid {})".format(pid or "?"))
        return fail("{}; {} is left by {}, and jicofo's init script does not start while it exists".format(
            bad.detail, jicofo.PIDFILE, held), jicofo.left_pid_file_remedy(left))
    daemon = jicofo.daemon_state(facts.paths)
    if daemon.state == jicofo.DEAD:
        return fail("jicofo's unit is active but its daemon is dead: nothing answers on 127.0.0.1:{} ({})".format(
            jicofo.PORT, daemon.reason), jicofo.RESTART_REMEDY)
    if daemon.state == jicofo.NOT_ANSWERING:
        return fail("jicofo's daemon (pid {}) runs but its REST API on 127.0.0.1:{} does not answer ({})".format(
            daemon.pid, jicofo.PORT, daemon.reason), "journalctl -u jicofo -n 50; /var/log/jitsi/jicofo.log; "
                                                     "if it does not answer within a minute: systemctl restart jicofo")
    if daemon.state == jicofo.NOT_CONNECTED:
        return fail("jicofo is not connected to prosody: {}".format(daemon.body.strip() or daemon.status),
                    "tail -n 50 /var/log/jitsi/jicofo.log; then: systemctl restart jicofo")
    return ok("jicofo is active and connected" + ("" if daemon.status == 200 else " ({})".format(daemon.body.strip())))


def check_web_server(facts):
    for unit, name, test in (("nginx.service", "nginx", ["nginx", "-t"]),
                             ("apache2.service", "apache2", ["apache2ctl", "configtest"])):
        state = F.unit_state(facts, unit)
        if state.get("LoadState") == "not-found":
            continue
        bad = unit_check(facts, unit, name)
        if bad:
            return bad
        good, output = _program(test)
        if good is False:
            return fail("{} has configuration errors".format(name), "{}   (then: systemctl reload {})".format(
                " ".join(test), name), output.splitlines()[-10:])
        try:
            site = web.site_problem(facts, name, domain(facts))
        except JvbJoinError:
            site = None  # no meet domain yet: the prosody checks say so
        if site:
            return site
        return ok("{} is active, its configuration checks out and it serves the Jitsi site".format(name))
    return fail("no web server (nginx or apache2) is installed", "jvb-join server install --domain {}".format(
        domain_or(facts)))


def check_xmpp_port(facts):
    listening = sorted({a for a, p in F.tcp_listeners(facts) if p == XMPP_PORT})
    if not listening:
        return fail("nothing listens on {}/tcp: bridges cannot connect".format(XMPP_PORT),
                    "systemctl restart prosody; journalctl -u prosody -n 50")
    if all(is_loopback(a) for a in listening):
        return fail("prosody listens on {}/tcp on loopback only ({})".format(XMPP_PORT, ", ".join(listening)),
                    "Set c2s_interfaces = { \"*\" } in /etc/prosody/prosody.cfg.lua; systemctl restart prosody")
    return ok("prosody listens on {}/tcp ({})".format(XMPP_PORT, ", ".join(listening)))


def recorded_pin(paths):
    return (files.read_text(os.path.join(paths.server_state, "auth-pin")) or "").strip() or None


def check_auth_certificate(facts):
    name = domain(facts)
    path = model.auth_cert_path(facts.paths, name)
    data = files.read_bytes(path)
    if data is None:
        return fail("the auth certificate {} is missing".format(path), model.missing_auth_cert_remedy(facts.paths, name))
    try:
        der = probe.fetch_server_certificate("127.0.0.1", XMPP_PORT, "auth." + name, timeout=2.0)
        source = "served by prosody"
    except Exception:
        der = pin.der_of(data)
        source = "in {}".format(path)
    seen = pin.spki_pin(der)
    summary = pin.cert_summary(der)
    recorded = recorded_pin(facts.paths)
    if recorded and not pin.pins_equal(seen, recorded):
        return fail("the auth certificate {} is not the one tokens were made for (pin {}, tokens pin {}): "
                    "every joined bridge refuses it".format(source, seen, recorded),
                    "Put the previous certificate back and restart prosody; or keep it and give each bridge a new "
                    "token (jvb-join token create) and record it with: jvb-join server install --domain {}".format(name),
                    [summary])
    not_after = not_after_of(der)
    details = [summary, "pin {}".format(seen)]
    if not_after is not None and not_after < time.time():
        return fail("the auth certificate expired", "Renew it, then give each bridge a new token", details)
    if not_after is not None and not_after - time.time() < 14 * 86400:
        return warn("the auth certificate expires in {:.0f} day(s)".format((not_after - time.time()) / 86400),
                    "Renew it before then; each bridge then needs a new token", details)
    if not recorded:
        return warn("no pin recorded for the auth certificate", "jvb-join server install --domain {}".format(name), details)
    return ok("the auth certificate {} matches the pin tokens carry".format(source), details)


def brewery_jid(facts):
    return "jvbbrewery@internal.auth.{}".format(domain(facts))


def check_brewery_muc(facts):
    wanted = brewery_jid(facts)
    conf = hocon.load(facts.paths(JICOFO_CONF))
    configured = hocon.get(conf, "jicofo.bridge.brewery-jid")
    if not configured:
        return fail("{} names no brewery (jicofo.bridge.brewery-jid): jicofo uses no bridge".format(JICOFO_CONF),
                    "dpkg-reconfigure jicofo   (or set brewery-jid = \"{}\"), then: systemctl restart jicofo".format(wanted))
    if str(configured).lower() != wanted:
        return fail("jicofo watches {} but bridges join {}".format(configured, wanted),
                    "Set jicofo.bridge.brewery-jid = \"{}\" in {}, then: systemctl restart jicofo".format(wanted, JICOFO_CONF))
    return ok("prosody hosts the brewery {} and jicofo watches it".format(wanted))


def _records(facts):
    return facts.get("tokens", lambda: model.TokenStore(facts.paths).load())


def brewery_accounts(facts):
    """The accounts in the brewery now, as the running prosody says (None when it cannot be asked)."""
    if facts.paths.root != "/":
        return None
    return facts.get("brewery-accounts", lambda: prosody.brewery_accounts(domain(facts)))


def token_states(facts, now=None):
    """``[(record, state)]`` read-only (unlike 'token list', which also expires old accounts)."""
    now = time.time() if now is None else now
    records = _records(facts)
    present = brewery_accounts(facts) if records else None
    return [(record, model.token_state(record, facts.paths, now, present)) for record in records]


def _local_bridge_active(facts):
    state = F.unit_state(facts, "jitsi-videobridge2.service")
    return state.get("ActiveState") == "active"


def check_bridges(facts):
    joined = [r for r, s in token_states(facts) if s == "joined"]
    local = 1 if _local_bridge_active(facts) else 0
    try:
        counts = jicofo.bridge_counts()
    except OSError as exc:
        return fail("cannot read jicofo's bridge count ({})".format(exc), "journalctl -u jicofo -n 50")
    seen, operational = counts.get("bridge_count", 0), counts.get("operational_bridge_count", 0)
    expected = len(joined) + local
    details = ["jicofo sees {} bridge(s), {} operational".format(seen, operational),
               "accounts joined: {}{}".format(", ".join(r["user"] for r in joined) or "none",
                                             "; local bridge running" if local else "")]
    if expected and not seen:
        return fail("jicofo sees no bridge although {} joined: no conference can start".format(expected),
                    "On each bridge: jvb-join doctor", details)
    if seen and not operational:
        return fail("jicofo sees {} bridge(s) but none is operational".format(seen),
                    "On each bridge: jvb-join doctor; here: tail /var/log/jitsi/jicofo.log", details)
    if seen < expected:
        return warn("jicofo sees {} bridge(s) but {} joined".format(seen, expected),
                    "jvb-join bridges; then jvb-join doctor on the missing bridge(s)", details)
    if operational < seen:
        return warn("{} of {} bridges are not operational".format(seen - operational, seen),
                    "jvb-join bridges", details)
    if not seen:
        return warn("no bridge yet", "jvb-join token create --print-join-command", details)
    return ok("jicofo sees {} bridge(s), all operational".format(seen), details)


def check_tokens(facts):
    now = time.time()
    problems = []
    for record, state in token_states(facts, now):
        if state != "unused":
            continue
        life = record["exp"] - record["created"]
        left = record["exp"] - now
        if left < life / 2.0:
            problems.append((record["id"], "unused token {} is past half its life (expires in {})".format(
                record["id"], _duration(left))))
    if problems:
        return warn("; ".join(p for _, p in problems),
                    "jvb-join token revoke {}   (if no bridge will use it)".format(" / ".join(i for i, _ in problems)))
    return ok("no unused token is getting old")


def _duration(seconds):
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return "{}d{}h".format(seconds // 86400, seconds % 86400 // 3600)
    if seconds >= 3600:
        return "{}h{}m".format(seconds // 3600, seconds % 3600 // 60)
    if seconds >= 60:
        return "{}m".format(seconds // 60)
    return "{}s".format(seconds)


def check_firewall(facts):
    missing, rules, problems, remedies, _ = F.firewall_base(
        facts, "make sure 443/tcp and 5222/tcp (from the bridges) are open",
        [(443, "tcp", "443/tcp (web) is not allowed")])
    if missing:
        return missing
    sources = []
    for text in ufw.rule_texts(facts.paths):
        sources.extend(ufw.rule_sources(text))
    for record, state in token_states(facts):
        source = record.get("allow_from")
        if not source or state not in ("unused", "joined"):
            continue
        if source == "any":
            fine = ufw.allowed(rules, XMPP_PORT, "tcp", from_anywhere=True)
        else:
            fine = any(a in ("allow", "limit") and p in ("tcp", "any") and ufw.port_in(XMPP_PORT, port)
                       and src in (source, source.split("/")[0], "0.0.0.0/0", "::/0")
                       for a, p, port, src in sources)
        if not fine:
            problems.append("{}/tcp is closed to {} (token {})".format(XMPP_PORT, source, record["id"]))
            remedies.append("ufw allow from {} to any port {} proto tcp".format(source, XMPP_PORT))
    return F.firewall_result(problems, remedies, "ufw is not enabled" in problems,
                             "ufw is enabled; SSH, 443/tcp and 5222/tcp for the bridges are allowed")


def check_local_bridge(facts):
    joined = [r for r, s in token_states(facts) if s == "joined"]
    if not _local_bridge_active(facts):
        return ok("no local bridge runs" if joined else "no local bridge runs (and no external bridge yet)")
    if joined:
        return warn("a local bridge runs beside {} external bridge(s): it takes conferences and CPU from the server".format(
            len(joined)), "systemctl disable --now jitsi-videobridge2   (if the server should carry no media)")
    return ok("the local bridge runs (no external bridge yet)")


GROUP_SERVICES = "Server services"
GROUP_BRIDGES = "Bridges and tokens"
GROUP_HOST = "Host"
GROUP_EXTRAS = "Extras"


def checks():
    """Every server check in report order (a check comes after the checks it requires)."""
    return [
        Check("prosody", "prosody", GROUP_SERVICES, check_prosody, timeout=4.5),
        Check("jicofo", "jicofo", GROUP_SERVICES, check_jicofo, requires=("prosody",)),
        Check("web-server", "web server", GROUP_SERVICES, check_web_server, timeout=4.5),
        Check("xmpp-port", "XMPP client port", GROUP_SERVICES, check_xmpp_port, requires=("prosody",)),
        Check("auth-certificate", "auth certificate", GROUP_SERVICES, check_auth_certificate),
        Check("brewery-muc", "brewery", GROUP_BRIDGES, check_brewery_muc),
        Check("brewery-access", "who may enter the brewery", GROUP_BRIDGES,
              lambda facts: boundary.check_brewery_access(facts, lambda: domain(facts)),
              requires=("prosody",), timeout=6.0),
        Check("jicofo-rest", "jicofo's REST port", GROUP_SERVICES, boundary.check_jicofo_rest, requires=("jicofo",)),
        Check("bridges", "bridges seen by jicofo", GROUP_BRIDGES, check_bridges,
              requires=("prosody", "jicofo", "brewery-muc")),
        Check("tokens", "tokens", GROUP_BRIDGES, check_tokens),
        Check("local-bridge", "local bridge", GROUP_BRIDGES, check_local_bridge),
        Check("server-regions", "regions and relays", GROUP_BRIDGES, regions.check_server_regions,
              requires=("jicofo",)),
        Check("relays", "the local bridge's relays", GROUP_BRIDGES, check_relays, timeout=4.5),
        Check("firewall", "firewall", GROUP_HOST, check_firewall),
        Check("disk-space", "disk space", GROUP_HOST, check_disk_space),
        Check("options-file", "options file", GROUP_HOST, check_options_file),
        Check("server-tune", "client settings (server tune)", GROUP_EXTRAS, web.check_tune),
        Check("server-letsencrypt", "Let's Encrypt certificate", GROUP_EXTRAS, web.check_letsencrypt,
              timeout=4.5),
        Check("server-colibri-ws", "colibri websocket routes", GROUP_EXTRAS, websockets.check_server_colibri_ws,
              requires=("web-server",)),
        Check("server-turn", "TURN server", GROUP_EXTRAS, check_turn),
    ]
