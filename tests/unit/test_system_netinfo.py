"""The host's sockets from /proc/net, who holds them, and whether an address is this host's."""

import os

from jvbjoin.system import netinfo

TCP6 = ("  sl  local_address                         remote_address                        st\n"
        "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A\n"
        "   1: 00000000000000000000000000000000:1466 00000000000000000000000000000000:0000 0A\n")
TCP = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
       "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0  0 111 1\n"
       "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0  0 222 1\n"
       "   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000   0  0 333 1\n")
UDP = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
       "   0: 00000000:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000   0  0 444 2\n")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def test_ipv6_listeners_are_read():
    assert netinfo.parse_proc_net(TCP6, True) == [("::1", 8080), ("::", 5222)]


def test_listeners_bound_sockets_and_their_inodes(paths):
    write(paths("/proc/net/tcp"), TCP)
    write(paths("/proc/net/tcp6"), TCP6)
    write(paths("/proc/net/udp"), UDP)
    assert netinfo.tcp_listeners(paths) == [("127.0.0.1", 8080), ("0.0.0.0", 22), ("::1", 8080), ("::", 5222)]
    bound = netinfo.bound_sockets(paths)
    assert ("tcp", "0.0.0.0", 22, 222) in bound and ("udp", "0.0.0.0", 10000, 444) in bound
    assert not any(port == 40000 for _, _, port, _ in bound)  # an established connection


def test_loopback_addresses():
    assert all(netinfo.is_loopback(a) for a in ("127.0.0.1", "127.0.1.1", "::1", "::ffff:127.0.0.1"))
    assert not any(netinfo.is_loopback(a) for a in ("0.0.0.0", "::", "192.0.2.1", "::ffff:192.0.2.1"))


def test_local_addresses_are_the_ones_a_socket_binds_to():
    assert netinfo.is_local_address("127.0.0.1")
    assert not netinfo.is_local_address("192.0.2.77")  # TEST-NET-1, on no interface
    assert not netinfo.is_local_address("not an address")
