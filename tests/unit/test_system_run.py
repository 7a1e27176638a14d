"""The program runner: argv lists only, secrets on stdin and masked, timeouts, one error type."""

import pytest

from jvbjoin.errors import CommandError
from jvbjoin.system.run import child_env, run

pytestmark = pytest.mark.real_programs


def test_shell_strings_are_refused():
    with pytest.raises(TypeError):
        run("echo hello")


def test_secret_goes_on_stdin_and_is_masked_in_errors():
    with pytest.raises(CommandError) as info:
        run(["sh", "-c", "cat; exit 3"], input="s3cret-pass\n", secrets=["s3cret-pass"])
    err = info.value
    assert err.returncode == 3
    assert "s3cret-pass" not in err.output and "********" in err.output
    assert "s3cret-pass" not in str(err)


def test_timeout_kills_and_raises():
    with pytest.raises(CommandError) as info:
        run(["sleep", "5"], timeout=0.2)
    assert info.value.timed_out and info.value.exit_code == 1


def test_missing_program_is_named():
    with pytest.raises(CommandError) as info:
        run(["/nonexistent/jvb-join-test-program"])
    assert "is not installed" in str(info.value)


def test_child_never_inherits_the_token_and_never_prompts(monkeypatch):
    monkeypatch.setenv("JVB_JOIN_TOKEN", "jvbj1.secret")
    env = child_env()
    assert "JVB_JOIN_TOKEN" not in env
    assert env["DEBIAN_FRONTEND"] == "noninteractive"
    out = run(["sh", "-c", "echo ${JVB_JOIN_TOKEN:-unset}"]).stdout
    assert out.strip() == "unset"


def test_check_false_returns_the_result():
    result = run(["sh", "-c", "echo out; echo err >&2; exit 4"], check=False)
    assert (result.returncode, result.stdout, result.stderr, result.ok) == (4, "out\n", "err\n", False)


def test_stdin_is_closed_when_no_input(tmp_path):
    # A program that would wait for a prompt answer must not hang on our stdin.
    assert run(["sh", "-c", "read x || echo eof"], timeout=5).stdout == "eof\n"
