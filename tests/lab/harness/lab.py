"""The jvb-join lab: booted Debian containers (systemd-nspawn) on a private bridge, with offline,
signed apt repositories served from the host side of the bridge.

Everything here runs on the host, as root, with the host's /usr/bin/python3 (stdlib only).
"""

import errno
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

from . import inotify

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

# Several labs can run side by side on one machine: JVB_LAB_INSTANCE=N (0 to 9, default 0) gives
# lab N its own bridge, network, HTTP port, state, host disks and cache (seeded from lab 0's cache).
INSTANCE = int(os.environ.get("JVB_LAB_INSTANCE") or 0)
if not 0 <= INSTANCE <= 9:
    raise SystemExit("JVB_LAB_INSTANCE must be 0 to 9")
_SUFFIX = "-%d" % INSTANCE if INSTANCE else ""
BRIDGE = "labbr%d" % INSTANCE
NET = "198.18.%d" % INSTANCE
DEFAULT_CACHE = "/var/cache/jvb-join-lab"
# the host side of a container's link is named after its machine: keep labs' names apart
MACHINE_PREFIX = "l%d" % INSTANCE if INSTANCE else ""
HOST_IP = NET + ".1"
PREFIX = 24
RELEASES = ("bullseye", "bookworm", "trixie")
DEFAULT_RELEASE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
IMAGE_VERSION = "3"
BASE_INCLUDE = (
    "systemd", "systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "openssh-client",
    "python3", "ca-certificates", "iproute2", "iputils-ping", "procps", "netbase", "less",
    "apt-utils",
)
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KEYRING_IN_HOST = "/etc/apt/keyrings/jvb-join-lab.gpg"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
JMS_ALIASES = ("meet.lab.test", "auth.meet.lab.test")
# the second server host (shards: a bridge that serves two servers), with its own domain
JMS2_ALIASES = ("meet2.lab.test", "auth.meet2.lab.test")
HOST_ALIASES = {"jms": JMS_ALIASES, "jms2": JMS2_ALIASES}
# signing keys: the Debian mirror and jvb-join repo; the Jitsi stand-ins; the Adoptium stand-ins
KEY_ROLES = (("archive", "jvb-join lab archive <archive@lab.test>"),
             ("jitsi", "jvb-join lab Jitsi stand-in repository <jitsi@lab.test>"),
             ("adoptium", "jvb-join lab Adoptium stand-in repository <adoptium@lab.test>"))
# stand-ins that real hosts get from Adoptium's repository rather than Jitsi's
ADOPTIUM_PACKAGES = ("temurin-", "adoptium-")
# Adoptium publishes one suite per distribution codename
ADOPTIUM_SUITES = ("buster", "bullseye", "bookworm", "trixie")


# the machine's inotify limit as the first lab that raised it found it (shared by every instance)
INOTIFY_RECORD = "/run/jvb-join-lab-inotify.json"


class LabError(Exception):
    pass


def log(msg):
    sys.stderr.write("%s lab: %s\n" % (time.strftime("%H:%M:%S", time.gmtime()), msg))
    sys.stderr.flush()


def _run(argv, check=True, env=None, input=None, quiet=False, timeout=None):
    """Run a host program; return CompletedProcess (text). Raise LabError on failure if check."""
    p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=timeout, universal_newlines=True)
    if check and p.returncode != 0:
        raise LabError("%s failed (exit %d): %s" % (" ".join(argv[:3]), p.returncode,
                                                   (p.stderr or p.stdout).strip()[-2000:]))
    return p


def _stream(argv, logfile, show, env=None):
    """Run argv, write all output to logfile, print lines for which show(line) is true."""
    with open(logfile, "a") as lf:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                             stdin=subprocess.DEVNULL, universal_newlines=True, bufsize=1)
        for line in p.stdout:
            lf.write(line)
            line = line.rstrip("\n")
            msg = show(line)
            if msg:
                log(msg if isinstance(msg, str) else line)
        return p.wait()


def _sha(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError as e:
        return e.errno == errno.EPERM


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _children(pid):
    out = []
    for task in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(task) as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _safe_path(root, rel):
    """Path of rel inside root; refuse anything that would resolve outside root (symlinks)."""
    root = os.path.realpath(root)
    path = os.path.join(root, rel.lstrip("/"))
    parent = os.path.realpath(os.path.dirname(path))
    if parent != root and not parent.startswith(root + "/"):
        raise LabError("refusing to write %s: it leaves the container tree" % rel)
    return os.path.join(parent, os.path.basename(path))


def _put(root, rel, data, mode=0o644):
    path = _safe_path(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.islink(path):
        os.unlink(path)
    if isinstance(data, str):
        data = data.encode()
    tmp = path + ".lab-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def read_packages_list(path):
    names = []
    with open(path) as f:
        for line in f:
            names.extend(line.split("#", 1)[0].split())
    return names


class Lab(object):
    """One lab on this machine. All methods need root."""

    def __init__(self, cache=None, state=None, hosts=None, port=None):
        env = os.environ
        self.cache = os.path.abspath(cache or env.get("JVB_LAB_CACHE") or DEFAULT_CACHE + _SUFFIX)
        self.state_dir = os.path.abspath(state or env.get("JVB_LAB_STATE")
                                         or "/run/jvb-join-lab" + _SUFFIX)
        self.hosts_dir = os.path.abspath(hosts or env.get("JVB_LAB_HOSTS")
                                         or "/var/lib/jvb-join-lab/hosts" + _SUFFIX)
        self.port = int(port or env.get("JVB_LAB_PORT") or 8765 + INSTANCE)
        if INSTANCE and not os.path.exists(self.cache) and os.path.isdir(DEFAULT_CACHE):
            # a copy, not links: repositories and keyrings are rewritten in place
            log("seeding %s from %s" % (self.cache, DEFAULT_CACHE))
            _run(["cp", "-a", "--reflink=auto", DEFAULT_CACHE, self.cache + ".tmp"])
            os.rename(self.cache + ".tmp", self.cache)
        self.root = REPO_ROOT
        self.keys_dir = os.path.join(self.cache, "keys")
        self.gnupg = os.path.join(self.keys_dir, "gnupg")
        self.www = os.path.join(self.cache, "www")
        self.lock_path = self.state_dir + ".lock"
        self.arch = _run(["dpkg", "--print-architecture"]).stdout.strip()
        self._lock_depth = 0
        self._lock_fd = None

    # ------------------------------------------------------------------ locking and state
    def _lock(self):
        lab = self

        class _L(object):
            def __enter__(self):
                lab._lock_depth += 1
                if lab._lock_depth == 1:
                    os.makedirs(os.path.dirname(lab.lock_path), exist_ok=True)
                    lab._lock_fd = os.open(lab.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                    fcntl.flock(lab._lock_fd, fcntl.LOCK_EX)
                return self

            def __exit__(self, *a):
                lab._lock_depth -= 1
                if lab._lock_depth == 0:
                    fcntl.flock(lab._lock_fd, fcntl.LOCK_UN)
                    os.close(lab._lock_fd)
        return _L()

    def _load(self):
        try:
            with open(os.path.join(self.state_dir, "state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"hosts": {}}

    def _save(self, st):
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        path = os.path.join(self.state_dir, "state.json")
        with open(path + ".tmp", "w") as f:
            json.dump(st, f, indent=1, sort_keys=True)
        os.rename(path + ".tmp", path)

    # ------------------------------------------------------------------ keys
    def _gpg(self, *args, **kw):
        return _run(["gpg", "--batch", "--homedir", self.gnupg, "--no-tty"] + list(args), **kw)

    def _gpg_stop(self):
        if os.path.isdir(self.gnupg):
            _run(["gpgconf", "--homedir", self.gnupg, "--kill", "all"], check=False)

    def ensure_keys(self):
        """The lab's GPG keys (archive: Debian mirror and jvb-join repo; jitsi: jitsi repo) and the
        lab's root SSH key pair, made once and kept in the cache dir (mode 0700)."""
        os.makedirs(self.keys_dir, mode=0o700, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        fpr_file = os.path.join(self.keys_dir, "fingerprints.json")
        fprs = {}
        if os.path.exists(fpr_file) and os.path.isdir(self.gnupg):
            with open(fpr_file) as f:
                fprs = json.load(f)
        missing = [(role, uid) for role, uid in KEY_ROLES if role not in fprs]
        if missing:
            if not fprs:
                shutil.rmtree(self.gnupg, ignore_errors=True)
            os.makedirs(self.gnupg, mode=0o700, exist_ok=True)
            try:
                for role, uid in missing:
                    log("making the lab %s signing key" % role)
                    self._gpg("--pinentry-mode", "loopback", "--passphrase", "",
                              "--quick-gen-key", uid, "rsa3072", "sign", "never")
                    out = self._gpg("--with-colons", "--list-secret-keys", uid).stdout
                    fprs[role] = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
                    pub = subprocess.run(["gpg", "--batch", "--homedir", self.gnupg, "--export",
                                          fprs[role]], stdout=subprocess.PIPE, check=True).stdout
                    with open(os.path.join(self.keys_dir, "%s.gpg" % role), "wb") as f:
                        f.write(pub)
            finally:
                self._gpg_stop()
            with open(fpr_file + ".tmp", "w") as f:
                json.dump(fprs, f)
            os.rename(fpr_file + ".tmp", fpr_file)
        ssh_key = os.path.join(self.keys_dir, "id_ed25519")
        if not os.path.exists(ssh_key):
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@lab.test", "-f", ssh_key])
        with open(fpr_file) as f:
            return json.load(f)

    # ------------------------------------------------------------------ base image
    def image_path(self, release):
        key = _sha(IMAGE_VERSION, release, " ".join(BASE_INCLUDE))
        return os.path.join(self.cache, "images", "%s-%s" % (release, key))

    def ensure_image(self, release=DEFAULT_RELEASE):
        """Return the root of the cached base image for release, building it if needed."""
        if release not in RELEASES:
            raise LabError("unknown release %r (known: %s)" % (release, ", ".join(RELEASES)))
        d = self.image_path(release)
        rootfs = os.path.join(d, "rootfs")
        if os.path.exists(os.path.join(d, "complete")):
            return rootfs
        tmp = d + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        logfile = os.path.join(tmp, "debootstrap.log")
        log("debootstrap %s into %s (about a minute; full log: %s)" % (release, d, logfile))
        t0 = time.time()
        count = [0]

        def show(line):
            if line.startswith(("E:", "W:")):
                return True
            if line.startswith("I: Retrieving ") and " " in line[14:]:
                count[0] += 1
                if count[0] % 50 == 0:
                    return "debootstrap: %d packages retrieved" % count[0]
                return False
            if re.match(r"^I: (Configuring|Unpacking|Extracting|Validating|Retrieving) \S+\.\.\.$", line):
                return False
            return line.endswith("...") or "successfully" in line
        rc = _stream(["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_INCLUDE),
                      release, os.path.join(tmp, "rootfs"), DEBIAN_MIRROR], logfile, show)
        if rc != 0:
            raise LabError("debootstrap %s failed (exit %d); see %s" % (release, rc, logfile))
        self._configure_image(os.path.join(tmp, "rootfs"))
        open(os.path.join(tmp, "complete"), "w").close()
        shutil.rmtree(d, ignore_errors=True)
        os.rename(tmp, d)
        log("image %s ready in %.0f s" % (release, time.time() - t0))
        return rootfs

    def _configure_image(self, rootfs):
        for f in glob.glob(os.path.join(rootfs, "etc/ssh/ssh_host_*")):
            os.unlink(f)
        for f in [os.path.join(rootfs, "etc/apt/sources.list")] + \
                glob.glob(os.path.join(rootfs, "etc/apt/sources.list.d/*")):
            if os.path.lexists(f):
                os.unlink(f)
        for f in glob.glob(os.path.join(rootfs, "var/lib/apt/lists/*")):
            if os.path.isfile(f):
                os.unlink(f)
        for f in glob.glob(os.path.join(rootfs, "var/cache/apt/archives/*.deb")):
            os.unlink(f)
        _put(rootfs, "etc/machine-id", "")
        os.makedirs(os.path.join(rootfs, "root/.ssh"), mode=0o700, exist_ok=True)
        os.makedirs(os.path.join(rootfs, "etc/apt/keyrings"), mode=0o755, exist_ok=True)
        # units that only make sense on real hardware or with a console
        for unit in ("getty@tty1.service", "console-getty.service", "systemd-networkd-wait-online.service"):
            link = os.path.join(rootfs, "etc/systemd/system", unit)
            if not os.path.lexists(link):
                os.symlink("/dev/null", link)

    # ------------------------------------------------------------------ lab .debs and repos
    def collect_lab_debs(self):
        """Copy build/*.deb and a fresh stand-ins build into the cache; return (jvbjoin, jitsi)."""
        out = os.path.join(self.cache, "labdebs")
        shutil.rmtree(out, ignore_errors=True)
        jvb = os.path.join(out, "jvb-join")
        jitsi = os.path.join(out, "jitsi")
        os.makedirs(jvb)
        os.makedirs(jitsi)
        for deb in sorted(glob.glob(os.path.join(self.root, "build", "*.deb"))):
            shutil.copy(deb, jvb)
        if not os.listdir(jvb):
            log("no jvb-join .deb in build/ (run `make deb`): the jvb-join repository stays empty")
        builder = os.path.join(self.root, "tests", "lab", "standins", "build")
        if os.access(builder, os.X_OK):
            p = _run([builder, jitsi], check=False)
            if p.returncode != 0:
                log("tests/lab/standins/build failed (exit %d): %s" % (p.returncode, p.stderr.strip()[-800:]))
        else:
            log("tests/lab/standins/build not found: the jitsi repository stays empty")
        adoptium = os.path.join(out, "adoptium")
        os.makedirs(adoptium)
        for deb in glob.glob(os.path.join(jitsi, "*.deb")):
            if os.path.basename(deb).startswith(ADOPTIUM_PACKAGES):
                shutil.move(deb, adoptium)
        return tuple(sorted(glob.glob(os.path.join(d, "*.deb"))) for d in (jvb, jitsi, adoptium))

    def _reprepro_conf(self, base, dists):
        os.makedirs(os.path.join(base, "conf"), exist_ok=True)
        text = []
        for d in dists:
            text.append("\n".join("%s: %s" % kv for kv in d) + "\n")
        with open(os.path.join(base, "conf", "distributions"), "w") as f:
            f.write("\n".join(text))

    def _reprepro(self, base, outdir, *args, **kw):
        env = dict(os.environ, GNUPGHOME=self.gnupg)
        return _run(["reprepro", "-b", base, "--outdir", outdir] + list(args), env=env, **kw)

    def _fill_repo(self, name, codenames, fpr, debs, label):
        base = os.path.join(self.cache, "repos", name)
        out = os.path.join(self.www, name)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        codenames = [codenames] if isinstance(codenames, str) else list(codenames)
        self._reprepro_conf(base, [[("Origin", "jvb-join lab"), ("Label", label),
                                    ("Suite", c), ("Codename", c),
                                    ("Architectures", self.arch), ("Components", "main"),
                                    ("Description", label), ("SignWith", fpr)] for c in codenames])
        for deb in debs:
            fields = _run(["dpkg-deb", "-f", deb, "Section", "Priority"]).stdout
            extra = []
            if "Section:" not in fields:
                extra += ["-S", "misc"]
            if "Priority:" not in fields:
                extra += ["-P", "optional"]
            for codename in codenames:
                self._reprepro(base, out, "--export=never", *(extra + ["includedeb", codename, deb]))
        self._reprepro(base, out, "export", *codenames)

    def _jvb_join_repo(self, debs, fpr):
        """The jvb-join repository is what `make repo` builds (scripts/repo), signed with the lab's
        archive key as the publisher's key: jvb-join and Debian's python3-dbus-next (fetched once,
        kept in the cache), with the deb822 source and key file hosts get."""
        out = os.path.join(self.www, "jvb-join")
        if not debs:
            self._fill_repo("jvb-join", "stable", fpr, debs, "jvb-join lab packages")
            return
        argv = [os.path.join(self.root, "scripts", "repo"), "--out", out,
                "--db", os.path.join(self.cache, "repos", "jvb-join"), "--key", fpr,
                "--gnupghome", self.gnupg, "--url", self.repo_url + "/jvb-join",
                "--cache", os.path.join(self.cache, "repo-cache")]
        for deb in debs:
            argv += ["--deb", deb]
        p = _run(argv, check=False)
        if p.returncode != 0:
            raise LabError("scripts/repo failed (exit %d): %s" % (p.returncode, p.stderr.strip()[-1500:]))

    def refresh_repos(self, mirror=True):
        """Rebuild the jvb-join and jitsi repositories from build/*.deb and the stand-ins."""
        with self._lock():
            return self._refresh_repos(mirror)

    def _refresh_repos(self, mirror):
        t0 = time.time()
        fprs = self.ensure_keys()
        jvb, jitsi, adoptium = self.collect_lab_debs()
        try:
            self._jvb_join_repo(jvb, fprs["archive"])
            self._fill_repo("jitsi", "stable", fprs["jitsi"], jitsi, "Jitsi lab stand-ins")
            self._fill_repo("adoptium", ADOPTIUM_SUITES, fprs["adoptium"], adoptium, "Adoptium lab stand-ins")
        finally:
            self._gpg_stop()
        keys = os.path.join(self.www, "keys")
        os.makedirs(keys, exist_ok=True)
        for role in ("archive", "jitsi", "adoptium"):
            shutil.copy(os.path.join(self.keys_dir, "%s.gpg" % role), keys)
        log("repositories: jvb-join %d .deb(s), jitsi %d stand-in(s), adoptium %d (%.1f s)"
            % (len(jvb), len(jitsi), len(adoptium), time.time() - t0))
        if mirror:
            for release in RELEASES:
                if os.path.exists(os.path.join(self.image_path(release), "complete")):
                    self.ensure_mirror(release)
        return jvb, jitsi

    def _lab_debs(self):
        return sorted(glob.glob(os.path.join(self.cache, "labdebs", "*", "*.deb")))

    def _mirror_key(self, release, debs, names):
        parts = [IMAGE_VERSION, self.image_path(release)] + names
        for deb in debs:
            parts.append(_run(["dpkg-deb", "-f", deb, "Package", "Depends", "Pre-Depends",
                               "Recommends"]).stdout)
        return _sha(*parts)

    def mirror_stale(self, release):
        names = read_packages_list(os.path.join(self.root, "tests", "lab", "packages.list"))
        key = self._mirror_key(release, self._lab_debs(), names)
        stamp = os.path.join(self.cache, "mirror-%s.key" % release)
        try:
            with open(stamp) as f:
                return f.read().strip() != key
        except OSError:
            return True

    def ensure_mirror(self, release=DEFAULT_RELEASE):
        """Download (in the image chroot, which has the host's network) every Debian package the
        lab .debs and packages.list need, and publish them as the signed lab Debian mirror."""
        rootfs = self.ensure_image(release)
        names = read_packages_list(os.path.join(self.root, "tests", "lab", "packages.list"))
        debs = self._lab_debs()
        key = self._mirror_key(release, debs, names)
        stamp = os.path.join(self.cache, "mirror-%s.key" % release)
        if os.path.exists(stamp) and open(stamp).read().strip() == key and \
                os.path.exists(os.path.join(self.www, "debian", "dists", release, "InRelease")):
            return
        t0 = time.time()
        archive = os.path.join(self.cache, "debs", release)
        os.makedirs(os.path.join(archive, "partial"), exist_ok=True)
        labnames = [_run(["dpkg-deb", "-f", d, "Package"]).stdout.strip() for d in debs]
        logfile = os.path.join(self.cache, "download-%s.log" % release)
        open(logfile, "w").close()
        sources = os.path.join(rootfs, "etc/apt/sources.list")
        try:
            # the lab repos as file: sources, so stand-ins that depend on each other resolve
            with open(sources, "w") as f:
                f.write("deb %s %s main\n" % (DEBIAN_MIRROR, release))
                for repo, role, suite in (("jvb-join", "archive", "stable"), ("jitsi", "jitsi", "stable"),
                                          ("adoptium", "adoptium", release)):
                    if os.path.exists(os.path.join(self.www, repo, "dists", suite, "Release")):
                        f.write("deb [signed-by=/tmp/lab-www/keys/%s.gpg] file:/tmp/lab-www/%s "
                                "%s main\n" % (role, repo, suite))

            def chroot(cmd, show=lambda l: l.startswith(("E:", "W:"))):
                return _stream(["systemd-nspawn", "-q", "-D", rootfs, "--register=no", "--keep-unit",
                                "--resolv-conf=copy-host", "--timezone=off",
                                "--bind=%s:/var/cache/apt/archives" % archive,
                                "--bind-ro=%s:/tmp/lab-www" % self.www,
                                "--setenv=DEBIAN_FRONTEND=noninteractive",
                                "/bin/sh", "-c", cmd], logfile, show)
            log("mirror %s: apt-get update in the image chroot" % release)
            if chroot("apt-get update -q") != 0:
                raise LabError("apt-get update in the %s chroot failed; see %s" % (release, logfile))
            p = _run(["systemd-nspawn", "-q", "-D", rootfs, "--register=no", "--keep-unit",
                      "apt-cache", "policy"] + names, check=False)
            have, cur = set(), None
            for line in p.stdout.splitlines():
                if line and not line.startswith(" ") and line.endswith(":"):
                    cur = line[:-1]
                elif cur and line.strip().startswith("Candidate:") and "(none)" not in line:
                    have.add(cur)
            missing = [n for n in names if n not in have]
            if missing:
                log("mirror %s: not in this release, skipped: %s" % (release, " ".join(missing)))
            names = [n for n in names if n in have]
            local = labnames
            got = [0]

            def show(line):
                if line.startswith(("E:", "W:", "Need to get")):
                    return True
                if line.startswith("Get:"):
                    got[0] += 1
                    if got[0] % 50 == 0:
                        return "mirror %s: %d packages downloaded" % (release, got[0])
                return False
            dl = "apt-get install -q -y --download-only -o Dpkg::Use-Pty=0 "
            log("mirror %s: downloading the closure of %d lab .deb(s) and %d listed packages"
                % (release, len(local), len(names)))
            if chroot(dl + " ".join(local + names), show) != 0:
                log("mirror %s: all at once failed; trying the lab .debs, then each listed package"
                    % release)
                if local and chroot(dl + " ".join(local), show) != 0:
                    for d in local:
                        if chroot(dl + d, show) != 0:
                            log("mirror %s: WARNING: dependencies of lab package %s cannot be "
                                "resolved on %s" % (release, d, release))
                for n in names:
                    if chroot(dl + n, lambda l: False) != 0:
                        log("mirror %s: WARNING: %s cannot be downloaded" % (release, n))
        finally:
            if os.path.exists(sources):
                os.unlink(sources)
            for f in glob.glob(os.path.join(rootfs, "var/lib/apt/lists/*")):
                if os.path.isfile(f):
                    os.unlink(f)
        self._publish_mirror(release, archive, set(labnames))
        with open(stamp, "w") as f:
            f.write(key + "\n")
        log("mirror %s ready in %.0f s" % (release, time.time() - t0))

    def _publish_mirror(self, release, archive, exclude=()):
        fprs = self.ensure_keys()
        base = os.path.join(self.cache, "repos", "debian")
        out = os.path.join(self.www, "debian")
        # the newest version of each package in the archive dir
        best = {}
        for deb in sorted(glob.glob(os.path.join(archive, "*.deb"))):
            name, ver = os.path.basename(deb).split("_")[:2]
            if name in exclude:
                continue
            if name in best:
                old = os.path.basename(best[name]).split("_")[1]
                if _run(["dpkg", "--compare-versions", ver.replace("%3a", ":"), "le",
                         old.replace("%3a", ":")], check=False).returncode == 0:
                    continue
            best[name] = deb
        releases = sorted(set([release] + [os.path.basename(p) for p in
                                           glob.glob(os.path.join(self.cache, "debs", "*"))]))
        self._reprepro_conf(base, [[("Origin", "jvb-join lab"), ("Label", "Debian (lab mirror)"),
                                    ("Suite", r), ("Codename", r), ("Architectures", self.arch),
                                    ("Components", "main"),
                                    ("Description", "offline Debian %s subset for the lab" % r),
                                    ("SignWith", fprs["archive"])] for r in releases])
        log("mirror %s: publishing %d packages with reprepro" % (release, len(best)))
        try:
            self._reprepro(base, out, "--export=never", "removefilter", release, "Package", check=False)
            self._reprepro(base, out, "--export=never", "deleteunreferenced", check=False)
            for deb in best.values():
                self._reprepro(base, out, "--export=never", "includedeb", release, deb)
            self._reprepro(base, out, "export", release)
        finally:
            self._gpg_stop()

    def prepare(self, releases=(DEFAULT_RELEASE,), refresh=True):
        """Everything a lab run needs: keys, image(s), lab repos, Debian mirror(s)."""
        with self._lock():
            self._prepare(releases, refresh)

    def _prepare(self, releases, refresh):
        self.ensure_keys()
        if refresh or not os.path.exists(os.path.join(self.www, "jitsi", "dists")):
            self.refresh_repos(mirror=False)
        for release in releases:
            self.ensure_image(release)
            self.ensure_mirror(release)

    # ------------------------------------------------------------------ network and HTTP
    def _ensure_bridge(self):
        if _run(["ip", "link", "show", BRIDGE], check=False).returncode != 0:
            _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        addrs = _run(["ip", "-4", "addr", "show", "dev", BRIDGE]).stdout
        if HOST_IP + "/" not in addrs:
            _run(["ip", "addr", "add", "%s/%d" % (HOST_IP, PREFIX), "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])

    def _http_pid(self):
        try:
            with open(os.path.join(self.state_dir, "http.pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return None
        return pid if self._is_our_http(pid) else None

    def _is_our_http(self, pid):
        cl = _cmdline(pid)
        return "http.server" in cl and self.www in cl

    def _ensure_http(self):
        if self._http_pid():
            return
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        os.makedirs(self.www, exist_ok=True)
        with open(os.path.join(self.state_dir, "http.log"), "ab") as lf:
            p = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", HOST_IP,
                                  "--directory", self.www, str(self.port)],
                                 stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                 start_new_session=True, cwd="/")
        with open(os.path.join(self.state_dir, "http.pid"), "w") as f:
            f.write(str(p.pid))
        for _ in range(100):
            try:
                socket.create_connection((HOST_IP, self.port), timeout=0.2).close()
                return
            except OSError:
                if p.poll() is not None:
                    raise LabError("the lab HTTP server exited (port %d busy?); see %s"
                                   % (self.port, os.path.join(self.state_dir, "http.log")))
                time.sleep(0.05)
        raise LabError("the lab HTTP server does not answer on %s:%d" % (HOST_IP, self.port))

    @property
    def repo_url(self):
        return "http://%s:%d" % (HOST_IP, self.port)

    # ------------------------------------------------------------------ hosts
    def _hosts_file(self, st):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 "%s\trepo.lab.test" % HOST_IP]
        for name in sorted(st["hosts"], key=lambda n: int(st["hosts"][n]["ip"].split(".")[-1])):
            extra = HOST_ALIASES.get(name, ())
            lines.append("%s\t%s" % (st["hosts"][name]["ip"], " ".join((name + ".lab.test", name) + extra)))
        return "\n".join(lines) + "\n"

    def _write_host_files(self, name, h, st):
        m = h["merged"]
        fprs = self.ensure_keys()
        _put(m, "etc/hostname", name + "\n")
        _put(m, "etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
        _put(m, "etc/hosts", self._hosts_file(st))
        with open(os.path.join(self.keys_dir, "archive.gpg"), "rb") as f:
            _put(m, KEYRING_IN_HOST.lstrip("/"), f.read())
        with open(os.path.join(self.keys_dir, "jitsi.gpg"), "rb") as f:
            _put(m, "root/lab/jitsi-repo.gpg", f.read())
        _put(m, "root/lab/jitsi-repo.url", self.repo_url + "/jitsi\n")
        _put(m, "root/lab/jitsi-repo.fingerprint", fprs["jitsi"] + "\n")
        with open(os.path.join(self.keys_dir, "adoptium.gpg"), "rb") as f:
            _put(m, "root/lab/adoptium-repo.gpg", f.read())
        _put(m, "root/lab/adoptium-repo.url", self.repo_url + "/adoptium\n")
        src = ("Types: deb\nURIs: %s/%s\nSuites: %s\nComponents: main\nSigned-By: %s\n")
        _put(m, "etc/apt/sources.list.d/lab-debian.sources",
             src % (self.repo_url, "debian", h["release"], KEYRING_IN_HOST))
        # the jvb-join repository's own deb822 source and key, as `make repo` writes them
        repo = os.path.join(self.www, "jvb-join")
        if os.path.exists(os.path.join(repo, "jvb-join.sources")):
            with open(os.path.join(repo, "jvb-join.sources")) as f:
                source = f.read()
            with open(os.path.join(repo, "jvb-join.asc")) as f:
                key = f.read()
            _put(m, source.split("Signed-By: ", 1)[1].strip().lstrip("/"), key)
            _put(m, "etc/apt/sources.list.d/jvb-join.sources", source)
        else:
            _put(m, "etc/apt/sources.list.d/jvb-join.sources",
                 src % (self.repo_url, "jvb-join", "stable", KEYRING_IN_HOST))
        for rel in ("root/.ssh",):
            os.makedirs(_safe_path(m, rel), mode=0o700, exist_ok=True)
        with open(os.path.join(self.keys_dir, "id_ed25519.pub")) as f:
            pub = f.read()
        with open(os.path.join(self.keys_dir, "id_ed25519")) as f:
            _put(m, "root/.ssh/id_ed25519", f.read(), 0o600)
        _put(m, "root/.ssh/id_ed25519.pub", pub)
        _put(m, "root/.ssh/authorized_keys", pub, 0o600)
        _put(m, "root/.ssh/config", "Host *\n  StrictHostKeyChecking accept-new\n  BatchMode yes\n", 0o600)
        if not glob.glob(os.path.join(m, "etc/ssh/ssh_host_*_key")):
            _run(["chroot", m, "ssh-keygen", "-A"])

    def _alloc_ip(self, st):
        used = set(h["ip"] for h in st["hosts"].values())
        for n in range(11, 250):
            ip = "%s.%d" % (NET, n)
            if ip not in used:
                return ip
        raise LabError("no free lab address")

    def up(self, *names, **kw):
        """Boot bare hosts (those not yet running); wait until systemd says running/degraded."""
        release = kw.get("release") or DEFAULT_RELEASE
        timeout = kw.get("timeout", 120)
        for n in names:
            if not NAME_RE.match(n):
                raise LabError("bad host name %r (lower case letters, digits, '-', at most 12)" % n)
        t0 = time.time()
        with self._lock():
            if not os.path.exists(os.path.join(self.www, "jitsi", "dists")):
                self.refresh_repos(mirror=False)
            rootfs = self.ensure_image(release)
            self.ensure_mirror(release)
            self._ensure_bridge()
            self._ensure_http()
            st = self._load()
            self._check_inotify(sum(1 for n in names if not (st["hosts"].get(n) and
                                                              self._running(st["hosts"][n]))))
            booting = []
            for n in names:
                h = st["hosts"].get(n)
                if h and self._running(h):
                    log("%s is already up (%s)" % (n, h["ip"]))
                    continue
                if not h:
                    hd = os.path.join(self.hosts_dir, n)
                    h = {"ip": self._alloc_ip(st), "release": release, "dir": hd,
                         "merged": os.path.join(hd, "merged"), "image": rootfs}
                    st["hosts"][n] = h
                    self._mount(h)
                    self._save(st)
                    self._write_host_files(n, h, st)
                self._boot(n, h)
                self._save(st)
                booting.append(n)
            # hosts already running learn the new ones by name (their /etc/hosts was written at boot)
            for n, h in st["hosts"].items():
                if os.path.ismount(h["merged"]):
                    _put(h["merged"], "etc/hosts", self._hosts_file(st))
            for n in booting:
                self._wait(n, st["hosts"][n], timeout)
                self._save(st)
        if booting:
            log("up: %s in %.1f s" % (" ".join(booting), time.time() - t0))

    def clone(self, src, name, timeout=120):
        """Boot a new host from a copy of stopped host src's disk, as a golden image would be
        copied: same files, but its own name, address and machine-id."""
        if not NAME_RE.match(name):
            raise LabError("bad host name %r (lower case letters, digits, '-', at most 12)" % name)
        with self._lock():
            st = self._load()
            s = st["hosts"].get(src)
            if not s:
                raise LabError("no lab host %r" % src)
            if self._running(s):
                raise LabError("stop %s before cloning it (its disk must be at rest)" % src)
            if name in st["hosts"]:
                raise LabError("lab host %r exists already" % name)
            hd = os.path.join(self.hosts_dir, name)
            h = {"ip": self._alloc_ip(st), "release": s["release"], "dir": hd,
                 "merged": os.path.join(hd, "merged"), "image": s["image"]}
            st["hosts"][name] = h
            self._save(st)
            # the overlay's upper layer holds every change made on src (whiteouts and xattrs too)
            self._mount(h, upper_from=os.path.join(s["dir"], "upper"))
            self._write_host_files(name, h, st)
            for n, other in st["hosts"].items():
                if os.path.ismount(other["merged"]):
                    _put(other["merged"], "etc/hosts", self._hosts_file(st))
            self._ensure_bridge()
            self._ensure_http()
            self._boot(name, h)
            self._save(st)
            self._wait(name, h, timeout)
            self._save(st)

    def _mount(self, h, upper_from=None):
        hd = h["dir"]
        if os.path.ismount(h["merged"]):
            return
        shutil.rmtree(hd, ignore_errors=True)
        os.makedirs(hd)
        if upper_from:
            _run(["cp", "-a", "--reflink=auto", upper_from, os.path.join(hd, "upper")])
        for sub in ("upper", "work", "merged"):
            os.makedirs(os.path.join(hd, sub), exist_ok=True)
        _run(["mount", "-t", "overlay", "jvb-join-lab", "-o",
              "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (h["image"], hd, hd), h["merged"]])

    def _running(self, h):
        pid = h.get("nspawn")
        return bool(pid) and _pid_alive(pid) and h["merged"] in _cmdline(pid)

    def _boot(self, name, h):
        console = open(os.path.join(h["dir"], "console.log"), "ab")
        p = subprocess.Popen(["systemd-nspawn", "-q", "-D", h["merged"], "-b", "--register=no",
                              "--keep-unit", "-M", MACHINE_PREFIX + name, "--network-bridge=" + BRIDGE,
                              "--link-journal=no", "--resolv-conf=off", "--timezone=off",
                              "--console=read-only"],
                             stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                             start_new_session=True, cwd="/")
        console.close()
        h["nspawn"] = p.pid
        h["init"] = None
        deadline = time.time() + 30
        while time.time() < deadline:
            if p.poll() is not None:
                raise LabError("systemd-nspawn for %s exited with %d; see %s/console.log"
                               % (name, p.returncode, h["dir"]))
            for c in _children(p.pid):
                if _comm(c) == "systemd":
                    h["init"] = c
                    break
            if h["init"]:
                break
            time.sleep(0.02)
        if not h["init"]:
            raise LabError("%s: no systemd in the container after 30 s" % name)
        # the lab address, set from the host side in the container's network namespace
        ns = ["nsenter", "-t", str(h["init"]), "-n"]
        for _ in range(100):
            if _run(ns + ["ip", "link", "show", "host0"], check=False).returncode == 0:
                break
            time.sleep(0.05)
        _run(ns + ["ip", "addr", "replace", "%s/%d" % (h["ip"], PREFIX), "dev", "host0"])
        _run(ns + ["ip", "link", "set", "host0", "up"])

    def _wait(self, name, h, timeout):
        deadline = time.time() + timeout
        while True:
            rc, out, err = self.exec(name, ["systemctl", "is-system-running", "--wait"],
                                     timeout=max(1, deadline - time.time()))
            state = out.strip()
            # "offline": the manager's private socket is not there yet (just after PID 1 starts) or
            # for a moment (a daemon-reload during boot, e.g. cloud-init installing a package)
            if (state and state != "offline") or time.time() > deadline or not self._running(h):
                break
            time.sleep(0.1)
        if state == "running":
            log("%s: running at %s" % (name, h["ip"]))
        elif state == "degraded":
            rc, failed, _ = self.exec(name, ["systemctl", "--failed", "--plain", "--no-legend"])
            log("%s: degraded at %s; failed units: %s" % (
                name, h["ip"], ", ".join(l.split()[0] for l in failed.splitlines() if l.strip())))
        else:
            raise LabError("%s did not finish booting: %r %s" % (name, state, err.strip()))

    def _host(self, name):
        h = self._load()["hosts"].get(name)
        if not h:
            raise LabError("no lab host %r (see `scripts/lab ls`)" % name)
        return h

    def exec(self, name, argv, input=None, check=False, timeout=None, env=None, text=True,
             capture=True):
        """Run argv inside host name; return (rc, stdout, stderr). input: bytes or str for stdin.
        env: extra variables for the command (passed in the environment, not on a command line)."""
        h = self._host(name)
        if not self._running(h) or not h.get("init"):
            raise LabError("lab host %s is not running" % name)
        e = {"PATH": CONTAINER_PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root",
             "LOGNAME": "root", "TERM": os.environ.get("TERM", "dumb")}
        e.update(env or {})
        cmd = ["nsenter", "-t", str(h["init"]), "-m", "-u", "-i", "-n", "-p", "--"] + list(argv)
        if not capture:
            return subprocess.call(cmd, env=e), None, None
        if isinstance(input, str):
            input = input.encode()
        try:
            p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=e, timeout=timeout,
                               stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as ex:
            raise LabError("%s: %s timed out after %s s" % (name, " ".join(argv), ex.timeout))
        out, err = p.stdout, p.stderr
        if text:
            out, err = out.decode(errors="replace"), err.decode(errors="replace")
        if check and p.returncode != 0:
            raise LabError("%s: %s exited %d: %s" % (name, " ".join(argv), p.returncode,
                                                    (err if text else err.decode(errors="replace"))[-2000:]))
        return p.returncode, out, err

    def ip(self, name):
        return self._host(name)["ip"]

    def hosts(self):
        """{name: {"ip", "release", "running"}} of every lab host."""
        st = self._load()
        return dict((n, {"ip": h["ip"], "release": h["release"], "running": self._running(h)})
                    for n, h in st["hosts"].items())

    def path(self, name, rel="/"):
        """Host-side path of a file in lab host name (its overlay root)."""
        return _safe_path(self._host(name)["merged"], rel)

    def stop(self, name, timeout=30):
        """Power a host off (orderly shutdown); its disk stays for a later start()."""
        with self._lock():
            st = self._load()
            h = st["hosts"].get(name)
            if not h:
                raise LabError("no lab host %r" % name)
            self._poweroff([h], timeout)
            h["nspawn"] = h["init"] = None
            self._save(st)

    def start(self, name, timeout=120):
        with self._lock():
            st = self._load()
            h = st["hosts"].get(name)
            if not h:
                raise LabError("no lab host %r" % name)
            if self._running(h):
                return
            self._ensure_bridge()
            self._ensure_http()
            self._mount(h) if not os.path.ismount(h["merged"]) else None
            self._boot(name, h)
            self._save(st)
            self._wait(name, h, timeout)

    def _poweroff(self, hs, timeout):
        live = [h for h in hs if self._running(h)]
        for h in live:
            os.kill(h["nspawn"], signal.SIGTERM)
        deadline = time.time() + timeout
        for h in live:
            while time.time() < deadline and self._running(h):
                time.sleep(0.05)
            if self._running(h):
                for pid in (h.get("init"), h["nspawn"]):
                    if pid and _pid_alive(pid):
                        os.kill(pid, signal.SIGKILL)
                while _pid_alive(h["nspawn"]) and h["merged"] in _cmdline(h["nspawn"]):
                    time.sleep(0.05)
            try:
                os.waitpid(h["nspawn"], os.WNOHANG)
            except OSError:
                pass

    def _rooted_in_lab(self, pid):
        """True if pid's root is a lab host's overlay (a container process, even one whose
        systemd-nspawn is gone)."""
        try:
            with open("/proc/%d/mountinfo" % pid) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) > 4 and fields[4] == "/":
                        return ("upperdir=%s/" % self.hosts_dir) in line
        except OSError:
            pass
        return False

    def _our_pids(self):
        """Processes that belong to the lab: nspawns on our host dirs, anything rooted there."""
        prefix = self.hosts_dir + "/"
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                root = os.readlink("/proc/%d/root" % pid)
            except OSError:
                root = ""
            cl = _cmdline(pid)
            if self._rooted_in_lab(pid) or root.startswith(prefix) or \
                    (cl and cl[0].endswith("systemd-nspawn") and any(a.startswith(prefix) for a in cl)):
                out.append(pid)
        return out

    def down(self, timeout=10):
        """Stop every lab host, remove their disks, mounts, the bridge, the HTTP server and the
        state. Idempotent; also cleans up after a crashed run."""
        with self._lock():
            st = self._load()
            self._poweroff(list(st["hosts"].values()), timeout)
            for _ in range(3):
                pids = self._our_pids()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.2)
            mounts = []
            with open("/proc/mounts") as f:
                for line in f:
                    mp = line.split()[1].replace("\\040", " ")
                    if mp.startswith(self.hosts_dir + "/"):
                        mounts.append(mp)
            for mp in sorted(mounts, key=len, reverse=True):
                if _run(["umount", mp], check=False).returncode != 0:
                    _run(["umount", "-l", mp], check=False)
            if os.path.isdir(self.hosts_dir):
                for d in os.listdir(self.hosts_dir):
                    shutil.rmtree(os.path.join(self.hosts_dir, d), ignore_errors=True)
            pid = self._http_pid()
            if pid:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    if not _pid_alive(pid):
                        break
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except OSError:
                        pass
                    time.sleep(0.02)
            for d in os.listdir("/proc"):
                if d.isdigit() and self._is_our_http(int(d)):
                    os.kill(int(d), signal.SIGKILL)
            self._gpg_stop()
            if _run(["ip", "link", "show", BRIDGE], check=False).returncode == 0:
                _run(["ip", "link", "del", BRIDGE], check=False)
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self._restore_inotify()
        log("down: lab stopped and removed")

    # ------------------------------------------------------------------ the inotify limit
    def _inotify_lock(self):
        fd = os.open(INOTIFY_RECORD + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _check_inotify(self, new_hosts):
        """Before booting: enough inotify instances for ``new_hosts`` more hosts (harness/inotify.py)."""
        if not new_hosts:
            return
        fd = self._inotify_lock()
        try:
            limit = inotify.read_limit()
            decision = inotify.plan_up(limit, inotify.root_instances(), new_hosts, inotify.can_write())
            if decision.action == "ask":
                raise LabError(decision.message)
            if decision.action == "raise":
                log(decision.message)
                record = inotify.plan_record(inotify.load_record(INOTIFY_RECORD), limit, decision.value)
                inotify.write_limit(decision.value)
                inotify.save_record(INOTIFY_RECORD, record)
        finally:
            os.close(fd)

    def _other_labs_up(self):
        for n in range(10):
            if n == INSTANCE:
                continue
            state = os.path.join("/run/jvb-join-lab" + ("-%d" % n if n else ""), "state.json")
            try:
                with open(state) as f:
                    if json.load(f).get("hosts"):
                        return True
            except (OSError, ValueError):
                continue
        return False

    def _restore_inotify(self):
        fd = self._inotify_lock()
        try:
            record = inotify.load_record(INOTIFY_RECORD)
            if record is None or self._other_labs_up():
                return
            value = inotify.plan_down(record, inotify.read_limit(), False)
            if value is not None:
                log("putting fs.inotify.max_user_instances back to %d" % value)
                inotify.write_limit(value)
            inotify.save_record(INOTIFY_RECORD, None)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ logs and evidence
    def logs(self, name):
        rc, out, err = self.exec(name, ["sh", "-c", "journalctl --no-pager -o short-iso; "
                                        "for f in /var/log/jitsi/*; do [ -f \"$f\" ] || continue; "
                                        "echo \"==> $f <==\"; cat \"$f\"; done"])
        return out

    def evidence(self, name, outdir):
        """Save what explains a host's state into outdir (mode 0700: configs hold secrets)."""
        h = self._host(name)
        os.makedirs(outdir, mode=0o700, exist_ok=True)
        os.chmod(outdir, 0o700)
        running = self._running(h)
        cmds = [("journal.txt", "journalctl --no-pager -o short-precise"),
                ("systemctl-failed.txt", "systemctl --failed --no-pager"),
                ("systemctl-units.txt", "systemctl list-units --all --no-pager"),
                ("ufw-status.txt", "ufw status verbose"),
                ("iptables-save.txt", "iptables-save"),
                ("ip-addr.txt", "ip addr; ip route"),
                ("ss.txt", "ss -tulpn"),
                ("ps.txt", "ps auxf"),
                ("dpkg-l.txt", "dpkg -l"),
                ("apt-sources.txt", "grep -r . /etc/apt/sources.list /etc/apt/sources.list.d")]
        if running:
            for fname, cmd in cmds:
                try:
                    rc, out, err = self.exec(name, ["sh", "-c", cmd], timeout=60)
                except LabError as e:
                    rc, out, err = -1, "", str(e)
                with open(os.path.join(outdir, fname), "w") as f:
                    f.write(out + (("\n--- stderr (exit %d) ---\n%s" % (rc, err)) if rc or err else ""))
        else:
            with open(os.path.join(outdir, "NOT-RUNNING"), "w") as f:
                f.write("%s was not running; only files were collected\n" % name)
        m = h["merged"]
        for rel in ("var/log", "etc/jitsi", "etc/prosody", "etc/nginx/sites-enabled",
                    "etc/apt/sources.list.d", "etc/hosts"):
            src = os.path.join(m, rel)
            if not os.path.lexists(src):
                continue
            dst = os.path.join(outdir, "files", rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.isdir(src) and not os.path.islink(src):
                shutil.copytree(src, dst, symlinks=True, ignore_dangling_symlinks=True,
                                ignore=shutil.ignore_patterns("journal"))
            else:
                shutil.copy2(src, dst, follow_symlinks=False)
        for f in ("console.log",):
            if os.path.exists(os.path.join(h["dir"], f)):
                shutil.copy(os.path.join(h["dir"], f), outdir)
        return outdir
