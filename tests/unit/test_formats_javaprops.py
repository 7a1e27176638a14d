"""Java properties files as java.util.Properties reads them, for every reader (join, doctor, leave, server)."""

import os

import pytest

from jvbjoin.bridge.checks import base as bridge_checks
from jvbjoin.bridge.steps.logging_level import LoggingLevel
from jvbjoin.doctor.core import Facts
from jvbjoin.engine.core import Journal
from jvbjoin.formats import javaprops
from jvbjoin.system import files

from helpers import join_ctx


@pytest.mark.parametrize("line", ["key=value", "key = value", "key:value", "key : value", "key value",
                                  "key\tvalue", "   key=value", "\t key :  value", "key\f=value"])
def test_every_separator_java_accepts(line):
    assert javaprops.parse(line + "\n") == {"key": "value"}


def test_only_the_first_separator_separates():
    assert javaprops.parse("a=b=c\nd:=e\nf = : g\n") == {"a": "b=c", "d": "=e", "f": ": g"}


def test_comments_and_blank_lines_are_skipped():
    text = "# a=1\n! b=2\n   # c=3\n\t! d=4\n\n   \ne=5 # not a comment\n"
    assert javaprops.parse(text) == {"e": "5 # not a comment"}


def test_a_key_without_value_is_empty():
    assert javaprops.parse("alone\nspaced   \n") == {"alone": "", "spaced": ""}


def test_continuation_lines_join_and_drop_the_next_lines_indentation():
    text = "handlers = java.util.logging.ConsoleHandler, \\\n    java.util.logging.FileHandler\nnext=1\n"
    assert javaprops.parse(text) == {
        "handlers": "java.util.logging.ConsoleHandler, java.util.logging.FileHandler", "next": "1"}


def test_an_even_number_of_backslashes_does_not_continue():
    assert javaprops.parse("a=x\\\\\nb=y\n") == {"a": "x\\", "b": "y"}


def test_a_comment_ending_in_a_backslash_does_not_continue():
    assert javaprops.parse("# note \\\nb=y\n") == {"b": "y"}


def test_escapes_in_keys_and_values():
    assert javaprops.parse("a\\:b=c\\td\nu=\\u0041\nsp\\ ace=x\\ \n") == {"a:b": "c\td", "u": "A", "sp ace": "x "}


def test_last_value_wins():
    assert javaprops.parse(".level=INFO\nother=1\n.level: FINE\n")[".level"] == "FINE"


def test_line_ends_are_lf_crlf_and_cr_only():
    assert javaprops.parse("a=1\r\nb=2\rc=3\x0cstill c\n") == {"a": "1", "b": "2", "c": "3\x0cstill c"}


def test_locate_gives_the_head_a_writer_keeps():
    assert javaprops.locate(["  handlers : a, b  \n"]) == ("handlers", "  handlers : ", "a, b")
    assert javaprops.locate([".level\n"]) == (".level", ".level=", "")
    assert javaprops.locate(["# x=1\n"]) is None and javaprops.locate(["  \n"]) is None


def test_logical_lines_group_continuations():
    lines = javaprops.split_lines("a=1\\\n 2\n# c \\\nd=4")
    assert javaprops.logical_lines(lines) == [["a=1\\\n", " 2\n"], ["# c \\\n"], ["d=4"]]
    assert javaprops.continues_at_end(["x=1\\\n"]) and not javaprops.continues_at_end(["# x\\\n"])


@pytest.mark.parametrize("handlers_line", [
    "handlers: java.util.logging.ConsoleHandler, java.util.logging.FileHandler\n",
    "handlers java.util.logging.FileHandler\n",
    "  handlers = java.util.logging.ConsoleHandler,\\\n     java.util.logging.FileHandler\n",
])
def test_file_handler_is_seen_by_the_doctor_and_removed_by_the_join_alike(paths, handlers_line):
    path = paths.jvb_logging
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(handlers_line + ".level=INFO\n")
    before = bridge_checks.check_logging(Facts(paths))
    assert before.status == "warn" and "FileHandler" in before.detail

    ctx = join_ctx(paths, log_level="INFO")
    step = LoggingLevel()
    changes = step.check(ctx)
    assert changes
    step.apply(ctx, changes, Journal())

    text = files.read_text(path)
    assert "FileHandler" not in text and text.endswith(".level=INFO\n")
    assert javaprops.parse(text)["handlers"] in ("java.util.logging.ConsoleHandler",)
    assert bridge_checks.check_logging(Facts(paths)).status == "ok"
    assert step.check(ctx) == []
