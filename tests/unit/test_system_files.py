"""Atomic writes: final mode from the first byte, nothing rewritten when nothing changed, no torn files."""

import errno
import os
import shutil
import stat

import pytest

from jvbjoin.system import files


def modes_at_each_write(monkeypatch):
    """The mode of the file at every os.write: what another user could have opened at that moment."""
    seen_modes = []
    real_write = os.write

    def spying_write(fd, data):
        seen_modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spying_write)
    return seen_modes


def test_new_file_has_its_final_mode_whatever_the_umask(tmp_path, monkeypatch):
    seen_modes = modes_at_each_write(monkeypatch)
    old = os.umask(0)
    try:
        target = str(tmp_path / "secret.conf")
        assert files.write_atomic(target, b"PASSWORD=x\n", mode=0o640) is True
    finally:
        os.umask(old)
    assert seen_modes and all(m == 0o640 for m in seen_modes)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert open(target, "rb").read() == b"PASSWORD=x\n"


def test_unchanged_content_is_not_rewritten(tmp_path):
    target = tmp_path / "jvb.conf"
    target.write_bytes(b"videobridge {}\n")
    before = os.stat(str(target))
    assert files.write_atomic(str(target), b"videobridge {}\n") is False
    after = os.stat(str(target))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_existing_mode_and_owner_are_kept_on_rewrite(tmp_path):
    target = tmp_path / "sip-communicator.properties"
    target.write_bytes(b"a=1\n")
    os.chmod(str(target), 0o600)
    assert files.write_atomic(str(target), b"a=2\n") is True
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o600


def test_mode_only_change_keeps_the_inode(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"x")
    ino = os.stat(str(target)).st_ino
    assert files.write_atomic(str(target), b"x", mode=0o600) is True
    st = os.stat(str(target))
    assert st.st_ino == ino and stat.S_IMODE(st.st_mode) == 0o600


def test_disk_full_leaves_the_original_and_no_temp_file_and_says_where_and_what_to_do(tmp_path, monkeypatch):
    from jvbjoin.errors import EXIT_FAILED, DiskFullError
    target = tmp_path / "jvb.conf"
    target.write_bytes(b"# admin comment\nvideobridge {}\n")

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(DiskFullError) as err:
        files.write_atomic(str(target), b"new content\n")
    assert err.value.exit_code == EXIT_FAILED and err.value.error_id == "disk-full"
    assert "No space left to write {}".format(target) in err.value.message
    assert "MiB free" in err.value.message and "df -h {}".format(tmp_path) in err.value.remedy
    assert target.read_bytes() == b"# admin comment\nvideobridge {}\n"
    assert sorted(os.listdir(str(tmp_path))) == ["jvb.conf"]


def test_restore_puts_back_content_mode_or_absence(tmp_path):
    present = tmp_path / "a"
    present.write_bytes(b"original\n")
    os.chmod(str(present), 0o640)
    state_a = files.FileState.read(str(present))
    state_b = files.FileState.read(str(tmp_path / "b"))
    files.write_atomic(str(present), b"changed\n", mode=0o644)
    files.write_atomic(str(tmp_path / "b"), b"new\n")
    files.restore(state_a)
    files.restore(state_b)
    assert present.read_bytes() == b"original\n"
    assert stat.S_IMODE(os.stat(str(present)).st_mode) == 0o640
    assert not (tmp_path / "b").exists()


def test_stale_temp_files_of_a_killed_run_are_recognised(tmp_path):
    (tmp_path / (files.TEMP_PREFIX + "jvb.conf.1234")).write_bytes(b"half")
    (tmp_path / "jvb.conf").write_bytes(b"whole")
    assert files.clean_stale_temps(str(tmp_path)) == [files.TEMP_PREFIX + "jvb.conf.1234"]
    assert os.listdir(str(tmp_path)) == ["jvb.conf"]


def test_backup_is_identical_and_keeps_mode(tmp_path):
    host = tmp_path / "root"
    (host / "etc").mkdir(parents=True)
    original = host / "etc" / "x.properties"
    original.write_bytes(b"# mine\nkey=value\n")
    os.chmod(str(original), 0o600)
    backups = files.Backups(str(tmp_path / "backups"), str(host), run_id="run1")
    saved = backups.save(str(original))
    assert saved == str(tmp_path / "backups" / "run1" / "etc" / "x.properties")
    assert open(saved, "rb").read() == b"# mine\nkey=value\n"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "backups")).st_mode) == 0o700
    # Once per run: a later change does not overwrite the first backup.
    original.write_bytes(b"changed")
    assert backups.save(str(original)) == saved
    assert open(saved, "rb").read() == b"# mine\nkey=value\n"


def test_backup_of_a_secret_file_is_never_readable_by_others_whatever_the_umask(tmp_path, monkeypatch):
    host = tmp_path / "root"
    (host / "etc" / "jitsi" / "videobridge").mkdir(parents=True)
    original = host / "etc" / "jitsi" / "videobridge" / "sip-communicator.properties"
    original.write_bytes(b"org.jitsi.videobridge.xmpp.user.shard.PASSWORD=s3cret\n")
    os.chmod(str(original), 0o640)
    seen_modes = modes_at_each_write(monkeypatch)
    old = os.umask(0)
    try:
        saved = files.Backups(str(tmp_path / "var" / "backups" / "jvb-join"), str(host), run_id="run1").save(
            str(original))
    finally:
        os.umask(old)
    assert seen_modes and all(m & 0o007 == 0 for m in seen_modes)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o640
    assert open(saved, "rb").read() == original.read_bytes()
    # Every folder from the backup root down to the copy is the owner's only.
    folder = os.path.dirname(saved)
    while folder != str(tmp_path / "var" / "backups"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
        folder = os.path.dirname(folder)


def test_tree_state_puts_back_what_a_purge_removed_and_leaves_new_files(tmp_path):
    top = tmp_path / "jitsi"
    (top / "videobridge").mkdir(parents=True)
    os.chmod(str(top / "videobridge"), 0o750)
    conf = top / "videobridge" / "jvb.conf"
    conf.write_text("# the admin's\nvideobridge {}\n")
    os.chmod(str(conf), 0o640)
    other = top / "meet.cfg"
    other.write_text("kept\n")
    tree = files.TreeState(str(top))
    shutil.rmtree(str(top / "videobridge"))  # what a purge does
    other.write_text("changed\n")
    (top / "new-file").write_text("added since\n")
    restored = tree.restore()
    assert conf.read_text() == "# the admin's\nvideobridge {}\n"
    assert stat.S_IMODE(os.stat(str(conf)).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(str(top / "videobridge")).st_mode) == 0o750
    assert other.read_text() == "kept\n"
    assert (top / "new-file").read_text() == "added since\n"
    assert sorted(restored) == sorted([str(top / "videobridge"), str(conf), str(other)])
    assert tree.restore() == []  # nothing left to put back

