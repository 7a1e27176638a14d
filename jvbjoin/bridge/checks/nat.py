"""The checks of a bridge behind NAT: the public address jvb-join wrote (``--advertise-ip``) is the
one the bridge reads and announces, its local address is this host's, and the STUN servers it was
given (``--stun-server``) answer with the address the bridge announces.

Each runs only when the join asked for it: jvb-join's own fragment says what it set, the merged
configuration what the bridge reads, and the bridge's log since its last start what it uses (the
real bridge shows its mapping harvesters nowhere else: not in /colibri/stats nor in /debug).
"""

import os
import threading

from jvbjoin.formats import hocon, javaprops, stun
from jvbjoin.system.netinfo import is_local_address
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.bridge.checks.facts import RESTART, bridge_conf, legacy_text

MAPPINGS_KEY = "ice4j.harvest.mapping.static-mappings"
STUN_KEY = "ice4j.harvest.mapping.stun.addresses"
LEGACY_LOCAL = "org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS"
LEGACY_PUBLIC = "org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS"
LEGACY_STUN = "org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES"
START_LINE = "Starting jitsi-videobridge version"
USING_STATIC = "Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face="
STUN_PORT = 3478
REJOIN_NAT = "jvb-join <token> --advertise-ip PUBLIC [--local-ip LOCAL]"


def ours(facts):
    """What jvb-join's fragment sets: ``(mappings [(local, public)], stun list or None)``."""
    def compute():
        conf = hocon.load(facts.paths.jvb_fragment) if os.path.exists(facts.paths.jvb_fragment) else {}
        servers = hocon.get(conf, STUN_KEY)
        return mappings_in(conf), (None if servers is None else [str(s) for s in servers])
    return facts.get("nat-ours", compute)


def mappings_in(conf, legacy=None):
    """``[(local, public)]`` as ice4j reads them: the legacy NAT_HARVESTER pair first (both set),
    then each static-mappings entry."""
    out = []
    legacy = legacy or {}
    if legacy.get(LEGACY_LOCAL) and legacy.get(LEGACY_PUBLIC):
        out.append((legacy[LEGACY_LOCAL].strip(), legacy[LEGACY_PUBLIC].strip()))
    entries = hocon.get(conf, MAPPINGS_KEY, [])
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("local-address") and entry.get("public-address"):
            pair = (str(entry["local-address"]), str(entry["public-address"]))
            if pair not in out:
                out.append(pair)
    return out


def _legacy(facts):
    return javaprops.parse(legacy_text(facts))


def effective_stun(facts):
    """The STUN servers the bridge asks: the legacy property when set (it is read before jvb.conf)."""
    legacy = _legacy(facts).get(LEGACY_STUN)
    if legacy is not None:
        return [s.strip() for s in legacy.split(",") if s.strip()], facts.paths.jvb_legacy_properties
    found = hocon.get(bridge_conf(facts), STUN_KEY)
    return ([str(s) for s in found] if isinstance(found, list) else []), facts.paths.jvb_conf


def _host(transport):
    """``198.51.100.7`` of ice4j's ``198.51.100.7:9/udp`` (``[2001:db8::1]:9/udp`` for IPv6)."""
    text = transport.strip().split("/", 1)[0]
    host = text.rsplit(":", 1)[0] if ":" in text else text
    return host.strip("[]")


def last_start(paths, limit=4 * 2 ** 20):
    """The bridge's log since its last start, or None when the log does not show a start."""
    path = paths.jvb_log
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    at = text.rfind(START_LINE)
    return None if at < 0 else text[at:]


def announced_mappings(log_text):
    """``[(local, public)]`` of the static mappings the bridge said it uses at its last start."""
    out = []
    for line in log_text.splitlines():
        at = line.find(USING_STATIC)
        if at < 0:
            continue
        inner = line[at + len(USING_STATIC):].rstrip(")")
        face, sep, mask = inner.partition(", mask=")
        if sep:
            out.append((_host(face), _host(mask)))
    return out


def check_nat(facts):
    mappings, _ = ours(facts)
    if not mappings:
        return skipped("not behind NAT: the join had no --advertise-ip")
    local, public = mappings[0]
    details = ["jvb-join maps {} (this host) to {} (public) in {}".format(local, public, facts.paths.jvb_fragment)]
    try:
        effective = mappings_in(bridge_conf(facts), _legacy(facts))
    except hocon.HoconError as exc:
        return fail("the bridge cannot read its configuration: {}".format(exc),
                    "Fix the line named above, then: {}".format(RESTART), details)
    if (local, public) not in effective:
        found = ", ".join("{} -> {}".format(a, b) for a, b in effective) or "no static mapping"
        return fail("the bridge does not read jvb-join's mapping {} -> {} (it reads: {}); a later line in {} "
                    "or {} replaces it".format(local, public, found, facts.paths.jvb_conf,
                                               facts.paths.jvb_legacy_properties),
                    "Remove ice4j.harvest.mapping.static-mappings (and NAT_HARVESTER_*) lines outside {}, then: "
                    "{}".format(facts.paths.jvb_fragment, RESTART), details)
    if not is_local_address(local):
        return fail("{} is not an address of this host: the bridge has no candidate to map to {}".format(local, public),
                    REJOIN_NAT + "   (LOCAL: an address 'ip -brief address' shows)", details)
    log = last_start(facts.paths)
    if log is None:
        details.append("{} does not show the bridge's last start: what it announces is not known".format(
            facts.paths.jvb_log))
        return ok("the bridge reads {} -> {} and {} is this host's".format(local, public, local), details)
    used = announced_mappings(log)
    if (local, public) not in used:
        said = ", ".join("{} -> {}".format(a, b) for a, b in used) or "no static mapping"
        return fail("the bridge announces {} since its last start, not {} -> {}: participants get no "
                    "public address for it".format(said, local, public),
                    "{}   (then see 'grep -i mapping {}')".format(RESTART, facts.paths.jvb_log), details)
    return ok("the bridge announces {} for {}".format(public, local), details)


def _split_server(server):
    host, sep, port = server.rpartition(":")
    if not sep or not port.isdigit():
        return server, STUN_PORT
    return host, int(port)


def ask_stun(servers, source, timeout=2.0):
    """``{server: (ip, port) or StunError}``, asked in parallel, each within ``timeout``."""
    answers = {}

    def ask(server):
        host, port = _split_server(server)
        try:
            answers[server] = stun.mapped_address(host, port, source, timeout)
        except (stun.StunError, OSError) as exc:
            answers[server] = exc

    threads = [threading.Thread(target=ask, args=(s,), daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 0.5)
    return {s: answers.get(s, "no answer") for s in servers}


def check_stun(facts):
    mappings, wanted = ours(facts)
    if wanted is None:
        return skipped("the join had no --stun-server")
    if not wanted:
        return skipped("STUN turned off at the join (--stun-server none)")
    servers, source_file = effective_stun(facts)
    details = ["jvb-join set the STUN servers {}".format(", ".join(wanted))]
    problems = []
    if servers != wanted:
        problems.append("the bridge asks {} ({}), not jvb-join's {}".format(
            ", ".join(servers) or "no STUN server", source_file, ", ".join(wanted)))
    if not servers:
        return warn(problems[0], "Remove {} from {}, then: {}".format(
            LEGACY_STUN if source_file != facts.paths.jvb_conf else STUN_KEY, source_file, RESTART), details)
    local, public = mappings[0] if mappings else (None, None)
    answers = ask_stun(servers[:3], local)
    seen = {}
    for server, answer in answers.items():
        if isinstance(answer, tuple):
            seen[server] = answer[0]
            details.append("{} sees this host as {}:{}".format(server, answer[0], answer[1]))
        else:
            details.append("{}: {}".format(server, answer))
    if not seen:
        return fail("no STUN server answered ({}): the bridge cannot learn its public address, and its "
                    "health check fails".format("; ".join(str(a) for a in answers.values())),
                    "Let UDP out to {} (firewall, NAT), or give another: "
                    "jvb-join <token> --stun-server HOST:PORT".format(", ".join(servers[:3])), details)
    addresses = sorted(set(seen.values()))
    if public and addresses != [public]:
        return warn("; ".join(problems + ["STUN sees this host as {}, but the bridge announces {} "
                                          "(--advertise-ip)".format(", ".join(addresses), public)]),
                    "If the NAT's public address changed: {}; otherwise check which address the NAT "
                    "forwards UDP 10000 from".format(REJOIN_NAT.replace("PUBLIC", addresses[0])), details)
    if problems:
        return warn("; ".join(problems), "Remove the STUN lines outside {}, then: {}".format(
            facts.paths.jvb_fragment, RESTART), details)
    if public:
        return ok("STUN sees this host as {}, the address the bridge announces".format(public), details)
    if all(is_local_address(a) for a in addresses):
        return ok("STUN sees this host as {}: an address of this host (no NAT on the way)".format(
            ", ".join(addresses)), details)
    return ok("STUN sees this host as {} (behind NAT; the bridge maps to it)".format(", ".join(addresses)), details)
