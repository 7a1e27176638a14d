"""``jvb-join server turn``: a TURN server (coturn) for the clients of this Jitsi Meet server.

What the Hadoly setup (tutorials/004) does by hand, as steps: coturn with ``use-auth-secret`` and a
secret jvb-join generates, its own name (``--host``, default the meet domain) and certificate (the
web certificate unless ``--cert/--key``), the denied peer ranges of that setup, ufw open for its
ports, and prosody's external services (XEP-0215, the way jitsi-meet-prosody configures them today:
``external_service_secret`` and ``external_services``) pointing clients at it with time-limited
credentials derived from the same secret.

It is its own command rather than an option of ``server install``: it runs on an installed server
without going through apt, debconf and the Jitsi packages again, and a failure here rolls back the
TURN changes only, never the server install.

Files:

- ``/etc/turnserver.conf`` (coturn's own file, or the one jitsi-meet-turnserver wrote): jvb-join
  keeps a marked block at its end, and comments out (``#jvb-join# ``) the lines elsewhere that set
  an option of that block; every other line stays byte for byte. Mode 0640 root:turnserver.
- ``/etc/coturn/certs/<host>.crt|.key``: copies of the certificate and key (coturn runs as
  ``turnserver`` and cannot read the web server's root-only key; the copy of the key is 0640
  root:turnserver). A changed source is copied again by the next run; doctor says when.
- ``/etc/systemd/system/coturn.service.d/jvb-join.conf`` when a port is below 1024 (443): Debian's
  unit runs coturn as ``turnserver`` without CAP_NET_BIND_SERVICE.
- ``/etc/prosody/jvb-join-turn.cfg.lua`` (0640 root:prosody: it holds the secret), set on the meet
  domain's VirtualHost so it wins over the package's global values whatever the load order, and
  loaded by one marked ``Include`` line at the end of prosody.cfg.lua.
- ``/var/lib/jvb-join/server/turn.json``: the settings (no secret), for doctor and the next run.

Port 443 without nginx in front: coturn binds each address itself, so the web server must not hold
443 on the TURN address nor on the wildcard address. jvb-join checks that before changing anything
and refuses with a remedy (give the TURN name its own address, make the web server listen on its
own address only); it never edits the web server's config for this.
"""

import grp
import json
import os
import secrets
import socket
import time

from jvbjoin.formats.token import valid_dns_name
from jvbjoin.system.netinfo import bound_sockets, is_local_address, socket_inodes
from jvbjoin.system import apt, files, systemd
from jvbjoin.engine.core import Change, Context, Engine, Step
from jvbjoin.engine.run import Run
from jvbjoin.errors import JvbJoinError, StepError, UsageError, VerifyError
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.steps.firewall import Firewall
from jvbjoin.steps.packages import Packages
from jvbjoin.server import prosody_check, rights
from jvbjoin.server.tune import find_domain
from jvbjoin.server.turnconf import (
    COTURN_UNIT, DROP_IN, PROSODY_CFG, PROSODY_FRAGMENT, STATE_NAME, TURN_CONF, TurnSettings, drop_in,
    managed_block, managed_secret, masker, prosody_fragment, turnserver_conf, with_include)

# --- steps -----------------------------------------------------------------------------------------

def _gid(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


class TurnCertificate(FileStep):
    """Copies of the certificate and key coturn can read (as turnserver)."""

    name = "turn-certificate"
    title = "coturn's certificate"
    owns_files = True
    restarts = "coturn"

    def wanted(self, ctx):
        s = ctx.run.turn
        gid = _gid("turnserver")
        cert, key = files.read_bytes(ctx.paths(s.cert)), files.read_bytes(ctx.paths(s.key))
        if cert is None or key is None:
            raise JvbJoinError("The TURN certificate {} or its key {} cannot be read.".format(s.cert, s.key),
                               "Give both with --cert FILE --key FILE (PEM).")
        return [WantedFile(ctx.paths(s.cert_copy), cert, 0o644, 0, 0),
                WantedFile(ctx.paths(s.key_copy), key, 0o640, 0, gid, secret=True)]


class TurnConfig(FileStep):
    """jvb-join's block in /etc/turnserver.conf."""

    name = "turn-config"
    title = "coturn's configuration"
    restarts = "coturn"

    def wanted(self, ctx):
        s, secret = ctx.run.turn, ctx.run.turn_secret
        path = ctx.paths(TURN_CONF)
        block = managed_block(s, secret, s.cert_copy, s.key_copy)
        new = turnserver_conf(files.read_text(path) or "", block)
        return [WantedFile(path, new, 0o640, 0, _gid("turnserver"), secret=masker(secret))]


class TurnUnit(FileStep):
    """The coturn unit drop-in for a port below 1024 (removed when no longer needed)."""

    name = "turn-unit"
    title = "coturn's unit (low port)"
    owns_files = True
    restarts = "coturn"

    def wanted(self, ctx):
        content = drop_in(ctx.run.turn)
        path = ctx.paths(DROP_IN)
        if content is None and not os.path.exists(path):
            return []
        return [WantedFile(path, content, 0o644, 0, 0)]


class ProsodyTurn(FileStep):
    """prosody's external services for the meet domain, and the Include line that loads them."""

    name = "prosody-turn"
    title = "prosody's external services (TURN credentials)"

    def wanted(self, ctx):
        s, secret = ctx.run.turn, ctx.run.turn_secret
        cfg = ctx.paths(PROSODY_CFG)
        text = files.read_text(cfg)
        if text is None:
            raise JvbJoinError("{} does not exist: prosody is not installed.".format(cfg),
                               "Run 'jvb-join server install --domain {}' first.".format(s.domain))
        return [WantedFile(ctx.paths(PROSODY_FRAGMENT), prosody_fragment(s, secret), 0o640, 0, _gid("prosody"),
                           secret=masker(secret)),
                WantedFile(cfg, with_include(text))]

    def apply(self, ctx, changes, journal):
        domain = ctx.run.turn.domain
        # recorded first, so a rollback reloads prosody after its files are back
        journal.record("reload prosody", lambda: reload_prosody(domain))
        super().apply(ctx, changes, journal)
        # prosody keeps running on its old config when a reload fails: check before reloading
        verdict = prosody_check.check_config(timeout=60)
        if not verdict.ok:  # warnings (the packaged template's obsolete options) do not stop prosody
            raise StepError("prosody does not accept the TURN settings: {}".format(verdict.errors[0]),
                            "Run 'prosodyctl check config' to see why; the changes were undone.")
        reload_prosody(domain)


def reload_prosody(domain):
    rights.reload_prosody(domain, module="external_services", host=domain)


class TurnState(FileStep):
    name = "turn-settings"
    title = "TURN settings (for doctor)"
    owns_files = True

    def wanted(self, ctx):
        text = json.dumps(ctx.run.turn.as_dict(), indent=2, sort_keys=True) + "\n"
        return [WantedFile(os.path.join(ctx.paths.server_state, STATE_NAME), text, 0o600, 0, 0)]


class CoturnService(Step):
    """coturn enabled and running with the configuration on disk."""

    name = "coturn-service"
    title = "coturn service"

    def check(self, ctx):
        state = systemd.state_of(COTURN_UNIT)
        changes = []
        if not systemd.is_enabled(state):
            changes.append(Change("service", COTURN_UNIT, "enable {}".format(COTURN_UNIT), data="enable"))
        if "coturn" in ctx.changed or not systemd.is_running(state):
            changes.append(Change("service", COTURN_UNIT, "restart {}".format(COTURN_UNIT), data="restart"))
        return changes

    def apply(self, ctx, changes, journal):
        actions = {c.data for c in changes}
        before = systemd.state_of(COTURN_UNIT)
        journal.record("put {} back as it was".format(COTURN_UNIT),
                       lambda: _put_back(systemd.is_running(before), systemd.is_enabled(before)))
        with systemd.Systemd() as manager:
            manager.daemon_reload()
            if "enable" in actions:
                manager.enable([COTURN_UNIT])
            if "restart" in actions:
                manager.restart(COTURN_UNIT, timeout=60)
                manager.wait_active(COTURN_UNIT, settle=2.0, timeout=60)
        ctx.restarted("coturn")


def _put_back(running, enabled):
    """coturn with its restored files: running again if it ran (on its old config), else stopped."""
    def go(manager):
        manager.daemon_reload()
        if not enabled:
            manager.disable([COTURN_UNIT])
        if running:
            manager.restart(COTURN_UNIT, timeout=60)
        else:
            manager.stop(COTURN_UNIT, timeout=60)
    systemd.with_systemd(go)


# --- checks before anything changes ----------------------------------------------------------------

def resolve(host):
    """The addresses ``host`` resolves to here (its /etc/hosts or DNS)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)})
    except socket.gaierror:
        return []


def coturn_inodes(paths):
    try:
        pid = int(systemd.state_of(COTURN_UNIT).get("MainPID") or 0)
    except (JvbJoinError, ValueError, TypeError):
        pid = 0
    return socket_inodes(paths, pid)


WILDCARDS = ("0.0.0.0", "::")


def port_conflicts(sockets, settings, ours):
    """Sockets of other programs on a port coturn must have: on any address when coturn listens on
    every address (it binds each one itself), else on its address or the wildcard one."""
    wanted = {("udp", settings.port), ("tcp", settings.port), ("tcp", settings.tls_listener)}
    return sorted({"{}:{}/{}".format(a, p, proto) for proto, a, p, inode in sockets
                   if (proto, p) in wanted and inode not in ours
                   and (settings.listen_ip is None or a in WILDCARDS or a == settings.listen_ip)})


def coturn_listens(sockets, settings, ours):
    """True when coturn itself holds its TCP port (on its address, when it has one)."""
    return any(proto == "tcp" and p == settings.port and inode in ours
               and (settings.listen_ip is None or a == settings.listen_ip) for proto, a, p, inode in sockets)


def listen_address(settings, resolved, local):
    """The one address coturn must listen on for a port the web server may share (443), else None."""
    if settings.port != 443 and settings.tls_port != 443:
        return None
    mine = [a for a in resolved if local(a)]
    if not mine:
        raise JvbJoinError(
            "{} resolves to {}, which is not an address of this host: coturn cannot listen there on 443.".format(
                settings.host, ", ".join(resolved) or "nothing"),
            "Give {} an address of this host (DNS, or /etc/hosts), or run 'jvb-join server turn' on the host "
            "it names.".format(settings.host))
    v4 = [a for a in mine if ":" not in a]
    return (v4 or mine)[0]


def preflight_ports(ctx, settings):
    """Refuse, before any change, a port another program holds where coturn must listen."""
    held = port_conflicts(bound_sockets(ctx.paths), settings, coturn_inodes(ctx.paths))
    if not held:
        return
    if settings.listen_ip and settings.port == 443 and any(h.endswith(":443/tcp") for h in held):
        raise JvbJoinError(
            "443/tcp is taken on {} (the web server?): coturn cannot listen on {}:443 beside it.".format(
                ", ".join(h[:-4] for h in held if h.endswith("/tcp")), settings.listen_ip),
            "Make the web server listen on its own addresses only (nginx: 'listen <web address>:443 ssl' and "
            "'listen 127.0.0.1:443 ssl' in /etc/nginx/sites-available/{}.conf instead of 'listen 443', then "
            "systemctl restart nginx: a reload keeps the old sockets; Apache: 'Listen <web address>:443' and "
            "'Listen 127.0.0.1:443' in /etc/apache2/ports.conf) and give {} another address; "
            "or use --port 3478 (TLS on 5349).".format(settings.domain, settings.host))
    raise JvbJoinError("Another program holds {}, where coturn must listen.".format(", ".join(held)),
                       "Stop it (see: ss -lntup), or choose other ports with --port/--tls-port.")


# --- the command ---------------------------------------------------------------------------------

class TurnOptions:
    def __init__(self, domain=None, host=None, port=None, tls_port=None, cert=None, key=None, dry_run=False,
                 firewall=True, lock_timeout=300):
        self.domain = domain
        self.host = host
        self.port = port
        self.tls_port = tls_port
        self.cert = cert
        self.key = key
        self.dry_run = dry_run
        self.firewall = firewall
        self.lock_timeout = lock_timeout

    def as_dict(self):
        return dict(vars(self))


class TurnRun(Run):
    """One `server turn`: its options, the TURN settings and coturn's shared secret."""

    def __init__(self, options, backups, turn, turn_secret):
        super().__init__(options, options.dry_run, backups, options.lock_timeout, options.firewall)
        self.turn, self.turn_secret = turn, turn_secret


def recorded(paths):
    """The settings of the last run, or None."""
    text = files.read_text(os.path.join(paths.server_state, STATE_NAME))
    try:
        return TurnSettings.from_dict(json.loads(text)) if text else None
    except (ValueError, KeyError, TypeError):
        return None


def settings_for(opts, paths, domain):
    """The options given, else what the last run used, else the defaults."""
    last = recorded(paths)
    if last is not None and last.domain != domain:
        last = None
    if (opts.cert is None) != (opts.key is None):
        raise UsageError("--cert and --key go together.")
    host = opts.host or (last.host if last else domain)
    if not valid_dns_name(host):
        raise UsageError("--host must be a DNS name such as turn.example.com, not {!r}.".format(host))
    port = opts.port or (last.port if last else 3478)
    tls_port = opts.tls_port or (last.tls_port if last and not opts.port else None)
    cert, key = (os.path.abspath(opts.cert), os.path.abspath(opts.key)) if opts.cert else \
        ((last.cert, last.key) if last and not opts.host else (None, None))
    return TurnSettings(domain, host, port, tls_port, cert, key)


def read_secret(paths):
    """The secret of an earlier run (kept: clients holding credentials stay valid), else a new one."""
    try:
        existing = managed_secret(files.read_text(paths(TURN_CONF)))
    except OSError:
        existing = None
    return existing or secrets.token_hex(24)


def turn_steps(ctx):
    opts = ctx.run.options
    coturn = Packages(["coturn"], lock_timeout=opts.lock_timeout, name="coturn-package",
                      title="coturn (TURN server)", restarts=None)
    steps = [coturn, TurnCertificate(), TurnConfig(), TurnUnit(), ProsodyTurn()]
    if opts.firewall:
        steps.append(Firewall(ports=ctx.run.turn.ports))
    steps += [CoturnService(), TurnState()]
    return steps


def verify_turn(ctx, report):
    """coturn is active and listens on its port."""
    s = ctx.run.turn
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if coturn_listens(bound_sockets(ctx.paths), s, coturn_inodes(ctx.paths)):
            return
        time.sleep(0.5)
    raise VerifyError("coturn does not listen on {}:{}/tcp.".format(s.listen_ip or "*", s.port),
                      "See 'journalctl -u coturn -n 50'.")


def turn(opts, paths, progress):
    if os.geteuid() != 0 and not opts.dry_run:
        raise JvbJoinError("jvb-join server turn must run as root.", "Run it again with sudo.")
    domain = find_domain(paths, opts.domain)
    settings = settings_for(opts, paths, domain)
    for path in (settings.cert, settings.key):
        if not os.path.isfile(paths(path)):
            raise JvbJoinError("{} does not exist.".format(path), "Give the certificate with --cert FILE --key FILE.")
    settings.listen_ip = listen_address(settings, resolve(settings.host), is_local_address)
    run = TurnRun(opts, files.Backups(paths.backups, paths.root), settings, read_secret(paths))
    ctx = Context(paths, run, progress)
    for folder in (paths("/etc/coturn/certs"), paths("/etc/prosody"), paths("/etc")):
        files.clean_stale_temps(folder)

    def preflight(c):
        apt.ready_for_packages(paths, opts.lock_timeout, progress, opts.dry_run)
        preflight_ports(c, settings)

    engine = Engine(turn_steps(ctx), ctx, verify=None if opts.dry_run else verify_turn, preflight=preflight)
    return engine.run("server turn", dry_run=opts.dry_run)
