"""A bridge that serves several servers: which files a join with a token works on, the refusal of
a second server of a served domain, and how leave --server names a server."""

import json
import os

import pytest

from jvbjoin.bridge import shards
from jvbjoin.errors import DomainServedError, JvbJoinError, UsageError

from helpers import make_token, write

FIRST = make_token()  # meet.example.com, auth.meet.example.com
SECOND = make_token(meet="meet2.example.com", id="def67890")


def joined(paths, token=FIRST, further=False, **extra):
    """A completed join of ``token``: the record (and, for the first server, the fragment)."""
    sub = shards.ServerPaths(paths, token.domain) if further else paths
    record = {"token_id": token.id, "server": token.host, "port": token.port, "domain": token.domain,
              "meet": token.meet, "muc": token.muc, "user": token.user, "pin": token.pin, "password_changed": True}
    record.update(extra)
    write(sub.bridge_state, json.dumps(record))
    write(sub.jvb_fragment, 'PASSWORD = "p"\n')
    return sub


def test_a_further_servers_files_are_its_own_and_the_first_servers_stay_where_they_were(paths):
    sub = shards.ServerPaths(paths, "Auth.Meet2.Example.com")
    assert sub.bridge_state == paths("/var/lib/jvb-join/servers/auth.meet2.example.com.json")
    assert sub.jvb_fragment == paths("/etc/jitsi/videobridge/jvb-join-auth.meet2.example.com.conf")
    assert sub.state == paths.bridge_servers and sub.nickname_file == paths.nickname_file
    assert paths.bridge_state == paths("/var/lib/jvb-join/bridge.json")
    assert paths.jvb_fragment == paths("/etc/jitsi/videobridge/jvb-join.conf")
    assert paths.bridge_servers in paths.written_folders


def test_config_ids_have_no_dots_and_differ_per_domain():
    assert shards.config_id("auth.meet2.example.com") == "jvb-join-auth_meet2_example_com"
    assert shards.config_id("a-b.c") != shards.config_id("a.b-c")
    assert shards.include_line("auth.meet2.example.com").startswith('include "jvb-join-auth.meet2.example.com.conf"')


def test_a_first_join_a_rerun_and_a_new_token_of_the_same_server_use_the_first_servers_files(paths):
    assert shards.paths_for_token(paths, FIRST) is paths
    joined(paths)
    assert shards.paths_for_token(paths, FIRST) is paths
    assert shards.paths_for_token(paths, make_token(id="new12345")) is paths


def test_a_token_of_another_domain_gets_a_further_servers_files(paths):
    joined(paths)
    sub = shards.paths_for_token(paths, SECOND)
    assert shards.is_further(sub) and sub.server_domain == SECOND.domain


def test_a_half_done_first_join_is_not_a_first_server_yet(paths):
    write(paths.bridge_state, json.dumps({"server": FIRST.host, "domain": FIRST.domain, "token_id": FIRST.id,
                                          "pending_password": "x"}))
    assert shards.paths_for_token(paths, SECOND) is paths


@pytest.mark.parametrize("further", [False, True])
def test_another_server_of_a_domain_the_bridge_serves_is_refused_with_what_to_do(paths, further):
    joined(paths)
    if further:
        joined(paths, SECOND, further=True)
    served = SECOND if further else FIRST
    other = served.replace(host="other.example.net", id="zzz99999")
    with pytest.raises(DomainServedError) as caught:
        shards.paths_for_token(paths, other)
    assert served.domain in caught.value.message and "other.example.net" in caught.value.message
    assert "jvb-join leave --server {}".format(served.domain) in caught.value.remedy
    assert caught.value.exit_code == 1


def test_a_further_server_cannot_change_the_bridges_region_or_take_a_websocket_id(paths):
    joined(paths, region="eu")
    assert shards.is_further(shards.paths_for_token(paths, SECOND.replace(region="eu")))
    with pytest.raises(JvbJoinError) as caught:
        shards.paths_for_token(paths, SECOND.replace(region="us"))
    assert "one region" in caught.value.message
    with pytest.raises(JvbJoinError):
        shards.paths_for_token(paths, SECOND.replace(ws="jvb-x"))


def test_servers_are_listed_first_one_first_and_found_by_domain_host_or_address(paths):
    joined(paths)
    joined(paths, SECOND, further=True)
    os.makedirs(os.path.join(paths.bridge_servers, ".hidden.json"))
    assert [record["domain"] for _sub, record in shards.servers(paths)] == [FIRST.domain, SECOND.domain]
    assert [shards.server_name(record) for _sub, record in shards.servers(paths)] == [FIRST.meet, SECOND.meet]
    for name in (SECOND.meet, SECOND.domain, SECOND.host, "{}:5222".format(SECOND.host), SECOND.domain.upper()):
        sub, record = shards.find(paths, name)
        assert shards.is_further(sub) and record["token_id"] == SECOND.id
    sub, _record = shards.find(paths, FIRST.domain)
    assert sub is paths
    with pytest.raises(UsageError) as caught:
        shards.find(paths, "meet3.example.com")
    assert FIRST.meet in caught.value.message and SECOND.meet in caught.value.message
