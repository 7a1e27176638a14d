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

import errno
import grp
import json
import os
import re
import secrets
import socket
import time

from .. import files
from ..engine import Change, Context, Engine, Step
from ..errors import JvbJoinError, StepError, UsageError, VerifyError
from ..steps.base import FileStep, WantedFile

TURN_CONF = "/etc/turnserver.conf"
CERT_DIR = "/etc/coturn/certs"
DROP_IN = "/etc/systemd/system/coturn.service.d/jvb-join.conf"
PROSODY_FRAGMENT = "/etc/prosody/jvb-join-turn.cfg.lua"
PROSODY_CFG = "/etc/prosody/prosody.cfg.lua"
INCLUDE_LINE = 'Include "{}" -- added by jvb-join: the TURN server of \'jvb-join server turn\''.format(PROSODY_FRAGMENT)
STATE_NAME = "turn.json"
COTURN_UNIT = "coturn.service"

BEGIN = "# >>> managed by jvb-join (jvb-join server turn): lines elsewhere that set these options are " \
        "commented out with '#jvb-join# '"
END = "# <<< managed by jvb-join"
COMMENTED = "#jvb-join# "

# The Hadoly setup's denied peer ranges (IPv4; its one duplicate left out), then the IPv6 ranges the
# current jitsi-meet-turnserver template denies.
DENIED_PEERS = (
    "0.0.0.0-0.255.255.255", "10.0.0.0-10.255.255.255", "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255", "192.0.2.0-192.0.2.255", "192.88.99.0-192.88.99.255",
    "192.168.0.0-192.168.255.255", "198.18.0.0-198.19.255.255", "198.51.100.0-198.51.100.255",
    "203.0.113.0-203.0.113.255", "240.0.0.0-255.255.255.255",
    "::1", "64:ff9b::-64:ff9b::ffff:ffff", "::ffff:0.0.0.0-::ffff:255.255.255.255",
    "100::-100::ffff:ffff:ffff:ffff", "2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
    "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
)
CREDENTIAL_TTL = 86400  # seconds a client's credentials stay valid, as jitsi-meet-prosody's template
_SECRET_RE = re.compile(r"^[A-Za-z0-9]{16,128}$")


class TurnSettings:
    """Where coturn listens and what it presents; no secret in here (it is written to turn.json)."""

    def __init__(self, domain, host, port=3478, tls_port=None, cert=None, key=None, listen_ip=None):
        self.domain = domain
        self.host = host or domain
        self.port = int(port)
        # One port for all (Hadoly: 443): coturn takes TLS on its plain listener too; the separate
        # TLS listener stays on 5349 (coturn opens it anyway), closed in ufw.
        self.tls_port = int(tls_port) if tls_port else (self.port if self.port == 443 else 5349)
        self.cert = cert or "/etc/jitsi/meet/{}.crt".format(domain)
        self.key = key or "/etc/jitsi/meet/{}.key".format(domain)
        self.listen_ip = listen_ip

    @property
    def ports(self):
        """``(port, proto)`` pairs clients reach coturn on."""
        out = [(self.port, "udp"), (self.port, "tcp")]
        if self.tls_port != self.port:
            out.append((self.tls_port, "tcp"))
        return out

    @property
    def tls_listener(self):
        """coturn's own TLS listener: the TLS port, unless TLS shares the plain port (then any other)."""
        if self.tls_port != self.port:
            return self.tls_port
        return 5349 if self.port != 5349 else 5350

    @property
    def cert_copy(self):
        """Where coturn reads its certificate (a path on the host, as in turnserver.conf)."""
        return "{}/{}.crt".format(CERT_DIR, self.host)

    @property
    def key_copy(self):
        return "{}/{}.key".format(CERT_DIR, self.host)

    def as_dict(self):
        return {"domain": self.domain, "host": self.host, "port": self.port, "tls_port": self.tls_port,
                "cert": self.cert, "key": self.key, "listen_ip": self.listen_ip}

    @classmethod
    def from_dict(cls, data):
        return cls(data["domain"], data["host"], data["port"], data.get("tls_port"), data.get("cert"),
                   data.get("key"), data.get("listen_ip"))


# --- the writers (pure: text in, text out) ------------------------------------------------------

def managed_block(settings, secret, cert_path, key_path):
    """jvb-join's block of /etc/turnserver.conf."""
    lines = [BEGIN,
             "use-auth-secret",
             "static-auth-secret={}".format(secret),
             "realm={}".format(settings.host),
             "server-name={}".format(settings.host),
             "cert={}".format(cert_path),
             "pkey={}".format(key_path),
             "listening-port={}".format(settings.port),
             "tls-listening-port={}".format(settings.tls_listener)]
    if settings.listen_ip:
        lines.append("listening-ip={}".format(settings.listen_ip))
    lines += ["fingerprint", "no-cli", "no-multicast-peers", "no-loopback-peers", "no-tcp-relay",
              "no-tlsv1", "no-tlsv1_1"]
    lines += ["denied-peer-ip={}".format(r) for r in DENIED_PEERS]
    lines.append(END)
    return "\n".join(lines) + "\n"


def _option(line):
    """The coturn option a config line sets (``realm`` for ``realm=x``, ``--realm x``), or None."""
    body = line.strip()
    if not body or body.startswith("#"):
        return None
    name = re.split(r"[=\s]", body, 1)[0]
    return name.lstrip("-") or None


def block_options(block):
    return {o for o in (_option(l) for l in block.splitlines()) if o}


# Options that would undo what the block needs (auth off, the listeners it counts on turned off,
# other listening addresses) are commented out too, though the block does not set them.
SILENCED = ("no-auth", "no-udp", "no-tcp", "no-tls", "no-dtls", "listening-ip", "allow-loopback-peers")


def turnserver_conf(text, block):
    """``text`` with jvb-join's ``block`` in place of the old one (or at the end), and every other
    line that sets one of the block's options (or a SILENCED one) commented out with a mark; all
    else byte for byte."""
    managed = block_options(block) | set(SILENCED)
    out, inside, placed = [], False, False
    for line in (text or "").splitlines(True):
        stripped = line.rstrip("\r\n")
        if stripped == BEGIN:
            inside = True
            continue
        if inside:
            if stripped == END:
                inside = False
                if not placed:
                    out.append(block)
                    placed = True
            continue
        if _option(line) in managed:
            out.append(COMMENTED + line)
        else:
            out.append(line)
    # (a block whose end line was cut by hand: everything after its begin line was jvb-join's)
    if not placed:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(block)
    return "".join(out)


def block_values(text, option):
    """Values of ``option`` in lines coturn reads (not comments), in order."""
    values = []
    for line in (text or "").splitlines():
        if _option(line) != option:
            continue
        body = line.strip().lstrip("-")
        parts = re.split(r"[=\s]", body, 1)
        values.append(parts[1].strip() if len(parts) > 1 else "")
    return values


def managed_secret(text):
    """The secret in jvb-join's block of a turnserver.conf text, or None."""
    inside = False
    for line in (text or "").splitlines():
        if line == BEGIN:
            inside = True
        elif line == END:
            inside = False
        elif inside and line.startswith("static-auth-secret="):
            value = line.split("=", 1)[1].strip()
            return value if _SECRET_RE.match(value) else None
    return None


def _lua(text):
    return '"{}"'.format(text.replace("\\", "\\\\").replace('"', '\\"'))


def prosody_fragment(settings, secret):
    """jvb-join's prosody file: the external services of the meet domain's VirtualHost."""
    host = _lua(settings.host)
    tail = ', secret = true, ttl = {}, algorithm = "turn" }}'.format(CREDENTIAL_TTL)
    return ("-- Managed by jvb-join ('jvb-join server turn'): the TURN server clients of {d} get time-limited\n"
            "-- credentials for (XEP-0215 external services, derived from the secret coturn shares).\n"
            "-- It holds that secret: readable by root and prosody only. Rewritten by that command; do not edit.\n"
            "VirtualHost {dq}\n"
            "    external_service_secret = {s}\n"
            "    external_services = {{\n"
            "        {{ type = \"stun\", host = {h}, port = {p} }},\n"
            "        {{ type = \"turn\", host = {h}, port = {p}, transport = \"udp\"{t},\n"
            "        {{ type = \"turns\", host = {h}, port = {tp}, transport = \"tcp\"{t}\n"
            "    }}\n"
            "VirtualHost \"*\"  -- back to the global section\n").format(
        d=settings.domain, dq=_lua(settings.domain), s=_lua(secret), h=host, p=settings.port,
        tp=settings.tls_port, t=tail)


def prosody_secret(text):
    match = re.search(r'^\s*external_service_secret\s*=\s*"([^"]*)"', text or "", re.MULTILINE)
    return match.group(1) if match else None


def with_include(text):
    """prosody.cfg.lua with jvb-join's marked Include line at the end (unchanged if it is there)."""
    if text is None or any(line.strip() == INCLUDE_LINE for line in text.splitlines()):
        return text
    return text + ("" if text.endswith("\n") or not text else "\n") + INCLUDE_LINE + "\n"


def drop_in(settings):
    """The coturn unit drop-in: only needed for a port below 1024."""
    if min(settings.port, settings.tls_port) >= 1024:
        return None
    return ("# Managed by jvb-join ('jvb-join server turn'): coturn runs as turnserver and listens on\n"
            "# port {} (below 1024).\n[Service]\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n").format(
        min(settings.port, settings.tls_port))


def masker(secret):
    """For the plan's diffs: the secret never shows."""
    token = secret.encode()

    def mask(content):
        return content.replace(token, b"(secret, not shown)")
    return mask


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
        s = ctx.facts["turn"]
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
        s, secret = ctx.facts["turn"], ctx.facts["turn_secret"]
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
        content = drop_in(ctx.facts["turn"])
        path = ctx.paths(DROP_IN)
        if content is None and not os.path.exists(path):
            return []
        return [WantedFile(path, content, 0o644, 0, 0)]


class ProsodyTurn(FileStep):
    """prosody's external services for the meet domain, and the Include line that loads them."""

    name = "prosody-turn"
    title = "prosody's external services (TURN credentials)"

    def wanted(self, ctx):
        s, secret = ctx.facts["turn"], ctx.facts["turn_secret"]
        cfg = ctx.paths(PROSODY_CFG)
        text = files.read_text(cfg)
        if text is None:
            raise JvbJoinError("{} does not exist: prosody is not installed.".format(cfg),
                               "Run 'jvb-join server install --domain {}' first.".format(s.domain))
        return [WantedFile(ctx.paths(PROSODY_FRAGMENT), prosody_fragment(s, secret), 0o640, 0, _gid("prosody"),
                           secret=masker(secret)),
                WantedFile(cfg, with_include(text))]

    def apply(self, ctx, changes, journal):
        domain = ctx.facts["turn"].domain
        # recorded first, so a rollback reloads prosody after its files are back
        journal.record("reload prosody", lambda: reload_prosody(domain))
        super().apply(ctx, changes, journal)
        # prosody keeps running on its old config when a reload fails: check before reloading
        from ..run import run
        result = run(["prosodyctl", "check", "config"], check=False, timeout=60)
        if not result.ok:
            lines = [l for l in (result.stdout + result.stderr).splitlines() if l.strip() and "*" * 5 not in l]
            raise StepError("prosody does not accept the TURN settings: {}".format(
                next((l for l in lines if "rror" in l), lines[-1] if lines else "prosodyctl check config failed")),
                "Run 'prosodyctl check config' to see why; the changes were undone.")
        reload_prosody(domain)


def reload_prosody(domain):
    from .rights import reload_prosody as reload
    reload(domain, module="external_services", host=domain)


class TurnState(FileStep):
    name = "turn-settings"
    title = "TURN settings (for doctor)"
    owns_files = True

    def wanted(self, ctx):
        text = json.dumps(ctx.facts["turn"].as_dict(), indent=2, sort_keys=True) + "\n"
        return [WantedFile(os.path.join(ctx.paths.server_state, STATE_NAME), text, 0o600, 0, 0)]


class CoturnService(Step):
    """coturn enabled and running with the configuration on disk."""

    name = "coturn-service"
    title = "coturn service"

    def check(self, ctx):
        from ..systemd import is_enabled, is_running, state_of
        state = state_of(COTURN_UNIT)
        changes = []
        if not is_enabled(state):
            changes.append(Change("service", COTURN_UNIT, "enable {}".format(COTURN_UNIT), data="enable"))
        if "coturn" in ctx.changed or not is_running(state):
            changes.append(Change("service", COTURN_UNIT, "restart {}".format(COTURN_UNIT), data="restart"))
        return changes

    def apply(self, ctx, changes, journal):
        from ..systemd import Systemd, is_enabled, is_running, state_of
        actions = {c.data for c in changes}
        before = state_of(COTURN_UNIT)
        journal.record("put {} back as it was".format(COTURN_UNIT),
                       lambda: _put_back(is_running(before), is_enabled(before)))
        with Systemd() as systemd:
            systemd.daemon_reload()
            if "enable" in actions:
                systemd.enable([COTURN_UNIT])
            if "restart" in actions:
                systemd.restart(COTURN_UNIT, timeout=60)
                systemd.wait_active(COTURN_UNIT, settle=2.0, timeout=60)
        ctx.restarted("coturn")


def _put_back(running, enabled):
    """coturn with its restored files: running again if it ran (on its old config), else stopped."""
    from ..systemd import with_systemd

    def go(systemd):
        systemd.daemon_reload()
        if not enabled:
            systemd.disable([COTURN_UNIT])
        if running:
            systemd.restart(COTURN_UNIT, timeout=60)
        else:
            systemd.stop(COTURN_UNIT, timeout=60)
    with_systemd(go)


# --- checks before anything changes ----------------------------------------------------------------

def resolve(host):
    """The addresses ``host`` resolves to here (its /etc/hosts or DNS)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)})
    except socket.gaierror:
        return []


def is_local_address(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


def bound_sockets(paths):
    """``(proto, address, port, inode)`` of every listening TCP and bound UDP socket."""
    from ..doctor.facts import _parse_proc_net
    out = []
    for proto, state in (("tcp", "0A"), ("udp", "07")):
        for suffix, v6 in (("", False), ("6", True)):
            text = files.read_text(paths("/proc/net/{}{}".format(proto, suffix))) or ""
            out.extend((proto,) + found for found in _parse_proc_net(text, v6, state, inodes=True))
    return out


def socket_inodes(paths, pid):
    """The inodes of the sockets process ``pid`` holds (empty when it cannot be read)."""
    folder = paths("/proc/{}/fd".format(pid))
    inodes = set()
    try:
        names = os.listdir(folder) if pid else []
    except OSError:
        return inodes
    for name in names:
        try:
            link = os.readlink(os.path.join(folder, name))
        except OSError:
            continue
        if link.startswith("socket:[") and link.endswith("]"):
            inodes.add(int(link[8:-1]))
    return inodes


def coturn_inodes(paths):
    from ..systemd import state_of
    try:
        pid = int(state_of(COTURN_UNIT).get("MainPID") or 0)
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


def recorded(paths):
    """The settings of the last run, or None."""
    text = files.read_text(os.path.join(paths.server_state, STATE_NAME))
    try:
        return TurnSettings.from_dict(json.loads(text)) if text else None
    except (ValueError, KeyError, TypeError):
        return None


def settings_for(opts, paths, domain):
    """The options given, else what the last run used, else the defaults."""
    from ..token import valid_dns_name
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
    from ..steps.packages import Packages
    opts = ctx.facts["options"]
    coturn = Packages(["coturn"], lock_timeout=opts.lock_timeout)
    coturn.name, coturn.title, coturn.restarts = "coturn-package", "coturn (TURN server)", None
    steps = [coturn, TurnCertificate(), TurnConfig(), TurnUnit(), ProsodyTurn()]
    if opts.firewall:
        from ..steps.firewall import Firewall
        steps.append(Firewall(ports=ctx.facts["turn"].ports))
    steps += [CoturnService(), TurnState()]
    return steps


def verify_turn(ctx, report):
    """coturn is active and listens on its port."""
    s = ctx.facts["turn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if coturn_listens(bound_sockets(ctx.paths), s, coturn_inodes(ctx.paths)):
            return
        time.sleep(0.5)
    raise VerifyError("coturn does not listen on {}:{}/tcp.".format(s.listen_ip or "*", s.port),
                      "See 'journalctl -u coturn -n 50'.")


def turn(opts, paths, progress):
    from .tune import find_domain
    if os.geteuid() != 0 and not opts.dry_run:
        raise JvbJoinError("jvb-join server turn must run as root.", "Run it again with sudo.")
    domain = find_domain(paths, opts.domain)
    settings = settings_for(opts, paths, domain)
    for path in (settings.cert, settings.key):
        if not os.path.isfile(paths(path)):
            raise JvbJoinError("{} does not exist.".format(path), "Give the certificate with --cert FILE --key FILE.")
    settings.listen_ip = listen_address(settings, resolve(settings.host), is_local_address)
    ctx = Context(paths, opts.as_dict(), progress)
    ctx.facts.update(options=opts, dry_run=opts.dry_run, turn=settings, turn_secret=read_secret(paths))
    ctx.facts["backups"] = files.Backups(paths.backups, paths.root)
    for folder in (paths("/etc/coturn/certs"), paths("/etc/prosody"), paths("/etc")):
        files.clean_stale_temps(folder)

    def preflight(c):
        from .. import apt
        apt.ready_for_packages(paths, opts.lock_timeout, progress, opts.dry_run)
        preflight_ports(c, settings)

    engine = Engine(turn_steps(ctx), ctx, verify=None if opts.dry_run else verify_turn, preflight=preflight)
    return engine.run("server turn", dry_run=opts.dry_run)
