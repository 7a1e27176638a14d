"""The host's inotify instance limit, which several labs at once exhaust.

Every booted host's systemd and systemd-logind hold inotify instances, all counted against root's
``fs.inotify.max_user_instances`` (128 by default): with a few labs up, a host fails to boot with
"Too many open files". Before ``up`` the lab counts what root already
holds, adds what the new hosts need, and raises the limit if it is short, or says what to raise.

The value it found is kept in one record shared by every lab instance on the machine (the limit is
the machine's): the first lab that raises it records the old value, and the last lab to go ``down``
puts it back -- unless someone else changed the limit meanwhile, which it then leaves alone.
"""

import json
import os

SYSCTL = "/proc/sys/fs/inotify/max_user_instances"
# what one booted lab host holds as root: 7 seen on booted Debian 12 hosts, a server with jicofo
# and prosody and a bridge (systemd and systemd-logind; dbus-daemon's count against its own uid),
# rounded up for what a booting host holds for a moment
PER_HOST = 10
MARGIN = 64  # for what the machine starts meanwhile (other labs' hosts, editors, ...)
RAISE_TO = 1024


class Decision:
    """``action``: "ok" (enough), "raise" (to ``value``), or "ask" (cannot write: ``message`` says
    what to run)."""

    def __init__(self, action, value, message=None):
        self.action = action
        self.value = value
        self.message = message

    def __repr__(self):
        return "Decision({!r}, {!r}, {!r})".format(self.action, self.value, self.message)


def plan_up(limit, in_use, new_hosts, can_write):
    """What to do before booting ``new_hosts`` while root holds ``in_use`` instances of ``limit``."""
    wanted = in_use + new_hosts * PER_HOST + MARGIN
    if limit >= wanted:
        return Decision("ok", limit)
    value = max(wanted, RAISE_TO)
    if can_write:
        return Decision("raise", value, "raising fs.inotify.max_user_instances from {} to {} for the lab "
                                        "({} in use, {} host(s) to boot)".format(limit, value, in_use, new_hosts))
    return Decision("ask", value, "fs.inotify.max_user_instances is {} and {} are in use: {} more lab host(s) "
                                  "would fail to boot with 'Too many open files'. As root: sysctl -w "
                                  "fs.inotify.max_user_instances={}".format(limit, in_use, new_hosts, value))


def plan_record(record, limit, raised_to):
    """The shared record after this lab raised the limit from ``limit`` to ``raised_to``: the first
    raise keeps the machine's own value, a later one only the new value."""
    original = record["original"] if record else limit
    return {"original": original, "raised_to": raised_to}


def plan_down(record, limit, others_up):
    """The value to put back when this lab goes down, or None to leave the limit as it is."""
    if not record or others_up:
        return None
    if limit != record["raised_to"]:
        return None  # changed by someone else since: theirs to keep
    return record["original"]


# ---------------------------------------------------------------------------- the machine's side

def read_limit(path=SYSCTL):
    with open(path) as f:
        return int(f.read().split()[0])


def write_limit(value, path=SYSCTL):
    with open(path, "w") as f:
        f.write("{}\n".format(value))


def can_write(path=SYSCTL):
    return os.access(path, os.W_OK)


def root_instances(proc="/proc"):
    """How many inotify instances processes with real uid 0 hold."""
    count = 0
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, "status")) as f:
                uid = next((l.split()[1] for l in f if l.startswith("Uid:")), None)
            if uid != "0":
                continue
            fds = os.path.join(proc, pid, "fd")
            count += sum(1 for fd in os.listdir(fds) if os.readlink(os.path.join(fds, fd)) == "anon_inode:inotify")
        except OSError:
            continue  # gone meanwhile
    return count


def load_record(path):
    try:
        with open(path) as f:
            record = json.load(f)
        return record if isinstance(record, dict) and "original" in record else None
    except (OSError, ValueError):
        return None


def save_record(path, record):
    if record is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.rename(path + ".tmp", path)
