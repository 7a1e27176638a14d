"""jvb-join: add Jitsi videobridges to a Jitsi Meet server with one command."""

__version__ = "0.1.0"
