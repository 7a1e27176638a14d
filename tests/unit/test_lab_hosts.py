"""The lab's /etc/hosts: every host by its name, the servers by their domains too (jms: meet.lab.test,
jms2: meet2.lab.test), in address order; up() writes it into every running host again, so hosts
booted earlier learn the names of later ones (the lab scenario of a bridge serving two servers
resolves meet2.lab.test from a bridge that was up before jms2)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

from harness import lab  # noqa: E402


def test_both_servers_are_named_by_their_domains_and_bridges_by_their_names():
    st = {"hosts": {"jvb3": {"ip": "198.18.1.14"}, "jms": {"ip": "198.18.1.11"}, "jms2": {"ip": "198.18.1.15"}}}
    lines = lab.Lab._hosts_file(None, st).splitlines()
    assert lines[3:] == ["198.18.1.11\tjms.lab.test jms meet.lab.test auth.meet.lab.test",
                         "198.18.1.14\tjvb3.lab.test jvb3",
                         "198.18.1.15\tjms2.lab.test jms2 meet2.lab.test auth.meet2.lab.test"]
