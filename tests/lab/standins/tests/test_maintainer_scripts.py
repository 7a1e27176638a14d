"""The stand-ins' maintainer scripts run here, not read: each script runs under sh with the system
folders it touches moved under a scratch root, and with stand-in commands (invoke-rc.d, systemctl,
update-rc.d, update-ca-certificates, debconf) that record how they were called. What each one
shows is a row of FIDELITY.md. No root, no network."""

import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.dirname(HERE)
DOMAIN = "meet.lab.test"
AUTH = "auth." + DOMAIN
# the folders the scripts touch, moved under the scratch root
MOVED = ("/etc/init.d/", "/etc/prosody", "/var/lib/prosody", "/usr/local/share/ca-certificates",
         "/usr/share/debconf/confmodule", "/run/systemd/system")

FAKE_DEBCONF = """RET=""
db_get() { RET=$(sed -n "s|^$1=||p" "$(dirname "$0")/../debconf.db"); }
db_set() { :; }
db_purge() { echo db_purge >> "$CALLS"; }
db_stop() { :; }
"""


class Script:
    """One maintainer script of a stand-in, ready to run under ``root``."""

    def __init__(self, root, package, name, debconf=None):
        self.root, self.calls = root, root / "calls"
        text = open(os.path.join(STANDINS, package, "DEBIAN", name), encoding="utf-8").read()
        for folder in MOVED:
            text = text.replace(folder, str(root) + folder)
        self.path = root / "script" / name
        self.path.parent.mkdir()
        self.path.write_text(text)
        confmodule = root / "usr/share/debconf/confmodule"
        confmodule.parent.mkdir(parents=True)
        confmodule.write_text(FAKE_DEBCONF)
        (root / "debconf.db").write_text("".join("{}={}\n".format(k, v) for k, v in (debconf or {}).items()))
        self.bin = root / "bin"
        self.bin.mkdir()
        for command in ("invoke-rc.d", "systemctl", "update-rc.d", "update-ca-certificates"):
            self.fake(command, 0)

    def fake(self, command, status):
        """``command`` records its arguments and exits with ``status``."""
        tool = self.bin / command
        tool.write_text('#!/bin/sh\necho "{} $*" >> "$CALLS"\nexit {}\n'.format(command, status))
        tool.chmod(0o755)

    def make(self, *paths, executable=False):
        for path in paths:
            target = self.root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")
            if executable:
                target.chmod(0o755)

    def exists(self, path):
        return os.path.lexists(str(self.root / path.lstrip("/")))

    def run(self, *args):
        env = dict(os.environ, CALLS=str(self.calls), PATH="{}:/usr/bin:/bin".format(self.bin))
        proc = subprocess.run(["sh", str(self.path)] + list(args), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
        calls = self.calls.read_text().splitlines() if self.calls.exists() else []
        if self.calls.exists():
            self.calls.unlink()
        return proc.returncode, calls


# --- jitsi-meet-prosody postrm (jm debian/jitsi-meet-prosody.postrm @ 9396) -------------------

AUTH_DATA = "/var/lib/prosody/auth%2emeet%2elab%2etest"
PURGED = ["/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN), "/etc/prosody/conf.d/{}.cfg.lua".format(DOMAIN),
          "/etc/prosody/conf.avail/jaas.cfg.lua", "/etc/prosody/conf.d/jaas.cfg.lua",
          "/etc/prosody/certs/{}.crt".format(DOMAIN), "/etc/prosody/certs/{}.key".format(AUTH),
          "/var/lib/prosody/{}.crt".format(DOMAIN), "/var/lib/prosody/{}.cnf".format(AUTH),
          "/var/lib/prosody/{}.key".format(AUTH), AUTH_DATA + "/accounts/jvb.dat", AUTH_DATA + "/roster/focus.dat",
          "/usr/local/share/ca-certificates/{}.crt".format(AUTH)]
KEPT = ["/var/lib/prosody/meet%2elab%2etest/accounts/x.dat", "/var/lib/prosody/other.lab.test.crt",
        "/etc/prosody/conf.avail/other.lab.test.cfg.lua", "/etc/prosody/prosody.cfg.lua"]


@pytest.fixture
def prosody_postrm(tmp_path):
    script = Script(tmp_path, "jitsi-meet-prosody", "postrm", {"jitsi-meet-prosody/jvb-hostname": DOMAIN})
    script.make(*PURGED + KEPT)
    return script


def test_prosody_remove_reloads_prosody_when_its_init_script_is_there_and_deletes_nothing(prosody_postrm):
    assert prosody_postrm.run("remove") == (0, [])  # no init script, no reload (no systemctl either)
    prosody_postrm.make("/etc/init.d/prosody", executable=True)
    assert prosody_postrm.run("remove") == (0, ["invoke-rc.d prosody reload"])
    prosody_postrm.fake("invoke-rc.d", 1)
    assert prosody_postrm.run("remove")[0] == 0  # a failed reload does not fail the removal
    assert all(prosody_postrm.exists(p) for p in PURGED + KEPT)


def test_prosody_purge_deletes_the_domains_files_and_the_auth_hosts_data_without_a_reload(prosody_postrm):
    prosody_postrm.make("/etc/init.d/prosody", executable=True)
    assert prosody_postrm.run("purge") == (0, ["update-ca-certificates -f", "db_purge"])
    assert [p for p in PURGED if prosody_postrm.exists(p)] == []
    assert not prosody_postrm.exists(AUTH_DATA)  # the whole folder
    assert [p for p in KEPT if not prosody_postrm.exists(p)] == []


def test_prosody_purge_fails_when_update_ca_certificates_fails(prosody_postrm):
    prosody_postrm.fake("update-ca-certificates", 1)
    assert prosody_postrm.run("purge") == (1, ["update-ca-certificates -f"])


def test_prosody_purge_without_a_remembered_domain_deletes_nothing(tmp_path):
    script = Script(tmp_path, "jitsi-meet-prosody", "postrm")
    script.make(*PURGED)
    assert script.run("purge") == (0, ["db_purge"])
    assert all(script.exists(p) for p in PURGED)


# --- jitsi-meet-prosody postinst, triggered (jm debian/jitsi-meet-prosody.postinst, .triggers) ----

def test_prosody_trigger_restarts_the_bridge_and_jicofo_with_systemctl(tmp_path):
    assert open(os.path.join(STANDINS, "jitsi-meet-prosody", "DEBIAN", "triggers")).read().split() == [
        "interest-noawait", "update-ca-certificates-java"]
    script = Script(tmp_path, "jitsi-meet-prosody", "postinst")
    assert script.run("triggered", "update-ca-certificates-java") == (
        0, ["systemctl restart jitsi-videobridge2.service", "systemctl restart jicofo.service"])
    script.fake("systemctl", 1)
    assert script.run("triggered", "other-trigger")[0] == 0
    assert script.run("triggered", "update-ca-certificates-java")[0] == 0


# --- jicofo prerm and the end of its postinst (debhelper 13 dh_installinit, compat 12) --------

def test_jicofo_prerm_stops_it_on_remove_and_a_failed_stop_fails_the_removal(tmp_path):
    script = Script(tmp_path, "jicofo", "prerm")
    assert script.run("remove") == (0, [])  # no init script, nothing to stop
    script.make("/etc/init.d/jicofo", executable=True)
    assert script.run("upgrade", "1.0-1196-1") == (0, [])  # an upgrade does not stop it
    assert script.run("remove") == (0, ["invoke-rc.d --skip-systemd-native jicofo stop"])
    script.fake("invoke-rc.d", 1)
    assert script.run("remove") == (1, ["invoke-rc.d --skip-systemd-native jicofo stop"])


def jicofo_postinst_end(tmp_path):
    """The part of jicofo's postinst that debhelper generates (after the package's own case)."""
    script = Script(tmp_path, "jicofo", "postinst")
    text = script.path.read_text()
    script.path.write_text("#!/bin/sh\nset -e\n" + text[text.rindex("\nesac\n") + len("\nesac\n"):])
    script.make("/etc/init.d/jicofo", executable=True)
    return script


@pytest.mark.parametrize("version,action", [("", "start"), ("1.0-1196-1", "restart")])
def test_jicofo_postinst_starts_or_restarts_it_and_a_failure_fails_the_configure(tmp_path, version, action):
    script = jicofo_postinst_end(tmp_path)
    wanted = ["update-rc.d jicofo defaults", "invoke-rc.d --skip-systemd-native jicofo " + action]
    assert script.run("configure", version) == (0, wanted)
    script.fake("invoke-rc.d", 1)
    assert script.run("configure", version) == (1, wanted)


def test_jicofo_postinst_stops_a_running_jicofo_before_its_work():
    text = open(os.path.join(STANDINS, "jicofo", "DEBIAN", "postinst"), encoding="utf-8").read()
    own = text[:text.rindex("\nesac\n")]
    stop = own.index("invoke-rc.d jicofo stop || true")
    assert own.rindex("if invoke-rc.d jicofo status >/dev/null 2>&1; then", 0, stop) > own.index("chmod 770 /var/log/jitsi")
