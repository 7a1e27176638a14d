"""The one-time password change that makes a join token single use.

The token carries the password of a fresh account the server made for this bridge. On the first
join the bridge logs in with it and changes it (in band, XEP-0077) to one generated here and known
only to this host, so the token opens nothing once used. The new password lives only in the
bridge's config fragment (root:jitsi 0640); /var/lib/jvb-join/bridge.json (0600) remembers which
token was used, so a second run with the same token changes nothing.

A run can be killed between the server's password change and the fragment's write. So the new
password is written to bridge.json (root, 0600) *before* the server is asked to change it, and a
re-run with the same token finishes the change (or finds it done) with that password. Once the
fragment holds it, :class:`ForgetPendingPassword` drops that copy again.
"""

import logging
import secrets
import time

from jvbjoin.system import apt, files
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import JvbJoinError, TokenError
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.xmpp import probe, session
from jvbjoin.bridge.model import current_password, joined_on_this_machine, parse_state, read_state, write_state

log = logging.getLogger(__name__)


def new_password():
    # 32 characters from the URL-safe alphabet: nothing HOCON, properties or XML would mangle.
    return secrets.token_urlsafe(24)


class RemoveJoinRecord(FileStep):
    """Leave: what jvb-join remembers of the join (server, account name, token id). The nickname
    stays, so a new join of this host shows up under the same name."""

    name = "join-record"
    title = "jvb-join's record of the join"
    leave_order = 5

    def wanted(self, ctx):
        # with the restart a stopped join left pending: after leave there is no config to restart for
        return [WantedFile(ctx.paths.bridge_state, None), WantedFile(ctx.paths.restart_pending, None)]


class AccountPassword(Step):
    """The token's account gets a password only this host knows; the join is recorded."""

    name = "account"
    title = "bridge account (single-use token)"
    inverse = RemoveJoinRecord

    def check(self, ctx):
        token = ctx.run.token
        state = read_state(ctx.paths)
        existing = current_password(ctx.paths)
        mine = state.get("token_id") == token.id
        if mine and state.get("password_changed") and existing:
            ctx.run.bridge_password = existing
            return []
        if not mine and state.get("password_changed") and existing and state.get("user") and \
                joined_on_this_machine(ctx.paths):
            # joined before with another token: that token's account is handed back once this join
            # is proven (join.hand_back_previous_account). Not on a copy of a joined host (a golden
            # image's clone): the account there is the original's, which still uses it.
            ctx.run.previous_account = {k: state.get(k) for k in ("token_id", "server", "port", "domain",
                                                                  "user", "pin")}
            ctx.run.previous_account["password"] = existing
        if mine and isinstance(state.get("pending_password"), str):
            # A run with this token was stopped half way: its password may be on the server already.
            ctx.run.bridge_password = state["pending_password"]
        if ctx.run.bridge_password is None:
            ctx.run.bridge_password = new_password()
        return [Change("account", "{}@{}".format(token.user, token.domain),
                       "log in once with the token and change the account's password")]

    def apply(self, ctx, changes, journal):
        token = ctx.run.token
        new = ctx.run.bridge_password
        cert = ctx.run.server_cert_der
        state = {"token_id": token.id, "server": token.host, "port": token.port, "domain": token.domain,
                 "meet": token.meet, "muc": token.muc, "user": token.user, "pin": token.pin}
        if getattr(token, "jvb", None):
            state["jvb"] = token.jvb  # the fleet's bridge version, for doctor's package check
        if getattr(token, "region", None):
            state["region"] = token.region  # one per bridge: a further server's token must agree

        done = []

        def undo():
            # Give the account its token password back, so the same token can be used again.
            if done:
                session.change_password(token.host, token.port, token.domain, token.user, new, token.password, cert)

        state_before = files.FileState.read(ctx.paths.bridge_state)
        files.make_folders(ctx.paths.state, journal, 0o700)
        journal.record("restore {}".format(ctx.paths.bridge_state), lambda: files.restore(state_before))
        write_state(ctx.paths, dict(state, password_changed=False, pending_password=new))
        journal.record("restore the token's password on {}@{}".format(token.user, token.domain), undo)
        ctx.progress("changing the bridge account's password (the token becomes single use)")
        try:
            session.change_password(token.host, token.port, token.domain, token.user, token.password, new, cert)
        except TokenError:
            # Refused with the token's password: an earlier run that was stopped may have changed
            # it to the one it remembered. If that one logs in, the change is done; else the error stands.
            earlier = parse_state(state_before.content)
            if earlier.get("token_id") != token.id or earlier.get("pending_password") != new:
                raise
            session.check_login(token.host, token.port, token.domain, token.user, new, cert)
        done.append(True)
        write_state(ctx.paths, dict(state, password_changed=True, pending_password=new,
                                    joined_at=int(time.time())))
        report_version(ctx.paths, token, new, cert)


def report_version(paths, token, password, cert):
    """Tell the server which jvb-join this bridge runs (its doctor lists bridges that differ from
    its own); a server that does not keep it only loses that line of its doctor."""
    version = apt.installed_packages(paths).get("jvb-join")
    if not version:
        return False
    try:
        return session.store_bridge_version(token.host, token.port, token.domain, token.user, password, cert,
                                            version)
    except (JvbJoinError, OSError) as exc:
        log.info("could not report jvb-join %s to the server: %s", version, exc)
        return False


def report_installed_version(paths):
    """After an upgrade: report again with the joined account (its password is in jvb-join's
    fragment; the server's certificate is checked against the pin kept at the join)."""
    state = read_state(paths)
    password = current_password(paths)
    if not (state.get("password_changed") and password and all(state.get(k) for k in ("server", "domain", "user"))):
        return False
    try:
        cert = probe.verify_pin(state["server"], state.get("port") or 5222, state["domain"], state.get("pin"))
    except (JvbJoinError, OSError) as exc:
        log.info("could not reach the server to report the version: %s", exc)
        return False
    joined = _Joined(state["server"], state.get("port") or 5222, state["domain"], state["user"])
    return report_version(paths, joined, password, cert)


class _Joined:
    """Where the joined account lives, shaped as a token for report_version."""

    def __init__(self, host, port, domain, user):
        self.host, self.port, self.domain, self.user = host, port, domain, user


class ForgetPendingPassword(Step):
    """Once the bridge's fragment holds the new password, bridge.json no longer keeps a copy."""

    name = "account-saved"
    title = "bridge account password saved"
    no_inverse = "it changes only the join record, which leave removes whole"

    def check(self, ctx):
        state = read_state(ctx.paths)
        if "pending_password" not in state or state.get("pending_password") != current_password(ctx.paths):
            return []
        return [Change("file", ctx.paths.bridge_state, "forget the copy of the new password in {}".format(
            ctx.paths.bridge_state))]

    def apply(self, ctx, changes, journal):
        before = files.FileState.read(ctx.paths.bridge_state)
        journal.record("restore {}".format(ctx.paths.bridge_state), lambda: files.restore(before))
        state = read_state(ctx.paths)
        state.pop("pending_password", None)
        write_state(ctx.paths, state)
