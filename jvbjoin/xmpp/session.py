"""The bridge account over XMPP, with slixmpp (imported when a session starts): login check, password
change, account removal, the brewery's occupants, a guest's probe of the brewery.

TLS trusts exactly the pinned certificate (jvbjoin.xmpp.probe.pinned_context): an ssl context with
cadata = that certificate's DER and VERIFY_X509_PARTIAL_CHAIN so that a pinned certificate that is
not a self-signed CA is still a trust anchor. On top of that, the certificate seen in the handshake
is compared with the pinned one (same DER) before any password is sent: a context that somehow
trusts more than the pin cannot leak the password.
"""

import asyncio
import inspect
import logging
import secrets
import ssl
import xml.etree.ElementTree as ET

from jvbjoin.errors import JvbJoinError, PinMismatchError, TokenError
from jvbjoin.xmpp.probe import pinned_context, unreachable

log = logging.getLogger(__name__)


class _QuietSlixmpp(logging.Filter):
    """Drops slixmpp's DEBUG records (they contain stanzas, and so passwords)."""

    def filter(self, record):
        return not (record.name.startswith("slixmpp") and record.levelno < logging.INFO)


def _quiet_slixmpp():
    logger = logging.getLogger("slixmpp")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        # jvb-join logs under "jvbjoin"; without this, slixmpp's warnings would reach stderr through
        # logging's last-resort handler, next to jvb-join's own (clearer) message.
        logger.addHandler(logging.NullHandler())
    if logger.level == logging.NOTSET or logger.level < logging.INFO:
        logger.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _QuietSlixmpp) for f in handler.filters):
            handler.addFilter(_QuietSlixmpp())


def _session(host, port, domain, user, password, cadata_der, timeout, work):
    """Log in as user@domain over pinned STARTTLS, run `await work(client)`, disconnect; its result.

    With ``user`` None the login is anonymous (SASL ANONYMOUS on ``domain``, as a guest of the meeting
    page logs in): no secret is sent, so ``cadata_der`` may be None and the certificate is not checked.
    """
    _quiet_slixmpp()
    import slixmpp

    if cadata_der is None:
        if user is not None:
            raise ValueError("a login with a password needs the pinned certificate")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    else:
        context = pinned_context(cadata_der, domain)
    pinned = None if cadata_der is None else bytes(cadata_der)
    outcome = {}

    class Client(slixmpp.ClientXMPP):
        def get_ssl_context(self):
            return context

    loop = asyncio.new_event_loop()
    # slixmpp (1.7 and 1.8) creates futures with get_event_loop() while it is constructed: make ours current.
    asyncio.set_event_loop(loop)
    client = None
    try:
        if user is None:
            client = Client(domain, "", sasl_mech="ANONYMOUS")
        else:
            client = Client("{}@{}/jvb-join".format(user, domain), password)
        client.loop = loop
        client.ssl_context = context
        done = loop.create_future()

        def finish(kind, value=None):
            if not done.done():
                done.set_result((kind, value))

        def on_cert(pem):
            try:
                seen = ssl.PEM_cert_to_DER_cert(pem)
            except Exception:
                seen = b""
            if pinned is not None and seen != pinned:
                outcome["cert_mismatch"] = True
                finish("pin")
                _abort(client)

        async def on_session(_event):
            try:
                finish("ok", await work(client))
            except Exception as e:  # handed to the caller, raised there
                finish("error", e)

        client.add_event_handler("ssl_cert", on_cert)
        client.add_event_handler("session_start", on_session)
        client.add_event_handler("failed_all_auth", lambda _e: finish("auth"))
        client.add_event_handler("no_auth", lambda _e: finish("auth"))
        client.add_event_handler("connection_failed", lambda e: finish("unreachable", e))
        client.add_event_handler("ssl_invalid_cert", lambda _e: finish("tls"))
        client.add_event_handler("ssl_invalid_chain", lambda _e: finish("tls"))

        _connect(client, host, int(port))
        try:
            kind, value = loop.run_until_complete(asyncio.wait_for(done, timeout))
        except asyncio.TimeoutError:
            kind, value = "timeout", None
        try:
            if kind == "ok":
                loop.run_until_complete(asyncio.wait_for(client.disconnect(wait=1.0), 3))
        except Exception:
            pass
        _abort(client)
        _drain(loop)
    finally:
        asyncio.set_event_loop(None)
        loop.close()

    who = domain if user is None else "{}@{}".format(user, domain)
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    if kind == "auth":
        raise TokenError("The server refused the login of {}: the token's password was already used "
                         "or the account was revoked.".format(who))
    if kind in ("pin", "tls"):
        raise PinMismatchError("The TLS certificate of {}:{} is not the pinned one for {}.".format(host, port, domain))
    if kind == "unreachable":
        raise unreachable(host, port, str(value) if value else "connection failed")
    raise unreachable(host, port, "no logged-in session within {:.0f} s".format(timeout))


def _connect(client, host, port):
    """STARTTLS only, to host:port: slixmpp 1.7/1.8 take switches in connect(), 1.10 as attributes."""
    if "force_starttls" in inspect.signature(client.connect).parameters:
        client.connect(address=(host, port), force_starttls=True, disable_starttls=False)
    else:
        client.enable_starttls, client.enable_direct_tls, client.enable_plaintext = True, False, False
        client.connect(host, port)


def _abort(client):
    """Drop the connection now; a transport that is already closing may complain, which is fine."""
    try:
        client.abort()
    except Exception:
        pass


def _drain(loop):
    """Cancel what slixmpp left scheduled on our loop, so that closing it leaves nothing pending."""
    try:
        loop.run_until_complete(asyncio.sleep(0.05))
    except Exception:
        pass
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    except Exception:
        pending = []
    for task in pending:
        task.cancel()
    if pending:
        try:
            loop.run_until_complete(asyncio.wait(pending, timeout=2))
        except Exception:
            pass


async def _register_set(client, host, port, domain, user, children, what, remedy, timeout):
    """Send an in-band registration IQ set (XEP-0077) to ``domain`` with ``children`` in its query."""
    from slixmpp.exceptions import IqError, IqTimeout
    iq = client.Iq()
    iq["type"] = "set"
    iq["to"] = domain
    query = ET.Element("{jabber:iq:register}query")
    for name, text in children:
        ET.SubElement(query, "{jabber:iq:register}" + name).text = text
    iq.append(query)
    try:
        await iq.send(timeout=max(5, timeout / 2))
    except IqError as e:
        condition = e.iq["error"]["condition"] or "error"
        raise JvbJoinError("The server refused the {} of {}@{} ({}).".format(what, user, domain, condition), remedy)
    except IqTimeout:
        raise unreachable(host, port, "no answer to the {}".format(what))
    return True


def change_password(host, port, domain, user, old_password, new_password, cadata_der, timeout=30):
    """Log in with `old_password` and set `new_password` in band (XEP-0077)."""

    async def work(client):
        return await _register_set(client, host, port, domain, user,
                                   [("username", user), ("password", new_password)], "password change",
                                   "Check that prosody on the server loads mod_register for {}.".format(domain),
                                   timeout)

    return _session(host, port, domain, user, old_password, cadata_der, timeout, work)


def remove_account(host, port, domain, user, password, cadata_der, timeout=30):
    """Log in as user@domain and delete that account in band (XEP-0077 ``<remove/>``).

    prosody lets a logged-in account remove itself even with registration of new accounts off (its
    account-management part of mod_register), answers, then deletes it and ends its sessions.
    """

    async def work(client):
        return await _register_set(client, host, port, domain, user, [("remove", None)], "account removal",
                                   "Remove it on the server instead: 'jvb-join token revoke ID' "
                                   "(ids in 'jvb-join token list').", timeout)

    return _session(host, port, domain, user, password, cadata_der, timeout, work)


# The bridge's jvb-join version, kept in its account's private XML storage (XEP-0049, prosody's
# mod_private), where the server's doctor reads it.
BRIDGE_NS = "urn:jvb-join:bridge:0"


def store_bridge_version(host, port, domain, user, password, cadata_der, version, timeout=20):
    """Log in as user@domain and keep ``version`` in the account's private storage; False when the
    server does not keep private XML (the join does not depend on it)."""

    async def work(client):
        from slixmpp.exceptions import IqError, IqTimeout
        iq = client.Iq()
        iq["type"] = "set"
        query = ET.Element("{jabber:iq:private}query")
        # prosody's mod_private stores an element only when it has a child (an empty one deletes)
        bridge = ET.SubElement(query, "{" + BRIDGE_NS + "}bridge")
        ET.SubElement(bridge, "{" + BRIDGE_NS + "}jvb-join", version=version)
        iq.append(query)
        try:
            await iq.send(timeout=max(5, timeout / 2))
        except (IqError, IqTimeout):
            return False
        return True

    return _session(host, port, domain, user, password, cadata_der, timeout, work)


def check_login(host, port, domain, user, password, cadata_der, timeout=20):
    """True if user@domain logs in with `password` over pinned TLS; raises otherwise (TokenError if refused)."""

    async def work(client):
        return True

    return _session(host, port, domain, user, password, cadata_der, timeout, work)


def brewery_occupants(host, port, domain, user, password, muc, cadata_der, timeout=20):
    """Nicknames in the brewery room `muc` (room@service), seen by briefly joining it under a probe nick.

    prosody 0.12 answers disco#items on a room with an empty list, so the occupants are read from the
    presences sent on join; the probe leaves right after, and carries no colibri stats (jicofo ignores it).
    """

    probe = "jvb-join-probe-" + secrets.token_hex(4)

    async def work(client):
        seen = set()
        joined = asyncio.get_event_loop().create_future()
        room = muc.lower()

        def on_presence(pres):
            frm = pres["from"]
            if frm.bare.lower() != room:
                return
            nick = frm.resource
            if pres["type"] == "error":
                if not joined.done():
                    joined.set_exception(JvbJoinError("The server refused to let {}@{} into {} ({}).".format(
                        user, domain, muc, pres["error"]["condition"])))
                return
            if nick == probe:
                if not joined.done():
                    joined.set_result(True)
                return
            if pres["type"] == "unavailable":
                seen.discard(nick)
            else:
                seen.add(nick)

        client.add_event_handler("presence", on_presence)
        pres = client.make_presence(pto="{}/{}".format(muc, probe))
        pres.append(ET.Element("{http://jabber.org/protocol/muc}x"))
        pres.send()
        try:
            await asyncio.wait_for(joined, max(3, timeout / 2))
        except asyncio.TimeoutError:
            raise unreachable(host, port, "no answer when joining {}".format(muc))
        finally:
            client.del_event_handler("presence", on_presence)
        client.send_presence(pto="{}/{}".format(muc, probe), ptype="unavailable")
        return sorted(seen)

    return _session(host, port, domain, user, password, cadata_der, timeout, work)


COLIBRI_NS = "http://jitsi.org/protocol/colibri"


def guest_enters_brewery(host, port, meet_domain, muc, timeout=15, names=None):
    """Try the brewery as a guest of the meeting page would: an anonymous login on ``meet_domain``,
    then presence to ``muc`` with a colibri stats element, as a videobridge sends it.

    ``(True, None)`` if the room let the guest in (it leaves again at once), ``(False, condition)`` if
    the server refused; raises when no anonymous login is possible on ``meet_domain``. The name the
    server gave the guest is appended to the list ``names``, if given.
    """

    nick = "jvb-join-guest-probe-" + secrets.token_hex(4)
    room = muc.lower()

    async def work(client):
        if names is not None:
            names.append(client.boundjid.user)
        answer = asyncio.get_event_loop().create_future()

        def on_presence(pres):
            if pres["from"].bare.lower() != room or pres["from"].resource != nick or answer.done():
                return
            if pres["type"] == "error":
                answer.set_result((False, pres["error"]["condition"] or "error"))
            else:
                answer.set_result((True, None))

        client.add_event_handler("presence", on_presence)
        pres = client.make_presence(pto="{}/{}".format(muc, nick))
        pres.append(ET.Element("{http://jabber.org/protocol/muc}x"))
        stats = ET.Element("{%s}stats" % COLIBRI_NS)
        ET.SubElement(stats, "{%s}stat" % COLIBRI_NS, {"name": "stress_level", "value": "0.0"})
        pres.append(stats)
        pres.send()
        try:
            entered = await asyncio.wait_for(answer, max(3, timeout / 2))
        except asyncio.TimeoutError:
            raise unreachable(host, port, "no answer when a guest asked to join {}".format(muc))
        finally:
            client.del_event_handler("presence", on_presence)
        if entered[0]:
            client.send_presence(pto="{}/{}".format(muc, nick), ptype="unavailable")
        return entered

    return _session(host, port, meet_domain, None, None, None, timeout, work)
