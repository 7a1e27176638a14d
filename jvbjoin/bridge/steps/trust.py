"""Trust the server's auth certificate (verified against the token's pin) in the system and Java CA stores."""

import os
import ssl

from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep, WantedFile


def cert_path(paths, domain):
    return paths("/usr/local/share/ca-certificates/jvb-join-{}.crt".format(domain))


class _Trust(FileStep):
    """The server's certificate file in the system CA store, and the CA stores made again from it."""

    name = "trust"
    title = "trust of the server certificate"
    owns_files = True

    def domain(self, ctx):
        raise NotImplementedError

    def apply(self, ctx, changes, journal):
        domain = self.domain(ctx)
        replaced = os.path.exists(cert_path(ctx.paths, domain))
        journal.record("update the CA stores", lambda: refresh(ctx.paths, domain, replaced))
        super().apply(ctx, changes, journal)
        refresh(ctx.paths, domain, replaced)


class RemoveTrust(_Trust):
    """Leave: the server's certificate the join added to the system CA store (and, through
    update-ca-certificates' hooks, to Java's)."""

    leave_order = 2

    def domain(self, ctx):
        return ctx.run.record.get("domain")

    def wanted(self, ctx):
        domain = self.domain(ctx)
        return [WantedFile(cert_path(ctx.paths, domain), None)] if domain else []


class ServerTrust(_Trust):
    """Installs the pinned certificate as a local CA and runs update-ca-certificates.

    ca-certificates-java's hook then adds it to /etc/ssl/certs/java/cacerts, the store the bridge's
    Java reads: that is what lets the bridge verify TLS instead of switching verification off.
    """

    restarts = "bridge"  # the bridge reads the Java trust store only at start
    inverse = RemoveTrust

    def wanted(self, ctx):
        token = ctx.run.token
        der = ctx.run.server_cert_der
        if der is None:  # dry-run before the certificate was fetched: nothing honest to show
            return []
        pem = ssl.DER_cert_to_PEM_cert(der)
        return [WantedFile(cert_path(ctx.paths, token.domain), pem, 0o644, 0, 0)]

    def domain(self, ctx):
        return ctx.run.token.domain


def refresh(paths, domain, replaced):
    """The CA stores as the certificate file now is. Added: a plain update-ca-certificates adds it
    (and its hooks to Java's store). Replaced: only --fresh gives the hooks the new content. Gone:
    see untrust."""
    if not os.path.exists(cert_path(paths, domain)):
        untrust(paths, domain)
    else:
        run(["update-ca-certificates"] + (["--fresh"] if replaced else []), timeout=300)


HOOKS = "/etc/ca-certificates/update.d"


def untrust(paths, domain):
    """After the certificate file is gone: the system store, the bundle and Java's store without it.

    A plain update-ca-certificates keeps the link to a removed local certificate; --fresh rebuilds
    the links and the bundle but tells its hooks only what it added, so Java's store (made by
    ca-certificates-java's hook) would keep it. The hooks are then told of the removal the way
    update-ca-certificates tells them of one it tracks: a '-' line with the link's path.
    """
    run(["update-ca-certificates", "--fresh"], timeout=300)
    removed = "-/etc/ssl/certs/jvb-join-{}.pem\n".format(domain)
    folder = paths(HOOKS)
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        hook = os.path.join(folder, name)
        if os.access(hook, os.X_OK) and not name.startswith("."):
            run([hook], input=removed, timeout=300, check=False)

