"""`jvb-join leave`: take this bridge out cleanly (drain, stop, account, config, ports)."""


def command(opts, drain=False, timeout="1h", dry_run=False):
    """Run `jvb-join leave`; return its exit code."""
    from .cli import not_built
    not_built("leave")
