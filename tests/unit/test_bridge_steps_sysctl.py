"""The kernel settings a bridge needs, including the container path (a read-only /proc)."""

import os

import pytest

from jvbjoin.errors import UsageError
from jvbjoin.system.run import Result
from jvbjoin.bridge.steps import sysctl

from helpers import join_ctx, read, run_step, write

class FakeSysctl:
    def __init__(self, rc=0, err=""):
        self.rc, self.err, self.calls = rc, err, []

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        return Result(argv, self.rc, "", self.err)


def test_sysctl_file_and_apply(monkeypatch, paths):
    fake = FakeSysctl()
    monkeypatch.setattr(sysctl, "run", fake)
    ctx = join_ctx(paths)
    run_step(sysctl.Sysctl(), ctx)
    assert "vm.swappiness = 1\n" in read(paths.sysctl_file)
    assert fake.calls == [["sysctl", "-p", paths.sysctl_file]]
    assert ctx.degraded == []
    assert sysctl.Sysctl().check(ctx) == []


def test_sysctl_read_only_proc_is_degraded_not_failure(monkeypatch, paths):
    fake = FakeSysctl(255, "sysctl: setting key \"vm.swappiness\": Read-only file system\n")
    monkeypatch.setattr(sysctl, "run", fake)
    ctx = join_ctx(paths, swappiness=10)
    run_step(sysctl.Sysctl(), ctx)
    assert "vm.swappiness = 10\n" in read(paths.sysctl_file)
    assert len(ctx.degraded) == 1
    assert "Read-only file system" in ctx.degraded[0]
    assert "sysctl -p /etc/sysctl.d/60-jvb-join.conf" in ctx.degraded[0]


def test_swappiness_mismatch_on_second_run_is_degraded(monkeypatch, paths):
    monkeypatch.setattr(sysctl, "run", FakeSysctl())
    run_step(sysctl.Sysctl(), join_ctx(paths))
    write(paths("/proc/sys/vm/swappiness"), "60\n")
    ctx = join_ctx(paths)
    assert sysctl.Sysctl().check(ctx) == []
    assert "vm.swappiness is 60" in ctx.degraded[0]


def test_udp_buffer_mismatch_reported(paths):
    write(paths(sysctl.UDP_BUFFERS), "net.core.rmem_max=10485760\nnet.core.netdev_max_backlog=100000\n")
    write(paths("/proc/sys/net/core/rmem_max"), "212992\n")
    write(paths("/proc/sys/net/core/netdev_max_backlog"), "100000\n")
    write(paths.sysctl_file, "# Written by jvb-join: a bridge should keep its memory in RAM.\n"
                             "# Removed by 'jvb-join leave'.\nvm.swappiness = 1\n")
    os.chmod(paths.sysctl_file, 0o644)
    ctx = join_ctx(paths)
    sysctl.Sysctl().check(ctx)
    assert len(ctx.degraded) == 1
    assert "net.core.rmem_max is 212992" in ctx.degraded[0]


def test_bad_swappiness_refused(paths):
    with pytest.raises(UsageError):
        sysctl.Sysctl().check(join_ctx(paths, swappiness="lots"))


def test_sysctl_files_and_the_kernels_values_are_read_in_one_place(paths):
    from jvbjoin.system import sysctl as kernel
    assert kernel.parse_sysctl_conf("# c\n; c\n-net.core.rmem_max = 10485760\nvm.swappiness=1\nbad line\n") == {
        "net.core.rmem_max": "10485760", "vm.swappiness": "1"}
    write(paths("/proc/sys/net/ipv4/ip_local_port_range"), "32768\t60999\n")
    assert kernel.proc_value(paths, "net.ipv4.ip_local_port_range") == "32768 60999"
    assert kernel.proc_value(paths, "vm.nothing_here") is None
