"""`jvb-join bridges`: the bridges jicofo sees, with the tokens that let them in.

jicofo's debug state (server/jicofo.py) says which bridges are in the brewery and how they are
(version, stress, drain, shutdown, health); it does not say which account each one logged in with.
prosody does: the brewery room's occupants carry their real JIDs (the internal MUC makes them
public to its members) and their sessions their addresses. Joining both with the token store
names the token behind each bridge, and the token accounts that are not in the brewery.
"""

import time

from jvbjoin.server import jicofo, prosody
from jvbjoin.server.model import TokenStore, ended, server_domain, token_state
from jvbjoin.server.tokens import require_root

SHARED_ACCOUNT = "jvb"


def occupants(domain):
    """``{nickname: {"account": bare JID, "address": IP}}`` of the brewery, as prosody has it; empty
    when prosody cannot tell (then bridges are still listed, only their accounts come from what the
    token store remembers)."""
    return prosody.brewery_occupants(domain) or {}


def fleet(paths, now=None):
    """The document `bridges` prints: jicofo's bridges joined with prosody's occupants and the
    token store; remembers each token's bridge nickname for `token list`."""

    now = time.time() if now is None else now
    require_root()
    domain = server_domain(paths)
    url, seen = jicofo.bridges(paths)
    present = occupants(domain)
    store = TokenStore(paths)
    records = store.load()
    by_account = {"{}@{}".format(r["user"], r["domain"]): r for r in records}
    by_nick = {r["nickname"]: r for r in records if r.get("nickname")}
    changed = False
    listed = []
    for bridge in seen:
        occupant = present.get(bridge["nickname"], {})
        account = occupant.get("account")
        record = by_account.get(account) if account else by_nick.get(bridge["nickname"])
        item = dict(bridge)
        item.update(account=account or (record and "{}@{}".format(record["user"], record["domain"])),
                    address=occupant.get("address"), token=None, token_name=None, state=bridge_state(bridge))
        if account and not fleet_account(account, record, domain):
            # In the brewery with an account that is neither a live token's nor the package's: jicofo
            # may send it conferences. 'jvb-join server install' closes the brewery to such accounts.
            item.update(state="not-a-fleet-account", token_name="(not a fleet account)")
        elif record:
            item.update(token=record["id"], token_name=record.get("name") or None)
            if record.get("nickname") != bridge["nickname"] and account:
                record["nickname"] = bridge["nickname"]
                changed = True
        elif account and account.partition("@")[0] == SHARED_ACCOUNT:
            item["token_name"] = "(shared jvb account)"
        listed.append(item)
    connected = {item["account"] for item in listed if item["account"]}
    absent = []
    for record in records:
        account = "{}@{}".format(record["user"], record["domain"])
        state = token_state(record, paths, now)
        if account in connected or state in ("revoked", "expired", "gone", "left"):
            continue
        absent.append({"token": record["id"], "token_name": record.get("name") or None, "account": account,
                       "state": state, "nickname": record.get("nickname")})
    if changed:
        store.save(records)
    return {"jicofo": url, "brewery": "jvbbrewery@internal.auth.{}".format(domain),
            "bridges": listed, "not_connected": absent}


def fleet_account(account, record, domain):
    """A live token's account, or the package's shared jvb account, on the auth domain."""
    if record is not None:
        return not ended(record)
    return account == "{}@auth.{}".format(SHARED_ACCOUNT, domain)


def bridge_state(bridge):
    """One word for the operator, the most important first."""
    if bridge["shutting_down"]:
        return "shutting-down"
    if bridge["graceful_shutdown"]:
        return "graceful-shutdown"
    if not bridge["operational"] or not bridge["healthy"]:
        return "unhealthy"
    if bridge["drain"]:
        return "draining"
    return "overloaded" if bridge["overloaded"] else "ok"
