"""The next server in the first one's place: only the client's server and account change in
jvb-join.conf; a fragment jvb-join did not write is refused, not guessed at."""

import pytest

from jvbjoin.errors import StepError
from jvbjoin.bridge.steps import promote

FIRST = """# header
videobridge.apis.xmpp-client.configs.shard {
  HOSTNAME = "meet.example.com"
  PORT = 5222
  DOMAIN = "auth.meet.example.com"
  USERNAME = "jvb-a"
  PASSWORD = "pa"
  MUC_JIDS = "jvbbrewery@internal.auth.meet.example.com"
  MUC_NICKNAME = "jvb-x"
  DISABLE_CERTIFICATE_VERIFICATION = false
}
videobridge.apis.rest.enabled = true
videobridge.relay {
  enabled = true
}
"""
FURTHER = """# another header
videobridge.apis.xmpp-client.configs.jvb-join-auth_meet2_example_com {
  HOSTNAME = "meet2.example.com"
  PORT = 5223
  DOMAIN = "auth.meet2.example.com"
  USERNAME = "jvb-b"
  PASSWORD = "pb"
  MUC_JIDS = "jvbbrewery@internal.auth.meet2.example.com"
  MUC_NICKNAME = "jvb-x"
  DISABLE_CERTIFICATE_VERIFICATION = false
}
"""


def test_the_next_servers_client_takes_the_first_ones_keys_and_nothing_else_changes():
    swapped = promote.swap_client(FIRST, FURTHER)
    assert promote.client_values(swapped) == dict(promote.client_values(FURTHER),
                                                  MUC_NICKNAME='"jvb-x"', DISABLE_CERTIFICATE_VERIFICATION="false")
    assert swapped.startswith("# header\nvideobridge.apis.xmpp-client.configs.shard {\n")
    assert swapped.endswith("}\nvideobridge.apis.rest.enabled = true\nvideobridge.relay {\n  enabled = true\n}\n")


@pytest.mark.parametrize("first, further", [(FIRST, "nothing here\n"), ("x = 1\n", FURTHER),
                                            (FIRST, FURTHER.replace('  USERNAME = "jvb-b"\n', ""))])
def test_files_jvb_join_did_not_write_are_refused(first, further):
    with pytest.raises(StepError):
        promote.swap_client(first, further)
