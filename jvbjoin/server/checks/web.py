"""The checks of what `server install` and `server tune` set up around the web page: the Jitsi site
enabled in the web server, the client settings 'server tune' wrote, and a Let's Encrypt certificate
that is the one served, not about to expire, renewed by a timer and put in place by a deploy hook.

Each runs only when it was asked for: a server without 'server tune' settings or without a
certbot lineage for its domain has these checks skipped, with the reason."""

import os
import re
import shlex
import socket
import ssl
import time

from jvbjoin.formats.pin import cert_summary, der_of, not_after as not_after_of
from jvbjoin.system import files
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.doctor import facts as F
from jvbjoin.server import tune
from jvbjoin.server.checks.facts import domain
from jvbjoin.server.letsencrypt import deploy_hook, live_dir, renewal_conf, renewal_values, site_files
from jvbjoin.server.tune import marked_key, marked_settings

# --- the Jitsi site in the web server ---------------------------------------------------------------

SITES = {"nginx": ("/etc/nginx/sites-enabled/{}.conf", "ln -s ../sites-available/{0}.conf /etc/nginx/sites-enabled/; "
                                                        "systemctl reload nginx"),
         "apache2": ("/etc/apache2/sites-enabled/{}.conf", "a2ensite {0}; systemctl reload apache2")}


def site_problem(facts, name, domain):
    """A failure when the web server ``name`` (nginx, apache2) does not serve the meet domain's site
    (the packages put it in sites-available and link it from sites-enabled), else None."""
    enabled, remedy = SITES[name]
    path = facts.paths(enabled.format(domain))
    if os.path.exists(path):
        return None
    return fail("the Jitsi site {} is not enabled in {} ({} is missing): the web server does not serve "
                "the meet page".format(domain, name, enabled.format(domain)), remedy.format(domain))


# --- server tune ---------------------------------------------------------------------------------

OBJECTS = {"config": "config", "interface": "interfaceConfig"}
OPTIONS = {"config": "--config", "interface": "--interface"}


def _assignment(obj, key):
    """A line that sets ``obj.key`` (or ``obj['key']``) as a statement of its own."""
    return re.compile(r"""^\s*{0}\s*(?:\.\s*{1}|\[\s*['"]{1}['"]\s*\])\s*=""".format(
        re.escape(obj), re.escape(key)))


def tune_findings(text, obj, wanted):
    """``(missing, edited, overridden)`` for the settings ``wanted`` ({key: literal}) in ``text``:
    keys whose marked line is gone, whose marked line holds another value, and keys set again by a
    line after jvb-join's (the browser runs the file top to bottom: the last one wins)."""
    lines = (text or "").splitlines()
    present = marked_settings(text, obj)
    missing, edited, overridden = [], [], []
    for key, literal in sorted(wanted.items()):
        if key not in present:
            missing.append(key)
            continue
        if present[key] != literal:
            edited.append("{}.{} is {} (set to {})".format(obj, key, present[key], literal))
        at = max(i for i, line in enumerate(lines) if marked_key(line, obj) == key)
        pattern = _assignment(obj, key)
        later = [i for i in range(at + 1, len(lines)) if pattern.match(lines[i])]
        if later:
            overridden.append("{}.{} is set again on line {}".format(obj, key, later[-1] + 1))
    return missing, edited, overridden


def check_tune(facts):
    record = tune.read_record(facts.paths)
    if not any(record.values()):
        return skipped("no client settings set by 'jvb-join server tune'")
    name = domain(facts)
    paths = {"config": tune.config_js(facts.paths, name), "interface": tune.interface_config_js(facts.paths)}
    failures, warnings, remedies, obsolete = [], [], [], []
    count = 0
    for part in ("config", "interface"):
        wanted = record[part]
        if not wanted:
            continue
        count += len(wanted)
        text = files.read_text(paths[part])
        if text is None:
            failures.append("{} is missing".format(paths[part]))
            continue
        missing, edited, overridden = tune_findings(text, OBJECTS[part], wanted)
        if part == "config":  # warned about below; re-adding a missing one would be refused
            obsolete.extend(k for k in sorted(wanted) if tune.obsolete_problem(k))
            missing = [k for k in missing if not tune.obsolete_problem(k)]
        if missing:
            failures.append("{} no longer has jvb-join's line for {}".format(paths[part], ", ".join(missing)))
            remedies.append("jvb-join server tune " + " ".join(
                "{} {}".format(OPTIONS[part], shlex.quote("{}={}".format(k, wanted[k]))) for k in missing))
        warnings.extend(edited + overridden)
    if failures:
        return fail("; ".join(failures), "; ".join(remedies) or "jvb-join server tune (with the settings you want)")
    if obsolete:
        notes = ["config.{} is set, but the web client no longer reads it".format(k) for k in obsolete]
        return warn("; ".join(notes + warnings), "jvb-join server tune " + " ".join("--unset " + k for k in obsolete))
    if warnings:
        return warn("; ".join(warnings) + " (an edit by hand wins over 'server tune')",
                    "If that is not meant: remove the later line, or set the value with 'jvb-join server tune'")
    return ok("the {} setting(s) from 'server tune' are in place and not overridden".format(count))


# --- Let's Encrypt -----------------------------------------------------------------------------------

FAIL_DAYS, WARN_DAYS = 14, 30


def deploy_hooks(paths, values):
    """The text of every deploy hook certbot runs after a renewal: the lineage's own, and the
    executable scripts in renewal-hooks/deploy/."""
    hooks = [values["renew_hook"]] if values.get("renew_hook") else []
    folder = paths("/etc/letsencrypt/renewal-hooks/deploy")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            hooks.append(files.read_text(path) or "")
    return hooks


def _reloads(hooks, unit):
    pattern = re.compile(r"systemctl\s+(?:reload|restart|try-reload-or-restart|reload-or-restart)\s+{}\b".format(
        re.escape(unit)))
    return any(pattern.search(hook) for hook in hooks)


def served_certificate(domain, port=443, timeout=2.0):
    """The DER the web server on this host shows for ``domain`` (not verified: compared only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=domain) as tls:
            return tls.getpeercert(binary_form=True)


def _web_unit(facts):
    for unit in ("nginx", "apache2"):
        if F.unit_state(facts, unit + ".service").get("LoadState") not in (None, "not-found"):
            return unit
    return "nginx"


def _coturn_uses(facts, crt):
    """Whether coturn runs here with the site's (or a certbot) certificate."""
    state = F.unit_state(facts, "coturn.service")
    if state.get("LoadState") in (None, "not-found"):
        return False
    conf = files.read_text(facts.paths("/etc/turnserver.conf")) or ""
    for line in conf.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "cert" and (value.strip() == crt or value.strip().startswith("/etc/letsencrypt/")):
            return True
    return False


def check_letsencrypt(facts):
    name = domain(facts)
    conf = renewal_conf(facts.paths, name)
    text = files.read_text(conf)
    if text is None:
        return skipped("no Let's Encrypt certificate for {} (the server was not installed with "
                       "--cert letsencrypt)".format(name))
    values = renewal_values(text)
    directory = values.get("server") or "(no server in {})".format(conf)
    crt = "/etc/jitsi/meet/{}.crt".format(name)
    site_crt, _ = site_files(facts.paths, name)
    issued = files.read_bytes(os.path.join(live_dir(facts.paths, name), "fullchain.pem"))
    site = files.read_bytes(site_crt)
    renew = "certbot renew --force-renewal --cert-name {}   (its deploy hook puts the certificate in place)".format(
        name)
    if issued is None:
        return fail("certbot has no certificate for {} from {}".format(name, directory), renew)
    if site != issued:
        return fail("{} is not the certificate certbot got from {}: the site serves another one".format(crt, directory),
                    renew)
    der = der_of(site)
    details = [cert_summary(der), "from {}".format(directory)]
    expires = not_after_of(der)
    days = (expires - time.time()) / 86400 if expires is not None else None
    problems, warnings, remedies = [], [], []
    if days is not None and days < FAIL_DAYS:
        problems.append("the certificate {} {:.0f} day(s)".format("expired" if days < 0 else "expires in", abs(days)))
        remedies.append(renew)
    elif days is not None and days < WARN_DAYS:
        warnings.append("the certificate expires in {:.0f} days and was not renewed yet".format(days))
        remedies.append("certbot renew --cert-name {}; see /var/log/letsencrypt/letsencrypt.log".format(name))
    timer = F.unit_state(facts, "certbot.timer")
    if timer.get("ActiveState") != "active" or \
            timer.get("UnitFileState") not in ("enabled", "static", "enabled-runtime"):
        problems.append("nothing renews it: certbot.timer is {} ({})".format(
            timer.get("ActiveState") or "missing", timer.get("UnitFileState") or "not installed"))
        remedies.append("systemctl enable --now certbot.timer")
    hooks = deploy_hooks(facts.paths, values)
    unit = _web_unit(facts)
    hook = deploy_hook(name, "apache" if unit == "apache2" else "nginx")
    if not any(crt in h for h in hooks) or not _reloads(hooks, unit):
        problems.append("certbot's deploy hook does not {} after a renewal: the site would keep the old "
                        "certificate until it expires".format(
                            "copy the certificate to {}".format(crt) if not any(crt in h for h in hooks)
                            else "reload {}".format(unit)))
        remedies.append("put 'renew_hook = {}' back under [renewalparams] in {}".format(hook, conf))
    if _coturn_uses(facts, crt) and not _reloads(hooks, "coturn"):
        warnings.append("coturn uses the certificate but the deploy hook does not restart it: TURN over TLS "
                        "keeps the old certificate")
        remedies.append("add '&& systemctl restart coturn' to the renew_hook in {}".format(conf))
    try:
        served = served_certificate(name)
        if served != der:
            warnings.append("{} serves another certificate than {} (not reloaded since the renewal?)".format(unit, crt))
            remedies.append("systemctl reload {}".format(unit))
    except (OSError, ssl.SSLError) as exc:
        details.append("the certificate served on 443 was not read: {}".format(exc))
    if problems:
        return fail("; ".join(problems + warnings), "; ".join(remedies), details)
    if warnings:
        return warn("; ".join(warnings), "; ".join(remedies), details)
    return ok("certificate from {}, valid {:.0f} more days, renewed by certbot.timer, deployed by its hook".format(
        directory, days if days is not None else 0), details)
