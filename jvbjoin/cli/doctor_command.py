"""`jvb-join doctor`: the checks run in jvbjoin/doctor/runner.py, their report rendered here."""

import click

from jvbjoin.cli.common import Options, exit_with


@click.command()
@click.option("--ignore", multiple=True, metavar="ID", help="Skip the check with this id (repeatable).")
@click.option("--role", type=click.Choice(["bridge", "server"]), help="Check as this role (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="The results as JSON.")
@click.option("-v", "--verbose", count=True, help="Details and timing of every check.")
@click.pass_obj
def doctor(opts, ignore, role, as_json, verbose):
    """Check this host (bridge or server) and say what to fix.

    Exit status: 0 healthy, 2 warnings only, 1 at least one failure.
    """
    from jvbjoin.system.paths import Paths
    from jvbjoin.doctor.runner import examine
    from jvbjoin.cli import doctor_output as render
    from jvbjoin.cli.output import emit

    opts = Options(opts.as_json or as_json, opts.yes, opts.verbose + verbose)
    found = examine(Paths("/"), role=role, ignore=ignore)
    emit(opts, lambda: render.as_dict(found.role, found.subject, found.results, found.code, found.seconds),
         lambda: render.text(found.role, found.subject, found.results, verbose=bool(opts.verbose),
                             seconds=found.seconds))
    exit_with(found.code)
