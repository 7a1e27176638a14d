"""The command line: every command is there, errors map to the stable exit codes."""

import io

import pytest

from jvbjoin.bridge import token_input
from jvbjoin.cli import main as cli
from jvbjoin.errors import UsageError

COMMANDS = ["join", "server", "token", "bridges", "doctor", "status", "leave"]


def run_cli(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for name in COMMANDS:
        assert "\n  {} ".format(name) in out


@pytest.mark.parametrize("args", [["server", "--help"], ["token", "--help"]])
def test_subgroups_list_their_commands(capsys, args):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    expected = ["install"] if args[0] == "server" else ["create", "list", "revoke"]
    for name in expected:
        assert name in out


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("jvb-join ")


def test_unknown_option_is_a_usage_error_64(capsys):
    code, _, err = run_cli(capsys, "doctor", "--no-such-option")
    assert code == 64 and "No such option" in err


def test_missing_required_option_is_64(capsys):
    code, _, err = run_cli(capsys, "server", "install")
    assert code == 64 and "--domain" in err


def test_a_command_exit_code_reaches_the_shell(capsys, monkeypatch, paths):
    from jvbjoin.bridge import leave
    from jvbjoin.engine.core import Context, Engine

    def degraded(options, paths_, progress):  # done, degraded
        report = Engine([], Context(paths)).run("leave")
        report.degraded.append("the bridge's account was not deleted")
        return report, None
    monkeypatch.setattr(leave, "joined", lambda paths_: True)
    monkeypatch.setattr(leave, "leave", degraded)
    assert run_cli(capsys, "leave")[0] == 2


def test_leave_timeout_must_be_a_duration(capsys):
    code, out, err = run_cli(capsys, "leave", "--drain", "--timeout", "soon")
    assert code == 64 and "--timeout" in err and out == ""


def test_no_token_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("JVB_JOIN_TOKEN", raising=False)
    code, _, err = run_cli(capsys, "join")
    assert code == 64 and "No join token" in err


def test_token_sources_and_precedence(tmp_path):
    env = {"JVB_JOIN_TOKEN": "from-env"}
    assert token_input.read_token("from-arg", None, environ=dict(env)) == ("from-arg", "argument")
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert token_input.read_token(None, str(token_file), environ=dict(env)) == ("from-file\n", "file")
    assert token_input.read_token("-", None, stdin=io.StringIO("from-stdin"), environ={}) == ("from-stdin", "stdin")
    assert token_input.read_token(None, "-", stdin=io.StringIO("x"), environ={}) == ("x", "stdin")
    environ = dict(env)
    assert token_input.read_token(None, None, environ=environ) == ("from-env", "environment")
    assert "JVB_JOIN_TOKEN" not in environ  # no child process can inherit it
    with pytest.raises(UsageError):
        token_input.read_token("a", str(token_file), environ={})


def test_unreadable_token_file_is_65(capsys, tmp_path):
    code, _, err = run_cli(capsys, "join", "--token-file", str(tmp_path / "missing"))
    assert code == 65 and "Cannot read the token file" in err


def test_bare_token_means_join(capsys, monkeypatch):
    seen = {}

    def fake_read(argument, token_file, stdin=None, environ=None):
        seen["argument"] = argument
        raise UsageError("stop here")

    monkeypatch.setattr(token_input, "read_token", fake_read)
    code, _, _ = run_cli(capsys, "-v", "jvbj1.something.abc")
    assert code == 64 and seen["argument"] == "jvbj1.something.abc"


def test_a_rolled_back_run_with_json_prints_one_object_naming_the_error_and_what_was_undone(
        capsys, monkeypatch, paths):
    import json
    import jvbjoin.bridge.join
    import jvbjoin.formats.token
    from jvbjoin.engine.core import Change, Context, Engine, Step
    from jvbjoin.errors import StepError

    class Made(Step):
        name, title = "made", "a step that changed something"

        def check(self, ctx):
            return [Change("file", "/x", "write /x")]

        def apply(self, ctx, changes, journal):
            journal.record("remove /x", lambda: None)

    class Fails(Made):
        name, title = "fails", "a step that fails half way"

        def apply(self, ctx, changes, journal):
            journal.record("undo half", lambda: None)
            raise StepError("the bridge did not start", "Read jvb.log.")

    def fake_join(token, options, paths_, progress):
        return Engine([Made(), Fails()], Context(paths)).run("join")

    monkeypatch.setattr(jvbjoin.bridge.join, "join", fake_join)
    monkeypatch.setattr(jvbjoin.formats.token, "decode", lambda text: object())
    monkeypatch.setattr("sys.stdin", io.StringIO("jvbj1.x\n"))
    code, out, err = run_cli(capsys, "--json", "join", "--token-file", "-")
    assert code == 1
    report = json.loads(out)
    assert report["error"] == {"id": "step-failed", "message": "the bridge did not start", "remedy": "Read jvb.log."}
    assert report["exit_code"] == 1 and report["rolled_back"] is True and report["action"] == "join"
    assert [s["step"] for s in report["rolled_back_steps"]] == ["made", "fails"]
    assert "the bridge did not start" in err


@pytest.mark.parametrize("args, error_id, code", [
    (["--json", "join", "--token-file", "/nonexistent/token"], "bad-input", 65),
    (["--json", "token", "list", "--no-such-option"], "usage", 64),
])
def test_a_failure_before_any_change_with_json_is_one_object_too(capsys, args, error_id, code):
    import json
    got, out, _ = run_cli(capsys, *args)
    assert got == code
    report = json.loads(out)
    assert report["error"]["id"] == error_id and report["exit_code"] == code
    assert report["rolled_back"] is False and report["rolled_back_steps"] == []


def test_a_join_that_fills_the_disk_is_rolled_back_and_says_disk_full(capsys, monkeypatch, paths):
    import errno
    import json
    import os
    import jvbjoin.bridge.join
    import jvbjoin.formats.token
    from jvbjoin.system import files
    from jvbjoin.engine.core import Context, Engine, Run
    from jvbjoin.steps.base import FileStep, WantedFile

    folder = paths("/etc/jitsi/videobridge")
    os.makedirs(folder)

    class Config(FileStep):
        name, title = "bridge-config", "bridge configuration"

        def wanted(self, ctx):
            return [WantedFile(os.path.join(folder, "jvb-join.conf"), "x" * 100, 0o640)]

    def no_room(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def fake_join(token, options, paths_, progress):
        ctx = Context(paths, Run(backups=files.Backups(paths.backups, paths.root, run_id="test")))
        monkeypatch.setattr(os, "write", no_room)
        return Engine([Config()], ctx).run("join")

    monkeypatch.setattr(jvbjoin.bridge.join, "join", fake_join)
    monkeypatch.setattr(jvbjoin.formats.token, "decode", lambda text: object())
    monkeypatch.setattr("sys.stdin", io.StringIO("jvbj1.x\n"))
    code, out, err = run_cli(capsys, "--json", "join", "--token-file", "-")
    monkeypatch.undo()
    assert code == 1
    report = json.loads(out)
    assert report["error"]["id"] == "disk-full" and report["rolled_back"] is True
    assert "No space left to write {}/jvb-join.conf".format(folder) in err and "internal error" not in err
    assert os.listdir(folder) == []


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("flags", [["--yes"], ["-y"], ["--json"], ["-v"], ["--json", "--yes", "-vv"]])
def test_global_flags_work_before_or_after_the_command(capsys, monkeypatch, where, flags):
    import jvbjoin.server.install
    seen = {}

    def fake_install(options, paths, progress):
        seen["domain"] = options.domain
        raise UsageError("stop here")

    monkeypatch.setattr(jvbjoin.server.install, "install", fake_install)
    monkeypatch.setattr(cli, "_setup_logging", lambda verbose: seen.update(verbose=verbose))
    command = ["server", "install", "--domain", "meet.example.com"]
    code, out, err = run_cli(capsys, *(flags + command if where == "before" else command + flags))
    assert code == 64 and "stop here" in err and "No such option" not in err
    assert seen == {"domain": "meet.example.com", "verbose": sum(f.count("v") for f in flags if f.startswith("-v"))}
    assert ('"id": "usage"' in out) == ("--json" in flags)


def test_yes_after_a_token_from_stdin_is_an_option_not_a_usage_error(capsys, monkeypatch):
    import jvbjoin.bridge.join
    import jvbjoin.formats.token
    got = {}
    monkeypatch.setattr(jvbjoin.formats.token, "decode", lambda text: got.setdefault("text", text.strip()))
    monkeypatch.setattr(jvbjoin.bridge.join, "join", lambda *a: (_ for _ in ()).throw(UsageError("stop here")))
    monkeypatch.setattr("sys.stdin", io.StringIO("jvbj1.abc\n"))
    code, _, err = run_cli(capsys, "join", "-", "--yes")
    assert code == 64 and "stop here" in err and got["text"] == "jvbj1.abc"


def test_a_mistyped_command_is_not_read_as_a_token(capsys):
    code, out, err = run_cli(capsys, "doctr")
    assert code == 64
    assert "No such command 'doctr'; did you mean 'doctor'?" in err and "token" not in err.split("\n")[0]


def test_a_word_that_is_no_command_is_never_echoed(capsys):
    code, out, err = run_cli(capsys, "eyJ2IjoxLCJwYXNzd29yZCI6InNlY3JldCJ9.abcd")
    assert code == 64
    assert "neither a jvb-join command nor a join token" in err and "eyJ" not in err


def test_the_fast_path_and_the_command_line_agree_with_flags_anywhere():
    from contextlib import redirect_stdout
    from jvbjoin.cli import entry

    def output(func, args):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = func(args)
        return rc, out.getvalue()

    for args in (["--help", "--yes"], ["-v", "--version"], ["--version", "--json"]):
        assert output(entry.main, args) == output(cli.main, args)


@pytest.mark.real_programs
def test_a_library_warning_goes_to_the_log_not_the_screen(tmp_path):
    """python-debian warns through logging about a relation it cannot parse (the trailing comma of
    a Depends field): that must not appear in a command's output."""
    import subprocess
    import sys
    script = ("import logging, sys; from jvbjoin.cli import main as cli; from jvbjoin.system import java; cli._setup_logging(0); "
              "java.java_alternatives({'Depends': 'openjdk-17-jre-headless | java17-runtime-headless, '}); "
              "logging.getLogger('debian.deb822').warning('cannot parse package relationship \"\", returning it raw')")
    result = subprocess.run([sys.executable, "-c", script], cwd=cli.__file__.rsplit("/jvbjoin/", 1)[0],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


def test_token_create_prints_the_install_line_and_republishes_a_repository_left_behind(capsys, monkeypatch):
    from jvbjoin.server import repo, tokens
    record = {"id": "abc12345", "name": "b", "exp": 1, "host": "meet.example.com"}
    monkeypatch.setattr(tokens, "create", lambda *a, **k: (record, object()))
    monkeypatch.setattr("jvbjoin.formats.token.encode", lambda joined: "TOKEN")
    monkeypatch.setattr(tokens, "ufw_active", lambda: False)
    state = {"stale": True, "published": True}
    refreshed = []
    monkeypatch.setattr(repo, "published_here", lambda paths: state["published"])
    monkeypatch.setattr(repo, "stale", lambda paths: state["stale"])
    monkeypatch.setattr(repo, "refresh", lambda paths, progress: refreshed.append(True))
    monkeypatch.setattr(repo, "key_sha256", lambda paths: "ab" * 32)
    monkeypatch.setattr(repo, "published_versions", lambda paths: {"jvb-join": "1.2-1"})
    code, out, err = run_cli(capsys, "token", "create", "--print-join-command")
    assert code is None or code == 0, err
    assert refreshed == [True] and "republishing" in err
    line = out.strip()
    assert line.startswith("mkdir -p /etc/apt/keyrings && /usr/lib/apt/apt-helper download-file "
                           "http://meet.example.com/jvb-join/debian/jvb-join.asc")
    assert line.endswith("printf '%s\\n' TOKEN | jvb-join join -") and "\n" not in line
    # without --print-join-command: the token alone; a server that publishes nothing: the plain command
    state.update(stale=False)
    assert run_cli(capsys, "token", "create")[1].strip() == "TOKEN" and refreshed == [True]
    monkeypatch.setattr(repo, "key_sha256", lambda paths: None)
    code, out, err = run_cli(capsys, "token", "create", "--print-join-command")
    assert out.strip() == "jvb-join TOKEN" and "publishes no repository" in err


def test_a_republish_that_fails_does_not_stop_token_create(capsys, monkeypatch):
    from jvbjoin.errors import StepError
    from jvbjoin.server import repo, tokens
    monkeypatch.setattr(tokens, "create", lambda *a, **k: ({"id": "i", "name": "", "exp": 1, "host": "h"}, object()))
    monkeypatch.setattr("jvbjoin.formats.token.encode", lambda joined: "TOKEN")
    monkeypatch.setattr(tokens, "ufw_active", lambda: False)
    monkeypatch.setattr(repo, "published_here", lambda paths: True)
    monkeypatch.setattr(repo, "stale", lambda paths: True)

    def fails(paths, progress):
        raise StepError("No .deb of jvb-join 1.3-1 to publish.", "Put it in /var/cache/apt/archives.")
    monkeypatch.setattr(repo, "refresh", fails)
    monkeypatch.setattr(repo, "key_sha256", lambda paths: "ab" * 32)
    monkeypatch.setattr(repo, "published_versions", lambda paths: {"jvb-join": "1.2-1"})
    code, out, err = run_cli(capsys, "token", "create", "--print-join-command")
    assert not code and "No .deb of jvb-join 1.3-1" in err and "published before" in err
    assert out.strip().endswith("| jvb-join join -")
