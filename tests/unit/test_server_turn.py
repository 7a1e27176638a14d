"""`jvb-join server turn`: the config writers (coturn's block, prosody's external services, the
Include line, the unit drop-in), the checks made before anything changes, and doctor's server-turn."""

import json
import os
import stat

import pytest

from jvbjoin.system import files
from jvbjoin.server.checks import services as doctor_server
from jvbjoin.doctor.core import FAIL, OK, SKIPPED, WARN, Facts
from jvbjoin.engine.core import Context
from jvbjoin.errors import JvbJoinError, UsageError
from jvbjoin.server import turn, turnconf
from jvbjoin.server.turn import TurnOptions
from jvbjoin.server.turnconf import (
    BEGIN, COMMENTED, END, INCLUDE_LINE, TurnSettings, block_values, managed_block, managed_secret,
    prosody_fragment, prosody_secret, turnserver_conf, with_include)

from helpers import JITSI_TURNSERVER_CONF, SECRET, turn_ctx

def settings(**kw):
    kw.setdefault("domain", "meet.example.com")
    kw.setdefault("host", "turn.example.com")
    return TurnSettings(**kw)


def block(s=None):
    s = s or settings()
    return managed_block(s, SECRET, s.cert_copy, s.key_copy)


def test_the_block_has_the_hadoly_settings():
    s = settings(port=443, listen_ip="192.0.2.7")
    text = block(s)
    lines = text.splitlines()
    assert lines[0] == BEGIN and lines[-1] == END
    for line in ("use-auth-secret", "static-auth-secret=" + SECRET, "realm=turn.example.com",
                 "cert=/etc/coturn/certs/turn.example.com.crt", "pkey=/etc/coturn/certs/turn.example.com.key",
                 "listening-port=443", "listening-ip=192.0.2.7", "no-tcp-relay", "no-loopback-peers",
                 "no-multicast-peers", "no-cli"):
        assert line in lines
    # the Hadoly ranges, among them the one the lab's own network is in
    for rng in ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255",
                "198.18.0.0-198.19.255.255", "100.64.0.0-100.127.255.255", "240.0.0.0-255.255.255.255"):
        assert "denied-peer-ip=" + rng in lines
    assert len([l for l in lines if l.startswith("denied-peer-ip=")]) == len(set(turnconf.DENIED_PEERS))
    # one port for all (443): TLS is taken on it too; the separate TLS listener is not 443 twice
    assert "tls-listening-port=5349" in lines and s.tls_port == 443
    assert s.ports == [(443, "udp"), (443, "tcp")]


def test_default_ports_are_jitsis():
    s = settings()
    assert (s.port, s.tls_port) == (3478, 5349)
    assert s.ports == [(3478, "udp"), (3478, "tcp"), (5349, "tcp")]
    assert "listening-ip" not in block(s)


def test_the_admins_file_keeps_every_line_and_only_competing_options_are_commented_out():
    new = turnserver_conf(JITSI_TURNSERVER_CONF, block())
    before, after = new.split(BEGIN)
    assert after.endswith(END + "\n")
    kept = before.splitlines(True)
    original = (JITSI_TURNSERVER_CONF + "\n").splitlines(True)
    assert len(kept) == len(original)
    for old, line in zip(original, kept):
        if line.startswith(COMMENTED):
            assert line == COMMENTED + old
        else:
            assert line == old
    commented = {l[len(COMMENTED):].strip() for l in kept if l.startswith(COMMENTED)}
    assert commented == {"use-auth-secret", "static-auth-secret=packagesecret123", "realm=meet.example.com",
                         "cert=/etc/jitsi/meet/meet.example.com.crt", "pkey=/etc/jitsi/meet/meet.example.com.key",
                         "listening-port=3478", "tls-listening-port=5349", "denied-peer-ip=10.0.0.0-10.255.255.255",
                         "no-tcp", "--no-auth"}  # no-tcp would turn off TLS on the plain port (443)
    # the admin's own options and the package's marker lines are untouched
    assert "user-quota=12\n" in kept and "--total-quota 1200\r\n" in kept and "#no-auth\n" in kept
    assert COMMENTED + "--no-auth\n" in kept  # authentication stays on
    assert kept[0] == "# jitsi-meet coturn config. Do not modify this line\n"
    # coturn reads one secret: jvb-join's (a second static-auth-secret would also be accepted)
    assert block_values(new, "static-auth-secret") == [SECRET]
    assert block_values(new, "listening-port") == ["3478"]


def test_a_second_run_changes_nothing_and_new_settings_replace_the_block_in_place():
    once = turnserver_conf(JITSI_TURNSERVER_CONF, block())
    assert turnserver_conf(once, block()) == once
    other = block(settings(port=443, listen_ip="192.0.2.7"))
    twice = turnserver_conf(once + "# a line the admin added after the block\n", other)
    assert twice == once.replace(block(), other) + "# a line the admin added after the block\n"
    assert managed_secret(twice) == SECRET


def test_an_empty_or_missing_file_gets_the_block():
    assert turnserver_conf("", block()) == block()
    assert turnserver_conf(None, block()) == block()


def test_the_secret_is_read_back_only_from_jvb_joins_block():
    assert managed_secret(JITSI_TURNSERVER_CONF) is None
    assert managed_secret(turnserver_conf(JITSI_TURNSERVER_CONF, block())) == SECRET
    assert managed_secret(None) is None


def test_prosody_fragment_sets_the_meet_domains_external_services():
    s = settings(port=443)
    text = prosody_fragment(s, SECRET)
    assert 'VirtualHost "meet.example.com"\n' in text
    assert prosody_secret(text) == SECRET
    assert '{ type = "stun", host = "turn.example.com", port = 443 }' in text
    assert '{ type = "turn", host = "turn.example.com", port = 443, transport = "udp", secret = true' in text
    assert '{ type = "turns", host = "turn.example.com", port = 443, transport = "tcp", secret = true' in text
    assert text.count('algorithm = "turn"') == 2
    assert text.rstrip().endswith('VirtualHost "*"  -- back to the global section')


def test_the_include_line_is_added_once_at_the_end():
    text = '-- prosody.cfg.lua\nInclude "conf.d/*.cfg.lua"'
    once = with_include(text)
    assert once == text + "\n" + INCLUDE_LINE + "\n"
    assert with_include(once) == once
    assert with_include(None) is None


def test_the_unit_drop_in_only_for_a_low_port():
    assert turnconf.drop_in(settings()) is None
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in turnconf.drop_in(settings(port=443))


def test_the_secret_is_masked_in_diffs():
    mask = turnconf.masker(SECRET)
    assert SECRET.encode() not in mask(block().encode())


def test_ports_another_program_holds_are_refused():
    web = [("tcp", "0.0.0.0", 443, 1), ("tcp", "::", 443, 2), ("tcp", "127.0.0.1", 5222, 3)]
    on_443 = settings(port=443, listen_ip="192.0.2.7")
    assert turn.port_conflicts(web, on_443, ours=set()) == ["0.0.0.0:443/tcp", ":::443/tcp"]
    # the web server on its own address only: fine; on the TURN address: not, unless coturn holds it
    assert turn.port_conflicts([("tcp", "192.0.2.6", 443, 1)], on_443, ours=set()) == []
    assert turn.port_conflicts([("tcp", "192.0.2.7", 443, 1)], on_443, ours=set()) == ["192.0.2.7:443/tcp"]
    assert turn.port_conflicts([("tcp", "192.0.2.7", 443, 1)], on_443, ours={1}) == []
    # listening on every address (3478): any other program's 3478 or 5349 is in the way
    other = [("udp", "192.0.2.6", 3478, 5), ("tcp", "127.0.0.1", 5349, 6), ("udp", "192.0.2.6", 5349, 7)]
    assert turn.port_conflicts(other, settings(), ours=set()) == ["127.0.0.1:5349/tcp", "192.0.2.6:3478/udp"]
    assert turn.port_conflicts(other, settings(), ours={5, 6}) == []


def test_preflight_tells_the_web_server_apart_from_other_programs(paths, monkeypatch):
    monkeypatch.setattr(turn, "coturn_inodes", lambda paths: set())
    ctx = Context(paths)
    fake_proc(paths, 1, [], [("tcp", "0.0.0.0", 443, 9)])
    with pytest.raises(JvbJoinError) as err:
        turn.preflight_ports(ctx, settings(port=443, listen_ip="192.0.2.7"))
    assert "443/tcp is taken on 0.0.0.0:443" in err.value.message and "listen 127.0.0.1:443" in err.value.remedy
    turn.preflight_ports(ctx, settings(port=3478))  # the web server's 443 is not in 3478's way
    fake_proc(paths, 1, [], [("udp", "192.0.2.6", 3478, 9)])
    with pytest.raises(JvbJoinError) as err:
        turn.preflight_ports(ctx, settings(port=3478))
    assert "192.0.2.6:3478/udp" in err.value.message and "ss -lntup" in err.value.remedy


def test_port_443_needs_a_turn_name_with_an_address_of_this_host():
    local = {"192.0.2.7", "2001:db8::7"}.__contains__
    assert turn.listen_address(settings(), ["198.51.100.1"], local) is None  # not 443: every address
    assert turn.listen_address(settings(port=443), ["2001:db8::7", "192.0.2.7"], local) == "192.0.2.7"
    with pytest.raises(JvbJoinError) as err:
        turn.listen_address(settings(port=443), ["198.51.100.1"], local)
    assert "not an address of this host" in err.value.message and err.value.remedy


def test_settings_come_from_the_options_then_the_last_run_then_the_defaults(paths):
    assert turn.settings_for(TurnOptions(), paths, "meet.example.com").as_dict() == {
        "domain": "meet.example.com", "host": "meet.example.com", "port": 3478, "tls_port": 5349,
        "cert": "/etc/jitsi/meet/meet.example.com.crt", "key": "/etc/jitsi/meet/meet.example.com.key",
        "listen_ip": None}
    os.makedirs(paths.server_state)
    files.write_atomic(os.path.join(paths.server_state, turnconf.STATE_NAME),
                       json.dumps(settings(port=443, cert="/etc/ssl/t.crt", key="/etc/ssl/t.key").as_dict()))
    again = turn.settings_for(TurnOptions(), paths, "meet.example.com")
    assert (again.host, again.port, again.tls_port, again.cert) == ("turn.example.com", 443, 443, "/etc/ssl/t.crt")
    moved = turn.settings_for(TurnOptions(port=3478), paths, "meet.example.com")
    assert (moved.port, moved.tls_port) == (3478, 5349)
    with pytest.raises(UsageError):
        turn.settings_for(TurnOptions(cert="/etc/ssl/t.crt"), paths, "meet.example.com")
    with pytest.raises(UsageError):
        turn.settings_for(TurnOptions(host="not a name"), paths, "meet.example.com")


def test_file_steps_write_once_with_private_modes_and_a_backup(paths, monkeypatch):
    monkeypatch.setattr(turn, "_gid", lambda name: None)
    ctx = turn_ctx(paths)
    from jvbjoin.engine.core import Journal
    for step in (turn.TurnCertificate(), turn.TurnConfig(), turn.TurnUnit()):
        changes = step.check(ctx)
        assert changes or isinstance(step, turn.TurnUnit)
        for change in changes:
            assert SECRET not in (change.diff or "") and "KEY" not in (change.diff or "")
        step.apply(ctx, changes, Journal())
        assert step.check(ctx) == []
    conf = paths("/etc/turnserver.conf")
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(paths("/etc/coturn/certs/turn.example.com.key")).st_mode) == 0o640
    assert managed_secret(files.read_text(conf)) == SECRET
    backup = os.path.join(ctx.run.backups.folder, "etc/turnserver.conf")
    assert files.read_text(backup) == JITSI_TURNSERVER_CONF


def test_a_failed_run_puts_the_admins_file_back(paths, monkeypatch):
    monkeypatch.setattr(turn, "_gid", lambda name: None)
    ctx = turn_ctx(paths)
    from jvbjoin.engine.core import Journal
    journal = Journal()
    step = turn.TurnConfig()
    step.apply(ctx, step.check(ctx), journal)
    assert journal.rollback() == []
    assert files.read_text(paths("/etc/turnserver.conf")) == JITSI_TURNSERVER_CONF


def _doctor_facts(paths, conf_secret=SECRET, prosody=SECRET, cert_names=("turn.example.com",), listening=True):
    s = settings(port=443, listen_ip="192.0.2.7")
    os.makedirs(paths.server_state, exist_ok=True)
    files.write_atomic(os.path.join(paths.server_state, turnconf.STATE_NAME), json.dumps(s.as_dict()))
    files.write_atomic(paths(turnconf.TURN_CONF),
                       turnserver_conf("", managed_block(s, conf_secret, s.cert_copy, s.key_copy)))
    os.makedirs(paths("/etc/prosody"), exist_ok=True)
    files.write_atomic(paths(turnconf.PROSODY_FRAGMENT), prosody_fragment(s, prosody))
    pem = _certificate(cert_names)
    for path in (s.cert, s.cert_copy):
        os.makedirs(os.path.dirname(paths(path)), exist_ok=True)
        files.write_atomic(paths(path), pem)
    facts = Facts(paths)
    facts.put("unit:coturn.service", {"LoadState": "loaded", "ActiveState": "active", "SubState": "running",
                                      "MainPID": 4242})
    fake_proc(paths, 4242, [("tcp", "192.0.2.7", 443 if listening else 5349, 1001)])
    return facts


def fake_proc(paths, pid, owned, others=()):
    """/proc/net/{tcp,udp}{,6} with these sockets, ``owned`` held by process ``pid``."""
    import socket as so
    lines = {"tcp": [], "udp": []}
    for proto, address, port, inode in list(owned) + list(others):
        hexaddr = so.inet_aton(address)[::-1].hex().upper()
        state = "0A" if proto == "tcp" else "07"
        lines[proto].append("   0: {}:{:04X} 00000000:0000 {} 00000000:00000000 00:00000000 00000000     0        0 "
                            "{} 1 0000000000000000".format(hexaddr, port, state, inode))
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    os.makedirs(paths("/proc/net"), exist_ok=True)
    for proto in ("tcp", "udp"):
        files.write_atomic(paths("/proc/net/" + proto), header + "".join(l + "\n" for l in lines[proto]))
        files.write_atomic(paths("/proc/net/" + proto + "6"), header)
    fd = paths("/proc/{}/fd".format(pid))
    os.makedirs(fd, exist_ok=True)
    for n, (_, _, _, inode) in enumerate(owned):
        if os.path.lexists(os.path.join(fd, str(n + 3))):
            os.unlink(os.path.join(fd, str(n + 3)))
        os.symlink("socket:[{}]".format(inode), os.path.join(fd, str(n + 3)))


def _certificate(names):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_doctor_skips_server_turn_when_no_turn_was_configured(paths):
    assert doctor_server.check_turn(Facts(paths)).status == SKIPPED


def test_doctor_server_turn_ok(paths):
    result = doctor_server.check_turn(_doctor_facts(paths))
    assert result.status == OK, result.detail


def test_doctor_finds_a_secret_prosody_does_not_share(paths):
    result = doctor_server.check_turn(_doctor_facts(paths, prosody="b" * 32))
    assert result.status == FAIL and "secret" in result.detail and "b" * 32 not in result.detail
    assert result.remedy == "jvb-join server turn"


def test_doctor_finds_coturn_not_listening_where_configured(paths):
    result = doctor_server.check_turn(_doctor_facts(paths, listening=False))
    assert result.status == FAIL and "192.0.2.7:443" in result.detail


def test_doctor_warns_about_a_certificate_for_another_name(paths):
    result = doctor_server.check_turn(_doctor_facts(paths, cert_names=("meet.example.com",)))
    assert result.status == WARN and "not valid for turn.example.com" in result.detail
    assert doctor_server.check_turn(_doctor_facts(paths, cert_names=("*.example.com",))).status == OK


def test_server_turn_is_in_the_server_checks():
    assert "server-turn" in [c.id for c in doctor_server.checks()]


def test_coturn_restarts_only_when_what_it_reads_changed(paths, monkeypatch):
    from jvbjoin.system import systemd
    running = {"LoadState": "loaded", "ActiveState": "active", "SubState": "running", "UnitFileState": "enabled"}
    monkeypatch.setattr(systemd, "state_of", lambda unit: dict(running))
    ctx = Context(paths)
    assert turn.CoturnService().check(ctx) == []
    ctx.changed.add("coturn")
    assert [c.summary for c in turn.CoturnService().check(ctx)] == ["restart coturn.service"]
    monkeypatch.setattr(systemd, "state_of", lambda unit: {"LoadState": "not-found"})
    assert [c.data for c in turn.CoturnService().check(Context(paths))] == ["enable", "restart"]


def test_doctor_finds_the_turn_port_closed_in_ufw(paths):
    facts = _doctor_facts(paths)
    os.makedirs(paths("/etc/ufw"), exist_ok=True)
    files.write_atomic(paths("/etc/ufw/ufw.conf"), "ENABLED=yes\n")
    files.write_atomic(paths("/etc/ufw/user.rules"), "### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in\n")
    result = doctor_server.check_turn(facts)
    assert result.status == FAIL and "443/udp closed" in result.detail and result.remedy == "ufw allow 443/udp"
    files.write_atomic(paths("/etc/ufw/user.rules"), "### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in\n"
                                                      "### tuple ### allow udp 443 0.0.0.0/0 any 0.0.0.0/0 in\n")
    assert doctor_server.check_turn(facts).status == OK


def test_tls_on_the_plain_port_never_asks_coturn_for_one_port_twice():
    for port in (443, 3478, 5349):
        s = settings(port=port, tls_port=port)
        lines = block(s).splitlines()
        assert "listening-port={}".format(port) in lines
        assert "tls-listening-port={}".format(port) not in lines


def test_doctor_does_not_take_another_programs_socket_for_coturns(paths):
    facts = _doctor_facts(paths, listening=False)
    fake_proc(paths, 4242, [("tcp", "192.0.2.7", 5349, 1001)], others=[("tcp", "192.0.2.7", 443, 77)])
    assert doctor_server.check_turn(facts).status == FAIL


def test_doctor_as_a_user_who_cannot_read_the_settings_says_so(paths, monkeypatch):
    facts = _doctor_facts(paths)

    def refuse(paths):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(turn, "recorded", refuse)
    result = doctor_server.check_turn(facts)
    assert result.status == WARN and result.remedy == "sudo jvb-join doctor"
