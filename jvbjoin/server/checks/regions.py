"""The server's doctor check of regions and relays (server install --region, token create --region):
with regions on, every bridge jicofo sees announces a region and a relay id of its own, and all run
one version (jicofo puts no two bridge versions in one conference, so a relay between them is never
opened). Skipped while regions are off."""

from jvbjoin.errors import JvbJoinError
from jvbjoin.system import files
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.server import jicofo
from jvbjoin.server.model import TokenStore, ended
from jvbjoin.server.regions import JICOFO_FRAGMENT

REJOIN = "jvb-join token create --region REGION, then on that bridge: jvb-join <the new token>"


def regions_on(paths):
    """jvb-join's jicofo regions file is there, or a live token carries a region."""
    if files.read_text(paths(JICOFO_FRAGMENT)) is not None:
        return True
    try:
        return any(r.get("region") and not ended(r) for r in TokenStore(paths).load())
    except JvbJoinError:
        return False


def fleet_problems(bridges):
    """``[(problem, remedy)]`` of the bridges jicofo sees, with regions on."""
    problems = []
    versions = {}
    for b in bridges:
        versions.setdefault(b["version"] or "unknown", []).append(b["nickname"])
    if len(versions) > 1:
        newest = max((v for v in versions if v != "unknown"), default="the newest")
        problems.append(("bridges run different versions ({}): jicofo puts no two versions in one "
                         "conference, so no relay joins them".format(
                             "; ".join("{} on {}".format(v, ", ".join(n)) for v, n in sorted(versions.items()))),
                         "Upgrade the others to {} (apt-get install jitsi-videobridge2 on each)".format(newest)))
    for b in bridges:
        missing = [what for what, key in (("region", "region"), ("relay id", "relay_id")) if not b[key]]
        if missing:
            problems.append(("{} announces no {}: jicofo cannot place it by region or relay through "
                             "it".format(b["nickname"], " and no ".join(missing)), REJOIN))
    by_relay = {}
    for b in bridges:
        if b["relay_id"]:
            by_relay.setdefault(b["relay_id"], []).append(b["nickname"])
    for relay_id, nicks in sorted(by_relay.items()):
        if len(nicks) > 1:
            problems.append(("{} share the relay id {}: relays to them go astray".format(
                " and ".join(sorted(nicks)), relay_id), REJOIN + " (on all but one)"))
    return problems


def check_server_regions(facts):
    paths = facts.paths
    if not regions_on(paths):
        return skipped("regions are off (server install --region, token create --region)")
    try:
        _, bridges = jicofo.bridges(paths)
    except JvbJoinError as exc:
        return fail(exc.message, exc.remedy)
    details = ["{}: region {}, relay id {}, version {}".format(
        b["nickname"], b["region"] or "-", b["relay_id"] or "-", b["version"] or "-") for b in bridges]
    problems = fleet_problems(bridges)
    if files.read_text(paths(JICOFO_FRAGMENT)) is None:
        problems.insert(0, ("tokens carry regions but jicofo does not select bridges by region",
                            "jvb-join server install --domain DOMAIN --region REGION   (this server's region)"))
    if problems:
        return warn("; ".join(p for p, _ in problems), " / ".join(sorted(set(r for _, r in problems))), details)
    if not bridges:
        return ok("regions are on; no bridge yet", details)
    return ok("{} bridge(s) in {} region(s), each with a relay id of its own, one version".format(
        len(bridges), len({b["region"] for b in bridges})), details)
