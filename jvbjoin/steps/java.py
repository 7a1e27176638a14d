"""The Java runtime a Jitsi package needs on this release (see jvbjoin/system/java.py for the choice)."""

import glob
import os
import shutil
import tempfile

from jvbjoin.system import apt, java
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import JvbJoinError
from jvbjoin.system.run import run
from jvbjoin.steps.packages import AdoptiumSource, install, update_once

ADOPTIUM_URL = "https://packages.adoptium.net/artifactory/deb"


def java_alternative():
    """Where /usr/bin/java points now and whether an admin chose it (``(path, manual)``)."""
    result = run(["update-alternatives", "--query", "java"], check=False, timeout=30)
    value, manual = None, False
    for line in result.stdout.splitlines():
        if line.startswith("Value:"):
            value = line.split(":", 1)[1].strip()
        elif line.startswith("Status:"):
            manual = line.split(":", 1)[1].strip() == "manual"
    return value, manual


class JavaRuntime(Step):
    """Installs the Java that ``package`` asks for, before ``package`` itself.

    On a release whose archive has such a Java, that OpenJDK; on Debian 10, Temurin from Adoptium
    with p11-kit (so that update-ca-certificates also fills Temurin's trust store), a local shim
    package when the Jitsi package names OpenJDK, and the ``java`` alternative set to Temurin.
    """

    name = "java"
    title = "Java runtime"
    restarts = "bridge"
    no_inverse = "Java stays installed, as the packages that need it do"

    def __init__(self, package, version=None, adoptium_url=None, adoptium_key=None,
                 lock_timeout=apt.DEFAULT_LOCK_TIMEOUT):
        self.package = package
        self.version = version
        self.lock_timeout = lock_timeout
        self.adoptium_url = adoptium_url or ADOPTIUM_URL
        self.adoptium_key = adoptium_key

    def release(self, ctx):
        """The support-table row preflight found for this host."""
        return ctx.run.release_row

    def source(self, ctx):
        return AdoptiumSource(self.adoptium_url, self.release(ctx).codename, "main", self.adoptium_key)

    def choice(self, ctx):
        """The Java to install, None if the package names none, or False if apt does not know
        the package yet (its repository is added but not read)."""
        control = java.candidate_control(self.package, self.version)
        if control is None:
            return False
        return java.choose(self.release(ctx), control)

    def check(self, ctx):
        installed = apt.installed_packages(ctx.paths)
        if self.package in installed and not self.release(ctx).adoptium and \
                (not self.version or installed[self.package] == self.version):
            # dpkg installed it, so its Java dependency is met: nothing to read from apt (re-runs stay fast)
            return []
        choice = self.choice(ctx)
        if choice is False:
            if self.package in apt.installed_packages(ctx.paths):
                return []
            return [Change("java", "java", "install the Java that {} asks for (read from its dependencies "
                           "once the package lists are updated)".format(self.package))]
        if choice is None:
            return []
        return self._changes(ctx, choice)

    def _missing(self, ctx, choice):
        installed = apt.installed_packages(ctx.paths)
        wanted = [choice.package] + choice.extra + ([choice.shim_name] if choice.shim_name else [])
        return [name for name in wanted if name not in installed]

    def _temurin_java(self, ctx, choice):
        """The Temurin launcher as /usr/bin/java must point to it (unrooted), or None."""
        found = sorted(glob.glob(ctx.paths(os.path.join(choice.jvm_dir, "bin", "java"))))
        root = ctx.paths.root.rstrip("/")
        return found[0][len(root):] if found else None

    def _changes(self, ctx, choice):
        changes = []
        if choice.source == "adoptium":
            changes += self.source(ctx).check(ctx)
        missing = self._missing(ctx, choice)
        if missing:
            changes.append(Change("package", choice.package, "install {}".format(choice.describe()),
                                  data=missing))
        if choice.source == "adoptium":
            value, _ = java_alternative()
            if missing or value != self._temurin_java(ctx, choice):
                changes.append(Change("alternative", "java", "point /usr/bin/java at Temurin {}".format(
                    choice.major)))
        return changes

    def apply(self, ctx, changes, journal):
        update_once(ctx, self.lock_timeout)
        choice = self.choice(ctx)
        if choice is False:
            raise JvbJoinError("apt does not know {} after reading the package lists.".format(self.package),
                               "Check the Jitsi repository (its URL, suite and key), then run jvb-join again.")
        if choice is None:
            return
        ctx.progress("Java for {}: {}".format(self.package, choice.describe()))
        if choice.source == "adoptium":
            source = self.source(ctx)
            source.apply(ctx, source.check(ctx), journal)
            update_once(ctx, self.lock_timeout)
        missing = self._missing(ctx, choice)
        if missing and choice.source == "archive":
            # Installed by the package step in the same apt-get run as the Jitsi package: apt
            # fetches everything before dpkg changes anything, so a repository that fails (gone,
            # tampered) fails before any package is installed.
            ctx.run.with_packages.extend(missing)
            return
        if missing:
            specs = [name for name in missing if name != choice.shim_name]
            if choice.shim_name in missing:
                specs.append(self._build_shim(ctx, choice, journal))
            install(ctx, journal, specs, self.lock_timeout, names=missing)
        if choice.source == "adoptium":
            self._select(ctx, choice, journal)
            # Temurin reads /etc/ssl/certs/adoptium/cacerts, which Adoptium's hook fills from the
            # system store only when p11-kit's trust exists: fill it now, as later updates will.
            run(["update-ca-certificates"], timeout=300)

    def _build_shim(self, ctx, choice, journal):
        folder = os.path.join(ctx.paths.state, "java")
        if not os.path.isdir(folder):
            os.makedirs(folder, 0o755)
        target = os.path.join(folder, "{}_1_all.deb".format(choice.shim_name))
        work = tempfile.mkdtemp(prefix=".shim-", dir=folder)
        try:
            os.mkdir(os.path.join(work, "DEBIAN"), 0o755)
            with open(os.path.join(work, "DEBIAN", "control"), "w") as handle:
                handle.write(java.shim_control(choice))
            run(["dpkg-deb", "--root-owner-group", "--build", work, target], timeout=120)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        journal.record("remove {}".format(target), lambda: os.path.exists(target) and os.unlink(target))
        return target

    def _select(self, ctx, choice, journal):
        path = self._temurin_java(ctx, choice)
        if path is None:
            raise JvbJoinError("{} is installed but {} has no bin/java.".format(choice.package, choice.jvm_dir),
                               "Reinstall {} (apt-get install --reinstall {}) and run jvb-join again.".format(
                                   choice.package, choice.package))
        value, manual = java_alternative()
        if value == path:
            return

        def undo():
            if manual and value:
                run(["update-alternatives", "--set", "java", value], check=False, timeout=30)
            else:
                run(["update-alternatives", "--auto", "java"], check=False, timeout=30)
        journal.record("put the java alternative back", undo)
        run(["update-alternatives", "--set", "java", path], timeout=30)
