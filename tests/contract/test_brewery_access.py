"""The closed brewery (prosody/mod_jvb_join_brewery.lua) in a real prosody (Debian's) on 127.0.0.1.

Only accounts listed in ``jvb_join_brewery_occupants`` enter the brewery room: a guest of the
anonymous meet domain with a videobridge's stats presence is refused, so is an auth account that is
not listed; a listed one enters, and a 'prosodyctl reload' is enough for a change of the list to take
effect. The server reads who is in the brewery through prosody's admin shell.

The meet domain and the internal component are set up as jitsi-meet-prosody's template sets them
(``jitsi-anonymous`` login, ``muc_hide_all`` and ``ping`` on the component), with the lab stand-ins
of those Jitsi plugins (tests/lab/standins/jitsi-meet-prosody/): the brewery module works beside
them, as jvb-join's prosody file loads it.
"""

import contextlib
import os
import re
import secrets
import subprocess
import threading
import time

import pytest

from jvbjoin.xmpp import probe, session
from jvbjoin.server import prosody as prosody_admin

from prosodylab import BASE_CONFIG, PROSODYCTL, running_prosody

pytestmark = pytest.mark.contract

if not os.path.exists(PROSODYCTL):
    pytest.skip("prosody is not installed (apt-get install -y prosody)", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JITSI_PLUGINS = os.path.join(ROOT, "tests", "lab", "standins", "jitsi-meet-prosody", "usr", "share", "jitsi-meet",
                             "prosody-plugins")
MEET = "meet.lab.test"
AUTH = "auth." + MEET
INTERNAL = "internal.auth." + MEET
BREWERY = "jvbbrewery@" + INTERNAL

CONFIG = BASE_CONFIG + """
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "register"; "ping"; "admin_shell" }}
plugin_paths = {{ "{jitsi_plugins}", "{plugins}" }}

VirtualHost "{meet}"
    authentication = "jitsi-anonymous"
    c2s_require_encryption = false
    ssl = {{ certificate = "{d}/{meet}.crt"; key = "{d}/{meet}.key" }}

VirtualHost "{auth}"
    ssl = {{ certificate = "{d}/{auth}.crt"; key = "{d}/{auth}.key" }}

Component "{internal}" "muc"
    storage = "memory"
    muc_room_locking = false
    modules_enabled = {{ "muc_hide_all"; "ping"; "jvb_join_brewery" }}
    jvb_join_brewery_occupants = {{ "focus@{auth}" }}
    jvb_join_brewery_observers = {{ "focus@{auth}" }}
"""


@pytest.fixture(scope="module")
def server():
    with running_prosody(CONFIG, [AUTH, MEET], meet=MEET, auth=AUTH, internal=INTERNAL,
                         plugins=os.path.join(ROOT, "prosody"), jitsi_plugins=JITSI_PLUGINS) as server:
        yield server


def _adduser(server, jid, password):
    result = subprocess.run([PROSODYCTL, "--config", server["config"], "adduser", jid],
                            input="{0}\n{0}\n".format(password), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def _allow(server, accounts):
    """Set the module's list in the config and reload prosody, as jvb-join's prosody file does."""
    with open(server["config"]) as f:
        text = f.read()
    listed = "{ " + ", ".join('"{}"'.format(a) for a in accounts) + " }"
    text = re.sub(r"jvb_join_brewery_occupants = \{[^}]*\}", lambda _m: "jvb_join_brewery_occupants = " + listed, text)
    with open(server["config"], "w") as f:
        f.write(text)
    result = subprocess.run([PROSODYCTL, "--config", server["config"], "shell", "config:reload()"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def admin(server, monkeypatch):
    monkeypatch.setattr(prosody_admin, "PROSODYCTL", [PROSODYCTL, "--config", server["config"]])


def _stay(server, jid, password, der, ready, stop):
    from test_prosody import _stay_in_room
    _stay_in_room(server["port"], jid, password, der, BREWERY, "jvb-" + secrets.token_hex(3), ready, stop)


@contextlib.contextmanager
def _listed_and_inside(server, bridge, password, der):
    """``bridge`` put on the brewery's list and kept in the room (as a bridge) for the block."""
    _allow(server, ["focus@" + AUTH, bridge])
    ready, stop = threading.Event(), threading.Event()
    t = threading.Thread(target=_stay, args=(server, bridge + "/bridge", password, der, ready, stop), daemon=True)
    t.start()
    try:
        assert ready.wait(15), "a listed account did not get into the brewery"
        yield
    finally:
        stop.set()
        t.join(10)


def test_a_guest_of_the_meet_domain_is_refused_with_a_stats_presence(server):
    entered, condition = session.guest_enters_brewery("127.0.0.1", server["port"], MEET, BREWERY)
    assert (entered, condition) == (False, "forbidden")
    with open(server["log"]) as f:
        assert "Refused" in f.read()


def test_only_listed_accounts_enter_and_a_reload_changes_the_list(server, admin):
    password = secrets.token_urlsafe(18)
    bridge = "jvb-abc12345@" + AUTH
    _adduser(server, bridge, password)
    der = probe.verify_pin("127.0.0.1", server["port"], AUTH, _pin(server["certs"][AUTH]))
    with pytest.raises(Exception) as refused:
        session.brewery_occupants("127.0.0.1", server["port"], AUTH, "jvb-abc12345", password, BREWERY, der, timeout=10)
    assert "forbidden" in str(refused.value)

    with _listed_and_inside(server, bridge, password, der):
        assert prosody_admin.brewery_accounts(MEET) == {bridge}
        # a guest is still refused while a bridge is inside
        assert session.guest_enters_brewery("127.0.0.1", server["port"], MEET, BREWERY)[0] is False
        # the account leaves the list (its token was revoked): the reload puts it out of the room
        _allow(server, ["focus@" + AUTH])
        assert prosody_admin.brewery_accounts(MEET) == set()
    with pytest.raises(Exception):
        session.brewery_occupants("127.0.0.1", server["port"], AUTH, "jvb-abc12345", password, BREWERY, der, timeout=10)


def test_no_brewery_room_means_no_accounts(server, admin):
    assert prosody_admin.brewery_accounts("elsewhere.lab.test") == set()


def _pin(cert_path):
    from test_prosody import _openssl_pin
    return _openssl_pin(cert_path)


def test_prosody_names_the_plugin_folders_it_loads_from(server, admin):
    """What jvb-join asks before 'module:load': a folder prosody did not read at start-up cannot be
    loaded from (plugin_paths is read when prosody starts, not on a reload)."""
    known = prosody_admin.plugin_paths()
    assert JITSI_PLUGINS in known and os.path.join(ROOT, "prosody") in known, known


def _guest_disco_info(server, room):
    """The error condition a guest of the meet domain gets for disco#info on ``room`` (None: an answer)."""
    from slixmpp.exceptions import IqError

    async def work(client):
        iq = client.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#info", ito=room)
        try:
            await iq.send(timeout=10)
        except IqError as err:
            return err.iq["error"]["condition"]
        return None

    return session._session("127.0.0.1", server["port"], MEET, None, None, None, 20, work)


def test_hidden_rooms_answer_disco_info_only_to_their_occupants(server, admin):
    """muc_hide_all on the internal MUC (as the packaged config enables it): a room with a bridge in it
    refuses disco#info to a guest, who is no occupant; a room that does not exist is just not found."""
    password = secrets.token_urlsafe(18)
    bridge = "jvb-def67890@" + AUTH
    _adduser(server, bridge, password)
    der = probe.verify_pin("127.0.0.1", server["port"], AUTH, _pin(server["certs"][AUTH]))
    try:
        with _listed_and_inside(server, bridge, password, der):
            assert _guest_disco_info(server, BREWERY) == "forbidden"
            assert _guest_disco_info(server, "nosuchroom@" + INTERNAL) == "item-not-found"
    finally:
        _allow(server, ["focus@" + AUTH])


def test_a_bridges_presence_reaches_jicofo_and_its_own_account_but_not_the_other_bridges(server, admin):
    """The room sends a bridge's stats presence to the observers (jicofo) and to its own account's
    sessions (the join's check logs in as the bridge and looks for its nickname), not to the other
    bridges: with N bridges that would be N*N stanzas every presence interval."""
    from test_prosody import _stay_in_room
    accounts = {name: ("jvb-{}@{}".format(name, AUTH), secrets.token_urlsafe(18))
                for name in ("aaaa1111", "bbbb2222", "cccc3333")}
    accounts["focus"] = ("focus@" + AUTH, secrets.token_urlsafe(18))
    for jid, password in accounts.values():
        _adduser(server, jid, password)
    _allow(server, [jid for jid, _ in accounts.values()])
    der = probe.verify_pin("127.0.0.1", server["port"], AUTH, _pin(server["certs"][AUTH]))
    stop, threads, seen = threading.Event(), [], {}

    def stay(name, nick):
        jid, secret = accounts[name]
        ready = threading.Event()
        seen[name] = []
        t = threading.Thread(target=_stay_in_room, args=(server["port"], jid + "/bridge", secret, der, BREWERY,
                                                         nick, ready, stop, seen[name]), daemon=True)
        t.start()
        threads.append(t)
        assert ready.wait(15), "{} did not get into the brewery".format(name)
    bridge = accounts["aaaa1111"][0]
    try:
        # jicofo and a bridge are in the room when a bridge joins: jicofo gets its presence, the other does not
        stay("focus", "focus")
        stay("cccc3333", "nick-c")
        stay("aaaa1111", "nick-a")
        time.sleep(1)
        assert "nick-a" in seen["focus"] and "nick-c" in seen["focus"]
        assert "nick-a" not in seen["cccc3333"] and "nick-c" not in seen["aaaa1111"]
        assert "focus" in seen["aaaa1111"]  # a bridge still sees jicofo

        def seen_by(name):
            jid, secret = accounts[name]
            return session.brewery_occupants("127.0.0.1", server["port"], AUTH, jid.partition("@")[0], secret,
                                             BREWERY, der, timeout=10)
        assert "nick-a" in seen_by("focus")
        assert "nick-a" in seen_by("aaaa1111")
        assert "nick-a" not in seen_by("bbbb2222")
        assert bridge in prosody_admin.brewery_accounts(MEET)  # it is in the room all the same
    finally:
        stop.set()
        for t in threads:
            t.join(10)
