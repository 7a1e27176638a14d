"""What the shared ``jvb`` account has in jitsi-meet-prosody's config, given to each token's account.

jitsi-meet-prosody names ``jvb@auth.DOMAIN`` twice (reference: jitsi-packages.md 2.3): in the
global ``unlimited_jids`` (mod_limits_exception lifts prosody's rate limits for it) and in the
``admins`` of the brewery's component ``internal.auth.DOMAIN``. A per-token account would lose
both. jvb-join keeps its own whole file that sets both options again: the package's values, read
from its file, plus every live token account. It must load after the package's file, and prosody
0.12 includes ``conf.d/*.cfg.lua`` in directory order, not name order; so the file lives outside
conf.d and one marked ``Include`` line at the end of prosody.cfg.lua, after the package's conf.d
line, loads it. It is rewritten when a token is created, revoked or expires, and prosody reloads
it. The package's file is never edited.

The presence filter that keeps bridges from receiving each other's stats is docker-jitsi-meet's
(jvb_muc_presence_filter.pfw); the Debian packages have none, so there is nothing to extend.
"""

import re

from .. import files
from ..run import run

FRAGMENT = "/etc/prosody/jvb-join-bridges.cfg.lua"
PROSODY_CFG = "/etc/prosody/prosody.cfg.lua"
INCLUDE_LINE = 'Include "{}" -- added by jvb-join: token accounts get the jvb account\'s rights'.format(FRAGMENT)
HEADER = ("-- Managed by jvb-join: the rights jitsi-meet-prosody gives the shared jvb account, also given to\n"
          "-- the bridge accounts of jvb-join's tokens. Rewritten by 'jvb-join token create/revoke'; do not edit.\n")


def _strings(block):
    return re.findall(r'"([^"\\]+)"', block or "")


def package_rights(paths, domain):
    """``(unlimited_jids, internal admins)`` as jitsi-meet-prosody's config for ``domain`` sets them."""
    text = files.read_text(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(domain))) or ""
    text = re.sub(r"--[^\n]*", "", text)  # comments
    unlimited = re.search(r"^\s*unlimited_jids\s*=\s*\{([^}]*)\}", text, re.MULTILINE)
    start = r'^\s*Component\s+"internal\.auth\.{}"\s+"muc"'.format(re.escape(domain))
    section = re.search(start + r"(.*?)(?=^\s*(?:Component|VirtualHost)\s|\Z)", text, re.MULTILINE | re.DOTALL)
    admins = re.search(r"^\s*admins\s*=\s*\{([^}]*)\}", section.group(1) if section else "", re.MULTILINE)
    return _strings(unlimited and unlimited.group(1)), _strings(admins and admins.group(1))


def live_accounts(records):
    """Accounts of tokens that may still log in: not revoked, not removed at expiry, with an account."""
    from .tokens import ended
    return sorted("{}@{}".format(r["user"], r["domain"]) for r in records if not ended(r))


def _lua_list(items):
    return "{ " + ", ".join('"{}"'.format(i) for i in items) + " }"


def render(domain, unlimited, admins, accounts):
    """The fragment: only the header when no token account needs anything."""
    add = [a for a in accounts if re.fullmatch(r"[a-z0-9-]+@auth\.[A-Za-z0-9.-]+", a)]
    if not add:
        return HEADER
    return (HEADER + 'VirtualHost "*"  -- back to the global section\n'
            "unlimited_jids = {}\n\n".format(_lua_list(unlimited + [a for a in add if a not in unlimited])) +
            'Component "internal.auth.{}" "muc"\n'.format(domain) +
            "    admins = {}\n".format(_lua_list(admins + [a for a in add if a not in admins])))


def sync(paths, domain, records):
    """Write the fragment for the live token accounts and let prosody load it; True if it changed."""
    unlimited, admins = package_rights(paths, domain)
    changed = files.write_atomic(paths(FRAGMENT), render(domain, unlimited, admins, live_accounts(records)),
                                 0o644, 0, 0)
    changed = ensure_include(paths) or changed
    if changed:
        reload_prosody(domain)
    return changed


def ensure_include(paths):
    """The marked Include line at the end of prosody.cfg.lua (backed up first); True if added."""
    path = paths(PROSODY_CFG)
    text = files.read_text(path)
    if text is None or any(line.strip() == INCLUDE_LINE for line in text.splitlines()):
        return False
    files.Backups(paths.backups, paths.root).save(path)
    files.write_atomic(path, text + ("" if text.endswith("\n") or not text else "\n") + INCLUDE_LINE + "\n")
    return True


def reload_prosody(domain, module="limits_exception", host=None):
    """Reload the config, then the module that read its options when it loaded (by default the one
    that read unlimited_jids, on the auth host)."""
    run(["prosodyctl", "reload"], check=False, timeout=60)
    run(["prosodyctl", "shell", "module:reload('{}', '{}')".format(module, host or "auth." + domain)], check=False,
        timeout=60)
