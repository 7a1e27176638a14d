"""The jvb-join lab harness: `from harness import Lab` (with tests/lab on sys.path)."""
from .lab import BRIDGE, DEFAULT_RELEASE, HOST_IP, RELEASES, Lab, LabError, log

__all__ = ["BRIDGE", "DEFAULT_RELEASE", "HOST_IP", "RELEASES", "Lab", "LabError", "log"]
