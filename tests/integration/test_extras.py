"""What the tutorials do beyond a plain join, in the lab: the bridge's COLIBRI REST stats on
loopback, a bridge behind NAT announcing its public address (a real SNAT in front of it, seen by a
STUN server on jms), and client tuning on the server; doctor's checks of each, with a fault each."""

import json
import time

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, create_token, doctor_check, doctor_check_with_fault, fetch, install_tools, join, sh

PUBLIC = "203.0.113.7"  # TEST-NET-3: the address a NAT in front of jvb1 would forward
STUN_PORT = 3479  # coturn as a plain STUN server on jms (not on 3478: a TURN setup may own that one)


def colibri_stats(lab, host):
    """What the tutorial's `curl http://127.0.0.1:8080/colibri/stats` prints on the bridge: HTTP code, body."""
    _, out, _ = sh(lab, host, "curl -s -o /tmp/stats.json -w '%{http_code}' --max-time 10 "
                              "http://127.0.0.1:8080/colibri/stats; echo; cat /tmp/stats.json", check=False)
    code, _, body = out.partition("\n")
    return code.strip(), body


def stun_server(lab):
    """coturn answering STUN binding requests on jms, open to the lab in jms's firewall; HOST:PORT."""
    install_tools(lab, "jms", "coturn")
    sh(lab, "jms", "systemctl is-active --quiet lab-stun || systemd-run --unit=lab-stun turnserver --stun-only "
                   "--no-cli --listening-port {0} --listening-ip {1} --log-file stdout; "
                   "ufw allow {0}/udp >/dev/null".format(STUN_PORT, lab.ip("jms")))
    return "{}:{}".format(lab.ip("jms"), STUN_PORT)


def test_colibri_stats_on_loopback_and_the_public_address_behind_nat(server):
    lab = server
    lab.up("jvb1")
    install_tools(lab, "jvb1", "curl", "jvb-join")  # the tutorial's client, in one apt run with jvb-join
    token = create_token(lab, "nat", "jvb1")
    started = time.monotonic()
    stun = stun_server(lab)
    print("coturn as the lab's STUN server on jms: {:.1f} s".format(time.monotonic() - started))
    rc, out, err, seconds = join(lab, "jvb1", token["token"], "--advertise-ip", PUBLIC, "--stun-server", stun)
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

    # A NAT in front of jvb1, for what a STUN server sees: jvb1's UDP to it leaves from PUBLIC (and
    # jms routes PUBLIC back to jvb1), as behind a router or a cloud's 1:1 NAT.
    snat = "iptables -t nat {} POSTROUTING -p udp -d %s --dport %d -j SNAT --to-source %s" % (
        lab.ip("jms"), STUN_PORT, PUBLIC)
    sh(lab, "jvb1", snat.format("-A"))
    sh(lab, "jms", "ip route replace {}/32 via {}".format(PUBLIC, lab.ip("jvb1")))
    # Doctor: the bridge reads and announces the mapping, and STUN sees the advertised address.
    doctor_started = time.monotonic()
    nat = doctor_check(lab, "jvb1", "bridge-nat")
    assert nat["status"] == "ok" and PUBLIC in nat["detail"], nat
    seen = doctor_check(lab, "jvb1", "bridge-stun")
    assert seen["status"] == "ok" and PUBLIC in seen["detail"], seen
    # The NAT's public address is no longer the advertised one (here: no NAT at all any more): STUN
    # sees jvb1's own address, and doctor warns with both and the join that would fix it.
    moved = doctor_check_with_fault(lab, "jvb1", "bridge-stun", snat.format("-D"), snat.format("-A"))
    assert moved["status"] == "warn" and lab.ip("jvb1") in moved["detail"] and PUBLIC in moved["detail"], moved
    assert "--advertise-ip {}".format(lab.ip("jvb1")) in moved["remedy"], moved
    assert doctor_check(lab, "jvb1", "bridge-stun")["status"] == "ok"
    # A later line in jvb.conf that replaces jvb-join's mapping: the bridge would lose it at its next start.
    conf = "/etc/jitsi/videobridge/jvb.conf"
    lost = doctor_check_with_fault(
        lab, "jvb1", "bridge-nat",
        "cp -a {0} /root/jvb.conf.before; echo 'ice4j.harvest.mapping.static-mappings = []' >> {0}".format(conf),
        "cp -a /root/jvb.conf.before {}".format(conf))
    assert lost["status"] == "fail" and "does not read jvb-join's mapping" in lost["detail"], lost
    print("doctor bridge-nat with the mapping overridden: {}".format(lost["detail"]))
    assert doctor_check(lab, "jvb1", "bridge-nat")["status"] == "ok"
    doctor_seconds = time.monotonic() - doctor_started

    # The same options again: nothing rewritten, no restart.
    rc, out, err, _ = join(lab, "jvb1", token["token"], "--advertise-ip", PUBLIC, "--stun-server", stun)
    assert rc in (0, 2), out + err
    assert json.loads(out)["changed"] == 0

    # NAT is off unless asked: a join without the option takes the mapping away again; the stats
    # stay, on loopback (leave uses the same API to shut the bridge down).
    sh(lab, "jvb1", snat.format("-D"))  # no NAT any more
    started = time.monotonic()
    rc, out, err, _ = join(lab, "jvb1", token["token"], "--stun-server", stun)
    assert rc in (0, 2), out + err
    print("join without --advertise-ip took {:.1f} s".format(time.monotonic() - started))
    # No NAT asked for: doctor skips that check; STUN sees the host's own address, as it should.
    doctor_started = time.monotonic()
    assert doctor_check(lab, "jvb1", "bridge-nat")["status"] == "skipped"
    seen = doctor_check(lab, "jvb1", "bridge-stun")
    assert seen["status"] == "ok" and lab.ip("jvb1") in seen["detail"], seen
    # The STUN server out of reach: the bridge could not learn its address; doctor names it.
    drop = "iptables {} OUTPUT -p udp -d {} --dport {} -j DROP"
    silent = doctor_check_with_fault(lab, "jvb1", "bridge-stun", drop.format("-I", lab.ip("jms"), STUN_PORT),
                                     drop.format("-D", lab.ip("jms"), STUN_PORT))
    assert silent["status"] == "fail" and "no STUN server answered" in silent["detail"], silent
    assert doctor_check(lab, "jvb1", "bridge-stun")["status"] == "ok"
    doctor_seconds += time.monotonic() - doctor_started
    print("doctor's NAT and STUN checks with their faults: {:.1f} s".format(doctor_seconds))
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
                "--config", "channelLastN=4", "--interface", "SHOW_JITSI_WATERMARK=false"]
    # The older tutorials' openBridgeChannel: the client has not read it since 2020, so it is refused.
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "tune", "--open-bridge-channel", "websocket"])
    assert rc == 64 and "openBridgeChannel" in out + err, out + err
    assert lab.exec("jms", ["cat", path], check=True)[1] == before
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune", "--dry-run"] + tutorial)
    assert rc == 0, out + err
    assert lab.exec("jms", ["cat", path], check=True)[1] == before
    # A dry run records nothing: doctor has nothing tuned to check yet.
    assert doctor_check(lab, "jms", "server-tune")["status"] == "skipped"
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune"] + tutorial)
    assert rc == 0, out + err
    after = lab.exec("jms", ["cat", path], check=True)[1]
    assert after.startswith(before)  # every line of the package's file as it was
    # What browsers get from the web server.
    served = fetch(lab, "jms", "https://127.0.0.1/config.js")["body"]
    for line in ("config.startAudioOnly = true;", "config.resolution = 480;", "config.disableAudioLevels = true;",
                 "config.channelLastN = 4;"):
        assert line in served, served[-800:]
    interface = lab.exec("jms", ["cat", "/usr/share/jitsi-meet/interface_config.js"], check=True)[1]
    assert "interfaceConfig.SHOW_JITSI_WATERMARK = false;" in interface
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune"] + tutorial)
    assert json.loads(out)["changed"] == 0

    # Doctor: the settings are in place; an admin's later line overrides one (a warning: their
    # choice); jvb-join's line taken out is a failure, with the command that puts it back.
    doctor_started = time.monotonic()
    assert doctor_check(lab, "jms", "server-tune")["status"] == "ok"
    sh(lab, "jms", "cp -a {0} /root/config.js.tuned; echo 'config.resolution = 720;' >> {0}".format(path))
    overridden = doctor_check(lab, "jms", "server-tune")
    sh(lab, "jms", "sed -i '/^config.startAudioOnly = .*set by/d' {}".format(path))
    removed = doctor_check(lab, "jms", "server-tune")
    sh(lab, "jms", "cp -a /root/config.js.tuned {}".format(path))
    assert overridden["status"] == "warn" and "config.resolution" in overridden["detail"], overridden
    assert removed["status"] == "fail" and "startAudioOnly" in removed["detail"], removed
    assert "jvb-join server tune --config startAudioOnly=true" in removed["remedy"], removed
    assert doctor_check(lab, "jms", "server-tune")["status"] == "ok"
    print("doctor's server-tune check with its faults: {:.1f} s".format(time.monotonic() - doctor_started))
    # And back: --unset leaves the file exactly as the package wrote it.
    rc, out, err = lab.exec("jms", ["jvb-join", "--json", "server", "tune", "--unset", "startAudioOnly", "--unset",
                                    "resolution", "--unset", "disableAudioLevels", "--unset", "channelLastN"])
    assert rc == 0, out + err
    assert lab.exec("jms", ["cat", path], check=True)[1] == before
    # Only the interface setting is left for doctor to check.
    assert "1 setting" in doctor_check(lab, "jms", "server-tune")["detail"]
