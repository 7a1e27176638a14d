"""What the tutorials do beyond a plain join, in the lab: the bridge's COLIBRI REST stats on
loopback, a bridge behind NAT announcing its public address, and client tuning on the server."""

import json
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, create_token, fetch, install_server, install_tools, join, sh

PUBLIC = "203.0.113.7"  # TEST-NET-3: the address a NAT in front of jvb1 would forward


@pytest.fixture(scope="module")
def server(lab):
    install_server(lab)
    yield lab
    lab.down()


def colibri_stats(lab, host):
    """What the tutorial's `curl http://127.0.0.1:8080/colibri/stats` prints on the bridge: HTTP code, body."""
    _, out, _ = sh(lab, host, "curl -s -o /tmp/stats.json -w '%{http_code}' --max-time 10 "
                              "http://127.0.0.1:8080/colibri/stats; echo; cat /tmp/stats.json", check=False)
    code, _, body = out.partition("\n")
    return code.strip(), body


def test_colibri_stats_on_loopback_and_the_public_address_behind_nat(server):
    lab = server
    lab.up("jvb1")
    install_tools(lab, "jvb1", "curl", "jvb-join")  # the tutorial's client, in one apt run with jvb-join
    token = create_token(lab, "nat", "jvb1")
    rc, out, err, seconds = join(lab, "jvb1", token["token"], "--advertise-ip", PUBLIC)
    assert rc in (0, 2), out + err
    assert json.loads(out)["verified"] is True
    print("join with --advertise-ip took {:.1f} s".format(seconds))

    code, body = colibri_stats(lab, "jvb1")
    assert code == "200", body
    stats = json.loads(body)
    assert stats["conferences"] == 0 and stats["version"] and "stress_level" in stats
    # Loopback only: the server next door cannot reach the bridge's REST API.
    answer = fetch(lab, "jms", "http://{}:8080/colibri/stats".format(lab.ip("jvb1")))
    assert answer["status"] == 0, answer

    # The bridge maps its own address to the public one, as ice4j says at start-up.
    _, log, _ = lab.exec("jvb1", ["cat", "/var/log/jitsi/jvb.log"], check=True)
    using = "Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face={}:9/udp, mask={}:9/udp)".format(
        lab.ip("jvb1"), PUBLIC)
    assert using in log, log[-2000:]

    # The same options again: nothing rewritten, no restart.
    rc, out, err, _ = join(lab, "jvb1", token["token"], "--advertise-ip", PUBLIC)
    assert rc in (0, 2), out + err
    assert json.loads(out)["changed"] == 0

    # NAT is off unless asked: a join without the option takes the mapping away again; the stats
    # stay, on loopback (leave uses the same API to shut the bridge down).
    started = time.monotonic()
    rc, out, err, _ = join(lab, "jvb1", token["token"])
    assert rc in (0, 2), out + err
    print("join without --advertise-ip took {:.1f} s".format(time.monotonic() - started))
    code, body = colibri_stats(lab, "jvb1")
    assert code == "200", body
    _, log, _ = lab.exec("jvb1", ["cat", "/var/log/jitsi/jvb.log"], check=True)
    last_start = log.rsplit("Starting jitsi-videobridge version", 1)[1]
    assert "StaticMappingCandidateHarvester" not in last_start
    lab.stop("jvb1")


def test_server_tune_sets_the_tutorial_client_settings_by_marked_lines(server):
    lab = server
    path = "/etc/jitsi/meet/{}-config.js".format(DOMAIN)
    before = lab.exec("jms", ["cat", path], check=True)[1]
    tutorial = ["--start-audio-only", "--resolution", "480", "--disable-audio-levels",
                "--open-bridge-channel", "websocket", "--interface", "SHOW_JITSI_WATERMARK=false"]
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune", "--dry-run"] + tutorial)
    assert rc == 0, out + err
    assert lab.exec("jms", ["cat", path], check=True)[1] == before
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune"] + tutorial)
    assert rc == 0, out + err
    after = lab.exec("jms", ["cat", path], check=True)[1]
    assert after.startswith(before)  # every line of the package's file as it was
    # What browsers get from the web server.
    served = fetch(lab, "jms", "https://127.0.0.1/config.js")["body"]
    for line in ("config.startAudioOnly = true;", "config.resolution = 480;", "config.disableAudioLevels = true;",
                 'config.openBridgeChannel = "websocket";'):
        assert line in served, served[-800:]
    interface = lab.exec("jms", ["cat", "/usr/share/jitsi-meet/interface_config.js"], check=True)[1]
    assert "interfaceConfig.SHOW_JITSI_WATERMARK = false;" in interface
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune"] + tutorial)
    assert json.loads(out)["changed"] == 0
    # And back: --unset leaves the file exactly as the package wrote it.
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune", "--unset", "startAudioOnly", "--unset",
                                    "resolution", "--unset", "disableAudioLevels", "--unset", "openBridgeChannel"])
    assert rc == 0, out + err
    assert lab.exec("jms", ["cat", path], check=True)[1] == before
