"""The server as its bridges' package source: a signed apt repository of the jvb-join it runs.

``server install`` (and every later ``token create``, once the server's jvb-join was upgraded)
publishes, under ``/var/www/jvb-join/debian``, jvb-join at the version installed here and the
``python3-dbus-next`` installed here (Debian 11 and Ubuntu before 24.04 lack it in their archive).
The .debs are the ones apt installed: apt's cache when it still has them, else ``apt-get download
PACKAGE=VERSION`` from the source they came from (apt checks that source's signature); each is
published only if its file list and MD5 sums are those dpkg recorded for the installed package.

The repository is signed by a key made on this server and kept in
``/var/lib/jvb-join/server/repo-key`` (0700, files 0600). A bridge trusts the key by its SHA-256 in
the join line (``token create --print-join-command``) and the packages by the signed index, so the
repository is served over plain HTTP: whoever is on the path can withhold it or serve an older
index this key signed, but cannot make a bridge install anything this key did not sign.
"""

import email.utils
import glob
import hashlib
import os
import shutil
import tempfile

from jvbjoin.errors import JvbJoinError, StepError
from jvbjoin.formats import aptrepo
from jvbjoin.system import apt, files
from jvbjoin.system.run import run
from jvbjoin.engine.core import Change, Context, Engine, Step
from jvbjoin.engine.run import Run

PUBLISHED = ("jvb-join", "python3-dbus-next")
WEB_ROOT = "/var/www/jvb-join"
URL_PATH = "/jvb-join/debian"
KEY_UID = "jvb-join bridges' repository on this server"
APT_CACHE = "/var/cache/apt/archives"
DESCRIPTION = "jvb-join as this Jitsi Meet server runs it, for its bridges"


def repo_dir(paths):
    return paths(WEB_ROOT, "debian")


def key_home(paths):
    return os.path.join(paths.server_state, "repo-key")


def repo_url(host):
    host = "[{}]".format(host) if ":" in host else host
    return "http://{}{}".format(host, URL_PATH)


def public_key_path(paths):
    return os.path.join(repo_dir(paths), "jvb-join.asc")


def key_sha256(paths):
    """The SHA-256 of the published public key (what the join line checks), or None."""
    data = files.read_bytes(public_key_path(paths))
    return hashlib.sha256(data).hexdigest() if data else None


def installed_versions(paths):
    states = apt.package_states(paths)
    return {name: states[name].version for name in PUBLISHED if name in states and states[name].installed}


def published_versions(paths):
    """``{package: version}`` the published index lists, or None when there is no signed index."""
    base = repo_dir(paths)
    if not os.path.isfile(os.path.join(base, "dists", aptrepo.SUITE, "InRelease")):
        return None
    index = files.read_text(os.path.join(base, "dists", aptrepo.SUITE, aptrepo.COMPONENT, "binary-amd64",
                                         "Packages")) or ""
    out = {}
    for stanza in index.split("\n\n"):
        name, version = aptrepo.control_field(stanza, "Package"), aptrepo.control_field(stanza, "Version")
        if name:
            out[name] = version
    return out


def wanted_versions(paths):
    """What the repository should hold; refuses when jvb-join itself is not installed by dpkg."""
    versions = installed_versions(paths)
    if "jvb-join" not in versions:
        raise JvbJoinError("jvb-join is not installed as a Debian package here, so it has no .deb to publish.",
                           "Install jvb-join with apt, then run 'jvb-join server install' again.")
    return versions


def stale(paths):
    """True when the published repository is missing or holds other versions than installed here."""
    return published_versions(paths) != installed_versions(paths) or key_sha256(paths) is None


# --- the signing key ----------------------------------------------------------------------------

class Signer:
    """gpg with its home in the server's state (made on first use, kept 0700/0600)."""

    def __init__(self, home):
        self.home = home
        self.env = dict(os.environ, GNUPGHOME=home)

    def gpg(self, *args, **kw):
        return run(["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback"] + list(args), env=self.env,
                   timeout=120, **kw)

    def fingerprint(self):
        result = self.gpg("--with-colons", "--list-secret-keys", check=False)
        fprs = [line.split(":")[9] for line in result.stdout.splitlines() if line.startswith("fpr:")]
        return fprs[0] if result.ok and fprs else None

    def ensure_key(self, journal):
        created = not os.path.isdir(self.home)
        if created:
            journal.record("remove {}".format(self.home), lambda: shutil.rmtree(self.home, ignore_errors=True))
        os.makedirs(self.home, 0o700, exist_ok=True)
        if self.fingerprint() is None:
            self.gpg("--passphrase", "", "--quick-gen-key", KEY_UID, "ed25519", "sign", "never")
        for folder, subfolders, names in os.walk(self.home):
            os.chmod(folder, 0o700)
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    os.chmod(path, 0o600)
        return self.fingerprint()

    def export(self, fpr):
        return self.gpg("--armor", "--export", fpr).stdout

    def sign(self, fpr, release_path, folder):
        self.gpg("--local-user", fpr, "--clearsign", "--digest-algo", "SHA256", "--output",
                 os.path.join(folder, "InRelease"), release_path)
        self.gpg("--local-user", fpr, "--detach-sign", "--armor", "--digest-algo", "SHA256", "--output",
                 os.path.join(folder, "Release.gpg"), release_path)

    def stop(self):
        run(["gpgconf", "--kill", "all"], env=self.env, check=False, timeout=30)


# --- the .debs ------------------------------------------------------------------------------------

def _dpkg_md5sums(paths, package):
    for name in (package, package + ":all"):
        data = files.read_bytes(paths("/var/lib/dpkg/info/{}.md5sums".format(name)))
        if data is not None:
            return data
    return None


def matches_installed(paths, deb, package, version):
    """Is ``deb`` the package dpkg installed: same name, version and MD5 sums of every file?"""
    control = run(["dpkg-deb", "--field", deb], check=False, timeout=60)
    if not control.ok or aptrepo.control_field(control.stdout, "Package") != package or \
            aptrepo.control_field(control.stdout, "Version") != version:
        return False
    sums = run(["dpkg-deb", "--info", deb, "md5sums"], check=False, timeout=60)
    installed = _dpkg_md5sums(paths, package)
    return sums.ok and installed is not None and sums.stdout.encode("utf-8") == installed


def find_deb(paths, package, version, work, progress):
    """The .deb of ``package`` at ``version`` as installed here: apt's cache, else apt-get download."""
    plain = version.split(":", 1)[-1]
    for candidate in sorted(glob.glob(paths(APT_CACHE, "{}_*{}_all.deb".format(package, plain)))):
        if matches_installed(paths, candidate, package, version):
            return candidate
    progress("downloading {} {} from this server's apt sources".format(package, version))
    folder = tempfile.mkdtemp(prefix="deb.", dir=work)
    os.chmod(folder, 0o755)
    result = run(["apt-get", "-q", "download", "{}={}".format(package, version)], cwd=folder, check=False,
                 timeout=600)
    debs = glob.glob(os.path.join(folder, "{}_*_all.deb".format(package)))
    if result.ok and len(debs) == 1 and matches_installed(paths, debs[0], package, version):
        return debs[0]
    raise StepError("No .deb of {} {} to publish: it is not in apt's cache ({}) and 'apt-get download {}={}' "
                    "did not give it ({}).".format(package, version, APT_CACHE, package, version,
                                                  (result.stderr or result.stdout).strip()[-300:] or "no file"),
                    "Put the .deb of the installed version in {} (e.g. 'apt-get install --reinstall {}') and run "
                    "the command again.".format(APT_CACHE, package))


# --- the tree ---------------------------------------------------------------------------------------

def build_tree(target, debs, signer, fpr, date):
    """Write the whole repository into ``target`` (a new folder): pool, indices, signatures, key."""
    stanzas = []
    for deb in debs:
        data = files.read_bytes(deb)
        control = run(["dpkg-deb", "--field", deb], timeout=60).stdout
        filename = "pool/{}/{}".format(aptrepo.COMPONENT, os.path.basename(deb))
        os.makedirs(os.path.join(target, os.path.dirname(filename)), 0o755, exist_ok=True)
        shutil.copyfile(deb, os.path.join(target, filename))
        stanzas.append(aptrepo.packages_stanza(control, filename, data))
    indices = aptrepo.index_files(aptrepo.packages_index(stanzas))
    suite = os.path.join(target, "dists", aptrepo.SUITE)
    for name, data in indices.items():
        os.makedirs(os.path.dirname(os.path.join(suite, name)), 0o755, exist_ok=True)
        with open(os.path.join(suite, name), "wb") as handle:
            handle.write(data)
    release = os.path.join(suite, "Release")
    with open(release, "w") as handle:
        handle.write(aptrepo.release_text(indices, date, DESCRIPTION))
    signer.sign(fpr, release, suite)
    with open(os.path.join(target, "jvb-join.asc"), "w") as handle:
        handle.write(signer.export(fpr))
    for folder, subfolders, names in os.walk(target):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)


def publish(paths, journal, progress):
    """Make the repository hold what is installed here, signed; the old tree stays until the new one
    is complete, and the journal puts it back."""
    versions = wanted_versions(paths)
    base = repo_dir(paths)
    root = os.path.dirname(base)
    files.make_folders(root, journal)
    os.chmod(root, 0o755)
    work = tempfile.mkdtemp(prefix=".publish.", dir=root)
    signer = Signer(key_home(paths))
    try:
        os.makedirs(paths.server_state, 0o700, exist_ok=True)
        fpr = signer.ensure_key(journal)
        debs = [find_deb(paths, name, versions[name], work, progress) for name in PUBLISHED if name in versions]
        tree = os.path.join(work, "debian")
        os.mkdir(tree)
        build_tree(tree, debs, signer, fpr, email.utils.formatdate(usegmt=True))
        old = os.path.join(work, "old")
        if os.path.isdir(base):
            os.rename(base, old)
            journal.record("put back the previous repository", lambda: _swap_back(base, old))
        else:
            journal.record("remove the repository", lambda: shutil.rmtree(base, ignore_errors=True))
        os.rename(tree, base)
    finally:
        signer.stop()
        if not os.path.isdir(os.path.join(work, "old")):
            shutil.rmtree(work, ignore_errors=True)


def _swap_back(base, old):
    shutil.rmtree(base, ignore_errors=True)
    os.rename(old, base)
    shutil.rmtree(os.path.dirname(old), ignore_errors=True)


def clean_work(paths):
    """Remove what a finished publish kept for its undo (the previous tree)."""
    for folder in glob.glob(os.path.join(os.path.dirname(repo_dir(paths)), ".publish.*")):
        shutil.rmtree(folder, ignore_errors=True)


class Repository(Step):
    """The signed repository of the jvb-join (and python3-dbus-next) installed here."""

    name = "bridge-repository"
    title = "package repository for bridges"
    no_inverse = "the repository stays published"

    def check(self, ctx):
        if not stale(ctx.paths):
            return []
        versions = installed_versions(ctx.paths)
        if "jvb-join" not in versions:
            ctx.progress("jvb-join is not installed from its Debian package here: no repository for bridges")
            return []
        what = ", ".join("{} {}".format(name, versions[name]) for name in PUBLISHED if name in versions)
        return [Change("repository", repo_dir(ctx.paths), "publish {} for bridges".format(what))]

    def apply(self, ctx, changes, journal):
        ctx.progress("signing the bridges' package repository")
        publish(ctx.paths, journal, ctx.progress)


def published_here(paths):
    """Was the repository published on this server (by ``server install``)?"""
    return os.path.isdir(key_home(paths)) and published_versions(paths) is not None


def refresh(paths, progress, dry_run=False, lock_timeout=apt.DEFAULT_LOCK_TIMEOUT):
    """Republish when the jvb-join installed here is not the one published (after an upgrade)."""
    apt.wait_for_lock(paths, lock_timeout, progress)
    ctx = Context(paths, Run(dry_run=dry_run, backups=files.Backups(paths.backups, paths.root)), progress)
    try:
        return Engine([Repository()], ctx).run("bridge repository", dry_run=dry_run)
    finally:
        clean_work(paths)


def join_command(paths, host, token):
    """The one line that installs jvb-join on a bridge from here and joins it, or None when this
    server publishes no repository."""
    digest = key_sha256(paths)
    if not digest or published_versions(paths) is None:
        return None
    return aptrepo.join_line(repo_url(host), digest, token)
