"""The jvb-join executable: ``--version`` and ``--help`` answered without loading the command line.

Loading click and building every command costs about four times Python's own start-up; provisioning
tools call ``jvb-join --version`` on every host, and ``--help`` is what people type first. The help
text is rendered from the real command definitions by ``scripts/gen-help`` into ``helptext.py``, and
a unit test fails if the two ever differ.
"""

import sys

from jvbjoin.cli import GLOBAL_FLAGS, global_flags_first


def main(argv=None):
    args = global_flags_first(sys.argv[1:] if argv is None else argv)
    if [a for a in args if a not in GLOBAL_FLAGS] == ["--version"]:
        from jvbjoin import __version__
        sys.stdout.write("jvb-join {}\n".format(__version__))
        return 0
    if args in ([], ["--help"], ["-h"]):
        from jvbjoin.cli.helptext import TOP_LEVEL
        sys.stdout.write(TOP_LEVEL)
        return 0
    from jvbjoin.cli.main import main as cli_main
    return cli_main(args)
