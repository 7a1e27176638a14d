"""The servers a bridge serves (bridge.shards) with what it needs to ask each one about its brewery:
the account's password (from that server's fragment) and the server's certificate (checked against
the pin of its record). A bridge's own metrics count the breweries it is in, not which: when that
count leaves a doubt, the server is asked, with the bridge's account of that server."""

import time

from jvbjoin.errors import JvbJoinError
from jvbjoin.system.paths import Paths
from jvbjoin.xmpp import probe, session
from jvbjoin.bridge import shards
from jvbjoin.bridge.model import current_password


class Server:
    """One server of this bridge: its paths (bridge.shards), record and account's password."""

    def __init__(self, paths, record):
        self.paths = paths
        self.record = record
        pending = record.get("pending_password")
        self.password = current_password(paths) or (pending if isinstance(pending, str) else None)
        self.cert = None

    @property
    def name(self):
        return shards.server_name(self.record)

    @property
    def port(self):
        return int(self.record.get("port") or 5222)

    def certificate(self):
        """The server's certificate, checked against the record's pin (raises when it is not)."""
        if self.cert is None:
            record = self.record
            self.cert = probe.verify_pin(record["server"], self.port, record["domain"], record.get("pin"))
        return self.cert

    def occupants(self, timeout=20):
        """The nicknames in this server's brewery, seen with the bridge's account there."""
        record = self.record
        return session.brewery_occupants(record["server"], self.port, record["domain"], record["user"],
                                         self.password, record["muc"], self.certificate(), timeout=timeout)


def host_paths(paths):
    """The host's own paths, from a further server's ones too."""
    return Paths(paths.root) if shards.is_further(paths) else paths


def served(paths):
    """Every server this bridge serves, the first one first."""
    return [Server(sub, record) for sub, record in shards.servers(host_paths(paths))]


def wait_in(servers, nickname, deadline, ctx, poll=0.5):
    """Waits until ``nickname`` is in each server's brewery or ``deadline`` (time.monotonic) passes;
    a server where it is not by then is reported as degraded (the run's own server was proven)."""
    pending = list(servers)
    why = {}
    while pending:
        for server in list(pending):
            try:
                if server.password and nickname in server.occupants():
                    pending.remove(server)
                    continue
                why[server.name] = "not in its brewery {}".format(server.record.get("muc")) if server.password \
                    else "no password for its account on this host"
            except JvbJoinError as exc:
                why[server.name] = exc.message
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    for server in pending:
        ctx.add_degraded("the bridge is not back in the brewery of {} ({}): 'jvb-join doctor' names the "
                         "cause".format(server.name, why.get(server.name)))
    return not pending
