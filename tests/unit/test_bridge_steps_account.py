"""The join's own account rules: a used or revoked token is refused before anything changes, and a
bridge that joins with a new token hands the earlier token's account back."""

import pytest

from jvbjoin.bridge import join
from jvbjoin.xmpp import session
from jvbjoin.errors import EXIT_DATAERR, JvbJoinError, TokenError
from jvbjoin.bridge import model
from jvbjoin.bridge.steps.account import AccountPassword

from helpers import PIN, join_ctx, make_token

DOMAIN = "meet.example.com"


def make_ctx(paths, token):
    ctx = join_ctx(paths, token)
    ctx.run.server_cert_der = b"cert"
    return ctx


def test_a_token_the_server_refuses_stops_the_join_with_65_and_changes_nothing(paths, monkeypatch):
    def refuse(*args, **kwargs):
        raise TokenError("The server refused the login")
    monkeypatch.setattr(session, "check_login", refuse)
    with pytest.raises(TokenError) as err:
        join.check_token_account(make_ctx(paths, make_token()), make_token())
    assert err.value.exit_code == EXIT_DATAERR
    assert "already used" in err.value.message and "Nothing was changed" in err.value.message
    assert "token create" in err.value.remedy


def test_the_host_that_used_the_token_is_not_asked_again(paths, monkeypatch):
    monkeypatch.setattr(session, "check_login", lambda *a, **k: pytest.fail("the used token was tried"))
    model.write_state(paths, {"token_id": "abc12345", "password_changed": True})
    join.check_token_account(make_ctx(paths, make_token()), make_token())
    model.write_state(paths, {"token_id": "abc12345", "password_changed": False, "pending_password": "x"})
    join.check_token_account(make_ctx(paths, make_token()), make_token())


def test_an_unused_token_is_tried_with_its_own_password(paths, monkeypatch):
    calls = []
    monkeypatch.setattr(session, "check_login", lambda *a, **k: calls.append(a) or True)
    model.write_state(paths, {"token_id": "other123", "password_changed": True})
    join.check_token_account(make_ctx(paths, make_token()), make_token())
    assert calls == [(DOMAIN, 5222, "auth." + DOMAIN, "jvb-abc12345", "token-pass-abc12345", b"cert")]


def _joined_before(paths):
    model.write_state(paths, {"token_id": "old12345", "password_changed": True, "server": DOMAIN, "port": 5222,
                                "domain": "auth." + DOMAIN, "user": "jvb-old12345", "pin": PIN})
    import os
    os.makedirs(os.path.dirname(paths.jvb_fragment), exist_ok=True)
    with open(paths.jvb_fragment, "w") as f:
        f.write('PASSWORD = "bridge-own-pass"\n')
    with open(paths("/etc/machine-id"), "w") as f:
        f.write("a" * 32 + "\n")
    with open(paths.nickname_file, "w") as f:
        f.write('{"nickname": "jvb-old", "machine_id": "' + "a" * 32 + '"}')


def test_a_rejoin_with_a_new_token_removes_the_earlier_account_once_joined(paths, monkeypatch):
    _joined_before(paths)
    ctx = make_ctx(paths, make_token())
    AccountPassword().check(ctx)
    removed = []
    monkeypatch.setattr(session, "remove_account", lambda *a, **k: removed.append(a))
    join.hand_back_previous_account(ctx)
    assert removed == [(DOMAIN, 5222, "auth." + DOMAIN, "jvb-old12345", "bridge-own-pass", b"cert")]
    assert ctx.degraded == []


def test_an_earlier_account_that_cannot_be_removed_is_reported_not_fatal(paths, monkeypatch):
    _joined_before(paths)
    ctx = make_ctx(paths, make_token())
    AccountPassword().check(ctx)

    def refuse(*args, **kwargs):
        raise JvbJoinError("refused")
    monkeypatch.setattr(session, "remove_account", refuse)
    join.hand_back_previous_account(ctx)
    assert "jvb-join token revoke old12345" in ctx.degraded[0]


def test_a_second_run_with_the_same_token_hands_nothing_back(paths):
    _joined_before(paths)
    ctx = make_ctx(paths, make_token(id="old12345"))
    AccountPassword().check(ctx)
    assert ctx.run.previous_account is None


def test_a_clone_never_hands_back_the_account_of_the_host_it_was_copied_from(paths):
    _joined_before(paths)
    with open(paths("/etc/machine-id"), "w") as f:
        f.write("b" * 32 + "\n")  # a golden image's copy: another machine-id, the original's files
    ctx = make_ctx(paths, make_token())
    AccountPassword().check(ctx)
    assert ctx.run.previous_account is None


def test_the_bridge_reports_its_installed_jvb_join_and_a_server_that_will_not_keep_it_is_no_failure(paths, monkeypatch):
    from jvbjoin.bridge.steps import account
    from jvbjoin.errors import UnreachableError
    from helpers import write_file
    token = make_token()
    calls = []
    monkeypatch.setattr(session, "store_bridge_version", lambda *a: calls.append(a) or True)
    assert account.report_version(paths, token, "new-pass", b"cert") is False  # not installed by dpkg: nothing
    write_file(paths, "/var/lib/dpkg/status", "Package: jvb-join\nStatus: install ok installed\nVersion: 1.2-1\n")
    assert account.report_version(paths, token, "new-pass", b"cert") is True
    assert calls == [(DOMAIN, 5222, "auth." + DOMAIN, "jvb-abc12345", "new-pass", b"cert", "1.2-1")]

    def unreachable(*a):
        raise UnreachableError("no answer")
    monkeypatch.setattr(session, "store_bridge_version", unreachable)
    assert account.report_version(paths, token, "new-pass", b"cert") is False
