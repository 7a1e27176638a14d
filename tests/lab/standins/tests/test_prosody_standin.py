"""jitsi-meet-prosody's stand-in: its prosody template has the real template's hosts, components
and modules (jitsi-meet doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example, build 9396),
and every Jitsi plugin that template enables is shipped, so that prosody loads them all."""

import os
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "jitsi-meet-prosody")
TEMPLATE = os.path.join(PACKAGE, "usr", "share", "jitsi-meet-prosody", "prosody.cfg.lua-jvb.example")
PLUGINS = os.path.join(PACKAGE, "usr", "share", "jitsi-meet", "prosody-plugins")
POSTINST = os.path.join(PACKAGE, "DEBIAN", "postinst")

# what prosody 0.12 itself ships of the modules the template names (/usr/lib/prosody/modules)
PROSODY_MODULES = {"bosh", "websocket", "smacks", "ping", "external_services", "muc", "limits", "auth_internal_hashed"}

# as in the real template, in its order
HOSTS = [
    ("VirtualHost", "jitmeet.example.com", None),
    ("Component", "conference.jitmeet.example.com", "muc"),
    ("Component", "breakout.jitmeet.example.com", "muc"),
    ("Component", "internal.auth.jitmeet.example.com", "muc"),
    ("VirtualHost", "auth.jitmeet.example.com", None),
    ("VirtualHost", "recorder.jitmeet.example.com", None),
    ("Component", "focus.jitmeet.example.com", "client_proxy"),
    ("Component", "speakerstats.jitmeet.example.com", "speakerstats_component"),
    ("Component", "endconference.jitmeet.example.com", "end_conference"),
    ("Component", "avmoderation.jitmeet.example.com", "av_moderation_component"),
    ("Component", "filesharing.jitmeet.example.com", "filesharing_component"),
    ("Component", "lobby.jitmeet.example.com", "muc"),
    ("Component", "metadata.jitmeet.example.com", "room_metadata_component"),
    ("Component", "polls.jitmeet.example.com", "polls_component"),
]


def read(path):
    with open(path) as f:
        return f.read()


def code(text):
    return re.sub(r"--[^\n]*", "", text)


def sections(text):
    """``[(kind, name, module, body)]`` of the template's hosts and components."""
    parts = re.split(r'^(VirtualHost|Component)\s+"([^"]+)"(?:\s+"([^"]+)")?[^\n]*\n', text, flags=re.M)
    return [tuple(parts[i:i + 4]) for i in range(1, len(parts), 4)]


def test_the_template_has_the_real_hosts_and_components_in_order():
    assert [s[:3] for s in sections(code(read(TEMPLATE)))] == HOSTS


def test_the_template_has_the_real_global_settings():
    text = code(read(TEMPLATE))
    globals_ = re.split(r"^(?:VirtualHost|Component)\s", text, maxsplit=1, flags=re.M)[0]
    for option in ("component_admins_as_room_owners = true", "cross_domain_bosh = false",
                   "consider_bosh_secure = true", "consider_websocket_secure = true",
                   'protocol = "tlsv1_2+"', "smacks_max_unacked_stanzas = 5", "smacks_hibernation_time = 60",
                   "smacks_max_old_sessions = 1", 'muc_mapper_domain_base = "jitmeet.example.com"',
                   'external_service_secret = "__turnSecret__"', "unlimited_jids = {"):
        assert option in globals_, option
    meet = sections(text)[0][3]
    assert 'authentication = "jitsi-anonymous"' in meet
    for option in ('lobby_muc = "lobby.jitmeet.example.com"', 'breakout_rooms_muc = "breakout.jitmeet.example.com"',
                   'main_muc = "conference.jitmeet.example.com"', "c2s_require_encryption = false"):
        assert option in meet, option


def enabled_modules(text):
    names = set()
    for kind, name, module, body in sections(text):
        if module and module != "muc":
            names.add(module)
        found = re.search(r"modules_enabled\s*=\s*\{([^}]*)\}", body)
        names.update(re.findall(r'"([^"]+)"', found.group(1)) if found else [])
        auth = re.search(r'authentication\s*=\s*"([^"]+)"', body)
        if auth:
            names.add("auth_" + auth.group(1))
    return names


def shipped():
    return {f[len("mod_"):-len(".lua")] for f in os.listdir(PLUGINS) if f.startswith("mod_") and f.endswith(".lua")}


def test_every_module_the_configured_template_enables_is_shipped_or_prosody_s_own():
    # as the postinst leaves it: "polls" (mod_polls is no longer shipped upstream) commented out
    text = code(re.sub(r'"polls";', '--"polls";', read(TEMPLATE)))
    modules = enabled_modules(text)
    assert "polls" not in modules
    assert modules - PROSODY_MODULES <= shipped(), sorted(modules - PROSODY_MODULES - shipped())
    assert "polls" not in shipped()


def test_what_a_shipped_plugin_depends_on_is_shipped_or_prosody_s_own():
    for name in sorted(shipped()):
        for dep in re.findall(r'module:depends\("([^"]+)"\)', read(os.path.join(PLUGINS, "mod_%s.lua" % name))):
            assert dep in shipped() | PROSODY_MODULES, (name, dep)


def test_the_postinst_comments_polls_out_and_adds_the_polls_component_only_when_missing():
    script = read(POSTINST)
    assert "sed -i 's/\"polls\";/--\"polls\";/g'" in script
    assert '! grep -q -- \'--"polls";\'' in script


@pytest.mark.skipif(not shutil.which("luac"), reason="luac is not installed")
def test_the_plugins_and_the_template_are_valid_lua():
    for name in sorted(os.listdir(PLUGINS)):
        result = subprocess.run(["luac", "-p", os.path.join(PLUGINS, name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    # prosody's config is Lua with bare VirtualHost/Component calls
    result = subprocess.run(["luac", "-p", "-"], input=read(TEMPLATE), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
