"""``server install --cert letsencrypt``: a certificate from an ACME server (Let's Encrypt unless
``--acme-directory`` names another) for the meet domain, with Debian's certbot.

The Jitsi packages' own Let's Encrypt choice downloads acme.sh from the internet and always talks to
Let's Encrypt. jvb-join installs the packages with their self-signed certificate, then has certbot
(a Debian package, renewed by its own timer) answer the HTTP-01 challenge from the directory the
Jitsi site already serves ``/.well-known/acme-challenge/`` from. certbot's deploy hook copies the
certificate to ``/etc/jitsi/meet/DOMAIN.crt`` and ``.key``, the files the site config names, as
the Jitsi script does, and reloads the web server; so the admin's site config is not edited and
every renewal lands in the same place.
"""

import os
import shlex

from jvbjoin.system import files
from jvbjoin.system import run as commands
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import CommandError, StepError

LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
WEBROOT = "/usr/share/jitsi-meet"


def live_dir(paths, domain):
    return paths("/etc/letsencrypt/live/{}".format(domain))


def renewal_conf(paths, domain):
    return paths("/etc/letsencrypt/renewal/{}.conf".format(domain))


def site_files(paths, domain):
    return paths("/etc/jitsi/meet/{}.crt".format(domain)), paths("/etc/jitsi/meet/{}.key".format(domain))


def deploy_hook(domain, web):
    """The shell command certbot runs after each issuance and renewal (certbot runs hooks with a
    shell; every value in it is quoted)."""
    crt, key = "/etc/jitsi/meet/{}.crt".format(domain), "/etc/jitsi/meet/{}.key".format(domain)
    unit = "apache2" if web == "apache" else "nginx"
    return ('install -m 0644 "$RENEWED_LINEAGE/fullchain.pem" {crt} && '
            'install -m 0640 "$RENEWED_LINEAGE/privkey.pem" {key} && systemctl reload {unit}').format(
                crt=shlex.quote(crt), key=shlex.quote(key), unit=unit)


def renewal_values(text):
    """``{key: value}`` of a certbot renewal config (configobj: ``key = value`` lines in sections)."""
    out = {}
    for line in (text or "").splitlines():
        if line.strip().startswith(("#", "[")):
            continue
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def renewal_server(paths, domain):
    """The ACME directory certbot's renewal config for ``domain`` names, or None."""
    return renewal_values(files.read_text(renewal_conf(paths, domain))).get("server")


class LetsEncryptCertificate(Step):
    """A certificate from the ACME directory in the files the site config names."""

    name = "letsencrypt"
    title = "Let's Encrypt certificate"

    def __init__(self, domain, email, directory=None, ca_file=None, web="nginx", timeout=300):
        self.domain, self.email, self.web = domain, email, web
        self.directory = directory or LETSENCRYPT
        self.ca_file = ca_file
        self.timeout = timeout

    def check(self, ctx):
        paths = ctx.paths
        crt, _key = site_files(paths, self.domain)
        issued = files.read_bytes(os.path.join(live_dir(paths, self.domain), "fullchain.pem"))
        if issued is not None and files.read_bytes(crt) == issued and \
                renewal_server(paths, self.domain) == self.directory:
            return []
        return [Change("certificate", self.domain, "obtain a certificate for {} from {} (HTTP-01 from {}) "
                       "and install it as {}".format(self.domain, self.directory, WEBROOT, crt))]

    def apply(self, ctx, changes, journal):
        paths = ctx.paths
        for path in site_files(paths, self.domain):
            before = files.FileState.read(path)
            if before.exists and ctx.run.backups is not None:
                ctx.run.backups.save(path)
            journal.record("restore {}".format(path), lambda state=before: files.restore(state))
        had_lineage = os.path.exists(renewal_conf(paths, self.domain))
        if not had_lineage:
            journal.record("remove the certificate {} from certbot".format(self.domain),
                           lambda: commands.run(["certbot", "delete", "--non-interactive", "--cert-name",
                                                 self.domain], check=False))
        argv = ["certbot", "certonly", "--non-interactive", "--agree-tos", "--email", self.email,
                "--server", self.directory, "--webroot", "--webroot-path", WEBROOT,
                "--domain", self.domain, "--cert-name", self.domain, "--keep-until-expiring",
                "--deploy-hook", deploy_hook(self.domain, self.web)]
        if had_lineage:
            argv.append("--force-renewal")  # another directory, or the site files were replaced
        env = {"REQUESTS_CA_BUNDLE": self.ca_file} if self.ca_file else None
        ctx.progress("asking {} for a certificate for {}".format(self.directory, self.domain))
        try:
            commands.run(argv, timeout=self.timeout, env=env)
        except CommandError as exc:
            raise StepError("{} did not issue a certificate for {}: {}".format(
                self.directory, self.domain, _last_lines(exc)),
                "The ACME server must reach http://{}/.well-known/acme-challenge/ on port 80 (DNS, "
                "firewall); see /var/log/letsencrypt/letsencrypt.log.".format(self.domain)) from None
        crt, _key = site_files(paths, self.domain)
        issued = files.read_bytes(os.path.join(live_dir(paths, self.domain), "fullchain.pem"))
        if issued is None or files.read_bytes(crt) != issued:
            raise StepError("certbot reported success but {} is not the issued certificate".format(crt),
                            "See /var/log/letsencrypt/letsencrypt.log (the deploy hook's output).")


def _last_lines(exc, count=4):
    text = (getattr(exc, "output", None) or str(exc)).strip().splitlines()
    return " / ".join(line.strip() for line in text[-count:] if line.strip())
