"""Unit-test tier: no root, no network, no real programs (the runner refuses them unless a test says so)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from jvbjoin.system.paths import Paths  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "real_programs: the test may run real external programs")


class RealProgramRefused(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _no_real_programs(request, monkeypatch):
    """Unit tests must not run real programs: a step that forgets its mock fails loudly here."""
    if request.node.get_closest_marker("real_programs"):
        return

    def refuse(*args, **kwargs):
        raise RealProgramRefused("unit test tried to run a real program: {!r}".format(args[0] if args else kwargs))

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)


@pytest.fixture
def paths(tmp_path):
    """A rooted Paths in a temporary tree, with the folders a Debian host always has."""
    for folder in ("etc", "var/lib", "var/backups", "var/log", "usr/share/keyrings"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return Paths(str(tmp_path))
