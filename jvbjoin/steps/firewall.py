"""ufw: allow SSH and the bridge's media port, then enable -- never locking the operator out.

Rules are only ever added (each with its own undo); existing rules are never touched and
``ufw reset`` is never run. ufw is enabled only if it was inactive and SSH is allowed first.
"""

import os

from jvbjoin.system import files, host, netinfo as sockets, ufw
from jvbjoin.system.ufw import allow_argv, allowed, delete_argv, parse_status, saved_rules
from jvbjoin.engine.core import Change, Context, Step
from jvbjoin.errors import CommandError, FirewallCutError, StepError
from jvbjoin.system.run import run

# Open to everyone: the clients send their media there. Relays between bridges (regions) need
# nothing more: the bridge first in a conference checks from a port of its own to the other's
# 10000/udp, and ufw lets the answers back in as part of that exchange (conntrack). Only where an
# admin narrowed 10000/udp do the fleet's bridges need a rule for each other (doctor's relays check
# says so when a relay fails).
MEDIA_PORT = (10000, "udp")
SSH_COMMENT = "jvb-join ssh"
MEDIA_COMMENT = "jvb-join"
_CONTAINER_NOISE = "problem running sysctl"
# Let in by ufw's own before.rules whatever the user rules say: DHCP and DHCPv6 clients, mDNS, UPnP
# discovery. A socket on one of these is not cut by turning ufw on.
_ALWAYS_LET_IN = {(68, "udp"), (546, "udp"), (5353, "udp"), (1900, "udp")}


class CloseFirewall(Step):
    """Leave: the ports jvb-join opened (rules with its comment). SSH stays allowed and ufw stays as
    it is: closing them could lock the operator out of a host they still use."""

    name = "firewall"
    title = "firewall (ufw)"
    leave_order = 3

    def check(self, ctx):
        if not ctx.run.firewall:
            return []
        found = []
        for text in ufw.rule_texts(ctx.paths):
            for rule in ufw.commented_rules(text, MEDIA_COMMENT):
                if rule not in found:
                    found.append(rule)
        return [Change("firewall", "{}/{}".format(port, proto), "close {}/{} (opened by jvb-join)".format(port, proto),
                       data=(port, proto)) for port, proto in found]

    def apply(self, ctx, changes, journal):
        saved = [files.FileState.read(ctx.paths(name)) for name in ufw.RULE_FILES]
        for state in saved:
            if state.exists:
                ctx.run.backups.save(state.path)
        journal.record("restore ufw's rule files", lambda: [files.restore(state) for state in saved])
        for change in changes:
            rule = "{}/{}".format(*change.data)
            journal.record("ufw allow {}".format(rule), lambda change=change: run(
                allow_argv(change.data[0], change.data[1], MEDIA_COMMENT), check=False, timeout=60))
            result = run(delete_argv(*change.data), check=False, timeout=120)
            output = result.stdout + result.stderr
            # In a container ufw cannot set its sysctls and says so, yet deletes the rule.
            if not result.ok and _CONTAINER_NOISE not in output:
                raise StepError("ufw delete allow {} failed: {}".format(rule, output.strip()[-300:]),
                                "Check ufw (ufw status verbose), then run 'jvb-join leave' again.")


class Firewall(Step):
    name = "firewall"
    title = "firewall (ufw)"
    inverse = CloseFirewall

    def __init__(self, ports=None):
        # (port, proto) pairs open to everyone; SSH ports are found on the host and come first.
        self.ports = [(int(p), proto) for p, proto in (ports or [MEDIA_PORT])]

    def _status(self, ctx):
        try:
            result = run(["ufw", "status", "verbose"], check=False, timeout=60)
        except CommandError as exc:
            if exc.returncode == 127:
                return None
            raise
        if not result.ok and "Status:" not in result.stdout:
            raise StepError("ufw status failed: {}".format((result.stderr or result.stdout).strip()),
                            "Check ufw (ufw status verbose), then run again.")
        return result.stdout

    def _rules(self, ctx, status_rules):
        return list(status_rules) + saved_rules(ctx.paths)

    def check(self, ctx):
        if not ctx.run.firewall:
            return []
        status = self._status(ctx)
        if status is None:
            ctx.add_degraded("ufw is not installed: let {}/{} in through this host's firewall".format(*MEDIA_PORT))
            return []
        active, status_rules = parse_status(status)
        rules = self._rules(ctx, status_rules)
        changes = []
        ssh_ports = host.ssh_ports()
        for port in ssh_ports:
            if not allowed(rules, port, "tcp"):
                changes.append(Change("firewall", "{}/tcp".format(port),
                                      "allow {}/tcp (SSH) in ufw".format(port),
                                      data=(allow_argv(port, "tcp", SSH_COMMENT), delete_argv(port, "tcp"))))
        for port, proto in self.ports:
            if not allowed(rules, port, proto, from_anywhere=True):
                what = "bridge media" if (port, proto) == tuple(MEDIA_PORT) else "jvb-join"
                changes.append(Change("firewall", "{}/{}".format(port, proto),
                                      "allow {}/{} ({}) in ufw".format(port, proto, what),
                                      data=(allow_argv(port, proto, MEDIA_COMMENT), delete_argv(port, proto))))
        if not active:
            if ssh_ports or ctx.run.no_ssh:
                changes.append(Change("firewall", "ufw", "enable ufw",
                                      data=(["ufw", "--force", "enable"], ["ufw", "disable"])))
            elif os.environ.get("SSH_CONNECTION") or host.sshd_installed(ctx.paths):
                ctx.add_degraded("ufw was left disabled: no SSH port could be found, and enabling it "
                                 "could lock you out. Allow your SSH port (ufw allow <port>/tcp) and run "
                                 "'ufw enable', or pass --no-ssh if this host has no SSH.")
            else:
                changes.append(Change("firewall", "ufw", "enable ufw",
                                      data=(["ufw", "--force", "enable"], ["ufw", "disable"])))
        return changes

    def apply(self, ctx, changes, journal):
        # ufw rewrites its rule files whole; after the rules are undone, put back the exact bytes
        # the admin had (recorded first, so replayed last).
        saved = [files.FileState.read(ctx.paths(name)) for name in ufw.RULE_FILES]
        journal.record("restore ufw's rule files", lambda: [files.restore(state) for state in saved])
        # Rules first, enable last: SSH must be allowed before the firewall comes up.
        ordered = [c for c in changes if c.target != "ufw"] + [c for c in changes if c.target == "ufw"]
        for change in ordered:
            argv, undo = change.data
            journal.record(" ".join(undo), lambda undo=undo: run(undo, check=False, timeout=60))
            result = run(argv, check=False, timeout=120)
            if result.ok:
                continue
            output = result.stdout + result.stderr
            if _CONTAINER_NOISE in output and self._took_effect(change):
                ctx.add_degraded("ufw could not set its kernel settings here ({}); the rules are in place".format(
                    _CONTAINER_NOISE))
                continue
            raise StepError("{} failed: {}".format(" ".join(argv), output.strip()[-300:]),
                            "Check ufw (ufw status verbose), then run again.")

    def _took_effect(self, change):
        status = self._status(None) or ""
        active, rules = parse_status(status)
        if change.target == "ufw":
            return active
        port, _, proto = change.target.partition("/")
        return not active or allowed(rules, int(port), proto)


def ufw_state(paths):
    """``(active, rules)`` of ufw now; None when ufw is not installed."""
    step = Firewall()
    status = step._status(None)
    if status is None:
        return None
    active, status_rules = parse_status(status)
    return active, step._rules(Context(paths), status_rules)


def cut_by_enabling(paths, keep):
    """What turning ufw on would cut: ``[(port, proto, program)]`` of the sockets this host serves to
    others now (listening TCP, bound UDP; not loopback-only) that no rule lets in and that are not in
    ``keep`` (the ports the run itself will allow). Empty when ufw is active already or absent."""
    conf = files.read_text(paths(ufw.CONF))
    if conf is None or ufw.conf_enabled(conf):
        return []  # no ufw, or on already (read from its file: a re-run pays no ufw start-up)
    state = ufw_state(paths)
    if state is None or state[0]:
        return []
    rules = state[1]
    found = {}
    for proto, address, port, inode in sockets.bound_sockets(paths):
        if sockets.is_loopback(address) or (port, proto) in _ALWAYS_LET_IN or (port, proto) in keep:
            continue
        if allowed(rules, port, proto):
            continue
        found.setdefault((port, proto), inode)
    names = sockets.owners(paths, found.values())
    return sorted((port, proto, names.get(inode, "?")) for (port, proto), inode in found.items())


def refuse_cut(ctx, keep, cut_ok, confirm):
    """Before a firewall that is off is turned on: what this host serves to others today that the
    run will not let in (``keep``) would be cut. Asked on a terminal (``confirm``); refused
    unattended unless ``cut_ok``; either way before any change, and named in the report."""
    cut = cut_by_enabling(ctx.paths, keep)
    if not cut:
        return
    listed = ", ".join("{}/{} ({})".format(p, proto, program) for p, proto, program in cut)
    ctx.run.firewall_cut = listed
    if cut_ok:
        ctx.degraded.append("ufw was turned on and now keeps others from {} (--firewall-cut-ok)".format(listed))
        return
    question = "ufw is off; turning it on will keep others from what this host serves: {}. Go on?".format(listed)
    if confirm is not None and confirm(question):
        ctx.degraded.append("ufw was turned on and now keeps others from {} (confirmed)".format(listed))
        return
    raise FirewallCutError("ufw is off, and turning it on would cut what this host serves to others: {}. "
                           "Nothing was changed.".format(listed))
