"""Every step says what it is as data on its class: its id, its title, what it restarts, and how
`leave` undoes it (or why nothing does). Step ids are unique within each command."""

import pytest

from jvbjoin.engine.core import Context, Step
from jvbjoin.bridge import join, leave
from jvbjoin.server import colibri_ws, install, tune, turn
from jvbjoin.server.turnconf import TurnSettings

from helpers import join_ctx


def join_steps(paths):
    return join.join_steps(join_ctx(paths))


def ids(steps):
    return [step.name for step in steps]


def test_the_join_makes_its_steps_from_the_declared_classes_in_order(paths):
    assert [type(step) for step in join_steps(paths)] == list(join.STEP_TYPES)


@pytest.mark.parametrize("step", join.STEP_TYPES, ids=lambda step: step.__name__)
def test_every_bridge_join_step_has_an_inverse_or_says_why_not(step):
    assert (step.inverse is None) != (step.no_inverse is None), step
    if step.inverse is not None:
        assert issubclass(step.inverse, Step)
        assert step.inverse.inverse is None and step.inverse.restarts is None


def test_leave_is_drain_and_shutdown_then_the_join_inverses_then_the_account():
    steps = leave.leave_steps()
    inverses = {step.inverse for step in join.STEP_TYPES if step.inverse is not None}
    assert type(steps[0]) is leave.Drain and type(steps[1]) is leave.ShutDown
    assert {type(step) for step in steps[2:-1]} == inverses and len(steps) == len(inverses) + 3
    assert type(steps[-1]) is leave.RemoveAccount
    assert ids(steps) == ["drain", "service", "bridge-config", "bridge-config-include", "bridge-config-legacy",
                          "trust", "sysctl", "firewall", "websocket-port", "join-record", "account"]


def server_commands(paths):
    yield "server install", install.server_steps(Context(paths, install.ServerRun(
        install.ServerOptions("meet.example.com", cert="letsencrypt", email="a@b.example", local_bridge=True))))
    yield "server install --no-firewall", install.server_steps(Context(paths, install.ServerRun(
        install.ServerOptions("meet.example.com", firewall=False, local_bridge=False))))
    settings = TurnSettings(domain="meet.example.com", host="turn.example.com")
    yield "server turn", turn.turn_steps(Context(paths, turn.TurnRun(turn.TurnOptions(), None, settings, "s")))
    yield "server tune", tune.tune_steps(paths, "meet.example.com", tune.TuneOptions("meet.example.com"))
    yield "server colibri-ws", [colibri_ws.Routes("meet.example.com", [], 0)]


def test_every_step_has_an_id_and_a_title_and_ids_are_unique_within_a_command(paths):
    commands = [("join", join_steps(paths)), ("leave", leave.leave_steps())] + list(server_commands(paths))
    for command, steps in commands:
        for step in steps:
            assert step.name != Step.name and step.title != Step.title, (command, step)
        assert len(set(ids(steps))) == len(steps), (command, ids(steps))


def test_server_install_names_its_package_steps_by_what_they_install(paths):
    steps = dict(server_commands(paths))["server install"]
    assert [step.name for step in steps if type(step).__name__ == "Packages"] == [
        "web-server", "jitsi-packages", "gpg", "certbot"]
    coturn = turn.turn_steps(Context(paths, turn.TurnRun(turn.TurnOptions(), None, TurnSettings(
        domain="meet.example.com", host="turn.example.com"), "s")))[0]
    assert (coturn.name, coturn.title, coturn.restarts) == ("coturn-package", "coturn (TURN server)", None)
