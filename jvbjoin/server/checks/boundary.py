"""The server checks of the fleet's trust boundary: who may enter the brewery, and jicofo's REST API
kept to the host itself.

``brewery-access`` reads jvb-join's prosody file, asks the running prosody whether it loaded the
brewery module, and then tries the brewery as a guest of the meeting page would (an anonymous login
on the meet domain, a presence with colibri stats): the check passes only when prosody refuses it.
``jicofo-rest`` connects to jicofo's REST port on each of the host's own non-loopback addresses, as
anyone on the network would.
"""

import socket

from jvbjoin.errors import JvbJoinError
from jvbjoin.system import files
from jvbjoin.system.run import run
from jvbjoin.xmpp import session
from jvbjoin.doctor.core import fail, ok, warn
from jvbjoin.server import jicofo, prosody, rights

XMPP_PORT = 5222


def check_brewery_access(facts, domain):
    """``domain``: the meet domain (a callable, so that a host that is no server fails elsewhere)."""
    meet = domain()
    again = "jvb-join server install --domain {}   (closes the brewery to all but the fleet)".format(meet)
    allowed = rights.allowed_in_brewery(facts.paths)
    main = files.read_text(facts.paths(rights.PROSODY_CFG)) or ""
    if allowed is None or rights.with_include(main) != main:
        return fail("the brewery is open: any guest of the meeting page can join it as a videobridge and "
                    "get conferences", again)
    details = ["allowed in the brewery: {}".format(", ".join(sorted(allowed)))]
    if facts.paths.root != "/":
        return ok("jvb-join's prosody file closes the brewery", details)
    loaded = rights.brewery_closed_in_prosody(meet)
    if loaded is False:
        return fail("prosody has not loaded jvb-join's brewery module: the brewery is still open",
                    "systemctl restart prosody", details)
    brewery = "jvbbrewery@internal.auth.{}".format(meet)
    guests = []
    try:
        entered, condition = session.guest_enters_brewery("127.0.0.1", XMPP_PORT, meet, brewery, timeout=4,
                                                       names=guests)
    except JvbJoinError as exc:
        return ok("jvb-join's module closes the brewery (no guest login to try it with: {})".format(
            exc.message.rstrip(".")), details)
    finally:
        # doctor changes nothing: the meet host's jitsi-anonymous login stores a guest's data (its
        # PEP bookmarks node) like an account's; the probe's throwaway guest leaves none behind
        for guest in guests:
            prosody.forget_user_data(facts.paths, meet, guest)
    if entered:
        return fail("a guest of {} entered the brewery {} with a videobridge's presence".format(meet, brewery),
                    again + "; then: systemctl restart prosody", details)
    return ok("the brewery refuses guests ({}); only jicofo and the fleet's accounts enter".format(condition),
              details)


def host_addresses():
    """The host's own addresses other than loopback (global and site scope), from ``ip``."""
    result = run(["ip", "-o", "addr", "show", "scope", "global"], check=False, timeout=10)
    out = []
    for line in result.stdout.splitlines() if result.ok else []:
        fields = line.split()
        if len(fields) > 3 and fields[2] in ("inet", "inet6"):
            out.append(fields[3].split("/")[0])
    return out


def _accepts(address, port, timeout=0.8):
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_jicofo_rest(facts):
    if facts.paths.root != "/":
        return ok("not checked on this root")
    addresses = host_addresses()
    if not addresses:
        return warn("the host has no address but loopback to try jicofo's REST port from", None)
    open_on = [a for a in addresses if _accepts(a, jicofo.PORT)]
    if open_on:
        return fail("jicofo's REST API (/debug, /pin, /move-endpoints) answers on {} port {}: anyone who "
                    "reaches the host can read and move the conferences".format(", ".join(open_on), jicofo.PORT),
                    "jvb-join server install --domain D   (or: jicofo.rest.host = \"127.0.0.1\" in "
                    "/etc/jitsi/jicofo/jicofo.conf; then: systemctl restart jicofo)")
    return ok("jicofo's REST port {} answers on loopback only (tried {})".format(jicofo.PORT, ", ".join(addresses)))
