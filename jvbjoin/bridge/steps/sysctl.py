"""Kernel settings for a bridge: low swappiness in jvb-join's own sysctl file, and a read-only look
at the UDP buffer sizes the package asks for."""

from jvbjoin.system import files
from jvbjoin.system.sysctl import parse_sysctl_conf, proc_value
from jvbjoin.errors import CommandError, UsageError
from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep, WantedFile
from jvbjoin.bridge.steps.config import owner

UDP_BUFFERS = "/etc/sysctl.d/20-jvb-udp-buffers.conf"


def wanted_swappiness(ctx):
    value = ctx.run.options.swappiness
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 200:
        raise UsageError("swappiness must be a number from 0 to 200", "For a bridge, 1 is usual.")
    return value


class RemoveSysctl(FileStep):
    """Leave: jvb-join's sysctl file, as its first lines promise. The running kernel keeps the value
    until the next boot (what the kernel had before the join is not known any more)."""

    name = "sysctl"
    title = "kernel settings (jvb-join's sysctl file)"
    leave_order = 2

    def wanted(self, ctx):
        return [WantedFile(ctx.paths.sysctl_file, None)]


class Sysctl(FileStep):
    name = "sysctl"
    title = "kernel settings"
    owns_files = True
    inverse = RemoveSysctl

    def wanted(self, ctx):
        content = ("# Written by jvb-join: a bridge should keep its memory in RAM.\n"
                   "# Removed by 'jvb-join leave'.\n"
                   "vm.swappiness = {}\n").format(wanted_swappiness(ctx))
        uid, gid = owner()
        return [WantedFile(ctx.paths.sysctl_file, content, 0o644, uid, gid)]

    def check(self, ctx):
        changes = super().check(ctx)
        self._check_udp_buffers(ctx)
        if not changes:
            current = proc_value(ctx.paths, "vm.swappiness")
            wanted = str(wanted_swappiness(ctx))
            if current is not None and current != wanted:
                self._not_applied(ctx, "vm.swappiness is {} in the kernel, not {}".format(current, wanted))
        return changes

    def _sysctl_command(self):
        return "sysctl -p /etc/sysctl.d/60-jvb-join.conf"

    def _not_applied(self, ctx, what):
        ctx.add_degraded("{} (the kernel settings cannot be changed here, e.g. in a container); "
                         "on the real host run: {}".format(what, self._sysctl_command()))

    def _check_udp_buffers(self, ctx):
        try:
            text = files.read_text(ctx.paths(UDP_BUFFERS))
        except OSError:
            return
        if not text:
            return
        for key, value in sorted(parse_sysctl_conf(text).items()):
            current = proc_value(ctx.paths, key)
            if current is None:
                ctx.add_degraded("{} = {} from {} is not visible in this kernel (a container?); "
                                 "set it on the real host: sysctl -p {}".format(key, value, UDP_BUFFERS, UDP_BUFFERS))
            elif current != value:
                ctx.add_degraded("{} is {}, but {} asks for {}; run on the host: sysctl -p {}".format(
                    key, current, UDP_BUFFERS, value, UDP_BUFFERS))

    def apply(self, ctx, changes, journal):
        old = proc_value(ctx.paths, "vm.swappiness")
        super().apply(ctx, changes, journal)
        if old is not None:
            journal.record("vm.swappiness back to {}".format(old),
                           lambda: run(["sysctl", "-w", "vm.swappiness={}".format(old)], check=False, timeout=30))
        path = ctx.paths.sysctl_file
        try:
            result = run(["sysctl", "-p", path], check=False, timeout=30)
        except CommandError as exc:
            self._not_applied(ctx, "vm.swappiness could not be applied ({})".format(exc))
            return
        if not result.ok:
            detail = (result.stderr or result.stdout).strip().splitlines()
            self._not_applied(ctx, "vm.swappiness could not be applied ({})".format(
                detail[-1] if detail else "sysctl exited {}".format(result.returncode)))
