"""The server's trust boundary steps: jicofo's REST API kept on loopback (a marked line in
jicofo.conf only where the installed jicofo or its config would bind another address), and the
closed brewery's files."""

import os

import pytest

from jvbjoin.engine.core import Context, Journal
from jvbjoin.server import boundary

CONF = 'jicofo {\n  xmpp: { client: { client-proxy: focus.meet.example.com } }\n}\n'


def write(paths, path, text):
    os.makedirs(os.path.dirname(paths(path)), exist_ok=True)
    with open(paths(path), "w") as f:
        f.write(text)


def installed(paths, version):
    write(paths, "/var/lib/dpkg/status", "Package: jicofo\nStatus: install ok installed\nVersion: {}\n\n".format(version))


@pytest.mark.parametrize("version, conf, host", [
    ("1.0-1196-1", CONF, "127.0.0.1"),
    ("1.0-1100-1", CONF, "0.0.0.0"),
    ("1.0-1196-1", 'jicofo { rest { host = "0.0.0.0" } }\n', "0.0.0.0"),
    ("1.0-1100-1", 'jicofo { rest { host = "0.0.0.0" } }\n' + boundary.REST_LINE + "\n", "127.0.0.1"),
])
def test_the_rest_address_comes_from_the_config_else_the_versions_default(paths, version, conf, host):
    write(paths, boundary.JICOFO_CONF, conf)
    assert boundary.rest_bind_host(paths, version) == host


def test_a_marked_line_only_where_jicofo_would_listen_beyond_loopback(paths, monkeypatch):
    restarts = []
    monkeypatch.setattr(boundary, "run", lambda argv, **kw: restarts.append(argv))
    write(paths, boundary.JICOFO_CONF, CONF)
    installed(paths, "1.0-1196-1")
    ctx = Context(paths)
    assert boundary.JicofoRestLocal().check(ctx) == []
    installed(paths, "1.0-1100-1")  # before 1.0-1138 jicofo bound every interface
    changes = boundary.JicofoRestLocal().check(ctx)
    assert len(changes) == 1
    journal = Journal()
    boundary.JicofoRestLocal().apply(ctx, changes, journal)
    text = open(paths(boundary.JICOFO_CONF)).read()
    assert text == CONF + boundary.REST_LINE + "\n"  # the admin's lines byte for byte, one line added
    assert restarts == [["systemctl", "try-restart", "jicofo"]]
    assert boundary.JicofoRestLocal().check(ctx) == []  # a second run changes nothing
    journal.rollback()
    assert open(paths(boundary.JICOFO_CONF)).read() == CONF


def test_the_closed_brewery_step_writes_jvb_joins_file_and_one_line_and_undoes_both(paths, monkeypatch):
    from jvbjoin.server import rights
    template = open(os.path.join(os.path.dirname(__file__), "..", "lab", "standins", "jitsi-meet-prosody", "usr",
                                 "share", "jitsi-meet-prosody", "prosody.cfg.lua-jvb.example")).read()
    write(paths, "/etc/prosody/conf.avail/meet.example.com.cfg.lua",
          template.replace("jitmeet.example.com", "meet.example.com").replace("focusUser", "focus"))
    main = 'Include "conf.d/*.cfg.lua"\n'
    write(paths, rights.PROSODY_CFG, main)
    calls = []
    monkeypatch.setattr(rights, "brewery_closed_in_prosody", lambda domain: False)
    monkeypatch.setattr(rights, "reload_prosody", lambda domain: calls.append("reload"))
    monkeypatch.setattr(rights, "load_brewery_module", lambda domain: calls.append("load") or "restarted")
    monkeypatch.setattr(rights, "wait_brewery_closed", lambda domain: True)
    monkeypatch.setattr(boundary, "run", lambda argv, **kw: calls.append(argv))
    step, ctx, journal = boundary.ClosedBrewery("meet.example.com"), Context(paths), Journal()
    changes = step.check(ctx)
    assert sorted(c.target for c in changes) == sorted([paths(rights.FRAGMENT), paths(rights.PROSODY_CFG)])
    step.apply(ctx, changes, journal)
    assert open(paths(rights.PROSODY_CFG)).read() == main + rights.INCLUDE_LINE + "\n"
    assert rights.allowed_in_brewery(paths) == {"focus@auth.meet.example.com", "jvb@auth.meet.example.com"}
    assert calls == ["reload", "load"]
    assert step.check(ctx) == []  # a second run changes nothing
    journal.rollback()
    assert open(paths(rights.PROSODY_CFG)).read() == main and not os.path.exists(paths(rights.FRAGMENT))
    assert calls[-1] == ["systemctl", "try-restart", "prosody"]  # prosody back to the package's config
