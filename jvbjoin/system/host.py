"""Read-only facts about this host: release, container, machine-id and the ports sshd listens on."""

import os
import re

from jvbjoin.system import files
from jvbjoin.errors import CommandError
from jvbjoin.system.run import run


def parse_os_release(text):
    """``/etc/os-release`` as a dict (shell-style KEY=value lines, quotes removed)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            value = re.sub(r"\\([\\$\"`])", r"\1", value)
        out[key.strip()] = value
    return out


def os_release(paths):
    try:
        return parse_os_release(files.read_text(paths.os_release))
    except (OSError, TypeError, AttributeError):
        return {}


def in_container(paths=None):
    """True inside a container (nspawn, lxc, docker, podman...)."""
    try:
        result = run(["systemd-detect-virt", "--container"], check=False, timeout=10)
        if result.returncode == 0 and result.stdout.strip() not in ("", "none"):
            return True
        if result.returncode in (0, 1):
            return False
    except CommandError:
        pass
    marker = paths("/run/systemd/container") if paths is not None else "/run/systemd/container"
    return os.path.exists(marker)


def machine_id(paths):
    """The host's machine-id, or "" if it has none yet."""
    try:
        return (files.read_text(paths.machine_id) or "").strip()
    except (OSError, TypeError, AttributeError):
        return ""


# --- SSH ports ---------------------------------------------------------------------------------

def _port_of(address):
    """The port of an ``ss`` local address: ``0.0.0.0:22``, ``[::]:22``, ``*:22``, ``[::1]%lo:22``."""
    head, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return None
    port = int(port)
    return port if 0 < port < 65536 else None


def parse_ss_listeners(text):
    """SSH ports from ``ss -Hltnp``: listeners of a process named sshd, or of systemd (PID 1,
    socket activation) -- systemd's listeners are only SSH if the socket unit says so, so they
    are returned separately. Returns ``(sshd_ports, systemd_ports)`` as sets."""
    sshd, systemd = set(), set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        # With -H there is no header; the state column may be missing with some filters.
        if fields[0] in ("LISTEN", "UNCONN"):
            local = fields[3] if len(fields) > 3 else ""
        else:
            local = fields[2] if len(fields) > 2 else ""
        port = _port_of(local)
        if port is None:
            continue
        procs = re.findall(r'\("([^"]+)",pid=(\d+)', line)
        for name, pid in procs:
            if name == "sshd" or name.startswith("sshd"):
                sshd.add(port)
            elif name == "systemd" and pid == "1":
                systemd.add(port)
    return sshd, systemd


def parse_socket_listen(text):
    """Ports from ``systemctl show ssh.socket -p Listen``: lines like ``Listen=[::]:22 (Stream)``."""
    ports = set()
    for address in re.findall(r"(\S+) \(Stream\)", text):
        address = address.split("=", 1)[-1]
        port = int(address) if address.isdigit() else _port_of(address)
        if port and 0 < port < 65536:
            ports.add(port)
    return ports


def session_port(environ=None):
    """The server port of the SSH session jvb-join runs in (4th field of SSH_CONNECTION)."""
    environ = os.environ if environ is None else environ
    fields = (environ.get("SSH_CONNECTION") or "").split()
    if len(fields) == 4 and fields[3].isdigit() and 0 < int(fields[3]) < 65536:
        return int(fields[3])
    return None


def ssh_socket_active():
    try:
        result = run(["systemctl", "is-active", "ssh.socket"], check=False, timeout=10)
    except CommandError:
        return False
    return result.stdout.strip() == "active"


def ssh_ports(environ=None):
    """Every TCP port SSH is reachable on here, IPv4 and IPv6, as a sorted list.

    The union of sshd's own listeners, systemd's listeners for an active ssh.socket (with socket
    activation sshd_config's Port is ignored, and the listener is PID 1), and the port of the
    current session.
    """
    ports = set()
    sshd, systemd = set(), set()
    try:
        result = run(["ss", "-Hltnp"], check=False, timeout=10)
        if result.ok:
            sshd, systemd = parse_ss_listeners(result.stdout)
    except CommandError:
        pass
    ports |= sshd
    if ssh_socket_active():
        try:
            result = run(["systemctl", "show", "ssh.socket", "-p", "Listen"], check=False, timeout=10)
            socket_ports = parse_socket_listen(result.stdout) if result.ok else set()
        except CommandError:
            socket_ports = set()
        # Trust the unit's own ListenStream; ss confirms systemd holds them when it can see them.
        ports |= socket_ports
    current = session_port(environ)
    if current:
        ports.add(current)
    return sorted(ports)


def sshd_installed(paths):
    return os.path.exists(paths("/usr/sbin/sshd")) or os.path.exists(paths.sshd_config)
