"""The server's model of its tokens: the token store, a token's state, and the facts every server
command starts from (the meet domain, the auth certificate tokens pin). Reading only: making,
revoking and expiring tokens is in jvbjoin.server.tokens."""

import json
import os
import re
import time

from jvbjoin.errors import InputError, JvbJoinError
from jvbjoin.formats.token import valid_dns_name
from jvbjoin.system import files
from jvbjoin.server.prosody import store_file


class TokenStore:
    """Token records in /var/lib/jvb-join/server/tokens.json (root-only): no passwords in it."""

    def __init__(self, paths):
        self.paths = paths
        self.path = os.path.join(paths.server_state, "tokens.json")

    def load(self):
        text = files.read_text(self.path)
        if not text:
            return []
        try:
            records = json.loads(text)
        except ValueError:
            raise InputError("The token store {} is damaged.".format(self.path),
                             "Restore it from /var/backups/jvb-join or remove it (tokens issued so far then show as unknown).") from None
        return records if isinstance(records, list) else []

    def save(self, records):
        os.makedirs(self.paths.server_state, 0o700, exist_ok=True)
        os.chmod(self.paths.server_state, 0o700)
        files.write_atomic(self.path, json.dumps(records, indent=2, sort_keys=True) + "\n", 0o600, 0, 0)


def jid_of(record):
    return "{}@{}".format(record["user"], record["domain"])


def token_state(record, paths, now=None, in_brewery=None):
    """unused, joined, expired, revoked, left or gone. ``in_brewery``: the accounts now in the brewery
    (prosody's word), when the caller has asked; a token counts as joined once its account was seen
    there (see :func:`expire`), never because its password changed: a rolled-back join changes it too.
    """
    now = time.time() if now is None else now
    if record.get("revoked"):
        return "revoked"
    verifier = account_verifier(paths, record["domain"], record["user"])
    if verifier is None:
        # The account is gone without a revoke here: a joined bridge removes its own account
        # when it leaves ('jvb-join leave', in band); otherwise it expired or was deleted by hand.
        if record.get("joined"):
            return "left"
        return "expired" if record["exp"] <= now else "gone"
    if record.get("joined") or (in_brewery is not None and jid_of(record) in in_brewery):
        return "joined"
    if record["exp"] <= now:
        return "expired"
    return "unused"


def account_verifier(paths, auth_domain, user):
    """Prosody's SCRAM ``stored_key`` of an account: it changes when the password changes, and it
    is not a secret that opens anything, so the store can keep it to tell 'used' from 'unused'."""
    text = files.read_text(store_file(paths, auth_domain, "accounts", user)) or ""
    match = re.search(r'\["stored_key"\]\s*=\s*"([0-9a-fA-F]+)"', text)
    return match.group(1) if match else None


def server_domain(paths):
    """The meet domain of this Jitsi Meet server, from jitsi-meet-prosody's config in conf.avail."""
    folder = paths("/etc/prosody/conf.avail")
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        names = []
    for name in names:
        text = files.read_text(os.path.join(folder, name)) or ""
        match = re.search(r'^\s*Component\s+"internal\.auth\.([^"]+)"\s+"muc"', text, re.MULTILINE)
        if match:
            if not valid_dns_name(match.group(1)):
                raise JvbJoinError("The domain {!r} in {} is not a DNS name jvb-join can use.".format(
                    match.group(1), name))
            return match.group(1)
    raise JvbJoinError("This host is not a Jitsi Meet server yet (no jitsi-meet-prosody configuration found).",
                       "Run 'jvb-join server install --domain D' first.")


def auth_cert_path(paths, domain):
    """Where jitsi-meet-prosody links the auth domain's certificate, the one tokens pin."""
    return paths("/etc/prosody/certs/auth.{}.crt".format(domain))


def missing_auth_cert_remedy(paths, domain):
    """What brings a missing auth certificate link back. jitsi-meet-prosody's postinst links it only
    when it generates the certificate, which it does only while prosody's own copy is missing: with
    that copy there, a reconfigure leaves the link missing."""
    name = "auth.{}".format(domain)
    kept = "/var/lib/prosody/{}.crt".format(name)
    if files.read_bytes(paths(kept)) is not None:
        return ("ln -sf {0} /etc/prosody/certs/{1}.crt; ln -sf /var/lib/prosody/{1}.key /etc/prosody/certs/{1}.key; "
                "systemctl restart prosody   (dpkg-reconfigure jitsi-meet-prosody does not re-link an existing "
                "certificate)".format(kept, name))
    return ("dpkg-reconfigure jitsi-meet-prosody   (it generates a new auth certificate; every bridge then needs a "
            "new token)")


def auth_certificate(paths, domain):
    path = auth_cert_path(paths, domain)
    data = files.read_bytes(path)
    if data is None:
        raise JvbJoinError("The auth certificate {} is missing.".format(path), missing_auth_cert_remedy(paths, domain))
    return data


def ended(record):
    """The token can no longer log in: revoked, removed at expiry, or its account is gone."""
    return bool(record.get("revoked") or record.get("expired_removed") or record.get("account_gone"))
