"""Token accounts get what jitsi-meet-prosody gives the shared jvb account: rate-limit exemption
and admin of the brewery's component, from a jvb-join-owned prosody file, never by editing the
package's file."""

import os

from jvbjoin.server import rights

DOMAIN = "meet.example.com"
HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "lab", "standins", "jitsi-meet-prosody", "usr", "share",
                        "jitsi-meet-prosody", "prosody.cfg.lua-jvb.example")


def package_config(paths):
    """The package's site config as its postinst writes it (the lab stand-in's template)."""
    text = open(TEMPLATE).read().replace("jitmeet.example.com", DOMAIN).replace("focusUser", "focus")
    os.makedirs(paths("/etc/prosody/conf.avail"))
    os.makedirs(paths("/etc/prosody/conf.d"))
    with open(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN)), "w") as f:
        f.write(text)
    with open(paths(rights.PROSODY_CFG), "w") as f:
        f.write(MAIN_CFG)
    return text


MAIN_CFG = 'admins = { }\nmodules_enabled = { "roster"; }\nInclude "conf.d/*.cfg.lua"\n'


def record(token_id, **extra):
    r = {"id": token_id, "user": "jvb-" + token_id, "domain": "auth." + DOMAIN, "meet": DOMAIN}
    r.update(extra)
    return r


def test_package_rights_are_read_from_its_file(paths):
    package_config(paths)
    unlimited, admins = rights.package_rights(paths, DOMAIN)
    assert unlimited == ["focus@auth." + DOMAIN, "jvb@auth." + DOMAIN]
    assert admins == ["focus@auth." + DOMAIN, "jvb@auth." + DOMAIN]


def test_fragment_adds_live_token_accounts_to_both_lists(paths, monkeypatch):
    before = package_config(paths)
    calls = []
    from jvbjoin.server import prosody
    from jvbjoin.system.run import Result
    monkeypatch.setattr(rights, "run", lambda argv, **kw: calls.append(argv))
    # the running prosody has the brewery module loaded
    monkeypatch.setattr(prosody, "run", lambda argv, **kw: calls.append(argv) or Result(
        argv, 0, "| internal.auth.{}:\n|     {}\n".format(DOMAIN, rights.MODULE), ""))
    records = [record("aaaa1111"), record("bbbb2222", revoked=5), record("cccc3333", expired_removed=6)]
    assert rights.sync(paths, DOMAIN, records) is True
    text = open(paths(rights.FRAGMENT)).read()
    assert 'unlimited_jids = {{ "focus@auth.{0}", "jvb@auth.{0}", "jvb-aaaa1111@auth.{0}" }}'.format(DOMAIN) in text
    assert 'Component "internal.auth.{}" "muc"'.format(DOMAIN) in text
    assert 'admins = {{ "focus@auth.{0}", "jvb@auth.{0}", "jvb-aaaa1111@auth.{0}" }}'.format(DOMAIN) in text
    assert "bbbb2222" not in text and "cccc3333" not in text
    assert ["prosodyctl", "shell", "config:reload()"] in calls  # a reload that answers when done
    # the closed brewery: jvb-join's module beside the package's, and the same accounts as admins
    assert 'plugin_paths = { "/usr/share/jitsi-meet/prosody-plugins/", "/usr/share/jvb-join/prosody-plugins/" }' in text
    assert 'modules_enabled = { "muc_hide_all", "ping", "jvb_join_brewery" }' in text
    assert 'jvb_join_brewery_occupants = {{ "focus@auth.{0}", "jvb@auth.{0}", "jvb-aaaa1111@auth.{0}" }}'.format(
        DOMAIN) in text
    assert rights.allowed_in_brewery(paths) == {"focus@auth." + DOMAIN, "jvb@auth." + DOMAIN,
                                                "jvb-aaaa1111@auth." + DOMAIN}
    # loaded after the package's conf.d files: one marked line at the end of prosody.cfg.lua
    assert open(paths(rights.PROSODY_CFG)).read() == MAIN_CFG + rights.INCLUDE_LINE + "\n"
    assert os.listdir(paths.backups)  # prosody.cfg.lua was backed up before that
    # the package's file is untouched; the same accounts again change nothing and reload nothing
    assert open(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN))).read() == before
    calls.clear()
    assert rights.sync(paths, DOMAIN, records) is False and calls == []
    assert open(paths(rights.PROSODY_CFG)).read().count(rights.INCLUDE_LINE) == 1
    # the last live account goes: the brewery stays closed, to jicofo and the package's jvb account
    assert rights.sync(paths, DOMAIN, [record("aaaa1111", revoked=7)]) is True
    text = open(paths(rights.FRAGMENT)).read()
    assert "aaaa1111" not in text and "unlimited_jids" not in text
    assert rights.allowed_in_brewery(paths) == {"focus@auth." + DOMAIN, "jvb@auth." + DOMAIN}


def test_a_prosody_that_does_not_answer_is_never_restarted_for_the_module(monkeypatch):
    """Right after a reload the admin socket may not answer: that is no reason to restart prosody
    (a restart drops every bridge's session); only prosody's own 'not loaded' is."""
    calls = []
    monkeypatch.setattr(rights, "brewery_closed_in_prosody", lambda domain: None)
    monkeypatch.setattr(rights, "run", lambda argv, **kw: calls.append(argv))
    assert rights.load_brewery_module(DOMAIN) == "unknown" and calls == []
    answers = iter([False, False, True])
    monkeypatch.setattr(rights, "brewery_closed_in_prosody", lambda domain: next(answers))
    from jvbjoin.server import prosody
    monkeypatch.setattr(prosody, "shell", lambda command, timeout=60: calls.append(command))
    monkeypatch.setattr(prosody, "plugin_paths", lambda: None)
    assert rights.load_brewery_module(DOMAIN) == "restarted"
    assert calls[-1] == ["systemctl", "restart", "prosody"]


def test_the_module_is_loaded_in_place_only_when_prosody_knows_its_folder(monkeypatch):
    """prosody reads plugin_paths when it starts: a 'module:load' from a folder it does not know only
    fails and logs "Unable to load module". Then the restart comes at once; with the folder known, the
    load is tried first and no restart is needed."""
    from jvbjoin.server import prosody
    calls = []
    monkeypatch.setattr(rights, "run", lambda argv, **kw: calls.append(argv))
    monkeypatch.setattr(prosody, "shell", lambda command, timeout=60: calls.append(command))
    monkeypatch.setattr(rights, "wait_brewery_closed", lambda domain: True)
    monkeypatch.setattr(prosody, "plugin_paths", lambda: ["/usr/lib/prosody/modules",
                                                          "/usr/share/jitsi-meet/prosody-plugins"])
    monkeypatch.setattr(rights, "brewery_closed_in_prosody", lambda domain: False)
    assert rights.load_brewery_module(DOMAIN) == "restarted"
    assert calls == [["systemctl", "restart", "prosody"]]
    del calls[:]
    answers = iter([False, True])
    monkeypatch.setattr(rights, "brewery_closed_in_prosody", lambda domain: next(answers))
    monkeypatch.setattr(prosody, "plugin_paths", lambda: ["/usr/share/jitsi-meet/prosody-plugins",
                                                          rights.PLUGIN_DIR.rstrip("/")])
    assert rights.load_brewery_module(DOMAIN) == "loaded"
    assert calls == ["module:load('jvb_join_brewery', 'internal.auth.{}')".format(DOMAIN)]


def test_plugin_paths_are_read_from_the_shell_answer(monkeypatch):
    from jvbjoin.system.run import Result
    from jvbjoin.server import prosody
    answer = ("| jvb-join-plugin-paths\t/usr/share/jitsi-meet/prosody-plugins/;/usr/share/jvb-join/prosody-plugins/;"
              "/usr/lib/prosody/modules\n| Result: listed\n")
    monkeypatch.setattr(prosody, "shell", lambda command, timeout=60: Result(["prosodyctl"], 0, answer, ""))
    assert prosody.plugin_paths() == ["/usr/share/jitsi-meet/prosody-plugins", "/usr/share/jvb-join/prosody-plugins",
                                      "/usr/lib/prosody/modules"]
    monkeypatch.setattr(prosody, "shell", lambda command, timeout=60: Result(["prosodyctl"], 1, "", "no socket"))
    assert prosody.plugin_paths() is None


def test_prosody_store_names_and_a_throwaway_guests_files_forgotten(tmp_path):
    from jvbjoin.system.paths import Paths
    from jvbjoin.server import prosody
    assert prosody.store_name("auth.meet-1.example.com") == "auth%2emeet%2d1%2eexample%2ecom"
    assert prosody.store_name("jvb_a") == "jvb%5fa"
    paths = Paths(str(tmp_path))
    guest, other = "8tj7buddk-ocu6tzegftfcq7", "jvb"
    for user in (guest, other):
        for store, ext in (("pep", "dat"), ("roster", "dat"), ("archive", "list")):
            path = prosody.store_file(paths, "meet.example.com", store, user, ext)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
    removed = prosody.forget_user_data(paths, "meet.example.com", guest)
    assert sorted(os.path.basename(p) for p in removed) == ["8tj7buddk%2docu6tzegftfcq7.dat"] * 2 + [
        "8tj7buddk%2docu6tzegftfcq7.list"]
    left = sorted(os.listdir(os.path.join(str(tmp_path), "var/lib/prosody/meet%2eexample%2ecom/pep")))
    assert left == ["jvb.dat"]
    assert prosody.forget_user_data(paths, "other.example.com", guest) == []


def shell_answer(*answers):
    """What `prosodyctl shell` prints for commands on its stdin: a banner, then a prompt before each answer."""
    return "Welcome to the Prosody administration console.\n" + "".join(
        "prosody> " + a + "\n" for a in answers) + "prosody> \n"


def test_a_change_reaches_prosody_in_one_shell_session(paths, monkeypatch):
    """Config reload, both modules' reload and the check that the brewery module runs: one process,
    not one per command (token create pays this once per token, a batch once)."""
    package_config(paths)
    from jvbjoin.server import prosody
    from jvbjoin.system.run import Result
    calls = []
    loaded = "| internal.auth.{}:\n|     muc\n|     {}\n".format(DOMAIN, rights.MODULE)
    monkeypatch.setattr(prosody, "run", lambda argv, **kw: calls.append((argv, kw.get("input"))) or Result(
        argv, 0, shell_answer("| OK: Config reloaded", "| OK: Module reloaded on 1 host",
                              "| OK: Module reloaded on 1 host", loaded), ""))
    monkeypatch.setattr(rights, "run", lambda argv, **kw: calls.append((argv, None)))
    assert rights.sync(paths, DOMAIN, [record("aaaa1111")]) is True
    assert len(calls) == 1 and calls[0][0] == ["prosodyctl", "shell"]
    script = calls[0][1].splitlines()
    assert script[0] == "config:reload()" and "jvb_join_brewery" in script[2] and script[3].startswith("module:list")
    # the module is not loaded: it is loaded (module:load, prosody knows the plugin folder)
    calls.clear()
    monkeypatch.setattr(prosody, "run", lambda argv, **kw: calls.append((argv, kw.get("input"))) or Result(
        argv, 0, shell_answer("| OK: Config reloaded", "| OK", "! Module not loaded", "| internal.auth.x:\n|  muc\n"),
        ""))
    monkeypatch.setattr(rights, "load_brewery_module", lambda domain: calls.append(("load", domain)))
    assert rights.sync(paths, DOMAIN, [record("bbbb2222")]) is True
    assert calls[-1] == ("load", DOMAIN)


def test_jicofo_is_the_brewerys_observer_and_bridges_are_not():
    """Only the observers get the bridges' presence; the shared jvb account is a bridge, so it is not one."""
    text = rights.render(DOMAIN, [], ["focus@auth." + DOMAIN, "jvb@auth." + DOMAIN], ["jvb-aaaa1111@auth." + DOMAIN])
    assert 'jvb_join_brewery_observers = {{ "focus@auth.{}" }}'.format(DOMAIN) in text
    assert rights.observers(["jvb@auth." + DOMAIN]) == []  # no observer: the module filters nothing
