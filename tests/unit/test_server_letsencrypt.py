"""`server install --cert letsencrypt`: options checked before anything runs, the packages keep
their self-signed start, certbot is asked once, a failure puts the site's certificate back."""

import os

import pytest

from jvbjoin.system import run as run_module
from jvbjoin.engine.core import Context, Journal
from jvbjoin.errors import CommandError, InputError, StepError, UsageError
from jvbjoin.server import install, letsencrypt
from jvbjoin.server.install import ServerOptions

DOMAIN = "meet.example.com"
STAGING = "https://acme.example.test/dir"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_options_are_checked_first(tmp_path):
    for kwargs in ({}, {"email": "not an address"}, {"email": "a@b", "acme_directory": "http://plain/dir"}):
        with pytest.raises(UsageError):
            install.validate(ServerOptions(DOMAIN, cert="letsencrypt", **kwargs))
    with pytest.raises(InputError):
        install.validate(ServerOptions(DOMAIN, cert="letsencrypt", email="a@b", acme_ca_file=str(tmp_path / "x")))
    with pytest.raises(UsageError):  # ACME options without --cert letsencrypt are a mistake, not ignored
        install.validate(ServerOptions(DOMAIN, acme_directory=STAGING))
    install.validate(ServerOptions(DOMAIN, cert="letsencrypt", email="a@b", acme_directory=STAGING))


def test_packages_start_self_signed_and_the_certificate_step_comes_last(paths):
    opts = ServerOptions(DOMAIN, cert="letsencrypt", email="a@b")
    answers = {q: v for _, q, _, v in install.debconf_answers(opts)}
    assert answers["jitsi-meet/cert-choice"] == install.CERT_CHOICES["self-signed"]
    steps = install.server_steps(_ctx(paths, opts))
    assert [s.name for s in steps[-2:]] == ["certbot", "letsencrypt"]
    assert steps[-1].directory == letsencrypt.LETSENCRYPT
    assert "letsencrypt" not in [s.name for s in install.server_steps(_ctx(paths, ServerOptions(DOMAIN)))]


def _ctx(paths, opts):
    return Context(paths, install.ServerRun(opts))


def test_deploy_hook_installs_into_the_site_files_and_reloads_the_web_server():
    hook = letsencrypt.deploy_hook(DOMAIN, "apache")
    assert '"$RENEWED_LINEAGE/fullchain.pem" /etc/jitsi/meet/meet.example.com.crt' in hook
    assert "install -m 0640" in hook and hook.endswith("systemctl reload apache2")


@pytest.fixture
def site(paths):
    crt, key = letsencrypt.site_files(paths, DOMAIN)
    write(crt, b"self-signed cert\n")
    write(key, b"self-signed key\n")
    return paths


def fake_certbot(paths, calls, fail=False):
    def run(argv, **kwargs):
        calls.append((argv, kwargs.get("env")))
        if argv[1] == "certonly":
            if fail:
                raise CommandError(argv, 1, "Challenge failed for domain meet.example.com\n")
            live = letsencrypt.live_dir(paths, DOMAIN)
            write(os.path.join(live, "fullchain.pem"), b"issued chain\n")
            write(os.path.join(live, "privkey.pem"), b"issued key\n")
            write(letsencrypt.renewal_conf(paths, DOMAIN), "server = {}\n".format(STAGING).encode())
            crt, key = letsencrypt.site_files(paths, DOMAIN)  # what the deploy hook does
            write(crt, b"issued chain\n")
            write(key, b"issued key\n")
    return run


def test_issue_once_then_nothing_to_do(site, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(run_module, "run", fake_certbot(site, calls))
    step = letsencrypt.LetsEncryptCertificate(DOMAIN, "a@b", STAGING, "/root/ca.pem")
    ctx = Context(site)
    changes = step.check(ctx)
    assert changes and STAGING in changes[0].summary
    step.apply(ctx, changes, Journal())
    argv, env = calls[0]
    assert argv[:2] == ["certbot", "certonly"] and argv[argv.index("--server") + 1] == STAGING
    assert argv[argv.index("--webroot-path") + 1] == "/usr/share/jitsi-meet"
    assert env == {"REQUESTS_CA_BUNDLE": "/root/ca.pem"}
    assert step.check(ctx) == []
    # Another directory asks again.
    assert letsencrypt.LetsEncryptCertificate(DOMAIN, "a@b", "https://other.test/dir").check(ctx)


def test_a_refused_challenge_is_a_clear_error_and_the_site_keeps_its_certificate(site, monkeypatch):
    calls = []
    monkeypatch.setattr(run_module, "run", fake_certbot(site, calls, fail=True))
    step = letsencrypt.LetsEncryptCertificate(DOMAIN, "a@b", STAGING)
    ctx = Context(site)
    journal = Journal()
    with pytest.raises(StepError) as err:
        step.apply(ctx, step.check(ctx), journal)
    assert "Challenge failed" in err.value.message and "port 80" in err.value.remedy
    journal.rollback()
    crt, key = letsencrypt.site_files(site, DOMAIN)
    assert read(crt) == b"self-signed cert\n" and read(key) == b"self-signed key\n"
    assert calls[-1][0][:2] == ["certbot", "delete"]
