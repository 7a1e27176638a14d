"""Unit-test tier: no root, no network, no real programs (the runner refuses them unless a test says so)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from jvbjoin.formats import pin  # noqa: E402
from jvbjoin.system.paths import Paths  # noqa: E402

from helpers import (AUTH, DOMAIN, FRAGMENT, JVB_CONF, MACHINE, MUC, NICK, make_cert,  # noqa: E402
                     write_file)


def pytest_configure(config):
    config.addinivalue_line("markers", "real_programs: the test may run real external programs")


class RealProgramRefused(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _no_real_programs(request, monkeypatch):
    """Unit tests must not run real programs: a step that forgets its mock fails loudly here."""
    if request.node.get_closest_marker("real_programs"):
        return

    def refuse(*args, **kwargs):
        raise RealProgramRefused("unit test tried to run a real program: {!r}".format(args[0] if args else kwargs))

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)


@pytest.fixture
def paths(tmp_path):
    """A rooted Paths in a temporary tree, with the folders a Debian host always has."""
    for folder in ("etc", "var/lib", "var/backups", "var/log", "usr/share/keyrings"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return Paths(str(tmp_path))


# --- a joined bridge and a server, as doctor reads them (test_doctor*, test_server_colibri_ws) -------

@pytest.fixture(scope="module")
def cert():
    """The server's auth-domain certificate: (DER, PEM text)."""
    der, pem, _ = make_cert(AUTH, key_type="ec")
    return der, pem.decode() if isinstance(pem, bytes) else pem


@pytest.fixture
def host(paths, cert):
    """A joined bridge as jvb-join leaves it."""
    der, pem = cert
    state = {"server": DOMAIN, "port": 5222, "domain": AUTH, "meet": DOMAIN, "muc": MUC, "user": "jvb-abc",
             "pin": pin.spki_pin(der), "token_id": "abc", "password_changed": True}
    write_file(paths, "/var/lib/jvb-join/bridge.json", json.dumps(state), 0o600)
    write_file(paths, "/var/lib/jvb-join/nickname", json.dumps({"nickname": NICK, "machine_id": MACHINE}))
    write_file(paths, "/etc/machine-id", MACHINE + "\n")
    write_file(paths, "/etc/jitsi/videobridge/jvb.conf", JVB_CONF)
    write_file(paths, "/etc/jitsi/videobridge/jvb-join.conf",
               FRAGMENT.format(host=DOMAIN, auth=AUTH, muc=MUC, nick=NICK), 0o640)
    write_file(paths, "/etc/jitsi/videobridge/logging.properties",
               "handlers= java.util.logging.ConsoleHandler\n.level=INFO\n")
    write_file(paths, "/usr/local/share/ca-certificates/jvb-join-{}.crt".format(AUTH), pem)
    write_file(paths, "/etc/ssl/certs/ca-certificates.crt", pem)
    write_file(paths, "/etc/ssl/certs/java/cacerts", b"\xfe\xed\xfe\xed...." + der + b"....")
    write_file(paths, "/etc/ufw/ufw.conf", "ENABLED=yes\n")
    write_file(paths, "/etc/ufw/user.rules",
               "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=6a766220\n"
               "### tuple ### allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in comment=6a766220\n")
    write_file(paths, "/proc/net/tcp", "  sl  local_address rem_address   st\n"
                                       "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n")
    return paths


@pytest.fixture
def jms(paths, cert):
    """A Jitsi Meet server as `server install` leaves it."""
    der, pem = cert
    write_file(paths, "/etc/prosody/conf.avail/{}.cfg.lua".format(DOMAIN),
               'Component "internal.auth.{}" "muc"\n'.format(DOMAIN))
    write_file(paths, "/etc/prosody/certs/auth.{}.crt".format(DOMAIN), pem)
    write_file(paths, "/var/lib/jvb-join/server/auth-pin", pin.spki_pin(der) + "\n")
    write_file(paths, "/etc/jitsi/jicofo/jicofo.conf",
               'jicofo {\n  bridge: {\n    brewery-jid: "JvbBrewery@internal.auth.%s"\n  }\n}\n' % DOMAIN)
    write_file(paths, "/etc/ufw/ufw.conf", "ENABLED=yes\n")
    write_file(paths, "/etc/ufw/user.rules",
               "### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in\n"
               "### tuple ### allow tcp 5222 0.0.0.0/0 any 198.51.100.7 in comment=6a7662\n")
    return paths
