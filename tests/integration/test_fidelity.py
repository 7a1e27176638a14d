"""The lab's Jitsi stand-ins behave as the real packages do where operators get hurt, against the
real prosody: a bridge configured by hand the way the tutorials do (no jvb-join on the bridge) joins
or fails exactly as a real one would. Also the scripted hand procedure of the tutorials, which the
benchmarks compare jvb-join with, really gets a bridge into the brewery."""

import json
import secrets
import time

import pytest

pytestmark = pytest.mark.lab

from jvbjoin.bridge.checks.facts import restore_conffile
from labkit import DOMAIN, hand_procedure, jicofo_log, sh, wait_for

BREWERY = "jvbbrewery@internal.auth." + DOMAIN
CONF = "/etc/jitsi/videobridge/jvb.conf"
PROPS = "/etc/jitsi/videobridge/sip-communicator.properties"
JVB_LOG = "/var/log/jitsi/jvb.log"


def server_jvb_password(lab):
    """The shared jvb account's password, where the packages keep it on a server with a local bridge."""
    _, out, _ = lab.exec("jms", ["hocon", "-f", CONF, "get", "videobridge.apis.xmpp-client.configs.shard.PASSWORD"],
                         check=True)
    return out.strip().strip('"')


def put(lab, host, path, text):
    """Write a bridge config file as an admin would: content on stdin, jvb:jitsi 0644 as the package
    leaves its files (in its 0750 folder)."""
    lab.exec(host, ["sh", "-c", 'umask 022; cat > "$1"; chown jvb:jitsi "$1"', "put", path], input=text, check=True)


def client_block(password, nickname, host=DOMAIN, user="jvb", disable_verification=False):
    lines = ['HOSTNAME="{}"'.format(host), 'DOMAIN="auth.{}"'.format(DOMAIN), 'USERNAME="{}"'.format(user),
             'PASSWORD="{}"'.format(password), 'MUC_JIDS="JvbBrewery@internal.auth.{}"'.format(DOMAIN),
             'MUC_NICKNAME="{}"'.format(nickname)]
    if disable_verification:
        lines.append("DISABLE_CERTIFICATE_VERIFICATION=true")
    return ("videobridge {\n    apis.xmpp-client.configs {\n        shard {\n"
            + "".join("            {}\n".format(l) for l in lines) + "        }\n    }\n}\n")


def legacy_block(password, nickname, complete=True):
    keys = [("HOSTNAME", DOMAIN), ("DOMAIN", "auth." + DOMAIN), ("USERNAME", "jvb"), ("PASSWORD", password),
            ("MUC_JIDS", "JvbBrewery@internal.auth." + DOMAIN), ("MUC_NICKNAME", nickname),
            ("DISABLE_CERTIFICATE_VERIFICATION", "true")]
    if not complete:
        keys = [kv for kv in keys if kv[0] != "MUC_NICKNAME"]
    return ("org.jitsi.videobridge.ENABLE_STATISTICS=true\n"
            + "".join("org.jitsi.videobridge.xmpp.user.shard.{}={}\n".format(k, v) for k, v in keys))


class Restart:
    """Restart the bridge; then look only at what its log and jicofo's log say from that moment on."""

    def __init__(self, lab, host):
        self.lab, self.host = lab, host
        self.jvb_mark = int(lab.exec(host, ["sh", "-c", "wc -c < {} 2>/dev/null || echo 0".format(JVB_LOG)])[1])
        self.jicofo_mark = len(jicofo_log(lab))
        lab.exec(host, ["systemctl", "restart", "jitsi-videobridge2"], check=True)

    def jvb_log(self):
        return self.lab.exec(self.host, ["tail", "-c", "+{}".format(self.jvb_mark + 1), JVB_LOG])[1]

    def jicofo_log(self):
        return jicofo_log(self.lab)[self.jicofo_mark:]

    def wait_jvb(self, text, timeout=60):
        return wait_for(lambda: text in self.jvb_log(), timeout, "'{}' in {} of {}".format(text, JVB_LOG, self.host))

    def wait_added(self, nickname, timeout=60):
        wanted = "Added brewery instance: {}/{}".format(BREWERY, nickname)
        return wait_for(lambda: wanted in self.jicofo_log(), timeout, "jicofo to add " + nickname)

    def settle(self, failure, seconds=10):
        """The failure is logged, and after a few reconnect attempts the bridge still did not join."""
        self.wait_jvb(failure)
        time.sleep(seconds)
        log = self.jvb_log()
        assert "Joined MUC" not in log, log
        return log


def jicofo_bridges(lab):
    """The bridges jicofo's stand-in holds (its lab-only /debug/bridges), one per brewery occupant."""
    probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8888/debug/bridges').read().decode())"
    _, out, _ = lab.exec("jms", ["python3", "-c", probe], check=True)
    return json.loads(out)["bridges"]


def test_hand_procedure_of_the_tutorials_gets_a_bridge_into_the_brewery(server):
    lab = server
    lab.up("hand1")
    started = time.monotonic()
    rc, out, err = hand_procedure(lab, "hand1", "--nickname", "jvb-hand")
    seconds = time.monotonic() - started
    assert rc == 0, out + err
    print(out)
    print("hand procedure took {:.1f} s".format(seconds))
    assert "Added brewery instance: {}/jvb-hand".format(BREWERY) in jicofo_log(lab)
    assert any(b["nickname"] == "jvb-hand" for b in jicofo_bridges(lab))
    # It did what the tutorials do: verification off, the bridge says so; the tutorials' ports.
    rc, out, _ = lab.exec("hand1", ["grep", "-c", "Disabling certificate verification!", JVB_LOG])
    assert int(out.strip()) >= 1
    status = lab.exec("hand1", ["ufw", "status"], check=True)[1]
    assert "10000:20000/udp" in status and "Status: active" in status


def test_the_packages_default_config_does_not_join_from_another_host(server):
    """The package writes HOSTNAME=localhost and a random password: a remote bridge connects to
    nothing (§2.1, §8 item 2)."""
    lab = server
    lab.up("fid1")
    lab.exec("jms", ["ufw", "allow", "5222/tcp"], check=True)  # the tutorials open it to every bridge
    rc, out, err = hand_procedure(lab, "fid1", "--install-only")
    assert rc == 0, out + err
    conf = lab.exec("fid1", ["cat", CONF], check=True)[1]
    assert "HOSTNAME=localhost" in conf
    nickname = [l.split("=", 1)[1].strip() for l in conf.splitlines() if "MUC_NICKNAME" in l][0]
    restart = Restart(lab, "fid1")
    log = restart.settle("Failed to connect/login")
    assert "hostname=localhost" in log and "ConnectException" in log
    assert nickname not in jicofo_log(lab)


def test_the_package_leaves_its_files_0644_in_a_0750_folder(server):
    """jitsi-videobridge2's postinst closes /etc/jitsi/videobridge (jvb:jitsi 0750) and forces no mode
    on the files in it: config and jvb.conf are written under the default umask, logging.properties
    is shipped 0644 (FIDELITY.md)."""
    lab = server
    folder = "/etc/jitsi/videobridge"
    _, out, _ = lab.exec("fid1", ["stat", "-c", "%a %U:%G %n", folder, folder + "/config", CONF,
                                  folder + "/logging.properties"], check=True)
    assert out.split("\n")[:4] == ["750 jvb:jitsi " + folder, "644 jvb:jitsi {}/config".format(folder),
                                   "644 jvb:jitsi " + CONF, "644 jvb:jitsi {}/logging.properties".format(folder)], out


def test_a_deleted_conffile_comes_back_only_with_force_confmiss(server):
    """The init script and logging.properties are conffiles: `apt-get install --reinstall` keeps their
    deletion; doctor's remedy (rm, then --reinstall with --force-confmiss) puts them back."""
    lab = server
    init, logging = "/etc/init.d/jitsi-videobridge2", "/etc/jitsi/videobridge/logging.properties"
    _, conffiles, _ = lab.exec("fid1", ["dpkg-query", "-W", "-f", "${Conffiles}", "jitsi-videobridge2"], check=True)
    assert init in conffiles and logging in conffiles
    lab.exec("fid1", ["rm", "-f", init, logging], check=True)
    env = "export DEBIAN_FRONTEND=noninteractive; "
    sh(lab, "fid1", env + "apt-get install --reinstall -y -q jitsi-videobridge2 >/dev/null")
    assert lab.exec("fid1", ["test", "-e", init])[0] != 0
    assert lab.exec("fid1", ["test", "-e", logging])[0] != 0
    sh(lab, "fid1", env + restore_conffile(logging) + " -y -q >/dev/null")
    assert lab.exec("fid1", ["test", "-x", init])[0] == 0
    assert "handlers" in lab.exec("fid1", ["cat", logging], check=True)[1]
    # each configure also closes the log folder and the bridge's logs (the unit made jvb.log 0644)
    _, out, _ = lab.exec("fid1", ["stat", "-c", "%a %U:%G", "/var/log/jitsi", JVB_LOG], check=True)
    assert out.split() == ["770", "jvb:jitsi", "640", "jvb:jitsi"], out


def test_the_web_certificate_and_site_as_the_package_leaves_them(server):
    """jitsi-meet-web-config's self-signed certificate names its SANs and is no CA; the site has the
    room-info, _unlock and JaaS include blocks, and nginx loads it while the JaaS folder is absent."""
    lab = server
    _, text, _ = lab.exec("jms", ["openssl", "x509", "-in", "/etc/jitsi/meet/{}.crt".format(DOMAIN), "-noout",
                                  "-text"], check=True)
    assert "DNS:localhost, DNS:" + DOMAIN in text
    assert "CA:TRUE" not in text and "Basic Constraints" not in text and "Authority Key Identifier" not in text
    _, site, _ = lab.exec("jms", ["cat", "/etc/nginx/sites-available/{}.conf".format(DOMAIN)], check=True)
    for line in ("include /etc/jitsi/meet/jaas/*.conf;", "location = /_api/room-info {", "location = /_unlock {"):
        assert line in site, line
    assert lab.exec("jms", ["test", "-e", "/etc/jitsi/meet/jaas"])[0] != 0
    rc, out, err = lab.exec("jms", ["nginx", "-t"])
    assert rc == 0, out + err


def test_an_untrusted_server_certificate_stops_the_bridge(server):
    """The right values, but the server's auth certificate is self-signed: TLS is required for a
    non-loopback HOSTNAME and the bridge fails as Java does (§8 item 3)."""
    lab = server
    put(lab, "fid1", CONF, client_block(server_jvb_password(lab), "fid-tls"))
    restart = Restart(lab, "fid1")
    log = restart.settle("Failed to connect/login")
    assert "PKIX path building failed" in log and "unable to find valid certification path" in log
    assert "/fid-tls" not in restart.jicofo_log()


def test_disabling_verification_joins_and_says_so(server):
    lab = server
    put(lab, "fid1", CONF, client_block(server_jvb_password(lab), "fid-tls", disable_verification=True))
    restart = Restart(lab, "fid1")
    restart.wait_added("fid-tls")
    assert "Disabling certificate verification!" in restart.jvb_log()


def test_a_complete_legacy_client_block_overrides_jvb_conf(server):
    """sip-communicator.properties with a complete client block: jvb.conf's block is ignored
    entirely (§2.1 precedence, §8 item 6); an incomplete one is dropped and jvb.conf applies."""
    lab = server
    password = server_jvb_password(lab)
    put(lab, "fid1", CONF, client_block(password, "fid-conf", disable_verification=True))
    put(lab, "fid1", PROPS, legacy_block(password, "fid-legacy"))
    restart = Restart(lab, "fid1")
    restart.wait_added("fid-legacy")
    time.sleep(5)
    assert "/fid-conf" not in restart.jicofo_log()
    assert "mucNickname=fid-conf" not in restart.jvb_log()

    put(lab, "fid1", PROPS, legacy_block(password, "fid-legacy", complete=False))
    restart = Restart(lab, "fid1")
    restart.wait_added("fid-conf")
    assert "Added brewery instance: {}/fid-legacy".format(BREWERY) not in restart.jicofo_log()


def test_two_bridges_with_one_nickname_are_one_bridge_for_jicofo(server):
    """Cloned config (same jvb account, same MUC_NICKNAME): prosody lets the same bare JID join twice
    under one nick, so jicofo sees one bridge, not two (§8 item 1). With another account the nick
    is taken: the second bridge is refused by the MUC and still only one shows."""
    lab = server
    if not any(b["nickname"] == "jvb-hand" for b in jicofo_bridges(lab)):
        pytest.skip("needs the bridge of the hand procedure test")
    password = server_jvb_password(lab)
    lab.exec("fid1", ["rm", "-f", PROPS], check=True)
    put(lab, "fid1", CONF, client_block(password, "jvb-hand", disable_verification=True))
    restart = Restart(lab, "fid1")
    restart.wait_jvb("Joined MUC: " + BREWERY)
    time.sleep(6)  # a presence round from both
    same = [b for b in jicofo_bridges(lab) if b["nickname"] == "jvb-hand"]
    assert len(same) == 1, same
    assert "Added brewery instance: {}/jvb-hand".format(BREWERY) not in restart.jicofo_log()

    # Another account, same nickname: the nick is taken, prosody answers 409 conflict.
    other_password = secrets.token_urlsafe(12)
    lab.exec("jms", ["prosodyctl", "adduser", "jvb-other@auth." + DOMAIN],
             input="{0}\n{0}\n".format(other_password), check=True)
    put(lab, "fid1", CONF, client_block(other_password, "jvb-hand", user="jvb-other", disable_verification=True))
    restart = Restart(lab, "fid1")
    restart.settle("Failed to join the MUCs.")
    # fid1's first session left the shared occupant: hand1's session keeps it, jicofo lost nothing.
    assert "Removed brewery instance: {}/jvb-hand".format(BREWERY) not in restart.jicofo_log()
    same = [b for b in jicofo_bridges(lab) if b["nickname"] == "jvb-hand"]
    assert len(same) == 1, same


def test_removing_web_config_keeps_the_site_enabled(server):
    """jitsi-meet-web-config's postrm `remove` only reloads the web servers: the site stays enabled
    and nginx keeps serving it; only `purge` deletes it. Last in this module: it removes a package."""
    lab = server
    link = "/etc/nginx/sites-enabled/{}.conf".format(DOMAIN)
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jitsi-meet-web-config >/dev/null")
    assert "rc " in lab.exec("jms", ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "jitsi-meet-web-config"])[1]
    assert lab.exec("jms", ["test", "-L", link])[0] == 0
    rc, out, err = lab.exec("jms", ["nginx", "-t"])
    assert rc == 0, out + err
    assert lab.exec("jms", ["systemctl", "is-active", "nginx"])[1].strip() == "active"


def test_jicofo_config_is_written_anew_on_every_configure(server):
    """jicofo's postinst rewrites /etc/jitsi/jicofo/config on every configure (its current shape never
    has what would make the postinst keep it): an admin's line there is gone after a reconfigure."""
    lab = server
    config = "/etc/jitsi/jicofo/config"
    sh(lab, "jms", "echo 'JICOFO_OPTS=\"--lab-admin-line\"' >> " + config)
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive dpkg-reconfigure jicofo >/dev/null 2>&1")
    text = lab.exec("jms", ["cat", config], check=True)[1]
    assert "--lab-admin-line" not in text and "JAVA_SYS_PROPS=" in text
