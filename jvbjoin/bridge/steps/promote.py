"""Leave of the first server of a bridge that serves others (bridge.shards): the next server takes
its place. jvb-join.conf keeps the bridge's own settings (REST API, NAT, STUN, websockets, relays)
and gets the next server's client under the package's id ``shard``; bridge.json becomes that
server's record; its own fragment, include line and record go. The host then looks as if it had
joined that server first, and a re-run of that server's join changes nothing."""

import json
import re

from jvbjoin.errors import StepError
from jvbjoin.system import files
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge.steps.config import fragment_mask, jitsi_gid, owner

# the client's keys a fragment sets per server (the nickname and the verification are the bridge's)
CLIENT_KEYS = ("HOSTNAME", "PORT", "DOMAIN", "USERNAME", "PASSWORD", "MUC_JIDS")
_BLOCK = re.compile(r"^(videobridge\.apis\.xmpp-client\.configs\.[A-Za-z0-9_-]+ \{\n)(.*?)(^\}\n)", re.M | re.S)
_LINE = re.compile(r"^(  ([A-Z_]+) = )(.*)$", re.M)
# the settings a record keeps for the whole bridge, whichever server it names
BRIDGE_WIDE = ("region",)


def client_values(text):
    """``{KEY: raw HOCON value}`` of the first client block of a fragment jvb-join wrote."""
    match = _BLOCK.search(text or "")
    if not match:
        return None
    return {line.group(2): line.group(3) for line in _LINE.finditer(match.group(2))}


def swap_client(first, further):
    """``first`` (jvb-join.conf) with its client's server and account those of ``further`` (a
    further server's fragment); every other byte as it was."""
    values = client_values(further)
    match = _BLOCK.search(first or "")
    if not match or not values or any(key not in values for key in CLIENT_KEYS):
        raise StepError("jvb-join's settings files are not as jvb-join wrote them; the next server cannot "
                        "take the first one's place", "Leave all servers ('jvb-join leave') and join again.")
    body = _LINE.sub(lambda line: line.group(1) + values[line.group(2)] if line.group(2) in CLIENT_KEYS
                     else line.group(0), match.group(2))
    return first[:match.start(2)] + body + first[match.end(2):]


class PromoteFragment(FileStep):
    """jvb-join.conf with the next server's client in the first one's place."""

    name = "bridge-config"
    title = "bridge XMPP client settings (the next server in the first one's place)"
    owns_files = True
    restarts = "bridge"

    def __init__(self, successor):
        self.successor = successor

    def wanted(self, ctx):
        first = files.read_text(ctx.paths.jvb_fragment)
        further = files.read_text(self.successor.paths.jvb_fragment)
        if first is None or further is None:
            return []
        uid, gid = owner(jitsi_gid())
        return [WantedFile(ctx.paths.jvb_fragment, swap_client(first, further), 0o640, uid, gid,
                           secret=fragment_mask())]


class PromoteRecord(FileStep):
    """bridge.json: the next server's record (with what is the bridge's, such as its region)."""

    name = "join-record"
    title = "jvb-join's record of the join (the next server's)"
    owns_files = True

    def __init__(self, successor):
        self.successor = successor

    def wanted(self, ctx):
        record = dict(self.successor.record)
        for key in BRIDGE_WIDE:
            if key in ctx.run.record:
                record[key] = ctx.run.record[key]
        uid, gid = owner()
        return [WantedFile(ctx.paths.bridge_state, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600,
                           uid, gid)]
