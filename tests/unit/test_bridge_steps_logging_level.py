"""Logging edits in place (minimal) and kernel settings, including the container path."""

import os

import pytest

from jvbjoin.engine.core import Journal
from jvbjoin.errors import UsageError
from jvbjoin.system.run import Result
from jvbjoin.bridge.steps import logging_level, sysctl

from helpers import join_ctx

PACKAGE_LOGGING = """handlers= java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level = ALL
java.util.logging.ConsoleHandler.formatter = org.jitsi.utils.logging2.JitsiLogFormatter
org.jitsi.utils.logging2.JitsiLogFormatter.programname=JVB
.level=INFO
io.sentry.jul.SentryHandler.level=WARNING
timeseries.level=OFF
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def apply(step, ctx):
    changes = step.check(ctx)
    if changes:
        step.apply(ctx, changes, Journal())
    return changes


def test_package_default_is_already_right(paths):
    write(paths.jvb_logging, PACKAGE_LOGGING)
    assert logging_level.LoggingLevel().check(join_ctx(paths)) == []


def test_level_and_file_handler_minimal_edit(paths):
    old = PACKAGE_LOGGING.replace("handlers= java.util.logging.ConsoleHandler",
                                  "handlers= java.util.logging.ConsoleHandler, java.util.logging.FileHandler")
    write(paths.jvb_logging, old)
    ctx = join_ctx(paths, log_level="warning")
    apply(logging_level.LoggingLevel(), ctx)
    new = read(paths.jvb_logging)
    assert new == PACKAGE_LOGGING.replace(".level=INFO", ".level=WARNING")
    assert logging_level.LoggingLevel().check(ctx) == []


def test_missing_level_line_is_appended():
    assert logging_level.edit_logging("handlers=x", "INFO") == "handlers=x\n.level=INFO\n"


def test_only_file_handler_becomes_console():
    assert logging_level.edit_logging("handlers = java.util.logging.FileHandler\n.level=INFO\n", "INFO") == \
        "handlers = java.util.logging.ConsoleHandler\n.level=INFO\n"


def test_colon_and_space_separators_are_edited_as_java_reads_them():
    # "handlers: x" and "handlers x" are the key "handlers" for java.util.logging, as "handlers=x" is
    text = "handlers: java.util.logging.ConsoleHandler, java.util.logging.FileHandler\n.level FINE\n"
    assert logging_level.edit_logging(text, "INFO") == "handlers: java.util.logging.ConsoleHandler\n.level INFO\n"
    assert logging_level.edit_logging("handlersX=1\n", "INFO") == "handlersX=1\n.level=INFO\n"


def test_unknown_level_refused(paths):
    write(paths.jvb_logging, PACKAGE_LOGGING)
    with pytest.raises(UsageError):
        logging_level.LoggingLevel().check(join_ctx(paths, log_level="LOUD"))


def test_missing_logging_file_planned_after_package(paths):
    changes = logging_level.LoggingLevel().check(join_ctx(paths))
    assert "after jitsi-videobridge2 creates" in changes[0].summary


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
    apply(sysctl.Sysctl(), ctx)
    assert "vm.swappiness = 1\n" in read(paths.sysctl_file)
    assert fake.calls == [["sysctl", "-p", paths.sysctl_file]]
    assert ctx.degraded == []
    assert sysctl.Sysctl().check(ctx) == []


def test_sysctl_read_only_proc_is_degraded_not_failure(monkeypatch, paths):
    fake = FakeSysctl(255, "sysctl: setting key \"vm.swappiness\": Read-only file system\n")
    monkeypatch.setattr(sysctl, "run", fake)
    ctx = join_ctx(paths, swappiness=10)
    apply(sysctl.Sysctl(), ctx)
    assert "vm.swappiness = 10\n" in read(paths.sysctl_file)
    assert len(ctx.degraded) == 1
    assert "Read-only file system" in ctx.degraded[0]
    assert "sysctl -p /etc/sysctl.d/60-jvb-join.conf" in ctx.degraded[0]


def test_swappiness_mismatch_on_second_run_is_degraded(monkeypatch, paths):
    monkeypatch.setattr(sysctl, "run", FakeSysctl())
    apply(sysctl.Sysctl(), join_ctx(paths))
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
