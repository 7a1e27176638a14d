"""Token create, one at a time and in a batch (`token create --count N --output FILE`)."""

import os
import re
import stat

import pytest

from jvbjoin.errors import UsageError
from jvbjoin.formats.token import decode
from jvbjoin.server import model, prosody, rights, tokens
from jvbjoin.system.run import Result

DOMAIN = "meet.example.com"


@pytest.fixture
def server(paths, monkeypatch):
    """A server whose prosody creates the accounts it is told to (the stored key on disk is what the
    token store reads back), and records every process and rights sync."""
    os.makedirs(paths("/etc/prosody/conf.avail"))
    with open(paths("/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN)), "w") as f:
        f.write('Component "internal.auth.{}" "muc"\n'.format(DOMAIN))
    monkeypatch.setattr(tokens.os, "geteuid", lambda: 0)
    monkeypatch.setattr(tokens, "auth_certificate", lambda p, d: b"cert")
    monkeypatch.setattr(tokens, "spki_pin", lambda der: "sha256:" + "ab" * 32)
    calls = {"run": [], "sync": []}

    def create_account(jid):
        user, _, host = jid.partition("@")
        path = prosody.store_file(paths, host, "accounts", user)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write('return {\n\t["stored_key"] = "%s";\n};\n' % os.urandom(4).hex())

    def fake_run(argv, input=None, **kw):
        calls["run"].append((argv, input, kw.get("secrets")))
        if argv[:2] == ["prosodyctl", "shell"] and input:
            for jid in re.findall(r'user:create\("([^"]+)"', input):
                create_account(jid)
        elif argv[:2] == ["prosodyctl", "adduser"]:
            create_account(argv[2])
        return Result(argv, 0, "", "")

    monkeypatch.setattr(tokens, "run", fake_run)
    monkeypatch.setattr(rights, "sync", lambda p, d, records: calls["sync"].append(len(records)) or True)
    return paths, calls


def test_a_batch_makes_its_accounts_in_one_shell_and_syncs_the_rights_once(server):
    paths, calls = server
    made = tokens.create_batch(paths, 12, 3600, name="edge", now=1000)
    assert len(made) == 12 and calls["sync"] == [12]
    shells = [c for c in calls["run"] if c[0] == ["prosodyctl", "shell"]]
    assert len(shells) == 1 and not [c for c in calls["run"] if c[0][1] == "adduser"]
    # the passwords go on the shell's stdin, never in its argv, and are named as secrets
    argv, script, secrets = shells[0]
    passwords = [t.password for _, t in made]
    assert sorted(secrets) == sorted(passwords) and not any(p in " ".join(argv) for p in passwords)
    assert all(p in script for p in passwords)
    records = model.TokenStore(paths).load()
    assert [r["name"] for r in records] == ["edge-{:02d}".format(i) for i in range(1, 13)]
    assert len({r["id"] for r in records}) == 12 and all(r["verifier"] for r in records)
    assert "password" not in str(records)
    for record, token in made:
        assert (token.user, token.exp, token.muc) == (record["user"], 4600, "jvbbrewery@internal.auth." + DOMAIN)


def test_accounts_the_shell_did_not_make_are_added_one_by_one(server, monkeypatch):
    """prosody stopped (the shell cannot connect): prosodyctl adduser, the password on its stdin."""
    paths, calls = server
    original = tokens.run

    def shell_down(argv, input=None, **kw):
        if argv == ["prosodyctl", "shell"]:
            calls["run"].append((argv, input, kw.get("secrets")))
            return Result(argv, 1, "", "prosody is not running")
        return original(argv, input=input, **kw)
    monkeypatch.setattr(tokens, "run", shell_down)
    made = tokens.create_batch(paths, 3, 60)
    adds = [c for c in calls["run"] if c[0][1] == "adduser"]
    assert len(adds) == 3 and all(model.account_verifier(paths, "auth." + DOMAIN, t.user) for _, t in made)
    assert all(t.password in c[1] and t.password not in c[0] for (_, t), c in zip(made, adds))


def test_a_batch_is_bounded():
    with pytest.raises(UsageError):
        tokens.create_batch(None, 0, 60)
    with pytest.raises(UsageError):
        tokens.create_batch(None, tokens.MAX_BATCH + 1, 60)


def test_the_tokens_file_is_new_and_only_roots(tmp_path):
    path = str(tmp_path / "fleet.tokens")
    tokens.check_output(path)
    old = os.umask(0)
    try:
        tokens.write_output(path, ["jvbj1.a", "jvbj1.b"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path).read() == "jvbj1.a\njvbj1.b\n"
    with pytest.raises(UsageError) as exists:
        tokens.check_output(path)  # a file already there may hold tokens still to be used
    assert "already exists" in str(exists.value)
    with pytest.raises(UsageError):
        tokens.check_output(str(tmp_path / "missing" / "x.tokens"))


def test_the_single_form_still_makes_one_token_a_bridge_can_read(server):
    paths, calls = server
    record, token = tokens.create(paths, 600, name="one", now=50)
    assert calls["sync"] == [1] and [c[0][1] for c in calls["run"]] == ["adduser"]
    from jvbjoin.formats.token import encode
    again = decode(encode(token), now=100)
    assert (again.user, again.host, again.domain) == (record["user"], DOMAIN, "auth." + DOMAIN)


def test_cli_count_writes_the_tokens_to_a_new_file_and_prints_none(server, monkeypatch, capsys, tmp_path):
    import jvbjoin.system.paths
    from jvbjoin.cli import main as cli
    paths, calls = server
    monkeypatch.setattr(jvbjoin.system.paths, "Paths", lambda root="/": paths)
    monkeypatch.setattr(tokens, "ufw_active", lambda: False)
    out_file = str(tmp_path / "b.tokens")
    assert cli.main(["--json", "token", "create", "--count", "3", "--output", out_file]) == 0
    out, _ = capsys.readouterr()
    lines = open(out_file).read().splitlines()
    assert len(lines) == 3 and all(decode(line).user.startswith("jvb-") for line in lines)
    assert "jvbj1." not in out and '"output"' in out  # the tokens are in the file only
    assert cli.main(["token", "create", "--count", "2", "--output", out_file]) != 0  # not overwritten
    assert len(open(out_file).read().splitlines()) == 3 and len(model.TokenStore(paths).load()) == 3
    assert cli.main(["token", "create", "--count", "2", "--colibri-ws", "198.51.100.7"]) != 0
    _, err = capsys.readouterr()
    assert "--colibri-ws" in err and len(model.TokenStore(paths).load()) == 3

@pytest.mark.parametrize("region", ["EU", "eu west", "", "-x", "x" * 33])
def test_bad_region_is_refused_before_anything_is_made(paths, region):
    with pytest.raises(UsageError) as caught:
        tokens.create(paths, 3600, region=region)
    assert "--region must be 1 to 32 lowercase letters" in caught.value.message


@pytest.mark.parametrize("region", [None, "eu", "us-east", "ap-south-1"])
def test_good_region(region):
    assert tokens.check_region(region) == region


def test_a_batch_carries_its_region_in_every_token(server):
    paths, _ = server
    made = tokens.create_batch(paths, 2, 60, region="eu")
    assert [t.region for _, t in made] == ["eu", "eu"] and [r["region"] for r, _ in made] == ["eu", "eu"]
    with pytest.raises(UsageError):
        tokens.create_batch(paths, 2, 60, region="EU")
