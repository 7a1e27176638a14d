"""One jvb-join version across the fleet: the joined bridges whose jvb-join differs from the
server's. A bridge reports its version into its account's private storage on the server when it
joins (jvbjoin.bridge.steps.account.report_version), and again after each upgrade of its jvb-join
(the package's postinst); prosody keeps it where this check reads it."""

from jvbjoin.system import apt
from jvbjoin.doctor.core import Check, ok, skipped, warn
from jvbjoin.server import prosody
from jvbjoin.server.checks.services import GROUP_BRIDGES, token_states


def check_bridge_versions(facts):
    own = apt.installed_packages(facts.paths).get("jvb-join")
    if not own:
        return skipped("jvb-join is not installed from its package here")
    joined = [record for record, state in token_states(facts) if state == "joined"]
    if not joined:
        return ok("no joined bridge yet")
    differ, unknown, details = [], [], []
    for record in joined:
        name = record.get("nickname") or record.get("name") or record["user"]
        version = prosody.bridge_version(facts.paths, record["domain"], record["user"])
        if version is None:
            unknown.append(name)
            details.append("{} ({}): version not reported".format(name, record["id"]))
        else:
            details.append("{} ({}): jvb-join {}".format(name, record["id"], version))
            if version != own:
                differ.append("{} runs {}".format(name, version))
    if differ:
        return warn("{} of {} bridge(s) run another jvb-join than this server's {}: {}".format(
            len(differ), len(joined), own, "; ".join(differ)),
            "On each: apt-get update && apt-get install jvb-join   (from this server's repository: "
            "'jvb-join token create --print-join-command' sets it up on a new bridge)", details)
    if unknown:
        return ok("every bridge that reported its version runs jvb-join {} ({} did not report)".format(
            own, len(unknown)), details)
    return ok("every joined bridge runs jvb-join {}".format(own), details)


def checks():
    return [Check("bridge-versions", "jvb-join versions of the bridges", GROUP_BRIDGES, check_bridge_versions)]
