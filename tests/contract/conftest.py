"""Contract tier: real local servers on 127.0.0.1 (prosody from Debian), started and stopped by the tests."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_configure(config):
    config.addinivalue_line("markers", "contract: the test runs a real server on loopback")
