"""A real prosody (Debian's package) on 127.0.0.1 from a temp config, for the contract tests."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PROSODY = shutil.which("prosody") or "/usr/bin/prosody"
PROSODYCTL = shutil.which("prosodyctl") or "/usr/bin/prosodyctl"


# What every contract prosody has: a temp folder of its own, loopback only, no HTTP.
BASE_CONFIG = """
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
daemonize = false
prosody_user = "{user}"
prosody_group = "{group}"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
s2s_ports = {{ {s2s} }}
http_ports = {{ }}
https_ports = {{ }}
admin_socket = "{d}/prosody.sock"
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }} }}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_tail(path):
    try:
        with open(path) as f:
            return f.read()[-4000:]
    except OSError:
        return ""


def wait_port(port, proc, log, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("prosody exited with {}:\n{}".format(proc.returncode, read_tail(log)))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("prosody did not listen on {}:\n{}".format(port, read_tail(log)))


@contextlib.contextmanager
def running_prosody(config, domains, **fields):
    """Start prosody with ``config`` (a str.format template: ``{d}`` the folder, ``{user}``/``{group}``,
    ``{c2s}``/``{s2s}`` ports, plus ``fields``); a self-signed certificate is made for each domain.
    Yields ``{"dir", "config", "port", "cert" (the first domain's), "certs", "proc"}``."""
    d = tempfile.mkdtemp(prefix="jvbjoin-prosody-")
    os.chmod(d, 0o755)
    try:
        entry = pwd.getpwnam("prosody")
        user, uid, gid, group = "prosody", entry.pw_uid, entry.pw_gid, "prosody"
    except KeyError:
        user, uid, gid, group = "root", 0, 0, "root"
    proc = None
    try:
        os.makedirs(os.path.join(d, "data"), 0o750)
        certs = {}
        for domain in domains:
            crt, key = os.path.join(d, domain + ".crt"), os.path.join(d, domain + ".key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                            "-subj", "/CN=" + domain, "-addext", "subjectAltName=DNS:" + domain,
                            "-keyout", key, "-out", crt], check=True, capture_output=True)
            certs[domain] = crt
        c2s, s2s = free_port(), free_port()
        cfg = os.path.join(d, "prosody.cfg.lua")
        with open(cfg, "w") as f:
            f.write(config.format(d=d, user=user, group=group, c2s=c2s, s2s=s2s, **fields))
        for name in ("prosody.log", "stderr.log"):
            open(os.path.join(d, name), "a").close()
        for root, dirs, names in os.walk(d):
            for name in dirs + names:
                os.chown(os.path.join(root, name), uid, gid)
        os.chown(d, uid, gid)
        log = os.path.join(d, "prosody.log")
        as_user = {"user": uid, "group": gid} if os.getuid() == 0 else {}
        proc = subprocess.Popen([PROSODY, "--config", cfg, "-F"], stdout=subprocess.DEVNULL, **as_user,
                                stderr=open(os.path.join(d, "stderr.log"), "a"))
        wait_port(c2s, proc, log)
        yield {"dir": d, "config": cfg, "port": c2s, "cert": certs[domains[0]], "certs": certs, "proc": proc,
               "log": log}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(d, ignore_errors=True)
