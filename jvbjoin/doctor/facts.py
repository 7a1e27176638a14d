"""Read-only facts the bridge and server checks share: unit states, listening sockets, ufw's saved
rules, whether this is a container, the role of this host. Nothing here writes. What only the
bridge checks read (its config, REST answers, the server's certificate) is in
jvbjoin.bridge.checks.facts."""

import os

from jvbjoin.system import apt, host, netinfo, ufw
from jvbjoin.system.systemd import Systemd
from jvbjoin.doctor.core import fail, ok, warn


def unit_state(facts, unit):
    """systemd's view of ``unit`` over D-Bus (one connection per unit, asked once per run)."""
    def compute():
        with Systemd(connect_timeout=2.0) as systemd:
            return systemd.unit_state(unit)
    return facts.get("unit:" + unit, compute)


# --- sockets -----------------------------------------------------------------------------------

def tcp_listeners(facts):
    return facts.get("listeners", lambda: netinfo.tcp_listeners(facts.paths))



# --- ufw -----------------------------------------------------------------------------------------

def firewall_base(facts, missing_hint, open_to_all=()):
    """What bridge and server firewall checks share: ``(result, rules, problems, remedies, ssh)``;
    ``result`` is a warning when ufw is not installed (then the rest is empty). ``open_to_all`` holds
    ``(port, proto, problem)``: a port that must be allowed from anywhere, and what to say if not."""
    installed, enabled, rules = ufw.saved(facts.paths)
    if not installed:
        return warn("ufw is not installed: " + missing_hint, "apt-get install ufw"), [], [], [], []
    problems, remedies = [], []
    if not enabled:
        problems.append("ufw is not enabled")
    ssh = host.ssh_ports() if facts.paths.root == "/" else []
    for port in ssh:
        if not ufw.allowed(rules, port, "tcp"):
            problems.append("SSH port {}/tcp is not allowed".format(port))
            remedies.append("ufw allow {}/tcp".format(port))
    for port, proto, problem in open_to_all:
        if not ufw.allowed(rules, port, proto, from_anywhere=True):
            problems.append(problem)
            remedies.append("ufw allow {}/{}".format(port, proto))
    return None, rules, problems, remedies, ssh


def firewall_result(problems, remedies, enabled_fix, fine):
    if enabled_fix:
        remedies = remedies + ["ufw enable"]
    if problems:
        return fail("; ".join(problems), "; ".join(remedies))
    return ok(fine)


def in_container(facts):
    def compute():
        return host.in_container(facts.paths)
    return facts.get("container", compute)


def exists(paths, path):
    return os.path.exists(paths(path))


# --- the role of this host ------------------------------------------------------------------------

def detect_role(paths):
    """``bridge`` when this host joined a server, ``server`` when it is one; None when neither."""
    if os.path.exists(paths.bridge_state):
        return "bridge"
    if os.path.isdir(paths.server_state):
        return "server"
    installed = apt.installed_packages(paths)
    if "jicofo" in installed or "jitsi-meet-prosody" in installed:
        return "server"
    if "jitsi-videobridge2" in installed:
        return "bridge"
    return None
