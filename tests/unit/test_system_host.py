"""Host facts: os-release, machine-id, and the SSH ports that must stay reachable."""

from jvbjoin.system import host
from jvbjoin.system.run import Result

SS_22 = """LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=611,fd=3))
LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=611,fd=4))
LISTEN 0      4096       127.0.0.1:8080      0.0.0.0:*    users:(("java",pid=900,fd=80))
"""
SS_2222 = """LISTEN 0 128 0.0.0.0:2222 0.0.0.0:* users:(("sshd",pid=70,fd=3))
"""
SS_BOTH = """LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=70,fd=3))
LISTEN 0 128 0.0.0.0:2222 0.0.0.0:* users:(("sshd",pid=70,fd=5))
LISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=70,fd=4))
LISTEN 0 128 [::]:2222 [::]:* users:(("sshd",pid=70,fd=6))
"""
SS_SOCKET = """LISTEN 0 4096 *:22 *:* users:(("systemd",pid=1,fd=51))
LISTEN 0 4096 *:5355 *:* users:(("systemd-resolve",pid=300,fd=12))
"""

def fake_runner(outputs):
    calls = []

    def fake(argv, **kwargs):
        calls.append(list(argv))
        for prefix, (rc, out) in outputs.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return Result(argv, rc, out, "")
        return Result(argv, 1, "", "not mocked")
    fake.calls = calls
    return fake


def test_parse_ss_sshd_ports_v4_v6():
    assert host.parse_ss_listeners(SS_22) == ({22}, set())
    assert host.parse_ss_listeners(SS_2222) == ({2222}, set())
    assert host.parse_ss_listeners(SS_BOTH) == ({22, 2222}, set())


def test_parse_ss_socket_activated_listener_is_systemd():
    assert host.parse_ss_listeners(SS_SOCKET) == (set(), {22})


def test_parse_socket_listen():
    assert host.parse_socket_listen("Listen=[::]:22 (Stream)\n") == {22}
    assert host.parse_socket_listen("Listen=0.0.0.0:2222 (Stream)\nListen=[::]:2222 (Stream)\n") == {2222}
    assert host.parse_socket_listen("Listen=22 (Stream)\n") == {22}
    assert host.parse_socket_listen("Listen=\n") == set()


def test_session_port():
    assert host.session_port({"SSH_CONNECTION": "198.18.0.9 50122 198.18.0.2 2222"}) == 2222
    assert host.session_port({"SSH_CONNECTION": "garbage"}) is None
    assert host.session_port({}) is None


def test_ssh_ports_union(monkeypatch):
    fake = fake_runner({("ss",): (0, SS_22), ("systemctl", "is-active"): (3, "inactive\n")})
    monkeypatch.setattr(host, "run", fake)
    assert host.ssh_ports({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 2200"}) == [22, 2200]


def test_ssh_ports_socket_activation(monkeypatch):
    fake = fake_runner({("ss",): (0, SS_SOCKET), ("systemctl", "is-active"): (0, "active\n"),
                        ("systemctl", "show"): (0, "Listen=[::]:22 (Stream)\n")})
    monkeypatch.setattr(host, "run", fake)
    assert host.ssh_ports({}) == [22]


def test_ssh_ports_none(monkeypatch):
    monkeypatch.setattr(host, "run", fake_runner({("ss",): (0, ""), ("systemctl",): (3, "inactive")}))
    assert host.ssh_ports({}) == []


def test_os_release_and_machine_id(paths):
    with open(paths.os_release, "w") as f:
        f.write('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n# c\n')
    with open(paths.machine_id, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    release = host.os_release(paths)
    assert release["ID"] == "debian" and release["VERSION_ID"] == "12"
    assert host.machine_id(paths) == "0123456789abcdef0123456789abcdef"


def test_in_container(monkeypatch, paths):
    monkeypatch.setattr(host, "run", fake_runner({("systemd-detect-virt",): (0, "systemd-nspawn\n")}))
    assert host.in_container(paths) is True
    monkeypatch.setattr(host, "run", fake_runner({("systemd-detect-virt",): (1, "none\n")}))
    assert host.in_container(paths) is False
