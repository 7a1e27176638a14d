"""`jvb-join bridges`: the bridges jicofo sees, with the tokens that let them in."""


def command(opts):
    """Run `jvb-join bridges`; return its exit code."""
    from ..cli import not_built
    not_built("bridges")
