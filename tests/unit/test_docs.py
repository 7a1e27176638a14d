"""What the README and the man page tell operators to type works on a busy host too."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read().replace("\\-", "-")


def test_the_preseed_install_line_waits_for_the_dpkg_lock():
    """apt-get without a terminal fails at once on a held lock unless given DPkg::Lock::Timeout."""
    for text in (read("README.md"), read("docs", "jvb-join.1")):
        lines = [l for l in text.splitlines() if re.search(r"apt-get install -y\b.*jvb-join", l)]
        assert lines
        assert all("-o DPkg::Lock::Timeout=" in l for l in lines), lines
