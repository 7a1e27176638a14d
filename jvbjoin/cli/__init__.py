"""The command line (click is imported by its modules only; ``entry`` answers --version and --help
without it). The package itself holds the global flags, which both ``entry`` and ``main`` read."""

# Options of every command, taken in front of the command wherever they are written
# ("jvb-join server install --domain D --yes" is "jvb-join --yes server install --domain D").
GLOBAL_FLAGS = ("--json", "--yes", "-y", "-v", "--verbose", "-vv", "-vvv")


def global_flags_first(args):
    """``args`` with the global flags moved to the front, in their order; after ``--`` nothing
    is moved (a value there is never an option)."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    return flags + [a for a in args[:end] if a not in GLOBAL_FLAGS] + args[end:]
