"""What `jvb-join server turn` writes, as pure text functions: jvb-join's block in coturn's
/etc/turnserver.conf (and the lines elsewhere in that file it comments out), prosody's external
services for the meet domain, the Include line that loads them, and coturn's unit drop-in; the
settings they are made from, and how the secret is masked in the plan's diffs."""

import re

from jvbjoin.formats.lines import with_line

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
    return with_line(text, INCLUDE_LINE)


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
