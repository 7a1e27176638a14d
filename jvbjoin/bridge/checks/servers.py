"""Doctor on a bridge that serves several servers (bridge.shards): the checks of the way to the
server and into its brewery run once per server, each titled with the server's name. The first
server's keep their ids; a further server's are ``ID@XMPP-DOMAIN``
(``--ignore brewery@auth.meet2.example.org``).
"""

from jvbjoin.doctor.core import Check
from jvbjoin.bridge import shards
from jvbjoin.bridge.model import read_state

# the checks of one server's link and brewery (their requires on each other stay within the server)
PER_SERVER = ("server-reachable", "server-certificate", "trust-store", "account-login", "brewery")
# facts that are one server's; every other fact (the bridge's metrics, jvb.conf, units) is the host's
_OWN_FACTS = ("bridge-state", "server-cert")


class ServerFacts:
    """The doctor's facts as one further server's checks see them: its paths (its record and
    fragment), its own state and certificate, and the host's other facts shared."""

    def __init__(self, facts, paths):
        self.facts = facts
        self.paths = paths

    def put(self, key, value):
        self.facts.put(self._key(key), value)

    def get(self, key, compute):
        return self.facts.get(self._key(key), compute)

    def _key(self, key):
        return "{}@{}".format(key, self.paths.server_domain) if key in _OWN_FACTS else key


def on_server(func, domain):
    def run(facts):
        return func(ServerFacts(facts, shards.ServerPaths(facts.paths, domain)))
    return run


def per_server(paths, checks):
    """``checks`` with, after the first server's link checks, the same checks for each further
    server; with several servers every one of them is named by its domain in its title."""
    domains = shards.further_domains(paths) if paths is not None else []
    if not domains:
        return checks
    first = shards.server_name(read_state(paths))
    by_id = {check.id: check for check in checks}
    out = []
    for check in checks:
        if check.id in PER_SERVER and first:
            check = Check(check.id, "{} ({})".format(check.title, first), check.group, check.func,
                          check.requires, check.timeout)
        out.append(check)
        if check.id == PER_SERVER[-1]:
            for domain in domains:
                out.extend(further(by_id, domain, shards.server_name(read_state(shards.ServerPaths(paths, domain)))))
    return out


def further(by_id, domain, name=None):
    """The per-server checks for one further server (its XMPP domain; ``name`` for the titles), in order."""
    out = []
    for check_id in PER_SERVER:
        check = by_id[check_id]
        requires = tuple("{}@{}".format(dep, domain) if dep in PER_SERVER else dep for dep in check.requires)
        out.append(Check("{}@{}".format(check_id, domain), "{} ({})".format(check.title, name or domain), check.group,
                         on_server(check.func, domain), requires, check.timeout))
    return out
