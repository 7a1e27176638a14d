"""ufw's state as every reader sees it: ``ufw status``, user.rules, ufw.conf, and the rule argv."""

import os

from jvbjoin.system import ufw

from helpers import ACTIVE_ADMIN, INACTIVE

USER_RULES = """*filter
### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in comment=6a76622d6a6f696e
### tuple ### allow tcp 5222 0.0.0.0/0 any 198.51.100.0/24 in comment=6a76622d6a6f696e2062726964676573
### tuple ### limit_log tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### deny tcp 3306 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 out
### tuple ### allow udp 40000:49999 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 22 -j ACCEPT
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def test_parse_status_rules():
    active, rules = ufw.parse_status(ACTIVE_ADMIN)
    assert active
    assert ("allow", "any", "8443", False) in rules
    assert ufw.allowed(rules, 22, "tcp")
    assert not ufw.allowed(rules, 10000, "udp")
    assert ufw.status_active(ACTIVE_ADMIN) and not ufw.status_active(INACTIVE)
    assert ufw.status_lists(ACTIVE_ADMIN, 22, "tcp") and not ufw.status_lists(ACTIVE_ADMIN, 10000, "udp")


def test_user_rules_incoming_only_with_action_and_source():
    rules = ufw.parse_user_rules(USER_RULES)
    assert ("allow", "tcp", "22", True) in rules
    assert ("allow", "tcp", "5222", False) in rules
    assert ("limit", "tcp", "2222", True) in rules
    assert not any(r[2] == "80" for r in rules)  # outgoing
    assert ufw.allowed(rules, 2222, "tcp", from_anywhere=True)
    assert not ufw.allowed(rules, 3306, "tcp")
    assert ufw.allowed(rules, 45000, "udp", from_anywhere=True) and not ufw.allowed(rules, 45000, "tcp")
    assert not ufw.allowed(rules, 5222, "tcp", from_anywhere=True) and ufw.allowed(rules, 5222, "tcp")
    assert ("allow", "tcp", "5222", "198.51.100.0/24") in ufw.rule_sources(USER_RULES)


def test_commented_rules_are_the_ones_with_that_comment():
    assert ufw.commented_rules(USER_RULES, "jvb-join") == [("10000", "udp")]
    assert [f[5] for f in ufw.commented_tuples(USER_RULES, "jvb-join bridges")] == ["198.51.100.0/24"]


def test_saved_state_from_ufws_files(paths):
    assert ufw.saved(paths) == (False, False, [])
    write(paths(ufw.CONF), "# comment\nENABLED = yes\nLOGLEVEL=low\n")
    write(paths("/etc/ufw/user.rules"), USER_RULES)
    write(paths("/etc/ufw/user6.rules"), USER_RULES.replace("0.0.0.0/0", "::/0"))
    installed, enabled, rules = ufw.saved(paths)
    assert installed and enabled and len(rules) == 2 * len(ufw.parse_user_rules(USER_RULES))
    assert not ufw.conf_enabled("ENABLED=no\n") and not ufw.conf_enabled("# ENABLED=yes\n")


def test_port_specs():
    assert ufw.port_in(80, "80") and ufw.port_in(443, "80,443") and ufw.port_in(10500, "10000:20000")
    assert not ufw.port_in(81, "80,443") and not ufw.port_in(9, "10000:20000") and not ufw.port_in(80, "http")


def test_allow_and_its_undo():
    assert ufw.allow_argv(10000, "udp", "jvb-join") == ["ufw", "allow", "10000/udp", "comment", "jvb-join"]
    assert ufw.delete_argv(10000, "udp") == ["ufw", "delete", "allow", "10000/udp"]
