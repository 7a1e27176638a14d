"""The jvb-join lab harness: `from harness import Lab`."""
from .lab import Lab, LabError, RELEASES, DEFAULT_RELEASE, HOST_IP, BRIDGE, log  # noqa: F401
