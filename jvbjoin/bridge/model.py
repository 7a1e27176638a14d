"""What a bridge host keeps of its join: the record in /var/lib/jvb-join/bridge.json (0600: which token,
which server, a password change under way), the account's password in jvb-join's fragment, and the
bridge's MUC nickname: unique per host, stable across runs, new on a cloned host."""

import json
import os
import re
import socket

from jvbjoin.system import files, host

PASSWORD_LINE = re.compile(r'^\s*PASSWORD\s*[=:]\s*("(?:[^"\\]|\\.)*")\s*$', re.MULTILINE)


def read_state(paths):
    return parse_state(files.read_bytes(paths.bridge_state))


def parse_state(data):
    if not data:
        return {}
    try:
        state = json.loads(data.decode("utf-8"))
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


def write_state(paths, state):
    os.makedirs(paths.state, 0o700, exist_ok=True)
    files.write_atomic(paths.bridge_state, json.dumps(state, indent=2, sort_keys=True) + "\n", 0o600, 0, 0)


def joined_on_this_machine(paths):
    """Whether the earlier join was made on this machine (its nickname was made for this machine-id),
    not on the host this one was copied from."""
    try:
        stored = json.loads(files.read_text(paths.nickname_file) or "")
    except ValueError:
        return False
    return isinstance(stored, dict) and stored.get("machine_id") == host.machine_id(paths)


def short_hostname():
    name = socket.gethostname().split(".")[0].lower()
    name = "".join(ch if (ch.isalnum() and ch.isascii()) or ch == "-" else "-" for ch in name).strip("-")
    return name[:40] or "host"


def _read(paths):
    try:
        data = json.loads(files.read_text(paths.nickname_file) or "")
    except (OSError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("nickname"), str) else None


def stored_nickname(paths):
    """The nickname this host joined as, or None."""
    stored = _read(paths)
    return stored["nickname"] if stored else None


def bridge_nickname(ctx, create=False):
    """``jvb-<short hostname>-<8 hex>``; the hex is random, made once per machine-id.

    With ``create`` a new nickname is stored in the state file; without it (doctor, dry-run) the
    stored one is returned if it is still valid, else the one that would be made is proposed,
    kept in ``ctx.run`` so the same run always sees the same value.
    """
    paths = ctx.paths
    machine = host.machine_id(paths)
    stored = _read(paths)
    if stored is not None and stored.get("machine_id") == machine:
        if create:
            _mark_joined_as(paths, machine, stored["nickname"])
        return stored["nickname"]
    nickname = ctx.run.proposed_nickname
    if nickname is None:
        nickname = "jvb-{}-{}".format(short_hostname(), os.urandom(4).hex())
        ctx.run.proposed_nickname = nickname
    if create:
        os.makedirs(os.path.dirname(paths.nickname_file), 0o755, exist_ok=True)
        files.write_atomic(paths.nickname_file,
                           (json.dumps({"nickname": nickname, "machine_id": machine}) + "\n").encode(),
                           0o644)
        _mark_joined_as(paths, machine, nickname)
    return nickname


def _mark_joined_as(paths, machine, nickname):
    """The file jitsi-videobridge2's drop-in looks for (``paths.joined_as``)."""
    if machine:
        os.makedirs(paths.joined_as, 0o755, exist_ok=True)
        files.write_atomic(os.path.join(paths.joined_as, machine), nickname + "\n", 0o644)
