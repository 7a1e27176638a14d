"""The lab itself: hosts boot, talk to each other and to nothing else, apt works offline with
signature checks, and `down` leaves nothing behind."""

import os
import shutil
import subprocess
import time

import pytest

from harness.lab import BRIDGE, HOST_IP, MACHINE_PREFIX, NET  # noqa: E402 (path set in conftest)

pytestmark = pytest.mark.lab

HOSTS = ("jms", "jvb1", "jvb2")


@pytest.fixture(scope="module")
def hosts(lab):
    t0 = time.time()
    lab.up(*HOSTS)
    print("up of %d hosts: %.1f s" % (len(HOSTS), time.time() - t0))
    return HOSTS


def test_hosts_are_up_with_their_addresses(lab, hosts):
    seen = lab.hosts()
    for i, name in enumerate(hosts):
        assert seen[name]["running"]
        ip = lab.ip(name)
        assert ip.startswith(NET + ".")
        rc, out, _ = lab.exec(name, ["hostname"], check=True)
        assert out.strip() == name
        rc, out, _ = lab.exec(name, ["ip", "-4", "-o", "addr", "show", "dev", "host0"], check=True)
        assert ip + "/24" in out
        rc, out, _ = lab.exec(name, ["systemctl", "is-system-running"])
        assert out.strip() in ("running", "degraded")
    assert len(set(lab.ip(n) for n in hosts)) == len(hosts)


def test_exec_keeps_exit_code_stdin_and_stderr(lab, hosts):
    rc, out, err = lab.exec("jvb1", ["sh", "-c", "cat; echo oops >&2; exit 7"], input=b"hello\n")
    assert (rc, out, err) == (7, "hello\n", "oops\n")
    rc, out, err = lab.exec("jvb1", ["sh", "-c", "echo $PATH; echo ${SECRET:-unset}"],
                            env={"SECRET": "given-by-env"})
    assert out.splitlines()[1] == "given-by-env"
    rc, out, _ = lab.exec("jvb1", ["true"])
    assert rc == 0
    rc, _, _ = lab.exec("jvb1", ["false"])
    assert rc == 1


def test_cli_exec_passes_stdin_and_exit_code(lab, hosts):
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "lab")
    p = subprocess.run([script, "exec", "jvb2", "--", "sh", "-c", "tr a-z A-Z; exit 3"],
                       input=b"abc\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 3
    assert p.stdout == b"ABC\n"
    p = subprocess.run([script, "ip", "jvb2"], stdout=subprocess.PIPE)
    assert p.stdout.decode().strip() == lab.ip("jvb2")


def test_hosts_reach_each_other_by_name_and_address(lab, hosts):
    rc, out, _ = lab.exec("jvb1", ["getent", "hosts", "meet.lab.test"], check=True)
    assert out.split()[0] == lab.ip("jms")
    for src in hosts:
        for dst in hosts:
            if src != dst:
                lab.exec(src, ["ping", "-c", "1", "-W", "2", dst], check=True)


def test_ssh_between_hosts_with_the_lab_key(lab, hosts):
    rc, out, err = lab.exec("jvb1", ["ssh", "-o", "ConnectTimeout=5", "root@jms", "hostname"],
                            timeout=30)
    assert rc == 0, err
    assert out.strip() == "jms"


def test_nothing_outside_the_lab_is_reachable(lab, hosts):
    rc, out, _ = lab.exec("jvb1", ["ip", "route"], check=True)
    assert "default" not in out
    t0 = time.time()
    rc, out, err = lab.exec("jvb1", ["python3", "-c", (
        "import socket\n"
        "for a in ('1.1.1.1', '151.101.2.132', '10.0.0.1'):\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        "    try:\n"
        "        s.connect((a, 80)); print('connected', a)\n"
        "    except OSError as e:\n"
        "        print('refused', a, e.errno)\n")])
    assert rc == 0, err
    assert "connected" not in out
    assert time.time() - t0 < 3, "connects outside the lab must fail fast"


def test_apt_installs_offline_from_the_signed_mirror(lab, hosts):
    rc, out, err = lab.exec("jvb2", ["apt-get", "update"], timeout=120)
    assert rc == 0, err
    assert HOST_IP in out
    assert "deb.debian.org" not in out
    rc, out, err = lab.exec("jvb2", ["apt-get", "install", "-y", "jq"], timeout=300,
                            env={"DEBIAN_FRONTEND": "noninteractive"})
    assert rc == 0, err
    rc, out, _ = lab.exec("jvb2", ["jq", "-n", "1+1"], check=True)
    assert out.strip() == "2"
    # the jvb-join repository is configured; the jitsi one is not, but its key and URL are there
    rc, out, _ = lab.exec("jvb2", ["apt-cache", "policy"], check=True)
    assert "/jvb-join stable/main" in out
    assert "/jitsi" not in out
    rc, out, _ = lab.exec("jvb2", ["cat", "/root/lab/jitsi-repo.url"], check=True)
    assert out.strip() == lab.repo_url + "/jitsi"
    lab.exec("jvb2", ["test", "-s", "/root/lab/jitsi-repo.gpg"], check=True)


def test_apt_refuses_a_tampered_repository(lab, hosts):
    src = os.path.join(lab.www, "debian")
    bad = os.path.join(lab.www, "tampered")
    shutil.rmtree(bad, ignore_errors=True)
    try:
        os.makedirs(bad)
        shutil.copytree(os.path.join(src, "dists"), os.path.join(bad, "dists"))
        os.symlink(os.path.join(src, "pool"), os.path.join(bad, "pool"))
        inrelease = os.path.join(bad, "dists", "bookworm", "InRelease")
        with open(inrelease) as f:
            text = f.read()
        with open(inrelease, "w") as f:
            f.write(text.replace("Label: Debian (lab mirror)", "Label: Debian (lab m1rror)"))
        os.unlink(os.path.join(bad, "dists", "bookworm", "Release.gpg"))
        source = ("Types: deb\nURIs: %s/tampered\nSuites: bookworm\nComponents: main\n"
                  "Signed-By: /etc/apt/keyrings/jvb-join-lab.gpg\n" % lab.repo_url)
        lab.exec("jvb1", ["sh", "-c", "cat > /etc/apt/sources.list.d/tampered.sources"],
                 input=source, check=True)
        rc, out, err = lab.exec("jvb1", ["apt-get", "update"], timeout=120)
        assert rc != 0
        assert "tampered" in (out + err)
        assert "BADSIG" in (out + err) or "not signed" in (out + err) \
            or "signature" in (out + err).lower()
        # the Jitsi key must not vouch for the lab mirror either
        lab.exec("jvb1", ["sh", "-c", "sed -i 's#/etc/apt/keyrings/jvb-join-lab.gpg#"
                          "/root/lab/jitsi-repo.gpg#; s#/tampered#/debian#' "
                          "/etc/apt/sources.list.d/tampered.sources"], check=True)
        # (with old index files apt only warns and keeps them: start from none, as a new host)
        lab.exec("jvb1", ["sh", "-c", "rm -f /etc/apt/sources.list.d/lab-debian.sources "
                          "/var/lib/apt/lists/*%s*" % HOST_IP], check=True)
        rc, out, err = lab.exec("jvb1", ["apt-get", "update"], timeout=120)
        assert rc != 0
        assert "NO_PUBKEY" in (out + err)
        assert "is not signed" in err
    finally:
        shutil.rmtree(bad, ignore_errors=True)


def test_stop_and_start_one_host(lab, hosts):
    lab.stop("jvb2")
    assert not lab.hosts()["jvb2"]["running"]
    rc, out, err = lab.exec("jvb1", ["ping", "-c", "1", "-W", "1", "jvb2"])
    assert rc != 0
    lab.start("jvb2")
    lab.exec("jvb1", ["ping", "-c", "1", "-W", "2", "jvb2"], check=True)
    # what was installed before the power-off is still there
    lab.exec("jvb2", ["jq", "--version"], check=True)


def test_evidence(lab, hosts, tmp_path):
    out = lab.evidence("jms", str(tmp_path / "ev"))
    names = os.listdir(out)
    for expected in ("journal.txt", "systemctl-failed.txt", "ufw-status.txt", "files"):
        assert expected in names
    assert os.stat(out).st_mode & 0o077 == 0


def test_zz_down_leaves_nothing_behind(lab, hosts):
    lab.down()
    assert lab.hosts() == {}
    links = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE).stdout.decode()
    assert BRIDGE + ":" not in links
    for name in hosts:
        assert "vb-%s%s@" % (MACHINE_PREFIX, name) not in links
    ours = lab.hosts_dir + "/"  # other labs' folders (hosts-N) share the prefix without the slash
    with open("/proc/mounts") as f:
        assert ours not in f.read()
    assert not os.path.exists(lab.state_dir)
    assert os.listdir(lab.hosts_dir) == [] if os.path.isdir(lab.hosts_dir) else True
    # no process of the lab's (other engineers' containers on this machine are not ours)
    ps = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE).stdout.decode()
    for line in ps.splitlines():
        assert ours not in line, line
        assert not ("http.server" in line and lab.www in line), line
        assert lab.gnupg not in line, line
    assert lab._our_pids() == []
    # idempotent
    lab.down()
