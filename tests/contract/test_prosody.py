"""jvb-join's XMPP client against a real prosody on 127.0.0.1 (Debian's package), from a temp config.

Shows the prosody facts the token design relies on: the SPKI pin of the auth certificate is what
jvb-join sees after STARTTLS, and a logged-in account changes its own password in band (XEP-0077)
while registration is off, after which the old password fails and the new one works.
"""

import os
import secrets
import shutil
import subprocess

import pytest

from jvbjoin.formats import pin
from jvbjoin.xmpp import probe, session
from jvbjoin.errors import EXIT_DATAERR, PinMismatchError, TokenError

from prosodylab import BASE_CONFIG, PROSODYCTL, running_prosody

pytestmark = pytest.mark.contract

DOMAIN = "auth.meet.lab.test"
MUC = "internal.auth.meet.lab.test"

if not (os.path.exists("/usr/bin/prosody") and os.path.exists(PROSODYCTL)):
    pytest.skip("prosody is not installed (apt-get install -y prosody)", allow_module_level=True)
if not shutil.which("openssl"):
    pytest.skip("openssl is not installed", allow_module_level=True)


CONFIG = BASE_CONFIG + """
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "register"; "ping" }}
c2s_require_encryption = true

VirtualHost "{domain}"
    ssl = {{ certificate = "{d}/{domain}.crt"; key = "{d}/{domain}.key" }}

Component "{muc}" "muc"
    muc_room_locking = false
"""


@pytest.fixture(scope="module")
def prosody():
    with running_prosody(CONFIG, [DOMAIN], domain=DOMAIN, muc=MUC) as server:
        yield server


def _adduser(server, user, password):
    # prosodyctl reads the password twice from stdin: it never appears on a command line.
    result = subprocess.run([PROSODYCTL, "--config", server["config"], "adduser", "{}@{}".format(user, DOMAIN)],
                            input="{0}\n{0}\n".format(password), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def _openssl_pin(cert_path):
    pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", cert_path],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True).stdout
    import hashlib
    return "sha256:" + hashlib.sha256(der).hexdigest()


def test_verify_pin_with_the_right_pin_returns_the_certificate(prosody):
    expected = _openssl_pin(prosody["cert"])
    der = probe.verify_pin("127.0.0.1", prosody["port"], DOMAIN, expected)
    assert pin.spki_pin(der) == expected
    with open(prosody["cert"], "rb") as f:
        assert der == pin.der_of(f.read())


def test_verify_pin_with_a_wrong_pin_is_refused(prosody):
    wrong = "sha256:" + "0" * 64
    with pytest.raises(PinMismatchError) as e:
        probe.verify_pin("127.0.0.1", prosody["port"], DOMAIN, wrong)
    assert e.value.exit_code == EXIT_DATAERR
    assert wrong in e.value.message and _openssl_pin(prosody["cert"]) in e.value.message


def test_in_band_password_change_with_registration_off(prosody):
    user, old, new = "jvb-test1", secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    _adduser(prosody, user, old)
    der = probe.verify_pin("127.0.0.1", prosody["port"], DOMAIN, _openssl_pin(prosody["cert"]))
    assert session.check_login("127.0.0.1", prosody["port"], DOMAIN, user, old, der, timeout=20) is True
    assert session.change_password("127.0.0.1", prosody["port"], DOMAIN, user, old, new, der, timeout=20) is True
    with pytest.raises(TokenError) as e:
        session.check_login("127.0.0.1", prosody["port"], DOMAIN, user, old, der, timeout=20)
    assert e.value.exit_code == EXIT_DATAERR
    assert old not in str(e.value) and "already used" in str(e.value)
    assert session.check_login("127.0.0.1", prosody["port"], DOMAIN, user, new, der, timeout=20) is True


def test_login_refuses_a_certificate_that_is_not_the_pinned_one(prosody, tmp_path):
    user, password = "jvb-test2", secrets.token_urlsafe(18)
    _adduser(prosody, user, password)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=" + DOMAIN, "-addext", "subjectAltName=DNS:" + DOMAIN,
                    "-keyout", str(tmp_path / "k"), "-out", str(tmp_path / "c")], check=True, capture_output=True)
    other = pin.der_of((tmp_path / "c").read_bytes())
    with pytest.raises(PinMismatchError):
        session.check_login("127.0.0.1", prosody["port"], DOMAIN, user, password, other, timeout=20)


def _stay_in_room(port, jid, password, der, room, nick, ready, stop, seen=None):
    """A client that joins `room` as `nick` and stays until `stop` is set (run in a thread); the
    nicknames of the presences it gets go to the list `seen`, when one is given."""
    import asyncio
    import xml.etree.ElementTree as ET
    import slixmpp

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    context = probe.pinned_context(der, DOMAIN)

    class Client(slixmpp.ClientXMPP):
        def get_ssl_context(self):
            return context

    client = Client(jid, password)
    client.loop = loop

    def on_start(_event):
        pres = client.make_presence(pto="{}/{}".format(room, nick))
        pres.append(ET.Element("{http://jabber.org/protocol/muc}x"))
        pres.send()

    def on_presence(pres):
        if seen is not None:
            seen.append(pres["from"].resource)
        if pres["from"].resource == nick:
            ready.set()

    client.add_event_handler("session_start", on_start)
    client.add_event_handler("presence", on_presence)
    session._connect(client, "127.0.0.1", port)
    loop.run_until_complete(loop.run_in_executor(None, stop.wait, 30))
    session._abort(client)
    session._drain(loop)
    loop.close()


def test_brewery_occupants_lists_who_is_in_the_room(prosody):
    import threading
    user, password = "jvb-test3", secrets.token_urlsafe(18)
    _adduser(prosody, user, password)
    der = probe.verify_pin("127.0.0.1", prosody["port"], DOMAIN, _openssl_pin(prosody["cert"]))
    room = "jvbbrewery@" + MUC
    assert session.brewery_occupants("127.0.0.1", prosody["port"], DOMAIN, user, password, room, der, timeout=20) == []
    ready, stop = threading.Event(), threading.Event()
    # The same account in the room under another resource, as the bridge itself will be.
    t = threading.Thread(target=_stay_in_room, daemon=True,
                         args=(prosody["port"], "{}@{}/bridge".format(user, DOMAIN), password, der, room,
                               "jvb-lab-1", ready, stop))
    t.start()
    try:
        assert ready.wait(15), "the stand-in occupant did not get into the room"
        occupants = session.brewery_occupants("127.0.0.1", prosody["port"], DOMAIN, user, password, room, der,
                                           timeout=20)
        assert occupants == ["jvb-lab-1"]
    finally:
        stop.set()
        t.join(10)
