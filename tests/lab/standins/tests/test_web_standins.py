"""Unit tests of the web-side lab stand-ins: debconf templates, generated files, Java packaging.

They read the package trees only (no root, no network); the substitution the maintainer
scripts make with sed (jitsi-meet.example.com -> domain) is repeated here in Python.
"""
import os
import json
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.dirname(HERE)
DOMAIN = "meet.lab.test"


def path(*parts):
    return os.path.join(STANDINS, *parts)


def read(*parts):
    with open(path(*parts), encoding="utf-8") as f:
        return f.read()


def control(pkg):
    fields = {}
    key = None
    for line in read(pkg, "DEBIAN", "control").splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def templates(pkg):
    """debconf templates as {name: {field: value}} (continuation lines dropped)."""
    result = {}
    for block in read(pkg, "DEBIAN", "templates").strip().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if not line.startswith(" "):
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        result[fields["Template"]] = fields
    return result


def rendered(pkg, *template):
    return read(pkg, *template).replace("jitsi-meet.example.com", DOMAIN)


def nginx_site():
    return rendered("jitsi-meet-web-config", "usr", "share", "jitsi-meet-web-config",
                    "jitsi-meet.example")


def active_lines(text):
    return [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]


# --- jitsi-meet-web-config: questions (reference §1.4) ---------------------------------------

def test_web_config_asks_the_real_questions_with_their_types():
    t = templates("jitsi-meet-web-config")
    assert {name: q["Type"] for name, q in t.items()} == {
        "jitsi-meet/cert-choice": "select",
        "jitsi-meet/cert-path-key": "string",
        "jitsi-meet/cert-path-crt": "string",
        "jitsi-meet/jvb-hostname": "string",
        "jitsi-videobridge/jvb-hostname": "string",
        "jitsi-meet/jaas-choice": "boolean",
        "jitsi-meet/email": "string",
    }


def test_cert_choice_offers_the_three_current_choices_lets_encrypt_first():
    choices = [c.strip() for c in templates("jitsi-meet-web-config")["jitsi-meet/cert-choice"]["Choices"].split(", ")]
    assert choices == ["Let's Encrypt certificates", "I want to use my own certificate",
                       "Generate a new self-signed certificate"]


def test_postinst_compares_against_the_exact_choice_strings():
    postinst = read("jitsi-meet-web-config", "DEBIAN", "postinst")
    assert 'OWN_CERT_CHOICE="I want to use my own certificate"' in postinst
    assert 'LE_CERT_CHOICE="Let\'s Encrypt certificates"' in postinst
    # preseeded answers are not asked again: every question goes through "ask if empty"
    assert "db_input critical jitsi-meet/cert-choice" not in postinst
    assert "ask_if_empty jitsi-meet/cert-choice" in postinst
    assert "db_get jitsi-meet/enforce_apache" in postinst
    assert "rsa:4096 -days 3650" in postinst
    assert "subjectAltName=DNS:localhost,DNS:%s" in postinst and "-extensions SAN" in postinst
    assert "a2enmod rewrite ssl headers proxy_http proxy_wstunnel include" in postinst
    assert "/usr/share/jitsi-meet/scripts/install-letsencrypt-cert.sh \"$EMAIL\" \"$DOMAIN\"" in postinst


def test_the_self_signed_certificate_carries_only_its_subject_alt_name(tmp_path):
    """The real postinst names an x509 extension section that holds only the SAN, so the
    certificate has no basicConstraints (no CA:TRUE) and no authority key identifier; OpenSSL 3
    adds a subject key identifier to any certificate it makes, the real command included."""
    if not (shutil.which("openssl") and os.path.exists("/etc/ssl/openssl.cnf")):
        pytest.skip("needs openssl and /etc/ssl/openssl.cnf")
    postinst = read("jitsi-meet-web-config", "DEBIAN", "postinst").splitlines()
    start = next(i for i, l in enumerate(postinst) if l.strip().startswith("openssl req -new"))
    end = next(i for i in range(start, len(postinst)) if not postinst[i].rstrip().endswith("\\"))
    command = "\n".join(postinst[start:end + 1]).replace("rsa:4096", "rsa:2048")  # faster, same extensions
    env = dict(os.environ, DOMAIN=DOMAIN, CERT_KEY=str(tmp_path / "k"), CERT_CRT=str(tmp_path / "c"),
               SHORT_HOST="host", HOST_DOMAIN="lab")
    subprocess.run(["bash", "-c", command], env=env, check=True, timeout=60)
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "c"), "-noout", "-text"], check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout
    extensions = [l.strip().rstrip(":").replace(" critical", "") for l in text.splitlines()
                  if l.strip().startswith("X509v3 ") and l.strip() != "X509v3 extensions:"]
    assert "X509v3 Subject Alternative Name" in extensions
    assert set(extensions) <= {"X509v3 Subject Alternative Name", "X509v3 Subject Key Identifier"}, extensions
    assert "CA:TRUE" not in text and "DNS:localhost, DNS:%s" % DOMAIN in text


def test_remove_keeps_the_site_enabled_and_purge_deletes_it():
    """The real postrm: remove only reloads the web servers; purge deletes the domain's files."""
    postrm = read("jitsi-meet-web-config", "DEBIAN", "postrm")
    remove = postrm.split("\nremove)\n", 1)[1].split(";;", 1)[0]
    assert "rm " not in remove and "a2dissite" not in remove and "sites-enabled" not in remove
    assert "reload" in remove
    purge = postrm.split("\npurge)\n", 1)[1].split(";;", 1)[0]
    for gone in ("/etc/nginx/sites-enabled/$DOMAIN.conf", "/etc/nginx/sites-available/$DOMAIN.conf",
                 "/etc/apache2/sites-enabled/$DOMAIN.conf", "/etc/jitsi/meet/$DOMAIN.crt",
                 "/etc/jitsi/meet/$DOMAIN-config.js"):
        assert gone in purge, gone
    assert "db_purge" in purge
    assert not os.path.exists(path("jitsi-meet-web-config", "DEBIAN", "prerm"))


def test_web_config_depends_on_a_web_server_and_openssl():
    depends = control("jitsi-meet-web-config")["Depends"]
    assert "openssl" in depends
    assert "nginx | nginx-full | nginx-extras | openresty | apache2" in depends


# --- nginx site (reference §2.4, 2026 shape) -------------------------------------------------

def test_nginx_site_has_the_2026_blocks_for_the_domain():
    lines = active_lines(nginx_site())
    assert "server 127.0.0.1:5280;" in lines
    assert "return 301 https://$host$request_uri;" in lines
    assert "listen 443 ssl http2;" in lines
    assert "ssl_certificate /etc/jitsi/meet/%s.crt;" % DOMAIN in lines
    assert "ssl_certificate_key /etc/jitsi/meet/%s.key;" % DOMAIN in lines
    assert "root /usr/share/jitsi-meet;" in lines
    assert "set $config_js_location /etc/jitsi/meet/%s-config.js;" % DOMAIN in lines
    assert "location = /config.js {" in lines
    assert "location = /http-bind {" in lines
    assert "location = /xmpp-websocket {" in lines
    assert "proxy_pass http://127.0.0.1:8888/conference-request/v1$1;" in lines
    assert "server_name %s;" % DOMAIN in lines
    assert "jitsi-meet.example.com" not in nginx_site()


def test_nginx_site_has_room_info_unlock_and_the_jaas_include():
    lines = active_lines(nginx_site())
    assert "include /etc/jitsi/meet/jaas/*.conf;" in lines
    assert "location = /_api/room-info {" in lines
    assert "proxy_pass http://prosody/room-info?prefix=$prefix&$args;" in lines
    assert "location ~ ^/_api/public/(.*)$ {" in lines
    assert "location = /_unlock {" in lines
    assert "add_header Strict-Transport-Security 'max-age=63072000; includeSubDomains';" in lines
    # the tenant form is tried before the last regex location, which takes /<tenant>/<anything>
    tenant = lines.index("location ~ ^/([^/?&:'\"]+)/_api/room-info {")
    catch_all = lines.index("location ~ ^/([^/?&:'\"]+)/(.*)$ {")
    assert tenant < catch_all
    # the JaaS include sits in the 443 server, before the locations
    assert lines.index("include /etc/jitsi/meet/jaas/*.conf;") < lines.index("location = /config.js {")
    assert lines.index("listen 443 ssl http2;") < lines.index("include /etc/jitsi/meet/jaas/*.conf;")


def test_nginx_site_keeps_colibri_websockets_commented_out():
    site = nginx_site()
    assert "upstream jvb1" not in "\n".join(active_lines(site))
    assert "colibri-ws" not in "\n".join(active_lines(site))
    assert "#location ~ ^/colibri-ws/default-id/(.*) {" in site
    assert "Uncomment to enable colibri (JVB) WebSocket proxy" in site


def test_nginx_site_braces_balance():
    text = "\n".join(active_lines(nginx_site()))
    assert text.count("{") == text.count("}")


def test_apache_site_points_at_the_same_files():
    site = rendered("jitsi-meet-web-config", "usr", "share", "jitsi-meet-web-config",
                    "jitsi-meet.example-apache")
    lines = active_lines(site)
    assert "SSLCertificateFile /etc/jitsi/meet/%s.crt" % DOMAIN in lines
    assert "SSLCertificateKeyFile /etc/jitsi/meet/%s.key" % DOMAIN in lines
    assert 'Alias "/config.js" "/etc/jitsi/meet/%s-config.js"' % DOMAIN in lines
    assert "ProxyPass /http-bind http://127.0.0.1:5280/http-bind" in lines
    assert "ProxyPass /xmpp-websocket ws://127.0.0.1:5280/xmpp-websocket" in lines


# --- config.js -------------------------------------------------------------------------------

def test_config_js_gets_the_domain_and_the_tuned_keys():
    cfg = rendered("jitsi-meet-web-config", "usr", "share", "jitsi-meet-web-config", "config.js")
    assert "domain: '%s'," % DOMAIN in cfg
    assert "muc: 'conference.' + subdomain + '%s'," % DOMAIN in cfg
    assert "bosh: 'https://%s/' + subdir + 'http-bind'," % DOMAIN in cfg
    assert "websocket: 'wss://%s/' + subdir + 'xmpp-websocket'," % DOMAIN in cfg
    for key in ("startAudioOnly", "resolution", "disableAudioLevels", "startWithAudioMuted"):
        assert re.search(r"^\s*// %s: " % key, cfg, re.M), key
    assert re.search(r"^    channelLastN: -1,$", cfg, re.M)
    # gone from upstream's file (and from the client) since 2020
    assert "openBridgeChannel" not in cfg
    assert "var enableJaaS = false;" in cfg


def test_config_js_is_as_large_and_tangled_as_the_real_one():
    """Upstream's config.js (jitsi-meet, build 9396) is some 88 KB, 2000 lines, mostly commented-out
    options, with block comments that hold object literals, commented nested objects and comments
    with quotes, braces and slashes. The stand-in's has its shape; when node is there, it runs."""
    cfg = rendered("jitsi-meet-web-config", "usr", "share", "jitsi-meet-web-config", "config.js")
    assert len(cfg) > 70000 and cfg.count("\n") > 1700
    assert len(re.findall(r"^\s*// ?\s*[A-Za-z_$][\w$]*\??: ", cfg, re.M)) > 500
    assert re.search(r"^    /\*\*?$", cfg, re.M) and re.search(r"^\s*customTheme: \{$", cfg, re.M)
    assert re.search(r"^    // notifications: \[$", cfg, re.M)
    assert re.search(r"^\s*//\s+// ", cfg, re.M)  # a comment inside a commented-out block
    assert re.search(r"^if \(enableJaaS\) \{\n    config\.dialInNumbersUrl = ", cfg, re.M)
    assert cfg.endswith("}\n")
    node = shutil.which("node") or shutil.which("nodejs")
    if node:
        script = cfg + "\nprocess.stdout.write(JSON.stringify(Object.keys(config)));\n"
        result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == ["hosts", "bosh", "websocket", "bridgeChannel", "testing",
                                             "enableNoAudioDetection", "enableNoisyMicDetection", "channelLastN",
                                             "p2p", "analytics", "virtualBackground", "mouseMoveCallbackInterval"]


def test_web_page_says_it_is_a_stand_in():
    page = read("jitsi-meet-web", "usr", "share", "jitsi-meet", "index.html")
    assert "lab stand-in" in page
    assert os.path.exists(path("jitsi-meet-web", "usr", "share", "jitsi-meet", "interface_config.js"))


def test_lets_encrypt_script_fails_clearly_without_an_acme_server():
    script = path("jitsi-meet-web-config", "usr", "share", "jitsi-meet", "scripts",
                  "install-letsencrypt-cert.sh")
    if os.path.exists("/etc/jitsi/meet/lab-acme.conf"):
        pytest.skip("this host names a lab ACME directory")
    proc = subprocess.run(["bash", script, "admin@" + DOMAIN, DOMAIN], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=10)
    assert proc.returncode == 1
    assert "not available in the lab" in proc.stderr


# --- jitsi-meet-turnserver (reference §1.5, §2.5) --------------------------------------------

def turnserver_conf():
    return rendered("jitsi-meet-turnserver", "usr", "share", "jitsi-meet-turnserver",
                    "turnserver.conf").replace("__turnSecret__", "s3cret")


def test_turnserver_conf_starts_with_the_marker_and_has_the_key_settings():
    conf = turnserver_conf()
    assert conf.splitlines()[0] == "# jitsi-meet coturn config. Do not modify this line"
    lines = active_lines(conf)
    for expected in ("use-auth-secret", "static-auth-secret=s3cret", "realm=" + DOMAIN,
                     "cert=/etc/jitsi/meet/%s.crt" % DOMAIN, "pkey=/etc/jitsi/meet/%s.key" % DOMAIN,
                     "listening-port=3478", "tls-listening-port=5349", "no-tcp-relay",
                     "denied-peer-ip=10.0.0.0-10.255.255.255",
                     "denied-peer-ip=172.16.0.0-172.31.255.255",
                     "denied-peer-ip=192.168.0.0-192.168.255.255"):
        assert expected in lines, expected


def test_turnserver_postinst_moves_foreign_config_and_enables_coturn():
    postinst = read("jitsi-meet-turnserver", "DEBIAN", "postinst")
    assert 'mv "$TURN_CONFIG" "$TURN_CONFIG.bak"' in postinst
    assert "db_get jitsi-meet-prosody/turn-secret" in postinst
    assert "db_input critical jitsi-meet-prosody/turn-secret" in postinst
    assert 's/#TURNSERVER_ENABLED/TURNSERVER_ENABLED/g' in postinst
    assert "invoke-rc.d coturn restart" in postinst
    assert "coturn" in control("jitsi-meet-turnserver")["Depends"]


def test_turnserver_postinst_upgrade_appends_the_real_packages_relay_block():
    # an old marked config without the relay block gets the lines the real postinst appends
    postinst = read("jitsi-meet-turnserver", "DEBIAN", "postinst")
    block = postinst.split("<<RELAY\n", 1)[1].split("\nRELAY\n", 1)[0].splitlines()
    assert block[0] == "# $RELAY_MARKER. Do not modify this line"
    assert 'RELAY_MARKER="jitsi-meet coturn relay disable config"' in postinst
    assert block[1:5] == ["no-multicast-peers", "no-cli", "no-loopback-peers", "no-tcp-relay"]
    denied = [line for line in block if line.startswith("denied-peer-ip=")]
    assert len(denied) == 15 and denied.count("denied-peer-ip=127.0.0.0-127.255.255.255") == 2
    assert "denied-peer-ip=198.18.0.0-198.19.255.255" in denied and len(block) == 20


def test_turnserver_templates():
    assert set(templates("jitsi-meet-turnserver")) == {
        "jitsi-meet-turnserver/jvb-hostname", "jitsi-videobridge/jvb-hostname"}


# --- temurin-17-jre and adoptium-ca-certificates (reference §5.4) ----------------------------

def test_temurin_provides_java_runtimes_but_not_openjdk():
    provides = [p.strip() for p in control("temurin-17-jre")["Provides"].split(",")]
    expected = ["java-runtime", "java-runtime-headless"]
    for n in [2] + list(range(5, 18)):
        expected += ["java%d-runtime" % n, "java%d-runtime-headless" % n]
    assert sorted(provides) == sorted(expected)
    assert not any(p.startswith("openjdk") for p in provides)


def test_temurin_cacerts_is_the_adoptium_keystore():
    link = path("temurin-17-jre", "usr", "lib", "jvm", "temurin-17-jre-amd64", "lib", "security",
                "cacerts")
    assert os.path.islink(link)
    assert os.readlink(link) == "/etc/ssl/certs/adoptium/cacerts"


def test_temurin_jinfo_and_alternative_priority():
    jinfo = read("temurin-17-jre", "usr", "lib", "jvm", ".temurin-17-jre-amd64.jinfo")
    assert "name=temurin-17-jre-amd64" in jinfo
    assert "priority=1711" in jinfo
    assert "hl java /usr/lib/jvm/temurin-17-jre-amd64/bin/java" in jinfo
    postinst = read("temurin-17-jre", "DEBIAN", "postinst")
    assert 'update-alternatives --install /usr/bin/java java "$JVM_DIR/bin/java" "$PRIORITY"' in postinst
    assert "PRIORITY=1711" in postinst
    assert "update-alternatives --remove java" in read("temurin-17-jre", "DEBIAN", "prerm")


def test_adoptium_hook_extracts_only_when_trust_exists():
    hook = read("adoptium-ca-certificates", "etc", "ca-certificates", "update.d", "adoptium-cacerts")
    assert "command -v trust" in hook
    assert "trust extract --overwrite --format=java-cacerts" in hook
    assert "/etc/ssl/certs/adoptium/cacerts" in hook
    assert "p11-kit" not in control("adoptium-ca-certificates")["Depends"]


# --- every package ---------------------------------------------------------------------------

PACKAGES = ["jitsi-meet-web", "jitsi-meet-web-config", "jitsi-meet-turnserver", "temurin-17-jre",
            "adoptium-ca-certificates"]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_description_says_lab_stand_in(pkg):
    fields = control(pkg)
    assert fields["Package"] == pkg
    first, _, rest = fields["Description"].partition("\n")
    assert "(lab stand-in)" in first
    assert "never shipped" in " ".join(rest.split())


@pytest.mark.parametrize("pkg", PACKAGES)
def test_maintainer_scripts_parse(pkg):
    for script in ("config", "preinst", "postinst", "prerm", "postrm"):
        p = path(pkg, "DEBIAN", script)
        if os.path.exists(p):
            shell = "bash" if read(pkg, "DEBIAN", script).startswith("#!/bin/bash") else "sh"
            assert subprocess.call([shell, "-n", p]) == 0, p
