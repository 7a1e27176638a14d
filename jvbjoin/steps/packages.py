"""Steps that go through debconf and apt: the preseed, the Jitsi apt source, the packages."""

import os

from jvbjoin.system import apt, files
from jvbjoin.engine.core import Change, Step
from jvbjoin.errors import InputError, UnreachableError
from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep, WantedFile

JITSI_URL = "https://download.jitsi.org"
JITSI_SUITE = "stable/"


class DebconfPreseed(Step):
    """Answers the questions the Jitsi packages would ask, before they are installed."""

    name = "debconf"
    title = "debconf answers"
    no_inverse = "the answers belong to the packages, which stay installed"

    def __init__(self, answers):
        # [(owner, question, type, value)]; never a secret: passwords are not preseeded here.
        self.answers = answers

    def check(self, ctx):
        changes = []
        for owner, question, qtype, value in self.answers:
            current = apt.debconf_get(question)
            if current != value:
                # debconf-set-selections marks the question seen: the undo puts the flag back too
                seen = apt.debconf_flag(question) if current is not None else None
                changes.append(Change("debconf", question, "set {} to {}".format(question, value),
                                      data=(owner, question, qtype, value, (current, seen))))
        return changes

    def apply(self, ctx, changes, journal):
        for change in changes:
            owner, question, qtype, value, before = change.data
            journal.record("debconf {}".format(question), _debconf_undo(owner, question, qtype, before))
            run(["debconf-set-selections"], input="{} {} {} {}\n".format(owner, question, qtype, value))


def _debconf_undo(owner, question, qtype, before):
    value, seen = before

    def undo():
        if value is None:
            # As the owner the answer was set for: debconf drops a question (and the placeholder
            # template debconf-set-selections made) only when its last owner unregisters it.
            run(["debconf-communicate", owner], input="UNREGISTER {}\n".format(question), check=False)
            return
        run(["debconf-set-selections"], input="{} {} {} {}\n".format(owner, question, qtype, value))
        if seen is not None:
            apt.debconf_set_flag(question, "seen", seen)
    return undo


def _source_uris(text):
    """The URIs named by an apt sources file, one-line or deb822 form."""
    uris = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.lower().startswith("uris:"):
            uris.extend(line.split(":", 1)[1].split())
        elif line.startswith(("deb ", "deb-src ")):
            # drop the options in brackets, which may span several words
            inside, kept = False, []
            for word in line.split()[1:]:
                if word.startswith("["):
                    inside = True
                if not inside:
                    kept.append(word)
                if word.endswith("]"):
                    inside = False
            if kept:
                uris.append(kept[0])
    return [u.rstrip("/") for u in uris]


class AptSource(FileStep):
    """A package repository as a deb822 source with its own keyring (``Signed-By``, no apt-key).

    A host that already has a source for the same repository (the tutorials' jitsi-stable.list) is
    left as it is: a second entry would make apt warn, or fail on conflicting Signed-By values.
    """

    owns_files = True
    label = "the"
    key_hint = ""
    no_inverse = "the repository stays with the packages installed from it"

    def __init__(self, url, suite, components="", key_file=None):
        self.url = url.rstrip("/")
        self.suite = suite
        self.components = components
        self.key_file = key_file

    def source_path(self, paths):
        raise NotImplementedError

    def keyring_path(self, paths):
        raise NotImplementedError

    def existing_source(self, ctx):
        folder = ctx.paths.apt_sources_dir
        candidates = [ctx.paths("/etc/apt/sources.list")]
        if os.path.isdir(folder):
            candidates += [os.path.join(folder, n) for n in sorted(os.listdir(folder))
                           if n.endswith((".list", ".sources"))]
        for path in candidates:
            if path == self.source_path(ctx.paths):
                continue
            text = files.read_text(path)
            if text and self.url in _source_uris(text):
                return path
        return None

    def wanted(self, ctx):
        if self.existing_source(ctx):
            return []
        wanted = []
        keyring = self.keyring_path(ctx.paths)
        if self.key_file:
            key = files.read_bytes(self.key_file)
            if key is None:
                raise InputError("The repository key file {} does not exist.".format(self.key_file))
            # apt tells an armored key from a binary keyring by the file name
            armored = key.lstrip().startswith(b"-----BEGIN PGP")
            keyring = keyring.rsplit(".", 1)[0] + (".asc" if armored else ".gpg")
            wanted.append(WantedFile(keyring, key, 0o644, 0, 0))
        elif not os.path.exists(keyring):
            raise InputError("No key for {} repository at {}.".format(self.label, keyring), self.key_hint)
        lines = ["# {} packages, added by jvb-join.".format(self.title.split()[0]),
                 "Types: deb",
                 "URIs: {}".format(self.url),
                 "Suites: {}".format(self.suite)]
        if self.components:
            lines.append("Components: {}".format(self.components))
        lines.append("Signed-By: {}".format(keyring.replace(ctx.paths.root.rstrip("/"), "", 1) or keyring))
        wanted.append(WantedFile(self.source_path(ctx.paths), "\n".join(lines) + "\n", 0o644, 0, 0))
        return wanted

    def apply(self, ctx, changes, journal):
        super().apply(ctx, changes, journal)
        ctx.run.apt_sources_changed = True


class JitsiSource(AptSource):
    """The Jitsi repository (download.jitsi.org, or the one the operator names)."""

    name = "apt-source"
    title = "Jitsi apt repository"
    label = "the Jitsi"
    key_hint = ("Give it with --jitsi-repo-key FILE (the key from "
                "https://download.jitsi.org/jitsi-key.gpg.key, dearmored).")

    def __init__(self, url=JITSI_URL, suite=JITSI_SUITE, components="", key_file=None):
        super().__init__(url, suite, components, key_file)

    @classmethod
    def from_options(cls, opts):
        """The source the operator asked for: download.jitsi.org, or --jitsi-repo-url and friends."""
        if not opts.jitsi_repo_url:
            return cls(key_file=opts.jitsi_repo_key)
        components = opts.jitsi_repo_components if opts.jitsi_repo_components is not None else "main"
        return cls(opts.jitsi_repo_url, opts.jitsi_repo_suite or "stable", components, opts.jitsi_repo_key)

    def source_path(self, paths):
        return paths.jitsi_source

    def keyring_path(self, paths):
        return paths.jitsi_keyring


class AdoptiumSource(AptSource):
    """Eclipse Adoptium's repository, for Temurin on releases whose archive has no Java the Jitsi
    packages accept (Debian 10)."""

    name = "adoptium-source"
    title = "Adoptium apt repository"
    label = "the Adoptium"
    key_hint = ("Give it with --adoptium-repo-key FILE (the key from "
                "https://packages.adoptium.net/artifactory/api/gpg/key/public).")

    def source_path(self, paths):
        return paths.adoptium_source

    def keyring_path(self, paths):
        return paths.adoptium_keyring


class Packages(Step):
    """Installs packages with apt-get; undoing purges exactly the packages this run installed."""

    name = "packages"
    title = "packages"
    restarts = "bridge"
    no_inverse = "the packages stay installed"

    def __init__(self, packages, versions=None, lock_timeout=apt.DEFAULT_LOCK_TIMEOUT, name="packages",
                 title="packages", restarts="bridge"):
        self.packages = list(packages)
        self.versions = versions or {}
        self.lock_timeout = lock_timeout
        self.name, self.title, self.restarts = name, title, restarts

    def check(self, ctx):
        installed = apt.installed_packages(ctx.paths)
        changes = []
        for name in self.packages:
            want = self.versions.get(name)
            have = installed.get(name)
            if have is None:
                changes.append(Change("package", name, "install {}{}".format(name, "=" + want if want else ""),
                                      data=(name, want)))
            elif want and have != want:
                changes.append(Change("package", name, "change {} from {} to {}".format(name, have, want),
                                      data=(name, want)))
        return changes

    def apply(self, ctx, changes, journal):
        update_once(ctx, self.lock_timeout)
        # what an earlier step (the Java runtime) asked to be installed in the same run
        extra, ctx.run.with_packages = ctx.run.with_packages, []
        install(ctx, journal, extra + [("{}={}".format(n, v) if v else n) for n, v in (c.data for c in changes)],
                self.lock_timeout, downgrades=any(want for _, want in (c.data for c in changes)),
                names=extra + [c.target for c in changes])


def update_once(ctx, lock_timeout):
    """``apt-get update`` once per run, and again after a step added an apt source."""
    if ctx.run.apt_sources_changed or not ctx.run.apt_updated:
        ctx.progress("updating the package lists")
        ctx.run.apt_update_output = apt.apt_get(["update"], ctx.progress, lock_timeout).stdout
        ctx.run.apt_updated = True
        ctx.run.apt_sources_changed = False


def install(ctx, journal, specs, lock_timeout, downgrades=False, names=None):
    """``apt-get install`` of ``specs`` (names, name=version or paths of local .debs); the undo
    takes out exactly what this call installed and puts back versions it changed.

    A purge of a Jitsi package deletes its files under /etc/jitsi even when they were there before
    it (an admin or a configuration tool may write jvb.conf first): those are put back after it.
    A package that was removed but not purged before (dpkg's config-files state) is removed again,
    not purged: its purge would delete what it had left, such as jitsi-meet-prosody's purge deleting
    the auth host's accounts and the certificate the bridges pin."""
    states = apt.package_states(ctx.paths)
    before = {name: state.version for name, state in states.items() if state.installed}
    config_files = {name for name, state in states.items() if state.status == "config-files"}
    jitsi_etc = ctx.paths("/etc/jitsi")
    kept = files.TreeState(jitsi_etc) if os.path.isdir(jitsi_etc) else None

    def undo():
        after = apt.installed_packages(ctx.paths)
        new = sorted(set(after) - set(before))
        # first: purging a new package would also purge a package that depends on it
        if set(new) & config_files:
            apt.apt_get(["remove"] + sorted(set(new) & config_files), ctx.progress, lock_timeout)
        new = [name for name in new if name not in config_files]
        if new:
            apt.apt_get(["purge"] + new, ctx.progress, lock_timeout)
            if kept is not None:
                for path in kept.restore():
                    ctx.progress("put back {}, which the purge removed".format(path))
        downgrade = ["{}={}".format(n, v) for n, v in before.items() if n in after and after[n] != v]
        if downgrade:
            apt.apt_get(["install", "--allow-downgrades"] + downgrade, ctx.progress, lock_timeout)

    journal.record("remove the packages this run installed", undo)
    args = ["install", "--no-install-recommends"]
    if downgrades:
        args.append("--allow-downgrades")
    ctx.progress("installing {}".format(", ".join(names or specs)))
    try:
        apt.apt_get(args + list(specs), ctx.progress, lock_timeout)
    except apt.PackageNotFound:
        # apt-get update only warns when a repository cannot be reached, and keeps old lists
        # (or none): the package is then missing because of the network, which may come back.
        failed = apt.fetch_failures(ctx.run.apt_update_output)
        if not failed:
            raise
        raise UnreachableError("{} cannot be installed: a package repository could not be reached ({}).".format(
            ", ".join(names or specs), failed[-1]),
            "Check the host's network and apt sources, then run jvb-join again.") from None
