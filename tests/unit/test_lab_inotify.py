"""The lab harness's inotify decision: several labs at once exhaust root's inotify instances (128 by
default) and a host then fails to boot with "Too many open files"; the harness raises the limit
before `up` when it can, says what to raise when it cannot, and the last lab down puts it back."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

from harness import inotify  # noqa: E402


def test_enough_instances_change_nothing():
    assert inotify.plan_up(1024, 200, 4, True).action == "ok"


def test_the_default_limit_with_a_lab_up_is_raised_for_the_next_one():
    decision = inotify.plan_up(128, 100, 4, True)  # another lab's hosts already hold 100
    assert decision.action == "raise" and decision.value >= 100 + 4 * inotify.PER_HOST
    assert "from 128 to {}".format(decision.value) in decision.message


def test_without_the_right_to_write_it_says_what_to_run():
    decision = inotify.plan_up(128, 100, 4, False)
    assert decision.action == "ask"
    assert "sysctl -w fs.inotify.max_user_instances={}".format(decision.value) in decision.message
    assert "Too many open files" in decision.message


def test_a_big_lab_gets_more_than_the_usual_raise():
    decision = inotify.plan_up(1024, 900, 10, True)
    assert decision.action == "raise" and decision.value == 900 + 10 * inotify.PER_HOST + inotify.MARGIN


def test_the_machines_own_value_is_kept_by_the_first_raise_only():
    first = inotify.plan_record(None, 128, 1024)
    assert first == {"original": 128, "raised_to": 1024}
    assert inotify.plan_record(first, 1024, 1400) == {"original": 128, "raised_to": 1400}


def test_the_last_lab_down_puts_the_machines_value_back():
    record = {"original": 128, "raised_to": 1024}
    assert inotify.plan_down(record, 1024, others_up=True) is None  # another lab still needs it
    assert inotify.plan_down(record, 1024, others_up=False) == 128
    assert inotify.plan_down(record, 4096, others_up=False) is None  # changed by someone else since
    assert inotify.plan_down(None, 1024, others_up=False) is None  # never raised by a lab


def test_the_shared_record_and_the_limit_round_trip(tmp_path):
    record, limit = str(tmp_path / "record.json"), str(tmp_path / "limit")
    assert inotify.load_record(record) is None
    inotify.save_record(record, {"original": 128, "raised_to": 1024})
    assert inotify.load_record(record) == {"original": 128, "raised_to": 1024}
    inotify.save_record(record, None)
    assert not os.path.exists(record)
    inotify.write_limit(1024, limit)
    assert inotify.read_limit(limit) == 1024


def test_root_instances_are_counted_from_proc(tmp_path):
    proc = tmp_path / "proc"
    for pid, uid, links in (("1", "0", ["anon_inode:inotify", "anon_inode:inotify", "/dev/null"]),
                            ("2", "1000", ["anon_inode:inotify"]), ("3", "0", ["anon_inode:[eventfd]"])):
        (proc / pid / "fd").mkdir(parents=True)
        (proc / pid / "status").write_text("Name:\tx\nUid:\t{0}\t{0}\t{0}\t{0}\n".format(uid))
        for n, target in enumerate(links):
            os.symlink(target, str(proc / pid / "fd" / str(n)))
    (proc / "self").mkdir()
    assert inotify.root_instances(str(proc)) == 2
