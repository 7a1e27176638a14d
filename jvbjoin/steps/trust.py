"""Trust the server's auth certificate (verified against the token's pin) in the system and Java CA stores."""

import ssl

from ..run import run
from .base import FileStep, WantedFile


def cert_path(paths, domain):
    return paths("/usr/local/share/ca-certificates/jvb-join-{}.crt".format(domain))


class ServerTrust(FileStep):
    """Installs the pinned certificate as a local CA and runs update-ca-certificates.

    ca-certificates-java's hook then adds it to /etc/ssl/certs/java/cacerts, the store the bridge's
    Java reads: that is what lets the bridge verify TLS instead of switching verification off.
    """

    name = "trust"
    title = "trust of the server certificate"
    owns_files = True
    restarts = "bridge"  # the bridge reads the Java trust store only at start

    def wanted(self, ctx):
        token = ctx.facts["token"]
        der = ctx.facts.get("server_cert_der")
        if der is None:  # dry-run before the certificate was fetched: nothing honest to show
            return []
        pem = ssl.DER_cert_to_PEM_cert(der)
        return [WantedFile(cert_path(ctx.paths, token.domain), pem, 0o644, 0, 0)]

    def apply(self, ctx, changes, journal):
        journal.record("update-ca-certificates", lambda: run(["update-ca-certificates"], timeout=300))
        super().apply(ctx, changes, journal)
        run(["update-ca-certificates"], timeout=300)
