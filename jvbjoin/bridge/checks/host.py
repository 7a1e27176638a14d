"""Checks of the host around a bridge (and, for disk space and the options file, a server): the REST
API on loopback, the firewall, the kernel settings a bridge wants, the room left for logs."""

import os

from jvbjoin.errors import OptionsFileError
from jvbjoin.system import files
from jvbjoin.system.netinfo import is_loopback
from jvbjoin.system.sysctl import parse_sysctl_conf, proc_value
from jvbjoin.formats import hocon
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.doctor import facts as F
from jvbjoin.bridge.checks.facts import RESTART, UDP_BUFFERS, bridge_conf, restore_conffile
from jvbjoin.bridge.unattended import read_options


def check_rest_loopback(facts):
    conf = {}
    try:
        conf = bridge_conf(facts)
    except hocon.HoconError:
        pass
    ports = {8080, 8443}
    for key in ("videobridge.http-servers.private.port", "videobridge.http-servers.private.tls-port"):
        value = hocon.get(conf, key)
        if value is not None and str(value).lstrip("-").isdigit():
            ports.add(int(value))
    exposed = sorted({"{}:{}".format(a, p) for a, p in F.tcp_listeners(facts) if p in ports and not is_loopback(a)})
    if exposed:
        return fail("the bridge's private REST API (drain, shutdown, metrics) listens on {}".format(", ".join(exposed)),
                    "Remove videobridge.http-servers.private.host (or set it to 127.0.0.1) in {}, then: {}".format(
                        facts.paths.jvb_conf, RESTART))
    return ok("REST API and metrics listen on loopback only")


def check_firewall(facts):
    missing, _, problems, remedies, ssh = F.firewall_base(
        facts, "make sure this host's firewall lets 10000/udp in",
        [(10000, "udp", "10000/udp (media) is not allowed from anywhere")])
    if missing:
        return missing
    return F.firewall_result(problems, remedies, "ufw is not enabled" in problems,
                             "ufw is enabled; SSH ({}) and 10000/udp are allowed".format(
                                 ", ".join("{}/tcp".format(p) for p in ssh) or "no SSH port found"))


def check_udp_buffers(facts):
    text = files.read_text(facts.paths(UDP_BUFFERS))
    if not text:
        return warn("{} is missing (the package ships it)".format(UDP_BUFFERS),
                    restore_conffile(UDP_BUFFERS))
    if F.in_container(facts):
        return skipped("in a container the host's kernel settings apply; on the host run: sysctl -p " + UDP_BUFFERS)
    low = []
    for key, value in sorted(parse_sysctl_conf(text).items()):
        current = proc_value(facts.paths, key)
        try:
            if current is None or int(current) < int(value):
                low.append("{} is {} (wanted {})".format(key, current, value))
        except ValueError:
            if current != value:
                low.append("{} is {} (wanted {})".format(key, current, value))
    if low:
        return warn("; ".join(low), "sysctl -p " + UDP_BUFFERS)
    return ok("UDP buffers as {} asks".format(UDP_BUFFERS))


def check_swappiness(facts):
    wanted = parse_sysctl_conf(files.read_text(facts.paths.sysctl_file) or "").get("vm.swappiness")
    if F.in_container(facts):
        return skipped("in a container the host's kernel settings apply")
    current = proc_value(facts.paths, "vm.swappiness")
    if wanted is None:
        if current is not None and current.isdigit() and int(current) > 10:
            return warn("vm.swappiness is {}: a bridge under memory pressure swaps and stutters".format(current),
                        "jvb-join <token> sets it; or: sysctl -w vm.swappiness=1")
        return ok("vm.swappiness is {}".format(current))
    if current != wanted:
        return warn("vm.swappiness is {}, {} asks for {}".format(current, facts.paths.sysctl_file, wanted),
                    "sysctl -p {}".format(facts.paths.sysctl_file))
    return ok("vm.swappiness is {}".format(current))


def check_disk_space(facts):
    folder = facts.paths("/var/log")
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    total = stat.f_blocks * stat.f_frsize or 1
    text = "{:.1f} GiB free for logs in /var/log ({:.0f}%)".format(free / 2 ** 30, 100.0 * free / total)
    if free < 100 * 2 ** 20:
        return fail(text, "journalctl --vacuum-size=200M; apt-get clean; remove old files in /var/log/jitsi")
    if free < 2 ** 30 or free < total * 0.05:
        return warn(text, "journalctl --vacuum-size=500M; apt-get clean")
    return ok(text)


def check_options_file(facts):
    path = facts.paths.options_file
    try:
        values = read_options(facts.paths)
    except OptionsFileError as err:
        return fail(err.message, err.remedy)
    if not values:
        return ok("no options in {}".format(path))
    return ok("{} sets {}".format(path, ", ".join(sorted(k.replace("_", "-") for k in values))))
