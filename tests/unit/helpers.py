"""What several unit-test files share: file helpers, a real join token and the run and context a
join makes, certificates, and the joined bridge the doctor tests start from.

A plain module (``from helpers import ...``); the fixtures built from it live in conftest.py.
Test files import from here, never from one another.
"""

import datetime
import hashlib
import os
import time

from jvbjoin.bridge.checks import base as bridge_checks
from jvbjoin.bridge.join import JoinOptions, JoinRun
from jvbjoin.doctor.core import Facts
from jvbjoin.engine.core import Context, Journal
from jvbjoin.formats import pin as pins
from jvbjoin.formats.token import DEFAULT_PORT, VERSION, JoinToken
from jvbjoin.server import turn
from jvbjoin.server.turnconf import TurnSettings
from jvbjoin.system import files, releases

# --- files ------------------------------------------------------------------------------------------


def write(path, text, mode=None):
    """Write ``text`` (str, or bytes) to ``path``, making its folders; ``mode`` is open()'s (default
    "w", "wb" for bytes; "a" appends)."""
    if mode is None:
        mode = "wb" if isinstance(text, bytes) else "w"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def read(path):
    """A file's text exactly as it is on disk (no newline translation; undecodable bytes kept)."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


def write_file(paths, path, text, mode=0o644):
    """Write ``text`` (str or bytes) at the host path ``path`` under the rooted ``paths``, with ``mode``."""
    full = paths(path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb" if isinstance(text, bytes) else "w") as handle:
        handle.write(text)
    os.chmod(full, mode)


def run_step(step, ctx):
    """Check a step and apply what it plans; return the changes (empty: nothing to do)."""
    changes = step.check(ctx)
    if changes:
        step.apply(ctx, changes, Journal())
    return changes


# --- the join token, the join's run and context -----------------------------------------------------

DOMAIN = "meet.example.com"
AUTH = "auth." + DOMAIN
MUC = "jvbbrewery@internal.auth." + DOMAIN
TOKEN_ID = "abc12345"
# The pin of a server key: 'sha256:' and 64 lowercase hex digits, as spki_pin makes it.
PIN = pins.PREFIX + hashlib.sha256(b"the auth domain's public key").hexdigest()
# 2100-01-01: a token that does not expire while the tests run.
EXP = 4102444800


def make_token(**fields):
    """A real, checked JoinToken with the fields `token create` gives it on a server for
    meet.example.com: the auth domain, brewery and account name follow ``meet`` and ``id`` unless
    given; any field can be overridden (``ws``/``wsfrom``, ``jvb`` are left out unless given)."""
    meet = fields.get("meet", DOMAIN)
    token_id = fields.get("id", TOKEN_ID)
    values = dict(v=VERSION, id=token_id, host=meet, port=DEFAULT_PORT, domain="auth." + meet,
                  muc="jvbbrewery@internal.auth." + meet, user="jvb-" + token_id,
                  password="token-pass-" + token_id, pin=PIN, exp=EXP, meet=meet)
    values.update(fields)
    return JoinToken(**values)


def join_run(token=None, backups=None, **options):
    """A JoinRun for ``token`` (default: make_token()) with JoinOptions(**options)."""
    return JoinRun(token if token is not None else make_token(), JoinOptions(**options), backups)


def join_ctx(paths, token=None, backups=None, progress=None, **options):
    """The Context of a join on the host ``paths``: join_run(token, backups, **options)."""
    return Context(paths, join_run(token, backups, **options), progress)


def config_ctx(paths, password="p4ss", local_ip=None, **options):
    """A join's context as the bridge config steps see it: the bridge account's password made
    (and, with --advertise-ip, this host's address behind the NAT found)."""
    ctx = join_ctx(paths, **options)
    ctx.run.bridge_password = password
    if local_ip:
        ctx.run.local_ip = local_ip
    return ctx


# --- the packaged bridge config ---------------------------------------------------------------------

PACKAGE_JVB_CONF = """videobridge {
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.meet.example.com"
            USERNAME=jvb
            PASSWORD="secret"
            MUC_JIDS="jvbbrewery@internal.auth.meet.example.com"
            MUC_NICKNAME=5f0c
            DISABLE_CERTIFICATE_VERIFICATION=true
        }
    }
}
ice4j {
    harvest.mapping.stun.addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]
}
"""


# --- certificates -----------------------------------------------------------------------------------

def make_cert(cn="auth.meet.lab.test", key_type="rsa", ca=True, days=30):
    """A self-signed certificate: (DER, PEM, the key's PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(65537, 2048) if key_type == "rsa" else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.PEM), key_pem


# --- a joined bridge, as doctor reads it ------------------------------------------------------------

MACHINE = "0123456789abcdef0123456789abcdef"
NICK = "jvb-host-0a1b2c3d"
UNIT_OK = {"ActiveState": "active", "SubState": "running", "LoadState": "loaded", "NRestarts": 0,
           "ActiveEnterTimestamp": int((time.time() - 3600) * 1e6), "UnitFileState": "enabled"}
METRICS_OK = {"jitsi_jvb_muc_clients_connected": 1.0, "jitsi_jvb_mucs_joined": 1.0, "jitsi_jvb_conferences": 2.0}

FRAGMENT = """videobridge.apis.xmpp-client.configs.shard {{
  HOSTNAME = "{host}"
  PORT = 5222
  DOMAIN = "{auth}"
  USERNAME = "jvb-abc"
  PASSWORD = "s3cret-password"
  MUC_JIDS = "{muc}"
  MUC_NICKNAME = "{nick}"
  DISABLE_CERTIFICATE_VERIFICATION = false
}}
"""

# The package's own client block turns verification off: the fragment's keys must win over it.
JVB_CONF = PACKAGE_JVB_CONF + 'include "jvb-join.conf"  # added by jvb-join; remove with \'jvb-join leave\'\n'


def facts_for(paths, unit=None, metrics=None, health=(True, ""), cert_der=None):
    """Doctor's facts for a bridge whose unit, metrics and health are as given (default: all well)."""
    facts = Facts(paths)
    facts.put("unit:" + bridge_checks.UNIT, dict(UNIT_OK, **(unit or {})))
    facts.put("metrics", dict(METRICS_OK) if metrics is None else metrics)
    facts.put("health", health)
    if cert_der is not None:
        facts.put("server-cert", cert_der)
    return facts


# --- jicofo's view of the bridges ------------------------------------------------------------------

def bridge_state(**over):
    """A bridge as jicofo's debug state shows it (Bridge.kt debugState, as jicofo 1.0-1196 writes it)."""
    state = {"drain": False, "endpoints": 0, "endpoint-restart-requests": 0, "graceful-shutdown": False,
             "healthy": True, "operational": True, "overloaded": False, "region": "null", "relay-id": "null",
             "release": "null", "shutting-down": False, "stress": 0.05, "version": "2.3.312-ga29d97d13"}
    state.update(over)
    return state


def debug_doc(**table):
    """jicofo's /debug document listing the bridges of ``table`` (nickname: state) in the brewery."""
    return {"focus_manager": {}, "bridge_selector": {"strategy": "SingleBridgeSelectionStrategy",
                                                      "bridge": {"{}/{}".format(MUC, k): v for k, v in table.items()}},
            "jibri_detector": "null", "sip_jibri_detector": "null", "jigasi_detector": "null"}


# --- ufw status as ufw prints it -------------------------------------------------------------------

INACTIVE = "Status: inactive\n"
ACTIVE_ADMIN = """Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
8443                       ALLOW IN    10.0.0.0/8                 # admin panel
22/tcp (v6)                ALLOW IN    Anywhere (v6)
"""


# --- recorded os-release files and package control fields (data/) ---------------------------------

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def release(name, paths=None):
    """A recorded os-release file (data/os-release/NAME): parsed, or written to the host ``paths`` and read."""
    with open(os.path.join(DATA, "os-release", name)) as handle:
        text = handle.read()
    if paths is None:
        from jvbjoin.system.host import parse_os_release
        return parse_os_release(text)
    with open(paths.os_release, "w") as handle:
        handle.write(text)
    return releases.os_release(paths)


def control(name):
    """A recorded package control paragraph (data/control/NAME) as a dict."""
    from debian.deb822 import Deb822
    with open(os.path.join(DATA, "control", name)) as handle:
        return dict(Deb822(handle))


def row(name, role="bridge"):
    """The support table's row for the recorded release NAME and ``role``."""
    return releases.check_supported(release(name), role)


# --- server turn -----------------------------------------------------------------------------------

SECRET = "a" * 16 + "0123456789abcdef"

# What jitsi-meet-turnserver writes (its marker line, its secret, its ports), with a line the admin added.
JITSI_TURNSERVER_CONF = """# jitsi-meet coturn config. Do not modify this line
use-auth-secret
keep-address-family
static-auth-secret=packagesecret123
realm=meet.example.com
cert=/etc/jitsi/meet/meet.example.com.crt
pkey=/etc/jitsi/meet/meet.example.com.key
no-tcp
listening-port=3478
tls-listening-port=5349
# jitsi-meet coturn relay disable config. Do not modify this line
denied-peer-ip=10.0.0.0-10.255.255.255
user-quota=12
--total-quota 1200\r
#no-auth
--no-auth
syslog"""


def turn_ctx(paths, turnserver=JITSI_TURNSERVER_CONF):
    """The context of `server turn` on a server with jitsi-meet-turnserver's files (certificate, key,
    turnserver.conf) and prosody's main config."""
    for rel, text in (("/etc/jitsi/meet/meet.example.com.crt", "CERT\n"),
                      ("/etc/jitsi/meet/meet.example.com.key", "KEY\n"),
                      ("/etc/turnserver.conf", turnserver),
                      ("/etc/prosody/prosody.cfg.lua", 'Include "conf.d/*.cfg.lua"\n')):
        os.makedirs(os.path.dirname(paths(rel)), exist_ok=True)
        files.write_atomic(paths(rel), text, 0o600 if rel.endswith(".key") else 0o644)
    ctx = Context(paths, turn.TurnRun(turn.TurnOptions(), files.Backups(paths.backups, paths.root),
                                      TurnSettings(domain="meet.example.com", host="turn.example.com"), SECRET))
    return ctx


# --- time ---------------------------------------------------------------------------------------------

class Clock:
    """A monotonic clock for a test: ``sleep`` moves it on at once."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
