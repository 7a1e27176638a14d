"""The one-time password change that makes a join token single use.

The token carries the password of a fresh account the server made for this bridge. On the first
join the bridge logs in with it and changes it (in band, XEP-0077) to one generated here and known
only to this host, so the token opens nothing once used. The new password lives only in the
bridge's config fragment (root:jitsi 0640); /var/lib/jvb-join/bridge.json (0600) remembers which
token was used, so a second run with the same token changes nothing.
"""

import json
import os
import re
import secrets
import time

from .. import files
from ..engine import Change, Step

PASSWORD_LINE = re.compile(r'^\s*PASSWORD\s*[=:]\s*("(?:[^"\\]|\\.)*")\s*$', re.MULTILINE)


def read_state(paths):
    text = files.read_text(paths.bridge_state)
    if not text:
        return {}
    try:
        state = json.loads(text)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def current_password(paths):
    """The password in jvb-join's own fragment, or None (the fragment quotes it as a JSON string)."""
    text = files.read_text(paths.jvb_fragment)
    match = PASSWORD_LINE.search(text or "")
    if not match:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        return None


def new_password():
    # 32 characters from the URL-safe alphabet: nothing HOCON, properties or XML would mangle.
    return secrets.token_urlsafe(24)


class AccountPassword(Step):
    name = "account"
    title = "bridge account (single-use token)"

    def check(self, ctx):
        token = ctx.facts["token"]
        state = read_state(ctx.paths)
        existing = current_password(ctx.paths)
        if state.get("token_id") == token.id and state.get("password_changed") and existing:
            ctx.facts["bridge_password"] = existing
            return []
        if "bridge_password" not in ctx.facts:
            ctx.facts["bridge_password"] = new_password()
        return [Change("account", "{}@{}".format(token.user, token.domain),
                       "log in once with the token and change the account's password")]

    def apply(self, ctx, changes, journal):
        from .. import xmpp

        token = ctx.facts["token"]
        new = ctx.facts["bridge_password"]
        cert = ctx.facts["server_cert_der"]

        done = []

        def undo():
            # Give the account its token password back, so the same token can be used again.
            if done:
                xmpp.change_password(token.host, token.port, token.domain, token.user, new, token.password, cert)

        state_before = files.FileState.read(ctx.paths.bridge_state)
        journal.record("restore the token's password on {}@{}".format(token.user, token.domain), undo)
        ctx.progress("changing the bridge account's password (the token becomes single use)")
        xmpp.change_password(token.host, token.port, token.domain, token.user, token.password, new, cert)
        done.append(True)
        journal.record("restore {}".format(ctx.paths.bridge_state), lambda: files.restore(state_before))
        os.makedirs(ctx.paths.state, 0o700, exist_ok=True)
        state = {"token_id": token.id, "server": token.host, "port": token.port, "domain": token.domain,
                 "meet": token.meet, "muc": token.muc, "user": token.user, "pin": token.pin,
                 "password_changed": True, "joined_at": int(time.time())}
        if getattr(token, "jvb", None):
            state["jvb"] = token.jvb  # the fleet's bridge version, for doctor's package check
        files.write_atomic(ctx.paths.bridge_state, json.dumps(state, indent=2, sort_keys=True) + "\n", 0o600, 0, 0)
