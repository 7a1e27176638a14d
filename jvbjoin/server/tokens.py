"""Join tokens and the per-bridge prosody accounts behind them (on the Jitsi Meet server).

Each token gets a fresh account ``jvb-<id>@auth.<domain>`` with a random password that exists only
inside the token (the store keeps no password). The bridge changes it at its first login, so a used
token opens nothing. An unused token's account is removed once the token expires (by
``jvb-join token expire``, run by a timer and at every token command), so expiry holds on the server
side and not only by the bridge's clock.
"""

import ipaddress
import os
import re
import secrets
import string
import time

from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.formats.pin import spki_pin
from jvbjoin.formats.token import REGION_RULE, JoinToken, valid_region
from jvbjoin.system import ufw
from jvbjoin.system.run import run
from jvbjoin.server import colibri_ws as ws, prosody, rights
from jvbjoin.server.model import TokenStore, account_verifier, auth_certificate, ended, jid_of, server_domain, token_state

TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
ID_ALPHABET = string.ascii_lowercase + string.digits


def parse_ttl(text, option="--ttl"):
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "")
    if not match or int(match.group(1)) <= 0:
        raise UsageError("{} must be a positive duration such as 30m, 24h or 7d, not {!r}.".format(option, text))
    return int(match.group(1)) * TTL_UNITS[match.group(2) or "s"]


def new_token_id(existing):
    while True:
        token_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(8))
        if token_id not in existing and not token_id.isdigit():
            return token_id


def add_account(jid, password):
    """``prosodyctl adduser`` reads the password twice from stdin: it never reaches a command line."""
    run(["prosodyctl", "adduser", jid], input="{0}\n{0}\n".format(password), secrets=[password], timeout=60)


def add_accounts(paths, accounts):
    """Create many accounts: through the running prosody's admin shell, one session for all of them,
    the passwords on its stdin (the admin socket is root's); any the shell did not create (prosody
    stopped, an older prosody) with ``prosodyctl adduser`` one by one. Returns each account's stored
    key (see account_verifier), as read once it exists."""
    if not accounts:
        return {}
    script = "".join('user:create("{}", "{}")\n'.format(jid, password) for jid, password in accounts)
    run(["prosodyctl", "shell"], input=script, secrets=[p for _, p in accounts], check=False,
        timeout=60 + len(accounts))
    verifiers = {}
    for jid, password in accounts:
        user, _, host = jid.partition("@")
        verifier = account_verifier(paths, host, user)
        if verifier is None:
            add_account(jid, password)
            verifier = account_verifier(paths, host, user)
        verifiers[jid] = verifier
    return verifiers


def _shell(command):
    """A command for the running prosody through its admin socket (mod_admin_shell, prosody 0.12+)."""
    return run(["prosodyctl", "shell", command], check=False, timeout=60)


def delete_account(jid):
    """Delete an account inside the running prosody, which also ends its sessions at once; fall
    back to prosodyctl deluser (storage only) when prosody is not running."""
    result = _shell("user:delete('{}')".format(jid))
    if result.ok and "OK" in result.stdout:
        return True
    return run(["prosodyctl", "deluser", jid], check=False, timeout=60).ok


def kick_sessions(jid):
    """Close any session of the account still open (deleting it normally closed them already)."""
    _shell("c2s:close('{}')".format(jid))


def expire(paths, now=None):
    """Keep the tokens' accounts in step with their bridges; returns the ids of the expired tokens.

    - A token's account seen in the brewery (prosody's own list of occupants) is joined from then on;
      the account's stored key is remembered at that moment. If that key changes later while the
      account is not in the brewery, the bridge's password was replaced by the token's again (a join
      rolled back after it had briefly joined), and the token counts as unused again.
    - An unused token past its expiry loses its account: a token that was never used, one whose join
      rolled back and one whose join was killed half way all stop working at their expiry.
    - A token whose account is gone (a bridge that left removes its own in band; an admin may delete
      one by hand) is noticed; either way its 5222 rule and its prosody rights go too.
    While prosody cannot be asked who is in the brewery, no account is removed.
    """
    now = time.time() if now is None else now
    store = TokenStore(paths)
    records = store.load()
    live = [r for r in records if not ended(r)]
    members = prosody.brewery_accounts(server_domain(paths)) if live else set()
    expired, done, touched = [], [], False
    for record in live:
        verifier = account_verifier(paths, record["domain"], record["user"])
        state = token_state(record, paths, now)
        if state in ("left", "gone"):
            record["account_gone"] = int(now)
            done.append(record)
        elif members is not None and jid_of(record) in members:
            if not record.get("joined") or record.get("joined_key") != verifier:
                record.setdefault("joined", int(now))
                record["joined_key"] = verifier
                touched = True
        elif record.get("joined_key") and members is not None and verifier != record["joined_key"]:
            record.pop("joined", None)
            record.pop("joined_key", None)
            touched = True
        if ended(record) or record.get("joined") or members is None or record["exp"] > now:
            continue
        delete_account(jid_of(record))
        kick_sessions(jid_of(record))
        record["expired_removed"] = int(now)
        expired.append(record["id"])
        done.append(record)
    if done or touched:
        store.save(records)
    if done:
        rights.sync(paths, server_domain(paths), records)
        for source in sorted({r["allow_from"] for r in done if r.get("allow_from")}):
            close_client_port(source, records)
    sync_routes(paths, records, now)
    return expired


def sync_routes(paths, records, now=None):
    """The colibri websocket routes in nginx as the tokens now are (when any token asked for them)."""
    if ws.needed(paths, records):
        ws.sync(paths, records, now=now)


def require_root():
    if os.geteuid() != 0:
        raise JvbJoinError("Token commands read prosody's accounts and jvb-join's token store; run them as root.",
                           "Run it again with sudo.")


def check_region(region, option="--region"):
    """``region`` if it is a relay region name (or None); a usage error otherwise."""
    if region is not None and not valid_region(region):
        raise UsageError("{} must be {}, not {!r}.".format(option, REGION_RULE, region))
    return region


def _start(paths):
    """What every token command starts from: root, the domain, the auth certificate's pin, the store."""
    require_root()
    domain = server_domain(paths)
    pin = spki_pin(auth_certificate(paths, domain))
    store = TokenStore(paths)
    return domain, pin, store, store.load()


def _new_record(domain, pin, token_id, now, ttl_seconds, name, host, port, allow_from, region=None):
    record = {"id": token_id, "name": name or "", "user": "jvb-{}".format(token_id), "domain": "auth." + domain,
              "meet": domain, "created": now, "exp": now + int(ttl_seconds), "host": host or domain, "port": port,
              "pin": pin, "allow_from": allow_from}
    if region:
        record["region"] = region
    return record


def _token(record, password, jvb_version, websockets=None):
    fields = dict(v=1, id=record["id"], host=record["host"], port=record["port"], domain=record["domain"],
                  muc="jvbbrewery@internal.{}".format(record["domain"]), user=record["user"],
                  password=password, pin=record["pin"], exp=record["exp"], meet=record["meet"])
    if jvb_version:
        fields["jvb"] = jvb_version
    if websockets:
        fields.update(ws=websockets["id"], wsfrom=websockets["from"])
    if record.get("region"):
        fields["region"] = record["region"]
    return JoinToken(**fields)


def create(paths, ttl_seconds, name=None, host=None, port=5222, jvb_version=None, now=None, allow_from=None,
           colibri_ws=None, region=None):
    """Make an account and return ``(record, token)``. The token holds the only copy of its password.

    ``colibri_ws``: the bridge's address as this server reaches it; the bridge then gets its own
    websocket server-id and nginx a route to it (server/colibri_ws.py). ``region``: the bridge's
    relay region, carried by the token into its relay settings."""

    check_region(region)
    domain, pin, store, records = _start(paths)
    now = int(time.time() if now is None else now)
    token_id = new_token_id({r["id"] for r in records})
    record = _new_record(domain, pin, token_id, now, ttl_seconds, name, host, port, None, region)
    password = secrets.token_urlsafe(24)
    websockets = None
    if colibri_ws:
        address = ws.bridge_address(colibri_ws)
        ws.check_web(paths, domain)
        websockets = {"id": ws.server_id_for(name, token_id, records), "address": address,
                      "from": ws.server_source(address)}
    if allow_from:
        record["allow_from"] = allow_from = normalize_source(allow_from)
        open_client_port(allow_from)
    add_account(jid_of(record), password)
    record["verifier"] = account_verifier(paths, record["domain"], record["user"])
    if websockets:
        record["colibri_ws"] = websockets
    records.append(record)
    store.save(records)
    rights.sync(paths, domain, records)
    if websockets:
        try:
            sync_routes(paths, records, now)
        except Exception:
            # No token without its route: the account, the record and its port rule go again.
            delete_account(jid_of(record))
            others = [r for r in records if r["id"] != token_id]
            store.save(others)
            rights.sync(paths, domain, others)
            if allow_from:
                close_client_port(allow_from, others)
            raise
    return record, _token(record, password, jvb_version, websockets)


MAX_BATCH = 1000


def batch_names(name, count):
    """The names of a batch's tokens: NAME-01, NAME-02, ... (zero-padded to sort), or none."""
    width = len(str(count))
    return ["{}-{:0{}d}".format(name, i, width) if name else "" for i in range(1, count + 1)]


def create_batch(paths, count, ttl_seconds, name=None, host=None, port=5222, jvb_version=None, now=None,
                 allow_from=None, region=None):
    """Make ``count`` accounts at once and return ``[(record, token), ...]``: the accounts go to the
    running prosody in one admin shell session, the store is written once, and prosody reloads its
    rights once for the whole batch."""
    if not 1 <= count <= MAX_BATCH:
        raise UsageError("--count takes 1 to {}, not {}.".format(MAX_BATCH, count))
    check_region(region)
    domain, pin, store, records = _start(paths)
    now = int(time.time() if now is None else now)
    if allow_from:
        allow_from = normalize_source(allow_from)
        open_client_port(allow_from)
    taken = {r["id"] for r in records}
    made = []
    for label in batch_names(name, count):
        token_id = new_token_id(taken)
        taken.add(token_id)
        made.append((_new_record(domain, pin, token_id, now, ttl_seconds, label, host, port, allow_from, region),
                     secrets.token_urlsafe(24)))
    verifiers = add_accounts(paths, [(jid_of(r), password) for r, password in made])
    for record, _ in made:
        record["verifier"] = verifiers[jid_of(record)]
    records.extend(r for r, _ in made)
    store.save(records)
    rights.sync(paths, domain, records)
    return [(record, _token(record, password, jvb_version)) for record, password in made]


def check_output(path):
    """A tokens file is made new: one already there may hold tokens still to be used."""
    if os.path.lexists(path):
        raise UsageError("{} already exists; the tokens go to a new file.".format(path),
                         "Choose another name, or remove that file once its tokens are used.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError("There is no folder {} for {}.".format(folder, path))


def write_output(path, lines):
    """The tokens, one per line, in a new file only root reads (created 0600, never wider)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("".join(line + "\n" for line in lines))


def list_tokens(paths, now=None):
    require_root()
    expire(paths, now)
    out = []
    for record in TokenStore(paths).load():
        item = {k: record.get(k) for k in ("id", "name", "user", "created", "exp", "host", "nickname")}
        item["state"] = token_state(record, paths, now)
        out.append(item)
    return out


def revoke(paths, token_id):
    """Delete the token's account and disconnect its bridge; other bridges are not touched."""
    require_root()
    store = TokenStore(paths)
    records = store.load()
    for record in records:
        if record["id"] == token_id:
            jid = "{}@{}".format(record["user"], record["domain"])
            delete_account(jid)
            kick_sessions(jid)
            record["revoked"] = int(time.time())
            store.save(records)
            rights.sync(paths, record["meet"], records)
            if record.get("allow_from"):
                close_client_port(record["allow_from"], records)
            sync_routes(paths, records)
            return record
    raise UsageError("There is no token with id {!r}.".format(token_id),
                     "See 'jvb-join token list' for the ids.")


XMPP_PORT = 5222


def _client_port_argv(source, verb="allow"):
    """The ufw rule that lets bridges from ``source`` (a CIDR, or 'any') reach prosody's client port."""
    if source == "any":
        argv = ["ufw", verb, "{}/tcp".format(XMPP_PORT)]
    else:
        argv = ["ufw", verb, "from", source, "to", "any", "port", str(XMPP_PORT), "proto", "tcp"]
    if verb == "allow":
        argv += ["comment", "jvb-join bridges"]
    return argv if verb == "allow" else ["ufw", "delete", "allow"] + argv[2:]


def normalize_source(text):
    """'any', or a CIDR/address in canonical form; anything else is a usage error."""
    if text == "any":
        return text
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise UsageError("--allow-from takes an address, a CIDR such as 198.51.100.0/24, or 'any'; "
                         "not {!r}.".format(text)) from None


def ufw_active():
    result = run(["ufw", "status"], check=False, timeout=30)
    return result.ok and ufw.status_active(result.stdout)


def open_client_port(source):
    """Let bridges from ``source`` reach 5222 (idempotent: ufw skips a rule it already has)."""
    result = run(_client_port_argv(source), check=False, timeout=60)
    text = result.stdout + result.stderr
    if not result.ok and "problem running sysctl" not in text:
        raise JvbJoinError("ufw could not open port {} for {}: {}".format(XMPP_PORT, source, text.strip()[-200:]),
                           "Check 'ufw status verbose'.")


def close_client_port(source, records):
    """Remove the 5222 rule for ``source`` unless another live token still uses it."""
    still_used = [r for r in records if r.get("allow_from") == source and not ended(r)]
    if still_used:
        return False
    run(_client_port_argv(source, "delete"), check=False, timeout=60)
    return True
