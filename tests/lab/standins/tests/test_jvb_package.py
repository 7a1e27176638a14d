"""The jitsi-videobridge2 stand-in as a package: what it ships, with which modes, which files are
conffiles, and its graceful_shutdown.sh (jitsi-videobridge @ a29d97d13, debian/ and resources/;
rows in FIDELITY.md). Builds the .deb with tests/lab/standins/build; no root, no network."""

import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.dirname(HERE)
TREE = os.path.join(STANDINS, "jitsi-videobridge2")


def read(*parts):
    with open(os.path.join(TREE, *parts), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    if not shutil.which("dpkg-deb"):
        pytest.skip("needs dpkg-deb")
    out = tmp_path_factory.mktemp("debs")
    built = subprocess.run([os.path.join(STANDINS, "build"), str(out)], check=True, stdout=subprocess.PIPE,
                           universal_newlines=True).stdout.split()
    return next(p for p in built if os.path.basename(p).startswith("jitsi-videobridge2_"))


def contents(deb):
    """{path: mode string} of the package's files."""
    listing = subprocess.run(["dpkg-deb", "-c", deb], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    result = {}
    for line in listing.splitlines():
        fields = line.split()
        result[fields[5].lstrip(".")] = fields[0]
    return result


def test_the_init_script_is_shipped_and_is_a_conffile(deb):
    conffiles = subprocess.run(["dpkg-deb", "-I", deb, "conffiles"], check=True, stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.split()
    # dh_installdeb marks every file under /etc as a conffile; dh_installinit installs the script
    assert sorted(conffiles) == ["/etc/init.d/jitsi-videobridge2", "/etc/jitsi/videobridge/logging.properties",
                                 "/etc/logrotate.d/jitsi-videobridge", "/etc/sysctl.d/20-jvb-udp-buffers.conf"]
    files = contents(deb)
    assert files["/etc/init.d/jitsi-videobridge2"] == "-rwxr-xr-x"
    assert files["/etc/jitsi/videobridge/logging.properties"] == "-rw-r--r--"
    assert files["/usr/share/jitsi-videobridge/graceful_shutdown.sh"] == "-rwxr-xr-x"


def test_the_init_script_is_installed_without_maintainer_script_calls():
    # dh_installinit --noscripts: no update-rc.d, no invoke-rc.d; the systemd unit runs the bridge
    for script in ("postinst", "prerm", "postrm"):
        text = read("DEBIAN", script)
        assert "update-rc.d" not in text and "invoke-rc.d" not in text, script
    header = read("etc", "init.d", "jitsi-videobridge2")
    assert "# Provides:          jitsi-videobridge" in header
    assert "# Required-Start:    $local_fs $remote_fs" in header


def test_postinst_closes_the_folder_only_and_leaves_the_files_as_written():
    postinst = read("DEBIAN", "postinst")
    assert "chmod 750 /etc/jitsi/videobridge" in postinst
    assert "dpkg-statoverride --list /etc/jitsi/videobridge" in postinst
    # no mode is forced on the files: jvb.conf and config are written under the default umask
    assert "chmod 640" not in postinst and "-type f -exec chmod" not in postinst
    assert "umask 0" not in postinst


def test_postinst_starts_the_bridge_only_through_deb_systemd_invoke():
    # dh_installsystemd's snippet: the start goes through deb-systemd-invoke, which skips a unit that
    # `systemctl is-enabled` does not call enabled, such as one masked under /run; the only
    # systemctl calls are the stop before the work and the daemon-reload
    postinst = read("DEBIAN", "postinst")
    calls = [line.strip() for line in postinst.splitlines()
             if "systemctl " in line and not line.strip().startswith("#")]
    assert calls == ["systemctl stop jitsi-videobridge2.service >/dev/null 2>&1 || true",
                     "systemctl --system daemon-reload >/dev/null || true"]
    assert "deb-systemd-invoke $_dh_action 'jitsi-videobridge2.service' >/dev/null || true" in postinst
    assert postinst.index("systemctl stop") < postinst.index("deb-systemd-invoke")
    assert "deb-systemd-helper unmask 'jitsi-videobridge2.service'" in postinst


class _Bridge(http.server.BaseHTTPRequestHandler):
    shutdown_status = 404

    def do_POST(self):
        self.send_response(self.shutdown_status if self.path == "/colibri/shutdown" else 404)
        self.end_headers()

    def do_GET(self):
        body = json.dumps({"participants": 0, "octo_endpoints": 0}).encode()
        self.send_response(200 if self.path == "/colibri/stats" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(status):
    handler = type("Bridge", (_Bridge,), {"shutdown_status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


SCRIPT = os.path.join(TREE, "usr", "share", "jitsi-videobridge", "graceful_shutdown.sh")
needs_curl_jq = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")),
                                   reason="the script needs curl and jq (the package does not depend on them)")


@needs_curl_jq
def test_graceful_shutdown_fails_without_the_shutdown_api():
    # a default install has neither videobridge.apis.rest.enabled nor rest.shutdown.enabled
    server = _serve(404)
    try:
        proc = subprocess.run(["bash", SCRIPT, "-h", "http://127.0.0.1:{}".format(server.server_address[1])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    finally:
        server.shutdown()
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Invalid HTTP status for shutdown request: 404"


@needs_curl_jq
def test_graceful_shutdown_with_no_bridge_process_found_waits_for_ever(tmp_path):
    # the process is looked up once, before the request; none found: it waits on /proc/ itself.
    # A ps that lists no process stands for a host without a bridge (a lab on this machine runs some).
    fake = tmp_path / "ps"
    fake.write_text("#!/bin/sh\necho 'USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND'\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH="{}:{}".format(tmp_path, os.environ.get("PATH", "/usr/bin:/bin")))
    server = _serve(200)
    proc = subprocess.Popen(["bash", SCRIPT, "-h", "http://127.0.0.1:{}".format(server.server_address[1])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                            start_new_session=True, env=env)
    try:
        time.sleep(3)
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=10)[0]
        server.shutdown()
    assert "Graceful shutdown started" in out and "Waiting for bridge pid  to finish shutting down" in out
    assert "PID  still exists" in out
