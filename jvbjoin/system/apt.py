"""apt and dpkg as jvb-join uses them: installed packages, the dpkg lock and who holds it, apt-get."""

import logging
import os
import time

from jvbjoin.errors import (
    CommandError, DpkgInterruptedError, HeldPackageError, JvbJoinError, LockTimeoutError, UnreachableError)
from jvbjoin.system.run import run, run_streaming

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 300


class PackageState:
    """One package as dpkg's status file has it: ``Status: want flag status`` and the version."""

    __slots__ = ("name", "want", "flag", "status", "version")

    def __init__(self, name, status, version):
        words = status.split()
        self.name = name
        self.want, self.flag, self.status = (words + ["", "", ""])[:3]
        self.version = version

    @property
    def installed(self):
        # The third word is dpkg's own state; the first is only what the admin wants (a package
        # pinned with 'apt-mark hold' is "hold ok installed", and just as installed).
        return self.status == "installed"

    @property
    def held(self):
        return self.want == "hold"

    @property
    def torn(self):
        """Its unpacking was cut: 'dpkg --configure -a' leaves it so, only unpacking it again repairs it."""
        return self.status == "half-installed" or self.flag == "reinstreq"

    @property
    def unfinished(self):
        """Unpacked, or half way through being installed, configured or removed (``dpkg --audit``)."""
        return self.status in UNFINISHED or self.flag == "reinstreq"


# dpkg states a package is left in when a dpkg run stopped before it was configured
UNFINISHED = ("half-installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending")


def package_states(paths):
    """``{package: PackageState}`` of every package dpkg's status file lists (the one reader of it)."""
    from debian.deb822 import Deb822
    states = {}
    try:
        with open(paths.dpkg_status, encoding="utf-8", errors="replace") as handle:
            for paragraph in Deb822.iter_paragraphs(handle, fields=["Package", "Status", "Version"],
                                                    use_apt_pkg=False):
                name = paragraph.get("Package")
                if name:
                    states[name] = PackageState(name, paragraph.get("Status", ""), paragraph.get("Version", ""))
    except FileNotFoundError:
        pass
    return states


def installed_packages(paths):
    """``{package: version}`` of every package dpkg has fully installed, held ones included."""
    return {name: state.version for name, state in package_states(paths).items() if state.installed}


def dpkg_interrupted(paths):
    """True when a previous dpkg run stopped half way (pending journal in /var/lib/dpkg/updates)."""
    try:
        return any(name.isdigit() for name in os.listdir(paths.dpkg_updates))
    except FileNotFoundError:
        return False


def _inode(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, os.major(st.st_dev), os.minor(st.st_dev)


def lock_holders(paths, proc="/proc"):
    """Processes holding the dpkg/apt locks, as ``[(pid, command name)]``, from /proc/locks."""
    wanted = {}
    for path in paths.dpkg_locks:
        ident = _inode(path)
        if ident:
            wanted[ident] = path
    if not wanted:
        return []
    holders = []
    try:
        with open(os.path.join(proc, "locks")) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; blocked waiters have "->" in front
        if "->" in parts or len(parts) < 6:
            continue
        try:
            pid = int(parts[4])
            major, minor, inode = parts[5].split(":")
            ident = (int(inode), int(major, 16), int(minor, 16))
        except ValueError:
            continue
        if ident in wanted:
            try:
                with open(os.path.join(proc, str(pid), "comm")) as handle:
                    name = handle.read().strip()
            except OSError:
                name = "?"
            if (pid, name) not in holders:
                holders.append((pid, name))
    return holders


def wait_for_lock(paths, timeout, progress, sleep=time.sleep, clock=time.monotonic):
    """Wait until nobody holds the dpkg lock; name the holder while waiting; exit 75 after ``timeout``."""
    started = clock()
    announced = None
    while True:
        holders = [(pid, name) for pid, name in lock_holders(paths) if pid != os.getpid()]
        if not holders:
            return
        waited = clock() - started
        names = ", ".join("{} (pid {})".format(name, pid) for pid, name in holders)
        if waited >= timeout:
            raise LockTimeoutError(
                "The dpkg lock is still held by {} after {:.0f} s.".format(names, waited),
                "Nothing was changed. Wait for it to finish (first boot runs unattended-upgrades) "
                "and run jvb-join again, or raise --lock-timeout.")
        if announced != names or int(waited) % 30 == 0:
            progress("waiting for the dpkg lock, held by {} ({:.0f} s of {} s)".format(names, waited, timeout))
            announced = names
        sleep(1)


class AptProgress:
    """Turns apt-get's output into a few progress lines: what is being fetched, unpacked, set up."""

    PREFIXES = ("Get:", "Unpacking ", "Setting up ", "Removing ", "Purging ")

    def __init__(self, progress):
        self.progress = progress

    def __call__(self, line):
        if line.startswith(self.PREFIXES):
            self.progress("  " + line.strip()[:100])


# What apt says when a repository is unsigned, signed by another key, or its files do not match
# the signed index (tampered, or a mirror caught half way through an update).
UNTRUSTED = ("NO_PUBKEY", "BADSIG", "EXPKEYSIG", "is not signed", "not signed", "no longer signed", "Hash Sum mismatch",
             "File has unexpected size", "signatures were invalid", "Signed file isn't valid")


def apt_get(args, progress, lock_timeout=DEFAULT_LOCK_TIMEOUT, timeout=1800):
    """Run apt-get non-interactively, waiting for the lock and retrying downloads."""
    argv = ["apt-get", "-q", "-y",
            "-o", "DPkg::Lock::Timeout={}".format(int(lock_timeout)),
            "-o", "Acquire::Retries=3",
            "-o", "Dpkg::Options::=--force-confdef",
            "-o", "Dpkg::Options::=--force-confold",
            "-o", "Dpkg::Use-Pty=0"] + list(args)
    try:
        return run_streaming(argv, AptProgress(progress), timeout=timeout)
    except CommandError as err:
        text = err.output
        if "Could not get lock" in text or "Unable to acquire the dpkg frontend lock" in text:
            raise LockTimeoutError("apt-get could not get the dpkg lock within {} s.".format(lock_timeout)) from None
        # Checked before the network errors: a tampered file is also reported as "Failed to fetch",
        # and retrying would only fetch the same tampered file again.
        if any(s in text for s in UNTRUSTED):
            raise JvbJoinError("A package repository's signature or checksums could not be verified: {}".format(
                _last_error(text)),
                "Check the repository key given to jvb-join; jvb-join never installs unsigned packages.") from None
        if any(s in text for s in ("Failed to fetch", "Temporary failure resolving", "Could not connect",
                                   "Connection failed", "Unable to connect")):
            raise UnreachableError(
                "A package repository could not be reached: {}".format(_last_error(text)),
                "Check the host's network and apt sources, then run jvb-join again.") from None
        if "Unable to locate package" in text or "has no installation candidate" in text:
            raise PackageNotFound("apt-get {} failed: {}".format(args[0], _last_error(text)),
                                  "Check the Jitsi repository given to jvb-join and run it again.") from None
        raise JvbJoinError("apt-get {} failed: {}".format(args[0], _last_error(text)),
                           "See 'apt-get {}' output above or in /var/log/apt/term.log.".format(args[0])) from None


class PackageNotFound(JvbJoinError):
    """apt knows no such package (or no candidate for it) in its lists."""

    error_id = "package-not-found"


def fetch_failures(output):
    """The lines in which apt-get update said a list could not be downloaded (it exits 0 then)."""
    return [line.strip() for line in output.splitlines()
            if line.startswith(("W: Failed to fetch", "E: Failed to fetch", "W: Some index files failed"))]


def _last_error(text):
    errors = [line for line in text.splitlines() if line.startswith(("E:", "W:", "Err:"))]
    return (errors[-1] if errors else text.strip().splitlines()[-1] if text.strip() else "no output")[:300]


def debconf_get(question):
    """The current value of a debconf question, or None if it is not registered."""
    return _debconf_ask("GET {}".format(question))


def debconf_flag(question, flag="seen"):
    """A flag of a debconf question ("true" or "false"), or None if it is not registered."""
    return _debconf_ask("FGET {} {}".format(question, flag))


def debconf_set_flag(question, flag, value):
    _debconf_ask("FSET {} {} {}".format(question, flag, value))


def _debconf_ask(command):
    result = run(["debconf-communicate", "jvb-join"], input=command + "\n", check=False)
    line = (result.stdout.strip().splitlines() or [""])[0]
    code, _, value = line.partition(" ")
    return value if code == "0" else None


def refuse_held_changes(paths, versions):
    """A package the admin pinned with 'apt-mark hold' is not moved to another version behind
    their back (and apt-get would refuse it anyway, half way through a run)."""
    states = package_states(paths)
    for name, want in sorted((versions or {}).items()):
        state = states.get(name)
        if want and state is not None and state.held and state.installed and state.version != want:
            raise HeldPackageError(
                "{} is held at version {} ('apt-mark hold'), but the token asks for {}; nothing was "
                "changed.".format(name, state.version, want),
                "Either release the hold ('apt-mark unhold {0}') and run jvb-join again, or make a token "
                "for {1} on the server ('jvb-join token create --jvb-version {1}').".format(name, state.version))


def ready_for_packages(paths, lock_timeout, progress, dry_run=False, versions=None):
    """Preflight shared by every command that installs packages: dpkg is not half way through
    something, and (for a real run) the lock is free or becomes free within the timeout.

    The lock comes first: while another apt run is working (the one that installed jvb-join
    itself, for a preseeded join, or the apt-get of a killed run), dpkg's journal of pending
    updates is not empty, which only means "interrupted" once nobody holds the lock. A dry run
    does not wait, and does not judge a dpkg that is running. ``versions`` (``{package: version}``)
    are the versions the run will ask apt for: a held package must already be at its version."""
    refuse_held_changes(paths, versions)
    if not dry_run:
        wait_for_lock(paths, lock_timeout, progress)
    elif [pid for pid, _ in lock_holders(paths) if pid != os.getpid()]:
        return
    unfinished = sorted((n, s) for n, s in package_states(paths).items() if s.unfinished)
    interrupted = dpkg_interrupted(paths)
    if interrupted or unfinished:
        # Not temporary: the same command would find dpkg just as it is.
        where = "; packages not configured: {}".format(", ".join(
            "{} ({})".format(n, state.status) for n, state in unfinished)) if unfinished else ""
        raise DpkgInterruptedError("A previous package installation was interrupted{}. Nothing was changed.".format(where),
                                   repair_remedy(interrupted, [state for _, state in unfinished]))


def repair_remedy(interrupted, unfinished):
    """What repairs dpkg as it was left (``interrupted``: its journal is not empty). 'dpkg --configure
    -a' finishes what was unpacked, but leaves a torn package as it is, and 'apt-get -f install' then
    exits 0 without touching it: that one must be unpacked again with 'apt-get install --reinstall'."""
    torn = sorted(state.name for state in unfinished if state.torn)
    configure = interrupted or len(torn) < len(unfinished)
    if not torn:
        commands = ["'dpkg --configure -a' (then 'apt-get -f install' if it reports dependency problems)"]
    else:
        # apt-get refuses to run at all while dpkg's journal is not empty: dpkg goes first, and may
        # fail on what depends on the torn package; apt-get then configures that too.
        commands = ["'dpkg --configure -a'"] if configure else []
        commands.append("'apt-get install --reinstall {}' ({} only half unpacked)".format(
            " ".join(torn), "it was" if len(torn) == 1 else "they were"))
    return "Run {} and then the same jvb-join command again.".format(", then ".join(commands))
