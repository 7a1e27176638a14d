"""Hypothesis on the writers that edit an admin's files: every byte of the admin's survives, an edit
is done once, undoing it gives the file back, the bridge then sees no legacy client, and no input
takes more than 50 ms. ``JVB_FUZZ_EXAMPLES`` raises the number of examples (``make fuzz``)."""

import json
import os
import re
import time

from hypothesis import HealthCheck, given, settings, strategies as st

from jvbjoin.bridge import model
from jvbjoin.system import sysctl
from jvbjoin.bridge.steps.config import (
    INCLUDE_LINE, LEGACY_MARKER, add_include, comment_out_legacy, complete_clients, legacy_clients,
    remove_include, restore_legacy)
from jvbjoin.bridge.steps.logging_level import LEVELS, edit_logging
from jvbjoin.formats.javaprops import key_of, logical_lines

LIMIT = 0.05  # seconds any one edit may take
FUZZ = settings(max_examples=int(os.environ.get("JVB_FUZZ_EXAMPLES", "300")), deadline=None,
                derandomize="JVB_FUZZ_EXAMPLES" not in os.environ, database=None,
                suppress_health_check=[HealthCheck.too_slow])

PREFIX = "org.jitsi.videobridge.xmpp.user."
INTERESTING = st.sampled_from([
    "# a comment", "! also a comment", "", "   ", "key=value", "key = value with spaces  ",
    PREFIX + "shard.HOSTNAME=localhost", PREFIX + "shard.DOMAIN=auth.meet.example.com",
    PREFIX + "shard.USERNAME=jvb", PREFIX + "shard.PASSWORD=abc#@\\", "  " + PREFIX + "shard.MUC_JIDS=x@y",
    PREFIX + "shard.MUC_NICKNAME=n", "ORG.JITSI.VIDEOBRIDGE.XMPP.USER.other.PASSWORD:p", PREFIX + "a\\",
    "continued \\\\", "\\", INCLUDE_LINE, LEGACY_MARKER + "x=1", "handlers= java.util.logging.FileHandler",
    "handlers=java.util.logging.ConsoleHandler,java.util.logging.FileHandler", ".level=FINE", ".level = INFO",
    "videobridge { cc { trust-bwe = true } }", 'include "other.conf"', "ünïcødé = €", "\t\f" + PREFIX + "s.X=1",
    # separators str.splitlines() splits at, and Java properties and HOCON do not
    "x=1\x85" + PREFIX + "shard.PASSWORD=p", "y=2\x0c.level=ALL", "z=3\u2028handlers=java.util.logging.FileHandler",
    "w=4\x0b" + PREFIX + "shard.HOSTNAME=h\x1c" + PREFIX + "shard.USERNAME=u",
])
LINE = st.one_of(INTERESTING, st.text(max_size=60).filter(lambda t: "\n" not in t and "\r" not in t))
ENDING = st.sampled_from(["\n", "\r\n", "\n", "\r"])


@st.composite
def admin_files(draw):
    lines = draw(st.lists(st.tuples(LINE, ENDING), max_size=40))
    text = "".join(line + end for line, end in lines)
    if draw(st.booleans()) and text:
        text = text.rstrip("\r\n")  # no final newline
    return text


def java_lines(text):
    """Lines as a Java properties reader ends them: at LF, CR LF or CR only."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def timed(function, *args):
    # CPU time, so that a busy machine does not make a fast function look slow
    started = time.process_time()
    result = function(*args)
    took = time.process_time() - started
    assert took < LIMIT, "{} took {:.1f} ms".format(function.__name__, took * 1000)
    return result


@FUZZ
@given(admin_files())
def test_include_is_added_once_after_the_admins_bytes_and_leaves_cleanly(text):
    new = timed(add_include, text)
    assert new.startswith(text)
    assert timed(add_include, new) == new
    if INCLUDE_LINE not in [line.rstrip("\r\n") for line in java_lines(text)]:
        assert timed(remove_include, new) in (text, text + "\n")


@FUZZ
@given(admin_files())
def test_legacy_client_lines_are_commented_out_and_restored_byte_for_byte(text):
    new = timed(comment_out_legacy, text)
    # The bridge no longer sees a legacy client; the edit is done once.
    assert timed(legacy_clients, new) == {}
    assert complete_clients(legacy_clients(new)) == []
    assert timed(comment_out_legacy, new) == new
    # Lines were only prefixed with the marker; leave puts back exactly what the admin had.
    old_lines, new_lines = java_lines(text), java_lines(new)
    assert len(new_lines) == len(old_lines)
    assert all(after in (before, LEGACY_MARKER + before) for before, after in zip(old_lines, new_lines))
    if not any(line.startswith(LEGACY_MARKER) for line in old_lines):
        assert timed(restore_legacy, new) == text


@FUZZ
@given(admin_files(), st.sampled_from(LEVELS))
def test_logging_edit_touches_only_its_two_keys_and_is_done_once(text, level):
    new = timed(edit_logging, text, level)
    assert timed(edit_logging, new, level) == new
    # compared as Java reads the file: logical lines (a continued line is one)
    old_lines, new_lines = logical_lines(java_lines(text)), logical_lines(java_lines(new))
    assert len(new_lines) in (len(old_lines), len(old_lines) + 1)
    for n, (before, after) in enumerate(zip(old_lines, new_lines)):
        if before != after and key_of(before) not in ("handlers", ".level"):
            # only line ends added after the admin's last line, before the appended .level line (a
            # blank one too when that line asks for a continuation, which would take .level in)
            before, after = "".join(before), "".join(after)
            assert n == len(old_lines) - 1, before
            assert after.startswith(before) and after[len(before):].strip("\r\n") == "", before


@FUZZ
@given(st.binary(max_size=2000))
def test_damaged_state_and_fragment_files_read_as_absent_never_crash(tmp_path_factory, data):
    from jvbjoin.system.paths import Paths
    root = tmp_path_factory.mktemp("state")
    paths = Paths(str(root))
    os.makedirs(paths.state)
    os.makedirs(paths.jvb_dir)
    for path in (paths.bridge_state, paths.jvb_fragment):
        with open(path, "wb") as handle:
            handle.write(data)
    state = timed(model.read_state, paths)
    assert isinstance(state, dict)
    password = timed(model.current_password, paths)
    assert password is None or isinstance(password, str)


@FUZZ
@given(admin_files())
def test_sysctl_files_parse_whatever_they_hold(text):
    values = timed(sysctl.parse_sysctl_conf, text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    json.dumps(values)
