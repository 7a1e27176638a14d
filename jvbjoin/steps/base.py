"""The shape every file-writing step shares: compute wanted files, diff them, write with undo."""

import difflib
import hashlib
import os

from jvbjoin.system import files
from jvbjoin.engine.core import Change, Step


class WantedFile:
    """A file a step wants to exist with exactly this content (``None``: must not exist)."""

    __slots__ = ("path", "content", "mode", "uid", "gid", "secret")

    def __init__(self, path, content, mode=None, uid=None, gid=None, secret=False):
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.secret = secret


def _is_text(data):
    # A NUL byte never occurs in a config file, and always in a binary keyring. Text that is not
    # UTF-8 (a Latin-1 comment in a properties file) is still text: shown with replacement marks.
    return data is None or b"\0" not in data


def _describe_binary(data):
    if data is None:
        return "(none)"
    return "{} bytes, sha256 {}".format(len(data), hashlib.sha256(data).hexdigest())


def unified_diff(path, old, new, secret=False):
    """A unified diff of two byte strings, for the plan.

    ``secret`` is False, True (the file's content is not shown at all, only that it changes) or
    a function that masks the secret parts of a content (both sides are diffed masked). Binary
    content is shown by size and SHA-256, which is what can be compared with the written file.
    """
    if secret is True:
        return "--- {0}\n+++ {0}\n(content not shown: this file holds a secret)\n".format(path)
    if callable(secret):
        old = None if old is None else secret(old)
        new = None if new is None else secret(new)
        if old is not None and old == new:
            return "--- {0}\n+++ {0}\n(only values that are not shown change)\n".format(path)
    fromfile = path if old is not None else "/dev/null"
    tofile = path if new is not None else "/dev/null"
    if not (_is_text(old) and _is_text(new)):
        return "--- {}\n+++ {}\nbinary content: {} -> {}\n".format(
            fromfile, tofile, _describe_binary(old), _describe_binary(new))
    old_lines = [] if old is None else old.decode("utf-8", "replace").splitlines(True)
    new_lines = [] if new is None else new.decode("utf-8", "replace").splitlines(True)
    return "".join(difflib.unified_diff(old_lines, new_lines, fromfile, tofile))


class FileStep(Step):
    """A step whose whole job is to make some files hold some content.

    Subclasses implement ``wanted(ctx)`` returning :class:`WantedFile` objects. ``check`` compares
    them with the disk; ``apply`` backs up each file jvb-join did not create, records the undo,
    then writes atomically. Writing the same content twice changes nothing.
    """

    #: files this step creates whole; they are not backed up (there is nothing of the admin's in them)
    owns_files = False

    def wanted(self, ctx):
        raise NotImplementedError

    def check(self, ctx):
        changes = []
        for want in self.wanted(ctx):
            current = files.FileState.read(want.path)
            if want.content is None:
                if current.exists:
                    changes.append(Change("file", want.path, "remove {}".format(want.path),
                                          unified_diff(want.path, current.content, None, want.secret),
                                          data=want))
                continue
            mode = want.mode if want.mode is not None else (current.mode if current.exists else 0o644)
            if current.exists and current.content == want.content:
                if current.mode == mode and (want.uid is None or want.uid == current.uid) and \
                        (want.gid is None or want.gid == current.gid):
                    continue
                changes.append(Change("file", want.path, "set owner/mode of {}".format(want.path),
                                      data=want))
                continue
            verb = "update" if current.exists else "create"
            changes.append(Change("file", want.path, "{} {}".format(verb, want.path),
                                  unified_diff(want.path, current.content, want.content, want.secret),
                                  data=want))
        return changes

    def apply(self, ctx, changes, journal):
        for change in changes:
            want = change.data
            before = files.FileState.read(want.path)
            if before.exists and not self.owns_files and ctx.run.backups is not None:
                ctx.run.backups.save(want.path)
            if want.content is not None:
                # Folders first, so that undoing (in reverse) removes the file before its folders.
                files.make_folders(os.path.dirname(want.path), journal)
            journal.record("restore {}".format(want.path), lambda state=before: files.restore(state))
            if want.content is None:
                files.remove(want.path)
            else:
                files.write_atomic(want.path, want.content, want.mode, want.uid, want.gid)


