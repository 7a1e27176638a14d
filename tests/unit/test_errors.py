"""Every error jvb-join can report has a stable id of its own, listed in the man page."""

import importlib
import os
import pkgutil
import re

import jvbjoin
from jvbjoin import errors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def error_classes():
    for info in pkgutil.walk_packages(jvbjoin.__path__, "jvbjoin."):
        if info.name != "jvbjoin.__main__":
            importlib.import_module(info.name)
    found, todo = [], [errors.JvbJoinError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.startswith("jvbjoin.")]


def man_page_ids():
    with open(os.path.join(ROOT, "docs", "jvb-join.1")) as handle:
        text = handle.read()
    section = text.split("\n.SH ERRORS\n", 1)[1].split("\n.SH ", 1)[0]
    return {m.replace("\\-", "-"): int(code)
            for m, code in re.findall(r"^\.TP\n\.B (\S+)\n\(exit (\d+)\)", section, re.M)}


def test_every_error_class_has_an_id_of_its_own():
    classes = error_classes()
    assert len(classes) > 15
    missing = [cls.__name__ for cls in classes if "error_id" not in vars(cls)]
    assert missing == []
    ids = [cls.error_id for cls in classes] + [errors.INTERNAL_ERROR_ID]
    assert len(ids) == len(set(ids)), sorted(ids)
    assert all(re.match(r"^[a-z]+(-[a-z]+)*$", i) for i in ids), ids


def test_the_man_page_lists_every_id_with_its_exit_code():
    listed = man_page_ids()
    for cls in error_classes():
        assert listed.get(cls.error_id) == cls.exit_code, cls.__name__
    assert listed[errors.INTERNAL_ERROR_ID] == errors.EXIT_FAILED
    assert set(listed) == {cls.error_id for cls in error_classes()} | {errors.INTERNAL_ERROR_ID}
