"""Unattended runs: the options file that carries what a command line would, the first-boot token
file, and the clone guard's marker."""

import json
import os

import pytest

from jvbjoin.cli import main as cli
from jvbjoin.bridge import unattended
from jvbjoin.errors import EXIT_USAGE, InputError, UsageError
from jvbjoin.bridge import model as nickname

from helpers import join_ctx


def test_options_file_values_are_typed_and_comments_skipped():
    text = ("# a private mirror of the Jitsi repository\n\n"
            "jitsi-repo-url = http://mirror.example.org/jitsi  \n"
            "jitsi-repo-key=/etc/jvb-join/jitsi.gpg\n"
            "lock-timeout = 1200\n"
            "no-firewall = yes\n")
    assert unattended.parse_options(text, "F") == {
        "jitsi_repo_url": "http://mirror.example.org/jitsi", "jitsi_repo_key": "/etc/jvb-join/jitsi.gpg",
        "lock_timeout": 1200.0, "no_firewall": True}


@pytest.mark.parametrize("line,words", [
    ("token = jvbj1.abc", "'token' is not an option"),
    ("jitsi-repo-url http://x", "is not an option"),
    ("no-ssh = maybe", "must be true or false"),
    ("lock-timeout = soon", "must be a number"),
])
def test_options_file_mistakes_name_the_file_and_line(line, words):
    with pytest.raises(UsageError) as err:
        unattended.parse_options("# ok\n" + line + "\n", "/etc/jvb-join/options")
    assert err.value.message.startswith("/etc/jvb-join/options line 2: ") and words in err.value.message


def test_options_file_gives_join_its_defaults_and_the_command_line_wins(paths, monkeypatch, capsys):
    os.makedirs(paths.etc, exist_ok=True)
    with open(paths.options_file, "w") as handle:
        handle.write("jitsi-repo-url = http://mirror.example.org/jitsi\nlock-timeout = 42\n")
    import jvbjoin.system.paths
    monkeypatch.setattr(jvbjoin.system.paths, "Paths", lambda root="/": paths)
    seen = {}

    def fake_join(token, options, paths_, progress):
        seen.update(url=options.jitsi_repo_url, lock=options.lock_timeout)
        raise InputError("stop here")

    import jvbjoin.bridge.join
    import jvbjoin.formats.token
    monkeypatch.setattr(jvbjoin.bridge.join, "join", fake_join)
    monkeypatch.setattr(jvbjoin.formats.token, "decode", lambda text: object())
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("jvbj1.x\n"))
    cli.main(["join", "--token-file", "-"])
    assert seen == {"url": "http://mirror.example.org/jitsi", "lock": 42.0}
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("jvbj1.x\n"))
    cli.main(["join", "--token-file", "-", "--lock-timeout", "7"])
    assert seen["lock"] == 7.0


def test_a_bad_options_file_stops_only_the_commands_that_read_it(paths, monkeypatch, capsys):
    os.makedirs(paths.etc, exist_ok=True)
    with open(paths.options_file, "w") as handle:
        handle.write("# mirror\nlock-timout = 600\n")
    import jvbjoin.system.paths
    import jvbjoin.bridge.status
    import jvbjoin.doctor.facts
    import jvbjoin.doctor.runner
    monkeypatch.setattr(jvbjoin.system.paths, "Paths", lambda root="/": paths)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr(jvbjoin.doctor.facts, "detect_role", lambda paths_: "bridge")
    monkeypatch.setattr(jvbjoin.bridge.status, "bridge_status", lambda paths_: {"role": "bridge"})
    monkeypatch.setattr(jvbjoin.doctor.runner, "examine", lambda paths_, role=None, ignore=(): jvbjoin.doctor.runner.Diagnosis(
        "bridge", "", [], 0, 0.0))
    assert cli.main(["--json", "status"]) == 0
    assert cli.main(["doctor"]) == 0
    assert capsys.readouterr().err == ""
    for argv in (["join", "jvbj1.x"], ["server", "install", "--domain", "meet.example.com"]):
        assert cli.main(argv) == EXIT_USAGE
        err = capsys.readouterr().err
        assert "options line 2: 'lock-timout' is not an option jvb-join reads there" in err
        assert "Fix line 2 of" in err and "lock-timeout" in err


def test_doctor_reports_a_bad_options_file_with_its_line_and_the_fix(paths):
    from jvbjoin.bridge.checks import host
    from jvbjoin.doctor.core import Facts
    os.makedirs(paths.etc, exist_ok=True)
    assert host.check_options_file(Facts(paths)).status == "ok"
    with open(paths.options_file, "w") as handle:
        handle.write("no-firewall = maybe\n")
    result = host.check_options_file(Facts(paths))
    assert result.status == "fail"
    assert "line 1: no-firewall must be true or false" in result.detail
    assert "no-firewall = true" in result.remedy


def _token_file(paths, mode):
    os.makedirs(paths.etc, exist_ok=True)
    fd = os.open(paths.firstboot_token, os.O_WRONLY | os.O_CREAT, mode)
    os.write(fd, b"jvbj1.secret\n")
    os.close(fd)
    os.chmod(paths.firstboot_token, mode)


def test_first_boot_token_is_read_and_deleted(paths):
    _token_file(paths, 0o600)
    assert unattended.take_token_file(paths) == "jvbj1.secret\n"
    assert not os.path.exists(paths.firstboot_token)
    assert unattended.take_token_file(paths) is None


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o606])
def test_first_boot_token_others_could_read_is_deleted_and_refused(paths, mode):
    _token_file(paths, mode)
    with pytest.raises(InputError) as err:
        unattended.take_token_file(paths)
    assert "deleted and not used" in err.value.message and "secret" not in err.value.message
    assert not os.path.exists(paths.firstboot_token)


def test_first_boot_token_symlink_is_not_followed(paths, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("jvbj1.secret\n")
    os.makedirs(paths.etc, exist_ok=True)
    os.symlink(str(target), paths.firstboot_token)
    with pytest.raises(InputError):
        unattended.take_token_file(paths)
    assert target.exists() and not os.path.lexists(paths.firstboot_token)


def test_joined_as_marker_names_the_machine_id_and_a_clone_gets_a_new_nickname(paths):
    with open(paths.machine_id, "w") as handle:
        handle.write("a" * 32 + "\n")
    ctx = join_ctx(paths, progress=lambda line: None)
    first = nickname.bridge_nickname(ctx, create=True)
    assert open(os.path.join(paths.joined_as, "a" * 32)).read() == first + "\n"
    with open(paths.machine_id, "w") as handle:
        handle.write("b" * 32 + "\n")
    clone = nickname.bridge_nickname(join_ctx(paths, progress=lambda line: None), create=True)
    assert clone != first
    assert json.loads(open(paths.nickname_file).read())["machine_id"] == "b" * 32
    assert open(os.path.join(paths.joined_as, "b" * 32)).read() == clone + "\n"


@pytest.fixture
def fake_join(paths, monkeypatch):
    """`join` as far as the command line goes: what it was given, and what it should raise."""
    import jvbjoin.bridge.join
    import jvbjoin.system.paths
    import jvbjoin.formats.token
    monkeypatch.setattr(jvbjoin.system.paths, "Paths", lambda root="/": paths)
    monkeypatch.setattr(jvbjoin.formats.token, "decode", lambda text: text)
    calls, outcomes = [], []

    def run(token, options, paths_, progress):
        calls.append((token, options.lock_timeout, options.jitsi_repo_url))
        if outcomes:
            raise outcomes.pop(0)
        raise InputError("stop after the call")
    monkeypatch.setattr(jvbjoin.bridge.join, "join", run)
    return calls, outcomes


def test_firstboot_without_a_token_does_nothing(fake_join, capsys):
    assert cli.main(["firstboot"]) == 0
    assert "nothing to do" in capsys.readouterr().out and fake_join[0] == []


def test_firstboot_joins_from_the_token_file_with_the_options_file_and_an_hour_for_the_lock(paths, fake_join, capsys):
    _token_file(paths, 0o600)
    with open(paths.options_file, "w") as handle:
        handle.write("jitsi-repo-url = http://mirror.example.org/jitsi\n")
    assert cli.main(["firstboot"]) == 65  # the fake join's InputError
    assert fake_join[0] == [("jvbj1.secret\n", 3600.0, "http://mirror.example.org/jitsi")]
    assert not os.path.exists(paths.firstboot_token)
    out, err = capsys.readouterr()
    assert "jvbj1.secret" not in out + err
    assert "the join failed and the host is as it was; the token file was deleted" in err


def test_firstboot_with_a_bad_options_file_keeps_the_token_file_for_after_the_fix(paths, fake_join, capsys):
    _token_file(paths, 0o600)
    with open(paths.options_file, "w") as handle:
        handle.write("jitsi-repo-ulr = http://mirror.example.org/jitsi\n")
    assert cli.main(["firstboot"]) == 64
    assert fake_join[0] == [] and os.path.exists(paths.firstboot_token)
    assert "Fix line 1 of" in capsys.readouterr().err
    os.unlink(paths.firstboot_token)
    assert cli.main(["firstboot"]) == 0  # no token file: nothing to do, whatever the options say


def test_firstboot_retries_a_server_not_reachable_yet(paths, fake_join, monkeypatch, capsys):
    from jvbjoin.errors import UnreachableError
    _token_file(paths, 0o600)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake_join[1].extend([UnreachableError("The server is not reachable."), UnreachableError("Still not.")])
    assert cli.main(["firstboot"]) == 65
    assert [call[0] for call in fake_join[0]] == ["jvbj1.secret\n"] * 3
    assert capsys.readouterr().err.count("Trying again in 30 s") == 2


def test_a_degraded_join_exits_2_and_firstboot_says_it_joined(paths, fake_join, monkeypatch, capsys):
    import click
    fake_join[1].append(click.exceptions.Exit(2))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("jvbj1.x\n"))
    assert cli.main(["join", "--token-file", "-"]) == 2
    _token_file(paths, 0o600)
    fake_join[1].append(click.exceptions.Exit(2))
    assert cli.main(["firstboot"]) == 2
    assert "this host joined (degraded, see above); the token file was deleted" in capsys.readouterr().out
