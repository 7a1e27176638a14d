"""The join token: the one piece of text that carries a bridge from `token create` to `join` (DESIGN §3).

Text form: ``jvbj1.`` + base64url (no padding) of compact JSON + ``.`` + the first 8 hex digits of the
SHA-256 of that base64 text. The checksum only catches a token cut or mistyped while copying; the
token's authority comes from the server account it names and the certificate pin it carries.

Parsing is strict and fails with ``TokenError`` (exit 65) and a message that names what is wrong
without echoing the token or its password.
"""

import base64
import binascii
import hashlib
import ipaddress
import json
import re
import time
import unicodedata

from jvbjoin.errors import TokenError, TokenExpiredError

PREFIX = "jvbj1."
VERSION = 1
MAX_LENGTH = 4096
DEFAULT_PORT = 5222
CHECKSUM_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
# The last second of year 9999: far enough for any TTL, near enough for time.gmtime everywhere.
MAX_EXP = 253402300799

FIELDS = ("v", "id", "host", "port", "domain", "muc", "user", "password", "pin", "exp", "meet", "jvb", "ws",
          "wsfrom", "region")
# ws and wsfrom (token create --colibri-ws): the bridge's colibri websocket server-id, and the
# server's address that alone may reach the bridge's websocket port. Both or neither.
# region (token create --region): the bridge's relay region. A token without it is read as before;
# a reader older than the field refuses a token that has it ("unknown key"), never drops it.
OPTIONAL = frozenset(["jvb", "ws", "wsfrom", "region"])
PUBLIC_FIELDS = ("id", "host", "port", "domain", "muc", "meet", "exp", "pin", "jvb", "ws", "wsfrom", "region")
# The package's default server-id: every bridge has it, so it routes nothing to one bridge.
DEFAULT_SERVER_ID = "default-id"

_ID = re.compile(r"[a-z0-9]{6,16}\Z")
_LOCALPART = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_PIN = re.compile(r"sha256:[0-9a-f]{64}\Z")
# A Debian version: optional epoch, upstream starting with a digit, optional revision.
_DEBIAN_VERSION = re.compile(r"(?:[0-9]{1,9}:)?[0-9][A-Za-z0-9.+~-]{0,98}\Z")
_SERVER_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?\Z")
# A relay region: a short lowercase name such as eu, us-east or ap-south-1.
_REGION = re.compile(r"[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?\Z")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_CHECKSUM = re.compile(r"[0-9a-f]{%d}\Z" % CHECKSUM_LENGTH)
_OTHER_VERSION = re.compile(r"jvbj([0-9]{1,6})\.")
_SHOWABLE_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
_UNSAFE_CATEGORIES = frozenset(["Cc", "Cs", "Zl", "Zp"])


def valid_dns_name(name):
    """True for a lowercase DNS name such as ``meet.example.com`` (no trailing dot, no IP address)."""
    if not isinstance(name, str) or not 0 < len(name) <= 253:
        return False
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    # A name whose last label is all digits reads as an IP address to half the world's software.
    return not labels[-1].isdigit()


def valid_ip_literal(text):
    """True for an IPv4 or IPv6 address written plainly (no brackets, zone, or leading zeros)."""
    if not isinstance(text, str) or not 0 < len(text) <= 45 or "%" in text:
        return False
    quad = text.rsplit(":", 1)[-1]
    if "." in quad and any(len(part) > 1 and part[0] == "0" for part in quad.split(".")):
        return False  # 010.0.0.1 is octal to some resolvers and decimal to others
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def valid_host(text):
    return valid_dns_name(text) or valid_ip_literal(text)


def valid_localpart(text):
    return isinstance(text, str) and _LOCALPART.match(text) is not None


def valid_bare_jid(text):
    """True for ``local@domain`` with both parts on the allow-list (no resource, no escapes)."""
    if not isinstance(text, str) or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    return valid_localpart(local) and valid_dns_name(domain)


_KINDS = ((bool, "true/false"), (int, "a number"), (float, "a decimal number"), (str, "text"),
          ((list, tuple), "a list"), (dict, "an object"))


def _kind(value):
    """What a JSON value is, in words, for messages that must not show the value itself."""
    if value is None:
        return "null"
    for types, word in _KINDS:
        if isinstance(value, types):
            return word
    return "a {}".format(type(value).__name__)


def _key_name(key):
    return "'{}'".format(key) if _SHOWABLE_KEY.match(key) else "(a key with unusual characters, not shown)"


def _need_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TokenError("The token's {} must be a whole number, not {}.".format(name, _kind(value)))


def _need_text(name, value):
    if not isinstance(value, str):
        raise TokenError("The token's {} must be text, not {}.".format(name, _kind(value)))


def _check_password(password):
    _need_text("password", password)
    if not password:
        raise TokenError("The token's password is empty.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise TokenError("The token's password is longer than {} characters.".format(MAX_PASSWORD_LENGTH))
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in password):
        raise TokenError("The token's password contains control characters or line breaks.")


def _check_version(v):
    _need_int("version (v)", v)
    if v != VERSION:
        raise TokenError("This token has version {}, which this jvb-join does not know (it reads version {})."
                         .format(v if 0 <= v < 10 ** 6 else "(out of range)", VERSION),
                         "Upgrade jvb-join on this host, or create a token with the server's matching version.")


def _check_fields(f):
    """Check every field of a token, in the order of FIELDS; raise TokenError on the first bad one."""
    _check_version(f["v"])
    _need_text("id", f["id"])
    if not _ID.match(f["id"]):
        raise TokenError("The token's id must be 6 to 16 lowercase letters and digits.")
    _need_text("host", f["host"])
    if not valid_host(f["host"]):
        raise TokenError("The token's host is not a valid DNS name or IP address.")
    _need_int("port", f["port"])
    if not 1 <= f["port"] <= 65535:
        raise TokenError("The token's port is out of range (1 to 65535).")
    _need_text("domain", f["domain"])
    if not valid_dns_name(f["domain"]):
        raise TokenError("The token's domain (the XMPP auth domain) is not a valid DNS name.")
    _need_text("muc", f["muc"])
    if not valid_bare_jid(f["muc"]):
        raise TokenError("The token's muc must be a brewery address such as "
                         "jvbbrewery@internal.auth.meet.example.com.")
    _need_text("user", f["user"])
    if not valid_localpart(f["user"]):
        raise TokenError("The token's user must be 1 to 64 characters: lowercase letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit.")
    _check_password(f["password"])
    _need_text("pin", f["pin"])
    if not _PIN.match(f["pin"]):
        raise TokenError("The token's pin must be 'sha256:' followed by 64 lowercase hex digits.")
    _need_int("expiry time (exp)", f["exp"])
    if not 0 < f["exp"] <= MAX_EXP:
        raise TokenError("The token's expiry time (exp) is not a plausible Unix time.")
    _need_text("meet", f["meet"])
    if not valid_dns_name(f["meet"]):
        raise TokenError("The token's meet domain is not a valid DNS name.")
    if f["jvb"] is not None:
        _need_text("jvb", f["jvb"])
        if not _DEBIAN_VERSION.match(f["jvb"]):
            raise TokenError("The token's jvb must be a Debian package version such as 2.3-312-ga29d97d13-1.")
    if (f["ws"] is None) != (f["wsfrom"] is None):
        raise TokenError("The token has only one of ws and wsfrom (colibri websockets need both).")
    if f["ws"] is not None:
        _need_text("ws", f["ws"])
        if not valid_server_id(f["ws"]):
            raise TokenError("The token's ws (the websocket server-id) must be 1 to 32 lowercase letters, digits "
                             "and '-', and not '{}'.".format(DEFAULT_SERVER_ID))
        _need_text("wsfrom", f["wsfrom"])
        if not valid_ip_literal(f["wsfrom"]):
            raise TokenError("The token's wsfrom must be the server's IP address.")
    if f["region"] is not None:
        _need_text("region", f["region"])
        if not valid_region(f["region"]):
            raise TokenError("The token's region must be " + REGION_RULE + ".")


REGION_RULE = "1 to 32 lowercase letters, digits and inner '-', starting with a letter (e.g. eu, us-east)"


def valid_region(text):
    """A relay region for a bridge and jicofo (compared by jicofo as a plain string)."""
    return isinstance(text, str) and _REGION.match(text) is not None


def valid_server_id(text):
    """A colibri websocket server-id jvb-join gives a bridge: it goes into a URL path and an nginx
    location regex, so only lowercase letters, digits and inner '-'."""
    return isinstance(text, str) and _SERVER_ID.match(text) is not None and text != DEFAULT_SERVER_ID


class JoinToken(object):
    """A checked join token. Immutable; its repr and str never show the password."""

    __slots__ = FIELDS

    def __init__(self, v=VERSION, id=None, host=None, port=DEFAULT_PORT, domain=None, muc=None, user=None,
                 password=None, pin=None, exp=None, meet=None, jvb=None, ws=None, wsfrom=None, region=None):
        values = dict(v=v, id=id, host=host, port=port, domain=domain, muc=muc, user=user, password=password,
                      pin=pin, exp=exp, meet=meet, jvb=jvb, ws=ws, wsfrom=wsfrom, region=region)
        _check_fields(values)
        for name in FIELDS:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name, value):
        raise AttributeError("a JoinToken cannot be changed; use replace()")

    def __delattr__(self, name):
        raise AttributeError("a JoinToken cannot be changed")

    def _values(self):
        return tuple(getattr(self, name) for name in FIELDS)

    def __eq__(self, other):
        return isinstance(other, JoinToken) and self._values() == other._values()

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        shown = self.redacted()
        return "JoinToken({})".format(", ".join("{}={!r}".format(name, shown[name]) for name in FIELDS))

    __str__ = __repr__

    def __reduce__(self):
        # Pickles and copies would be a way for the password to leave the process unnoticed.
        raise TypeError("a JoinToken is not pickled; encode() it where it is meant to travel")

    def replace(self, **changes):
        values = {name: getattr(self, name) for name in FIELDS}
        values.update(changes)
        return JoinToken(**values)

    def is_expired(self, now=None):
        return self.exp <= (time.time() if now is None else now)

    def public_fields(self):
        """What reports may show about the token: no account name, no password."""
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}

    def redacted(self):
        """Every field, with the password hidden."""
        values = {name: getattr(self, name) for name in FIELDS}
        values["password"] = "(hidden)"
        return values


def _checksum(body):
    return hashlib.sha256(body.encode("ascii")).hexdigest()[:CHECKSUM_LENGTH]


def encode(token):
    """The text form of ``token``, for `jvb-join <token>`."""
    if not isinstance(token, JoinToken):
        raise TypeError("encode() takes a JoinToken")
    data = {name: getattr(token, name) for name in FIELDS}
    for name in OPTIONAL:
        if data[name] is None:
            del data[name]
    payload = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("ascii")
    body = base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
    text = "{}{}.{}".format(PREFIX, body, _checksum(body))
    if len(text) > MAX_LENGTH:
        raise TokenError("The token would be longer than {} characters.".format(MAX_LENGTH))
    return text


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _refuse_constant(name):
    raise ValueError("not a JSON number")


def _split(text):
    """The base64 body of a token text, after checking its frame (prefix, parts, checksum)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_LENGTH * 4:
            raise TokenError("The token is too long (a token is at most {} characters).".format(MAX_LENGTH))
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError("The token is not text (it is not valid UTF-8).") from None
    if not isinstance(text, str):
        raise TokenError("The token must be text.")
    if len(text) > MAX_LENGTH * 4:
        raise TokenError("The token is too long (a token is at most {} characters).".format(MAX_LENGTH))
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise TokenError("The token is too long (a token is at most {} characters).".format(MAX_LENGTH))
    if not text:
        raise TokenError("The token is empty.")
    if not text.startswith(PREFIX):
        other = _OTHER_VERSION.match(text)
        if other:
            raise TokenError("This token has format version {}, which this jvb-join does not know (it reads "
                             "version {}).".format(other.group(1), VERSION),
                             "Upgrade jvb-join on this host, or create a token with the server's matching version.")
        raise TokenError("This is not a jvb-join token (a join token starts with '{}').".format(PREFIX))
    if any(ch.isspace() for ch in text):
        raise TokenError("The token contains spaces or line breaks; copy it again as one line.")
    parts = text.split(".")
    if len(parts) != 3:
        raise TokenError("The token has {} dot-separated parts; a join token has exactly 3 "
                         "(jvbj1.<data>.<checksum>).".format(len(parts)))
    _, body, check = parts
    if "=" in body:
        raise TokenError("The token's data has base64 padding ('='); a join token is base64url without padding.")
    if not _BASE64URL.match(body):
        raise TokenError("The token's data has characters that are not base64url (A-Z, a-z, 0-9, '-', '_').")
    if not _CHECKSUM.match(check):
        raise TokenError("The token's checksum must be {} lowercase hex digits; the token was changed or cut "
                         "while copying.".format(CHECKSUM_LENGTH))
    if check != _checksum(body):
        raise TokenError("The token's checksum does not match: the token was changed or cut while copying.")
    return body


def _payload(body):
    """The JSON object inside a checked body, as a dict with no duplicate keys."""
    if not body or len(body) % 4 == 1:
        raise TokenError("The token's data is not valid base64url (its length is impossible).")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("The token's data is not valid base64url.") from None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != body:
        raise TokenError("The token's data is not canonical base64url (stray bits at its end).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenError("The token's data is not valid UTF-8.") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except _DuplicateKey as exc:
        raise TokenError("The token's data has a duplicate key {}.".format(_key_name(exc.args[0]))) from None
    except (ValueError, RecursionError):
        raise TokenError("The token's data is not valid JSON.") from None
    if not isinstance(data, dict):
        raise TokenError("The token's data must be a JSON object, not {}.".format(_kind(data)))
    return data


def decode(text, now=None):
    """The JoinToken in ``text`` (str or UTF-8 bytes), checked and unexpired at ``now`` (default: the clock).

    Raises TokenError with a specific message for every kind of bad input.
    """
    data = _payload(_split(text))
    for key in sorted(data):
        if key not in FIELDS:
            raise TokenError("The token has an unknown key {}.".format(_key_name(key)),
                             "Upgrade jvb-join on this host if the server's jvb-join is newer, or create a new "
                             "token with 'jvb-join token create'.")
    if "v" in data:
        _check_version(data["v"])
    for key in FIELDS:
        if key not in data and key not in OPTIONAL:
            raise TokenError("The token has no '{}' key.".format(key))
    for name in sorted(OPTIONAL):
        if name in data and data[name] is None:
            raise TokenError("The token's {} must be text, not null.".format(name))
    token = JoinToken(**data)
    if token.is_expired(now):
        raise TokenExpiredError("This join token expired at {}; a new token is needed.".format(
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(token.exp))))
    return token
