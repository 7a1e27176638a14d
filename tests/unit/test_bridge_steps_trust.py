"""The server certificate in the CA stores: added, replaced, and taken out again on a rollback."""

import os

import pytest

from jvbjoin.system import files
from jvbjoin.engine.core import Journal
from jvbjoin.bridge.steps import trust

from helpers import join_ctx, make_token

DOMAIN = "auth.meet.example.com"


def pem(der):
    import ssl
    return ssl.DER_cert_to_PEM_cert(der)


@pytest.fixture
def ran(monkeypatch):
    calls = []
    monkeypatch.setattr(trust, "run", lambda argv, **kw: calls.append((argv, kw.get("input"))))
    return calls


def apply(paths, der):
    ctx = join_ctx(paths, make_token(domain=DOMAIN), files.Backups(paths.backups, paths.root, run_id="t"))
    ctx.run.server_cert_der = der
    step, journal = trust.ServerTrust(), Journal()
    changes = step.check(ctx)
    step.apply(ctx, changes, journal)
    return journal


def test_a_new_certificate_is_added_and_a_rollback_takes_it_out_of_every_store(paths, ran):
    journal = apply(paths, b"new")
    assert files.read_text(trust.cert_path(paths, DOMAIN)) == pem(b"new")
    assert ran == [(["update-ca-certificates"], None)]
    del ran[:]
    journal.rollback()
    assert not os.path.exists(trust.cert_path(paths, DOMAIN))
    assert ran[0] == (["update-ca-certificates", "--fresh"], None)


def test_a_replaced_certificate_reaches_the_hooks_and_a_rollback_puts_the_old_one_back(paths, ran):
    os.makedirs(os.path.dirname(trust.cert_path(paths, DOMAIN)))
    files.write_atomic(trust.cert_path(paths, DOMAIN), pem(b"old"), 0o644)
    journal = apply(paths, b"new")
    # a plain run keeps the old content in Java's store: --fresh tells the hooks again
    assert ran == [(["update-ca-certificates", "--fresh"], None)]
    del ran[:]
    journal.rollback()
    assert files.read_text(trust.cert_path(paths, DOMAIN)) == pem(b"old")
    assert ran == [(["update-ca-certificates", "--fresh"], None)]
