"""Test modules have unique file names across tests/: pytest imports them by base name (no packages),
and two with one name stop `make test` at collection, before any test runs."""

import collections
import os

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_two_test_modules_share_a_name():
    seen = collections.defaultdict(list)
    for folder, dirs, names in os.walk(TESTS):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "build")]
        for name in names:
            if name.startswith("test_") and name.endswith(".py"):
                seen[name].append(os.path.relpath(os.path.join(folder, name), TESTS))
    assert {n: p for n, p in seen.items() if len(p) > 1} == {}
