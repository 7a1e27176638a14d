"""`jvb-join doctor`: checks of a bridge or server host, each with an id, a status and a remedy."""


def command(opts, ignore=(), role=None):
    """Run `jvb-join doctor`; return its exit code."""
    from ..cli import not_built
    not_built("doctor")
