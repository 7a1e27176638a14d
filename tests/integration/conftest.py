"""Fixtures for the lab tests (booted Debian containers; root and systemd-nspawn needed).

    @pytest.mark.lab
    def test_something(lab):
        lab.up("jms", "jvb1")
        rc, out, err = lab.exec("jvb1", ["jvb-join", "--version"], check=True)

The session-scoped `lab` fixture builds the image, the mirror and the repositories if needed,
and tears every host down at the end of the session, also when tests fail. When a test fails,
the evidence of every running lab host is saved to build/lab-evidence/<test name>/<host>/.
"""

import os
import re
import shutil
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))

from harness import Lab, LabError  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import install_server, lab_releases  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: needs root and systemd-nspawn; boots Debian containers")
    config.addinivalue_line("markers", "matrix: runs on every release in JVB_LAB_RELEASES")


def lab_skip_reason():
    if os.geteuid() != 0:
        return "lab tests need root"
    if not shutil.which("systemd-nspawn"):
        return "lab tests need systemd-nspawn (apt-get install systemd-container)"
    for tool in ("debootstrap", "reprepro", "gpg", "nsenter"):
        if not shutil.which(tool):
            return "lab tests need %s (scripts/setup installs it)" % tool
    return None


def pytest_collection_modifyitems(config, items):
    reason = lab_skip_reason()
    if reason:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if "lab" in item.keywords:
                item.add_marker(skip)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)



@pytest.fixture(scope="session")
def lab():
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    lab.down()
    lab.prepare(lab_releases())
    try:
        yield lab
    finally:
        lab.down()


@pytest.fixture(scope="module")
def server(lab):
    """A server made by `jvb-join server install` for one test module (a module that needs another
    server defines its own ``server``); later modules get fresh hosts of the same names."""
    yield install_server(lab)
    lab.down()


@pytest.fixture(autouse=True)
def _lab_evidence(request):
    """On a failed lab test, save every running host's evidence under build/lab-evidence/."""
    yield
    if "lab" not in request.keywords or "lab" not in request.fixturenames:
        return
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    lab = request.getfixturevalue("lab")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    base = os.path.join(ROOT, "build", "lab-evidence", name)
    if os.path.exists(base):  # the same test failed before in this tree: keep both
        base += time.strftime("-%Y%m%dT%H%M%S")
    for host, info in lab.hosts().items():
        try:
            lab.evidence(host, os.path.join(base, host))
        except (LabError, OSError) as e:
            sys.stderr.write("evidence of %s not saved: %s\n" % (host, e))
