"""The bridge's log level: logging.properties edited in place, minimally."""

import pytest

from jvbjoin.errors import UsageError
from jvbjoin.bridge.steps import logging_level

from helpers import join_ctx, read, run_step, write

PACKAGE_LOGGING = """handlers= java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level = ALL
java.util.logging.ConsoleHandler.formatter = org.jitsi.utils.logging2.JitsiLogFormatter
org.jitsi.utils.logging2.JitsiLogFormatter.programname=JVB
.level=INFO
io.sentry.jul.SentryHandler.level=WARNING
timeseries.level=OFF
"""


def test_package_default_is_already_right(paths):
    write(paths.jvb_logging, PACKAGE_LOGGING)
    assert logging_level.LoggingLevel().check(join_ctx(paths)) == []


def test_level_and_file_handler_minimal_edit(paths):
    old = PACKAGE_LOGGING.replace("handlers= java.util.logging.ConsoleHandler",
                                  "handlers= java.util.logging.ConsoleHandler, java.util.logging.FileHandler")
    write(paths.jvb_logging, old)
    ctx = join_ctx(paths, log_level="warning")
    run_step(logging_level.LoggingLevel(), ctx)
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
