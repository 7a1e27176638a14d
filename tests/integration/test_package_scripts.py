"""What the maintainer scripts of jitsi-meet-prosody and jicofo do to a server made by `jvb-join server
install`, as the real packages' scripts do it (rows in tests/lab/standins/FIDELITY.md): the internal
MUC appended without a restart, a reconfigure to another domain, jicofo's failed start failing the
package, and jitsi-meet-prosody's remove and purge. The tests run in order on one server; the later
ones take it apart."""

import pytest

pytestmark = pytest.mark.lab

from labkit import DOMAIN, doctor_check, repo_args, sh, wait_for

AUTH = "auth." + DOMAIN
CONFIG = "/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN)
OTHER = "other.lab.test"


def prosody_pid(lab):
    return lab.exec("jms", ["systemctl", "show", "-p", "MainPID", "--value", "prosody"], check=True)[1].strip()


def prosody_reloads(lab):
    """How often systemd has reloaded prosody (its journal's "Reloaded prosody.service" lines)."""
    out = lab.exec("jms", ["journalctl", "-u", "prosody", "--no-pager", "-o", "cat"], check=True)[1]
    return sum(1 for line in out.splitlines() if line.startswith("Reloaded prosody"))


def exists(lab, path):
    return lab.exec("jms", ["sh", "-c", 'ls -d $1 >/dev/null 2>&1', "exists", path])[0] == 0


def status(lab, package):
    return lab.exec("jms", ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package])[1].strip()


def reconfigure(lab, package):
    return lab.exec("jms", ["sh", "-c", "DEBIAN_FRONTEND=noninteractive dpkg-reconfigure " + package],
                    timeout=180)


def test_an_old_config_gets_the_internal_muc_appended_without_a_restart(server):
    lab = server
    sh(lab, "jms", "cp -a {c} /root/domain.cfg.lua".format(c=CONFIG))
    # an older install's config: no line names the internal MUC
    sh(lab, "jms", r"""python3 - {c} <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'(?ms)^Component "internal\.auth\.[^"]*".*?(?=^\S|\Z)', '', text)
open(sys.argv[1], 'w').write("".join(l for l in text.splitlines(True) if "internal.{a}" not in l))
EOF""".format(c=CONFIG, a=AUTH))
    before = prosody_pid(lab)
    rc, out, err = reconfigure(lab, "jitsi-meet-prosody")
    assert rc == 0, out + err
    text = lab.exec("jms", ["cat", CONFIG], check=True)[1]
    block = text[text.index('Component "internal.{}" "muc"'.format(AUTH)):].split("\n")
    assert [l.strip() for l in block if l.strip()] == [
        'Component "internal.{}" "muc"'.format(AUTH), 'storage = "memory"', 'modules_enabled = { "ping"; }',
        'admins = {{ "focus@{a}", "jvb@{a}" }}'.format(a=AUTH), "muc_room_locking = false",
        "muc_room_default_public_jids = true"]
    assert prosody_pid(lab) == before  # prosody runs on with what it read before
    # put the config back as the server had it; prosody never saw either change
    sh(lab, "jms", "cp -a /root/domain.cfg.lua {c}".format(c=CONFIG))


def test_a_stale_pid_file_under_a_failed_jicofo_unit_is_named_with_a_remedy_that_works(server):
    """jicofo's init script does not start while its pid file exists, and only its stop removes it:
    over a stale one the unit fails, and 'systemctl start jicofo' (or restart) fails again."""
    lab = server
    sh(lab, "jms", "systemctl stop jicofo; echo 999999 > /var/run/jicofo.pid")
    assert lab.exec("jms", ["systemctl", "start", "jicofo"])[0] != 0
    check = doctor_check(lab, "jms", "jicofo")
    assert check["status"] == "fail" and "/var/run/jicofo.pid is left" in check["detail"], check
    assert check["remedy"] == "rm -f /var/run/jicofo.pid; systemctl start jicofo"
    sh(lab, "jms", check["remedy"])
    wait_for(lambda: doctor_check(lab, "jms", "jicofo")["status"] == "ok", 90, "jicofo to answer after the remedy")


def test_a_rolled_back_install_leaves_a_removed_jitsi_meet_prosody_removed_not_purged(server):
    """jitsi-meet-prosody removed but not purged keeps the auth host's accounts and the certificate
    the bridges pin. A `server install` that fails after reinstalling it removes it again: its
    purge would delete them."""
    lab = server
    pinned = "sha256sum /var/lib/prosody/{}.crt".format(AUTH)
    before = sh(lab, "jms", pinned)[1]
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jitsi-meet-prosody >/dev/null", timeout=300)
    assert status(lab, "jitsi-meet-prosody") == "rc"
    # certbot cannot reach this ACME directory: the run fails after the packages and rolls back
    rc, out, err = lab.exec("jms", ["jvb-join", "server", "install", "--domain", DOMAIN, "--cert", "letsencrypt",
                                    "--email", "admin@lab.test", "--acme-directory", "https://127.0.0.1:9/dir"]
                            + repo_args(lab, "jms"), timeout=1200)
    assert rc != 0 and "rolling back" in out + err, out + err
    assert status(lab, "jitsi-meet-prosody") == "rc"
    assert exists(lab, "/var/lib/prosody/auth%2emeet%2elab%2etest/accounts/focus.dat")
    assert sh(lab, "jms", pinned)[1] == before
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q jitsi-meet-prosody >/dev/null", timeout=300)


def test_a_failed_start_of_jicofo_fails_its_package_configure(server):
    """debhelper's code in jicofo's postinst starts jicofo on a first configure and fails the configure
    when the init script fails; the init script's start fails on a stale pid file."""
    lab = server
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q jicofo >/dev/null 2>&1", timeout=300)
    sh(lab, "jms", "echo 999999 > /var/run/jicofo.pid")
    rc, out, err = lab.exec("jms", ["sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q jicofo"],
                            timeout=300)
    assert rc != 0, out + err
    assert "seems to be already running" in out + err
    assert status(lab, "jicofo") == "iF"  # half-configured
    # with the pid file gone, finishing the configure starts it
    sh(lab, "jms", "rm /var/run/jicofo.pid; dpkg --configure -a", timeout=300)
    assert status(lab, "jicofo") == "ii"
    assert lab.exec("jms", ["systemctl", "is-active", "jicofo"])[1].strip() == "active"


def test_a_reconfigure_to_another_domain_drops_the_old_domains_links(server):
    lab = server
    sh(lab, "jms", "echo 'jitsi-videobridge2 jitsi-videobridge/jvb-hostname string {}' | debconf-set-selections"
           .format(OTHER))
    rc, out, err = reconfigure(lab, "jitsi-meet-prosody")
    assert rc == 0, out + err
    for gone in ("/etc/prosody/conf.d/{}.cfg.lua".format(DOMAIN), "/etc/prosody/certs/{}.crt".format(DOMAIN),
                 "/etc/prosody/certs/{}.key".format(DOMAIN)):
        assert not exists(lab, gone), gone
    # the old domain's own files and its auth host's links stay; the new domain is set up
    for kept in (CONFIG, "/var/lib/prosody/{}.crt".format(DOMAIN), "/etc/prosody/certs/{}.crt".format(AUTH)):
        assert exists(lab, kept), kept
    for made in ("/etc/prosody/conf.d/{}.cfg.lua".format(OTHER), "/etc/prosody/certs/{}.crt".format(OTHER),
                 "/etc/prosody/certs/auth.{}.crt".format(OTHER)):
        assert exists(lab, made), made


def test_removing_jitsi_meet_prosody_reloads_prosody_and_keeps_every_file(server):
    lab = server
    reloads, pid = prosody_reloads(lab), prosody_pid(lab)
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jitsi-meet-prosody >/dev/null", timeout=300)
    assert status(lab, "jitsi-meet-prosody") == "rc"
    assert prosody_reloads(lab) == reloads + 1 and prosody_pid(lab) == pid
    for kept in ("/etc/prosody/conf.d/{}.cfg.lua".format(OTHER), "/var/lib/prosody/auth%2eother%2elab%2etest",
                 "/etc/prosody/certs/auth.{}.crt".format(OTHER)):
        assert exists(lab, kept), kept


def test_purging_jitsi_meet_prosody_deletes_the_auth_hosts_data_without_a_reload(server):
    """The purge knows only the last configured domain: the first domain's files stay."""
    lab = server
    auth = "auth." + OTHER
    sh(lab, "jms", "mkdir -p /var/lib/prosody/auth%2eother%2elab%2etest/roster")
    reloads, pid = prosody_reloads(lab), prosody_pid(lab)
    sh(lab, "jms", "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q jitsi-meet-prosody >/dev/null", timeout=300)
    assert status(lab, "jitsi-meet-prosody") in ("", "un")
    assert prosody_reloads(lab) == reloads and prosody_pid(lab) == pid
    for gone in ("/var/lib/prosody/auth%2eother%2elab%2etest", "/var/lib/prosody/{}.*".format(auth),
                 "/var/lib/prosody/{}.*".format(OTHER), "/etc/prosody/certs/{}.*".format(auth),
                 "/etc/prosody/certs/{}.*".format(OTHER), "/etc/prosody/conf.avail/{}.cfg.lua".format(OTHER),
                 "/etc/prosody/conf.d/{}.cfg.lua".format(OTHER), "/usr/local/share/ca-certificates/{}.*".format(auth)):
        assert not exists(lab, gone), gone
    for kept in (CONFIG, "/var/lib/prosody/auth%2emeet%2elab%2etest", "/var/lib/prosody/{}.crt".format(AUTH)):
        assert exists(lab, kept), kept
