"""Safe file changes: atomic writes with the final owner and mode from the first byte, and backups.

A write never leaves a torn or empty file behind: the new content goes to a temporary file in the
same folder, created with its final mode (whatever the umask), owned as it must be, written in full,
fsynced, renamed over the target, and the folder fsynced. Unchanged content is not written at all,
so a second run leaves mtimes alone.
"""

import errno
import os
import shutil
import stat
import time

from jvbjoin.errors import DiskFullError

TEMP_PREFIX = ".jvb-join-tmp."
# what the kernel says when a filesystem (or the user's quota on it) has no room left
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class FileState:
    """What a file is now: content (or None if missing), mode, owner. Used for undo and for diffs."""

    __slots__ = ("path", "content", "mode", "uid", "gid")

    def __init__(self, path, content, mode=None, uid=None, gid=None):
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid

    @property
    def exists(self):
        return self.content is not None

    @classmethod
    def read(cls, path):
        try:
            with open(path, "rb") as handle:
                st = os.fstat(handle.fileno())
                return cls(path, handle.read(), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        except FileNotFoundError:
            return cls(path, None)


def read_bytes(path):
    """The file's bytes, or None if there is no such file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_text(path):
    data = read_bytes(path)
    return None if data is None else data.decode("utf-8", errors="surrogateescape")


def _fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def free_space(path):
    """Bytes free for root on the filesystem holding ``path`` (or its nearest existing parent)."""
    folder = path
    while not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    st = os.statvfs(folder)
    return st.f_bfree * st.f_frsize


def disk_full(path):
    """The error for a write to ``path`` that found no room: where, how much is left, what to do."""
    folder = os.path.dirname(path) or "."
    try:
        free = "{:.1f} MiB".format(free_space(folder) / 2.0 ** 20)
    except OSError:
        free = "no"
    return DiskFullError(
        "No space left to write {}: the filesystem holding {} has {} free.".format(path, folder, free),
        "Free some space there (df -h {0}; apt-get clean; journalctl --vacuum-size=200M; old files in "
        "/var/log), then run the same jvb-join command again.".format(folder))


def write_atomic(path, data, mode=None, uid=None, gid=None):
    """Make ``path`` hold ``data`` (bytes or str). Returns True if anything changed on disk.

    Owner and mode default to the existing file's, else 0644 and the current user. A file that
    already has this content, owner and mode is left untouched (no write, no new mtime). A full
    filesystem is a :class:`DiskFullError` naming the path and the space left.
    """
    try:
        return _write_atomic(path, data, mode, uid, gid)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise disk_full(path) from None
        raise


def _write_atomic(path, data, mode, uid, gid):
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    current = FileState.read(path)
    if mode is None:
        mode = current.mode if current.exists else 0o644
    if uid is None:
        uid = current.uid if current.exists else os.geteuid()
    if gid is None:
        gid = current.gid if current.exists else os.getegid()
    if current.exists and current.content == data:
        if (current.mode, current.uid, current.gid) == (mode, uid, gid):
            return False
        # Same content, other metadata: fix the metadata in place, no rewrite.
        if (current.uid, current.gid) != (uid, gid):
            os.chown(path, uid, gid)
        os.chmod(path, mode)
        return True

    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, "{}{}.{}".format(TEMP_PREFIX, os.path.basename(path), os.getpid()))
    # Created with no permissions for anyone but the owner; the final mode is set with fchmod
    # before a single byte is written, so the umask never widens it even for an instant.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            if (uid, gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
    return True


def make_folders(folder, journal, mode=0o755):
    """Create ``folder`` and any missing parents, recording (in ``journal``) before each one is
    created how to remove it again if it is then empty: a rollback leaves no empty folder behind."""
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        journal.record("remove folder {}".format(path), _rmdir_if_empty(path))
        os.mkdir(path, mode)


def _rmdir_if_empty(folder):
    def undo():
        try:
            os.rmdir(folder)
        except OSError:
            pass
    return undo


def remove(path):
    """Remove a file if present; True if it was there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    _fsync_dir(os.path.dirname(path) or ".")
    return True


def restore(state):
    """Put a file back to a recorded :class:`FileState` (content, owner, mode), or remove it."""
    if state.exists:
        write_atomic(state.path, state.content, state.mode, state.uid, state.gid)
    else:
        remove(state.path)


class TreeState:
    """Every folder and regular file under ``top`` as it is now (symlinks and others are left out):
    what a package purge may delete that was there before the package. :meth:`restore` puts back
    what is missing or different, and leaves alone what was added since."""

    def __init__(self, top):
        self.top = top
        self.folders = []  # (path, mode, uid, gid), parents first
        self.files = []
        for folder, subfolders, names in os.walk(top):
            st = os.lstat(folder)
            self.folders.append((folder, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
            subfolders[:] = sorted(d for d in subfolders if not os.path.islink(os.path.join(folder, d)))
            for name in sorted(names):
                path = os.path.join(folder, name)
                if stat.S_ISREG(os.lstat(path).st_mode) and not name.startswith(TEMP_PREFIX):
                    self.files.append(FileState.read(path))

    def restore(self):
        """Returns the paths put back."""
        restored = []
        for path, mode, uid, gid in self.folders:
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
                os.chown(path, uid, gid)
                os.chmod(path, mode)
                restored.append(path)
        for state in self.files:
            now = FileState.read(state.path)
            if (now.content, now.mode, now.uid, now.gid) != (state.content, state.mode, state.uid, state.gid):
                restore(state)
                restored.append(state.path)
        return restored


def clean_stale_temps(folder):
    """Remove temporary files an interrupted run of ours left in ``folder``; returns their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return removed
        raise
    for name in names:
        if name.startswith(TEMP_PREFIX):
            try:
                os.unlink(os.path.join(folder, name))
                removed.append(name)
            except FileNotFoundError:
                pass
    return removed


def clean_stale_temps_under(top):
    """clean_stale_temps for ``top`` and every folder below it (a killed run's half-made backups)."""
    removed = []
    for folder, _, _ in os.walk(top):
        removed += clean_stale_temps(folder)
    return removed


class Backups:
    """Copies of files as they were before jvb-join first changed them, one folder per run.

    The copy keeps the original's mode (so a secret-bearing file stays unreadable to others) and
    its path relative to the root: ``<backups>/<run id>/etc/jitsi/videobridge/jvb.conf``.
    """

    def __init__(self, backup_root, host_root="/", run_id=None):
        self.backup_root = backup_root
        self.host_root = host_root
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.saved = {}

    @property
    def folder(self):
        return os.path.join(self.backup_root, self.run_id)

    def save(self, path):
        """Back up ``path`` once per run; returns the backup's path or None if there was no file."""
        if path in self.saved:
            return self.saved[path]
        if not os.path.lexists(path):
            self.saved[path] = None
            return None
        rel = os.path.relpath(path, self.host_root)
        target = os.path.join(self.folder, rel)
        _private_folders(self.backup_root, os.path.dirname(target))
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
        else:
            # Through write_atomic: never readable by others (whatever the umask) and never torn,
            # even when the run is killed while copying.
            st = os.stat(path)
            owner = (st.st_uid, st.st_gid) if os.geteuid() == 0 else (None, None)
            with open(path, "rb") as source:
                write_atomic(target, source.read(), stat.S_IMODE(st.st_mode), *owner)
            shutil.copystat(path, target)
        self.saved[path] = target
        return target


def _private_folders(top, folder):
    """Make ``folder`` (under ``top``) and its missing parents up to ``top``, each 0700 from creation."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        if folder == top or os.path.dirname(folder) == folder:
            break
        folder = os.path.dirname(folder)
    if not os.path.isdir(os.path.dirname(top)):
        os.makedirs(os.path.dirname(top), exist_ok=True)
    for path in reversed(missing):
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)  # mkdir's mode goes through the umask; 0700 is never wider than that
    os.chmod(top, 0o700)
