"""The running prosody, through ``prosodyctl``: its admin shell (mod_admin_shell, prosody 0.12 and
later) and config reloads; and the names of prosody's data files (its ``datamanager`` layout)."""

import os
import re

from jvbjoin.system.run import run

PROSODYCTL = ["prosodyctl"]


DATA = "/var/lib/prosody"


def store_name(text):
    """A host or user name as prosody's datamanager names it on disk: every character other than
    an ASCII letter or digit as ``%xx`` (``auth.meet.example.com`` is ``auth%2emeet%2eexample%2ecom``)."""
    return re.sub(r"[^A-Za-z0-9]", lambda m: "".join("%{:02x}".format(b) for b in m.group().encode()), text)


def store_file(paths, host, store, user, ext="dat"):
    """The file of ``user``'s ``store`` (accounts, roster, pep...) on ``host``."""
    return paths(DATA, store_name(host), store, "{}.{}".format(store_name(user), ext))


def forget_user_data(paths, host, user):
    """Remove every store file of ``user`` on ``host``: what a throwaway session left (a guest of
    jitsi-anonymous has its PEP bookmarks node stored, unlike prosody's own anonymous login).
    Returns the files removed."""
    folder = paths(DATA, store_name(host))
    removed = []
    try:
        stores = sorted(os.listdir(folder))
    except OSError:
        return removed
    for store in stores:
        for ext in ("dat", "list"):
            path = store_file(paths, host, store, user, ext)
            try:
                os.unlink(path)
            except OSError:
                continue
            removed.append(path)
    return removed


def shell(command, timeout=60):
    """Run one admin shell command in the running prosody; the run's result (never raises on failure)."""
    return run(PROSODYCTL + ["shell", command], check=False, timeout=timeout)


PROMPT = "prosody> "


def shell_script(commands, timeout=60):
    """Run several admin shell commands in one ``prosodyctl shell`` (one process, one connection):
    the answer of each, in order, or None when the shell could not run them all (prosody not
    running, no admin socket)."""
    result = run(PROSODYCTL + ["shell"], input="".join(c + "\n" for c in commands), check=False, timeout=timeout)
    if not result.ok:
        return None
    answers = result.stdout.split(PROMPT)[1:]
    if len(answers) < len(commands):
        return None
    return answers[:len(commands)]


def brewery_jid(meet_domain):
    return "jvbbrewery@internal.auth.{}".format(meet_domain)


# One line per occupant, with the account it logged in with: the brewery's nicknames are chosen by
# the bridges, the accounts are not.
# Raw Lua in prosody's global environment (the '>' form), where print() answers the shell: one line
# per occupant session, tabs between the fields (a nickname or JID cannot hold a tab), and a last word
# that tells an empty room from a prosody that could not run it.
OCCUPANTS_LUA = (
    '>local host = prosody.hosts["internal.auth.{domain}"]; '
    'local muc = host and host.modules.muc; '
    'local room = muc and muc.get_room_from_jid("{room}"); '
    'if room then for _, occupant in room:each_occupant() do '
    'for full in occupant:each_session() do local s = prosody.full_sessions[full]; '
    'print("jvb-join-occupant\\t" .. tostring(occupant.nick) .. "\\t" .. tostring(full) .. "\\t" '
    '.. tostring(s and s.ip or "")) end end end; return true, "listed"'
)


# The plugin folders the running prosody loads modules from: read from plugin_paths when it starts,
# not on a reload, so a folder added since is unknown to it until a restart.
PLUGIN_PATHS_LUA = '>print("jvb-join-plugin-paths\\t" .. tostring(prosody.paths.plugins)); return true, "listed"'


def plugin_paths():
    """The running prosody's plugin folders (without a trailing slash), None when it cannot be asked."""
    result = shell(PLUGIN_PATHS_LUA)
    if not result.ok:
        return None
    for line in result.stdout.splitlines():
        parts = line.strip().lstrip("| ").split("\t")
        if len(parts) == 2 and parts[0] == "jvb-join-plugin-paths":
            return [path.rstrip("/") for path in parts[1].split(";") if path and path != "nil"]
    return None


def parse_occupants(text):
    """``{nickname: {"account": bare JID, "address": IP or None}}`` from the shell's answer."""
    out = {}
    for line in text.splitlines():
        parts = line.strip().lstrip("| ").split("\t")
        if len(parts) != 4 or parts[0] != "jvb-join-occupant":
            continue
        _, occupant, full, address = parts
        out[occupant.partition("/")[2]] = {"account": full.partition("/")[0].lower(), "address": address or None}
    return out


def brewery_occupants(meet_domain):
    """``{nickname: {"account", "address"}}`` of the brewery room now, as prosody itself knows them
    (the nicknames are chosen by the bridges, the accounts are not); empty when there is no such
    room; None when the running prosody cannot be asked."""
    result = shell(OCCUPANTS_LUA.format(domain=meet_domain, room=brewery_jid(meet_domain)))
    if not result.ok or not re.search(r"\blisted\b", result.stdout):
        return None
    return parse_occupants(result.stdout)


def brewery_accounts(meet_domain):
    """The accounts now in the brewery room (bare JIDs); see :func:`brewery_occupants`."""
    occupants = brewery_occupants(meet_domain)
    return None if occupants is None else {o["account"] for o in occupants.values()}


BRIDGE_NS = "urn:jvb-join:bridge:0"


def bridge_version(paths, host, user):
    """The jvb-join version a bridge reported into its account's private XML storage (mod_private,
    prosody's file storage), or None when it reported none or prosody keeps its data elsewhere."""
    try:
        with open(store_file(paths, host, "private", user), encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    at = text.find(BRIDGE_NS)
    match = re.search(r'\["version"\]\s*=\s*"([^"\\]*)"', text[at:]) if at >= 0 else None
    return match.group(1) if match else None
