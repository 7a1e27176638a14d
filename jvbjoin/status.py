"""`jvb-join status`: one screen about this bridge or server."""


def command(opts):
    """Run `jvb-join status`; return its exit code."""
    from .cli import not_built
    not_built("status")
