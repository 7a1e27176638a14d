"""doctor on the server: the joined bridges whose jvb-join differs from the server's, from the
version each bridge keeps in its account's private storage (prosody's file storage)."""

import json
import time

from jvbjoin.doctor.core import Facts
from jvbjoin.doctor.runner import checks_for
from jvbjoin.server import prosody
from jvbjoin.server.checks import fleet

from helpers import AUTH, write_file

# prosody 0.12's mod_private file for <bridge xmlns='urn:jvb-join:bridge:0'><jvb-join version='...'/></bridge>
# (its datamanager: "return " and util.serialization's text of st.preserialize)
PRIVATE = ('return {\n\t["bridge:urn:jvb-join:bridge:0"] = {\n\t\t{\n\t\t\t["attr"] = {\n'
           '\t\t\t\t["version"] = "%s";\n\t\t\t};\n\t\t\t["name"] = "jvb-join";\n\t\t};\n'
           '\t\t["attr"] = {\n\t\t\t["xmlns"] = "urn:jvb-join:bridge:0";\n\t\t};\n\t\t["name"] = "bridge";\n'
           '\t};\n};\n')


def server_with(paths, own, bridges):
    write_file(paths, "/var/lib/dpkg/status", "Package: jvb-join\nStatus: install ok installed\nVersion: {}\n".format(own))
    now = time.time()
    records = []
    for token_id, version in bridges.items():
        records.append({"id": token_id, "name": "", "user": "jvb-" + token_id, "domain": AUTH, "meet": "m",
                        "created": now - 60, "exp": now + 3600, "verifier": "aa", "joined": True,
                        "nickname": "nick-" + token_id})
        write_file(paths, prosody.store_file(paths, AUTH, "accounts", "jvb-" + token_id)[len(paths.root):],
                   'return {\n\t["stored_key"] = "bb";\n};\n')
        if version:
            write_file(paths, prosody.store_file(paths, AUTH, "private", "jvb-" + token_id)[len(paths.root):],
                       PRIVATE % version)
    write_file(paths, "/var/lib/jvb-join/server/tokens.json", json.dumps(records), 0o600)
    return Facts(paths)


def test_the_version_a_bridge_reported_is_read_from_prosodys_private_storage(paths):
    server_with(paths, "1.2-1", {"a": "1.1-1"})
    assert prosody.bridge_version(paths, AUTH, "jvb-a") == "1.1-1"
    assert prosody.bridge_version(paths, AUTH, "jvb-b") is None


def test_bridges_on_another_version_are_listed_with_what_they_run(jms):
    result = fleet.check_bridge_versions(server_with(jms, "1.2-1", {"a": "1.2-1", "b": "1.1-1", "c": None}))
    assert result.status == "warn"
    assert "1 of 3 bridge(s) run another jvb-join than this server's 1.2-1: nick-b runs 1.1-1" == result.detail
    assert "apt-get install jvb-join" in result.remedy
    assert "nick-c (c): version not reported" in result.details


def test_one_version_everywhere_is_ok_and_the_check_is_among_the_servers(jms):
    result = fleet.check_bridge_versions(server_with(jms, "1.2-1", {"a": "1.2-1"}))
    assert (result.status, result.detail) == ("ok", "every joined bridge runs jvb-join 1.2-1")
    ids = [c.id for c in checks_for("server")]
    assert ids.index("bridge-versions") == ids.index("local-bridge") + 1
