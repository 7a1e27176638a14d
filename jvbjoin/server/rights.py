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

The same file closes the brewery, the fleet's trust boundary: jicofo takes any occupant of the
brewery room that sends colibri stats as a videobridge, and the packaged component lets anyone in,
guests of the public meet domain included. jvb-join's prosody module ``mod_jvb_join_brewery``
(shipped in PLUGIN_DIR) is enabled on the internal component beside the package's modules, and
``jvb_join_brewery_occupants`` lists who may enter: the component's admins as the package sets them
(jicofo's focus account and the shared jvb account) and the live token accounts. The module reads
the list when it loads and at every reload, so a reload is enough when a token comes or goes.
``jvb_join_brewery_observers`` names the occupants that are not bridges (jicofo's account): only they
get the bridges' presence, so the room does not send every bridge's stats to every other bridge.
"""

import re
import time

from jvbjoin.system import files
from jvbjoin.formats.lines import with_line
from jvbjoin.system.run import run
from jvbjoin.server import prosody
from jvbjoin.server.model import ended

FRAGMENT = "/etc/prosody/jvb-join-bridges.cfg.lua"
PROSODY_CFG = "/etc/prosody/prosody.cfg.lua"
INCLUDE_LINE = 'Include "{}" -- added by jvb-join: token accounts get the jvb account\'s rights'.format(FRAGMENT)
HEADER = ("-- Managed by jvb-join: the rights jitsi-meet-prosody gives the shared jvb account, also given to\n"
          "-- the bridge accounts of jvb-join's tokens, and the closed brewery: only these accounts enter it.\n"
          "-- Rewritten by 'jvb-join server install' and 'jvb-join token create/revoke'; do not edit.\n")
PLUGIN_DIR = "/usr/share/jvb-join/prosody-plugins/"
MODULE = "jvb_join_brewery"
ALLOW_OPTION = "jvb_join_brewery_occupants"
OBSERVERS_OPTION = "jvb_join_brewery_observers"
SHARED_BRIDGE_USER = "jvb"  # jitsi-meet-prosody's shared bridge account, jvb@auth.DOMAIN


def _strings(block):
    return re.findall(r'"([^"\\]+)"', block or "")


def _package_text(paths, domain):
    text = files.read_text(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(domain))) or ""
    return re.sub(r"--[^\n]*", "", text)  # comments


def _internal_section(text, domain):
    start = r'^\s*Component\s+"internal\.auth\.{}"\s+"muc"'.format(re.escape(domain))
    section = re.search(start + r"(.*?)(?=^\s*(?:Component|VirtualHost)\s|\Z)", text, re.MULTILINE | re.DOTALL)
    return section.group(1) if section else ""


def _option(text, name):
    """The strings of ``name = { ... }`` in ``text`` (the first assignment at the start of a line)."""
    found = re.search(r"^\s*{}\s*=\s*\{{([^}}]*)\}}".format(name), text, re.MULTILINE)
    return _strings(found and found.group(1))


def _global_section(text):
    return re.split(r'^\s*(?:Component|VirtualHost)\s', text, maxsplit=1, flags=re.MULTILINE)[0]


def package_rights(paths, domain):
    """``(unlimited_jids, internal admins)`` as jitsi-meet-prosody's config for ``domain`` sets them."""
    text = _package_text(paths, domain)
    return _option(text, "unlimited_jids"), _option(_internal_section(text, domain), "admins")


def package_modules(paths, domain):
    """``(plugin_paths, the internal component's modules_enabled)`` as the package's config sets them."""
    text = _package_text(paths, domain)
    return _option(_global_section(text), "plugin_paths"), _option(_internal_section(text, domain),
                                                                     "modules_enabled")


def live_accounts(records):
    """Accounts of tokens that may still log in: not revoked, not removed at expiry, with an account."""
    return sorted("{}@{}".format(r["user"], r["domain"]) for r in records if not ended(r))


def _lua_list(items):
    return "{ " + ", ".join('"{}"'.format(i) for i in items) + " }"


def render(domain, unlimited, admins, accounts, plugin_paths=(), modules=()):
    """The fragment: the closed brewery always, the token accounts' rights when there are any."""
    add = [a for a in accounts if re.fullmatch(r"[a-z0-9-]+@auth\.[A-Za-z0-9.-]+", a)]
    members = admins + [a for a in add if a not in admins]
    text = HEADER + 'VirtualHost "*"  -- back to the global section\n'
    text += "plugin_paths = {}\n".format(_lua_list([p for p in plugin_paths if p != PLUGIN_DIR] + [PLUGIN_DIR]))
    if add:
        text += "unlimited_jids = {}\n".format(_lua_list(unlimited + [a for a in add if a not in unlimited]))
    return (text + '\nComponent "internal.auth.{}" "muc"\n'.format(domain) +
            "    modules_enabled = {}\n".format(_lua_list([m for m in modules if m != MODULE] + [MODULE])) +
            "    admins = {}\n".format(_lua_list(members)) +
            "    {} = {}\n".format(ALLOW_OPTION, _lua_list(members)) +
            "    {} = {}\n".format(OBSERVERS_OPTION, _lua_list(observers(admins))))


def observers(admins):
    """The brewery's occupants that are not bridges (jicofo's account): the component's admins other
    than the shared bridge account. They get every bridge's presence; bridges do not get each other's."""
    return [a for a in admins if a.partition("@")[0] != SHARED_BRIDGE_USER]


def fragment_text(paths, domain, records):
    """The fragment as it should be for these token records and the package's config."""
    unlimited, admins = package_rights(paths, domain)
    plugin_paths, modules = package_modules(paths, domain)
    return render(domain, unlimited, admins, live_accounts(records), plugin_paths, modules)


def with_include(text):
    """prosody.cfg.lua's text with the marked Include line at its end (unchanged if it has it)."""
    return with_line(text, INCLUDE_LINE)


def sync(paths, domain, records):
    """Write the fragment for the live token accounts and let prosody load it; True if it changed."""
    changed = files.write_atomic(paths(FRAGMENT), fragment_text(paths, domain, records), 0o644, 0, 0)
    changed = ensure_include(paths) or changed
    if changed:
        apply(domain)
    return changed


def apply(domain):
    """Make the running prosody use the file as it now is, in one admin shell session: reload the
    config, then the modules that read its options when they load (the rate limits' exceptions, and
    jvb-join's brewery module, which also brings a newer copy of the module into use), and see that
    the brewery module is loaded. When the shell cannot do that, one step at a time (see
    reload_prosody and load_brewery_module)."""
    answers = prosody.shell_script([
        "config:reload()",
        "module:reload('limits_exception', 'auth.{}')".format(domain),
        "module:reload('{}', 'internal.auth.{}')".format(MODULE, domain),
        "module:list('internal.auth.{}')".format(domain)])
    if answers is None or "OK" not in answers[0]:
        reload_prosody(domain)
        load_brewery_module(domain)
    elif not re.search(r"\b{}\b".format(MODULE), answers[3]):
        load_brewery_module(domain)


def allowed_in_brewery(paths):
    """The accounts jvb-join's prosody file lets into the brewery; None when it does not close it."""
    text = files.read_text(paths(FRAGMENT))
    if text is None or MODULE not in text:
        return None
    return set(_option(text, ALLOW_OPTION))


def ensure_include(paths):
    """The marked Include line at the end of prosody.cfg.lua (backed up first); True if added."""
    path = paths(PROSODY_CFG)
    text = files.read_text(path)
    if text is None or with_include(text) == text:
        return False
    files.Backups(paths.backups, paths.root).save(path)
    files.write_atomic(path, with_include(text))
    return True


def reload_prosody(domain, module="limits_exception", host=None):
    """Reload the config, then the module that read its options when it loaded (by default the one
    that read unlimited_jids, on the auth host).

    The reload goes through the admin shell, which answers once it is done: 'prosodyctl reload'
    only sends a signal, and a shell command right after it can find the admin socket not
    answering for a moment. Without the shell (prosody stopped, or no mod_admin_shell), the signal."""
    if not prosody.shell("config:reload()").ok:
        run(["prosodyctl", "reload"], check=False, timeout=60)
    prosody.shell("module:reload('{}', '{}')".format(module, host or "auth." + domain))


def brewery_closed_in_prosody(domain):
    """Whether the running prosody has the brewery module loaded on the internal component (None when
    prosody cannot be asked)."""
    result = prosody.shell("module:list('internal.auth.{}')".format(domain))
    if not result.ok:
        return None
    return re.search(r"\b{}\b".format(MODULE), result.stdout) is not None


def wait_brewery_closed(domain, timeout=30.0, sleep=time.sleep, clock=time.monotonic):
    """Whether prosody has the brewery module loaded, once it answers (a restarted prosody takes a
    moment to open its admin socket and load its components); None if it never answers."""
    deadline = clock() + timeout
    while True:
        loaded = brewery_closed_in_prosody(domain)
        if loaded or clock() >= deadline:
            return loaded
        sleep(0.5)


def load_brewery_module(domain):
    """Make the running prosody load the brewery module (a reload does not load new modules, nor see a
    new plugin path): ``module:load`` when prosody already knows jvb-join's plugin folder, else (or
    when the load did not take) a restart. Trying ``module:load`` without the folder would only leave
    an "Unable to load module" error in prosody's log. Only when prosody says the module is not
    loaded: a prosody that does not answer is not restarted."""
    loaded = brewery_closed_in_prosody(domain)
    if loaded is None:
        return "unknown"
    if loaded:
        return "loaded"
    known = prosody.plugin_paths()
    if known is None or PLUGIN_DIR.rstrip("/") in known:
        prosody.shell("module:load('{}', 'internal.auth.{}')".format(MODULE, domain))
        if brewery_closed_in_prosody(domain) is not False:
            return "loaded"
    run(["systemctl", "restart", "prosody"], timeout=120)
    wait_brewery_closed(domain)
    return "restarted"
