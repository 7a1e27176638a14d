"""A bridge that serves several Jitsi Meet servers (shards): one XMPP client per server.

The first server a bridge joins keeps the files a single join has always had: the record
/var/lib/jvb-join/bridge.json, the fragment /etc/jitsi/videobridge/jvb-join.conf (its client under
the package's id ``shard``, with the bridge's own settings) and the include line at the end of
jvb.conf. Each further server, told apart by its XMPP domain, gets files of its own, so that an
upgraded host and a re-run of the first server's join find theirs exactly as they were:

- the record /var/lib/jvb-join/servers/DOMAIN.json (0600, the same fields as bridge.json);
- the fragment /etc/jitsi/videobridge/jvb-join-DOMAIN.conf (root:jitsi 0640), which holds only its
  client, under an id of its own (``jvb-join-`` and the domain with ``_`` for ``.``);
- its own include line in jvb.conf, after the first's;
- the trust of its pinned certificate, which is per domain already (steps.trust).

The bridge reads every entry under ``videobridge.apis.xmpp-client.configs`` and runs one MUC client
for each (XmppClientConnectionConfig, XmppConnection), so each server's jicofo finds it in its own
brewery. When the first server is left while others stay, the next one takes its place in the
first server's files (steps.promote). A further server's paths are the host's paths with that server's record, fragment and
state folder in place of the first's: the account and fragment steps of a join, and the leave's
inverses, then work on that server's files unchanged.
"""

import os

from jvbjoin.errors import DomainServedError, JvbJoinError, UsageError
from jvbjoin.system.paths import Paths
from jvbjoin.bridge.model import read_state

FIRST_ID = "shard"


def config_id(domain):
    """The id of a further server's client in jvb.conf. A DNS name has no ``_``: the id is one per
    domain, and has no ``.`` (which HOCON reads as a path separator)."""
    return "jvb-join-" + domain.lower().replace(".", "_")


def fragment_name(domain):
    return "jvb-join-{}.conf".format(domain.lower())


def include_line(domain):
    return 'include "{}"  # added by jvb-join; remove with \'jvb-join leave --server {}\''.format(
        fragment_name(domain), domain.lower())


class ServerPaths(Paths):
    """The host's paths, with one further server's record, fragment and state folder."""

    def __init__(self, paths, domain):
        super().__init__(paths.root)
        self.server_domain = domain.lower()

    def __repr__(self):
        return "ServerPaths({!r}, {!r})".format(self.root, self.server_domain)

    @property
    def state(self):
        return self.bridge_servers

    @property
    def bridge_state(self):
        return os.path.join(self.bridge_servers, self.server_domain + ".json")

    @property
    def jvb_fragment(self):
        return os.path.join(self.jvb_dir, fragment_name(self.server_domain))


def is_further(paths):
    return isinstance(paths, ServerPaths)


def further_domains(paths):
    """The domains of the further servers this host has a record of, sorted."""
    folder = paths.bridge_servers
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(name[:-len(".json")] for name in names
                  if name.endswith(".json") and not name.startswith(".") and len(name) > len(".json"))


def server_name(record):
    """How status, doctor and ``leave --server`` name a server: its Jitsi Meet domain, the name
    'server install --domain' was given (the XMPP domain, auth.DOMAIN, and the host name it too)."""
    return record.get("meet") or record.get("domain") or record.get("server")


def servers(paths):
    """``[(paths, record)]`` of every server this host serves: the first, then the further ones."""
    out = []
    first = read_state(paths)
    if first.get("server"):
        out.append((paths, first))
    for domain in further_domains(paths):
        sub = ServerPaths(paths, domain)
        record = read_state(sub)
        if record.get("server"):
            out.append((sub, record))
    return out


def joined_first(paths):
    """The first server's record when its join was completed (password changed, fragment written)."""
    record = read_state(paths)
    if record.get("password_changed") and os.path.exists(paths.jvb_fragment):
        return record
    return None


def same_server(record, token):
    return (str(record.get("server") or "").lower(), int(record.get("port") or 5222)) == \
        (token.host.lower(), int(token.port))


def paths_for_token(paths, token):
    """Which paths a join with ``token`` works on: the first server's (a first join, a re-run, a
    new token of the same server), or a further server's. A different server with a domain the
    bridge serves already is refused: two clients of one domain would log in as two accounts of
    the same XMPP service, and one of its names would stand for two servers."""
    domain = token.domain.lower()
    first = joined_first(paths)
    if first is None or str(first.get("domain", "")).lower() == domain:
        candidate, record = paths, read_state(paths)
    else:
        candidate = ServerPaths(paths, domain)
        record = read_state(candidate)
    if record.get("server") and str(record.get("domain", "")).lower() == domain and not same_server(record, token):
        raise DomainServedError(
            "This bridge already serves the XMPP domain {} of the server {}:{}; the token is of another "
            "server ({}:{}) with the same domain, which a bridge cannot serve beside it.".format(
                domain, record.get("server"), record.get("port") or 5222, token.host, token.port),
            "If the bridge is to move to the new server, take it out of the old one first "
            "('jvb-join leave --server {}'), then join with this token.".format(domain))
    if is_further(candidate):
        refuse_bridge_wide(paths, token, first)
    return candidate


def refuse_bridge_wide(paths, token, first):
    """A further server's token cannot change what is one per bridge: its region (the relay block)
    and its colibri websocket server-id are in the first server's fragment."""
    region = getattr(token, "region", None)
    if region and region != first.get("region", region):
        raise JvbJoinError("This token puts the bridge in region {}, but it serves {} in region {}: a bridge "
                           "has one region.".format(region, first.get("domain"), first.get("region")),
                           "Create the token without --region (or with --region {}).".format(first.get("region")))
    if getattr(token, "ws", None):
        raise JvbJoinError("This token gives the bridge a colibri websocket id, which a bridge that serves "
                           "several servers cannot take (its one id is its first server's).",
                           "Create the token without --colibri-ws.")


def find(paths, name):
    """The ``(paths, record)`` of the server ``name`` (its meet domain, XMPP domain, host or
    host:port); a usage error naming the servers when none or several match."""
    wanted = name.strip().lower()
    found = []
    for sub, record in servers(paths):
        host, port = str(record.get("server", "")).lower(), int(record.get("port") or 5222)
        names = (str(record.get("meet", "")).lower(), str(record.get("domain", "")).lower(), host,
                 "{}:{}".format(host, port))
        if wanted in names:
            found.append((sub, record))
    if len(found) == 1:
        return found[0]
    known = ", ".join(server_name(record) for _sub, record in servers(paths)) or "none"
    why = "serves no server named {}".format(name) if not found else \
        "serves several servers that {} could name".format(name)
    raise UsageError("This bridge {} (it serves: {}). Name the server as 'jvb-join status' lists it "
                     "(its Jitsi Meet domain), or by its XMPP domain or host.".format(why, known))

