"""The jvb-join executable: ``--version`` and ``--help`` answered without loading the command line.

Loading click and building every command costs about four times Python's own start-up; provisioning
tools call ``jvb-join --version`` on every host, and ``--help`` is what people type first. The help
text is rendered from the real command definitions by ``scripts/gen-help`` into ``helptext.py``, and
a unit test fails if the two ever differ.
"""

import sys


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        from . import __version__
        sys.stdout.write("jvb-join {}\n".format(__version__))
        return 0
    if args in ([], ["--help"], ["-h"]):
        from .helptext import TOP_LEVEL
        sys.stdout.write(TOP_LEVEL)
        return 0
    from .cli import main as cli_main
    return cli_main(args)
