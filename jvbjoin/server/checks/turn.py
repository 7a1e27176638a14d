"""Doctor's check of the TURN server 'jvb-join server turn' configured: coturn running and listening
where it was told, sharing prosody's secret, with a certificate for its name and its ports open."""

import time

from jvbjoin.formats.pin import not_after, pem_certs
from jvbjoin.system import files, ufw
from jvbjoin.system.netinfo import bound_sockets, socket_inodes
from jvbjoin.doctor.core import fail, ok, skipped, warn
from jvbjoin.doctor import facts as F
from jvbjoin.server import turn, turnconf
from jvbjoin.server.checks.facts import unit_check


def _cert_names(der):
    from cryptography import x509
    cert = x509.load_der_x509_certificate(bytes(der))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        return [a.value.lower() for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]


def name_matches(host, names):
    host = host.lower()
    for name in names:
        if name == host or (name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]):
            return True
    return False


def check_turn(facts):
    """coturn as 'jvb-join server turn' left it: running, listening, sharing prosody's secret, with a
    certificate for its name. Skipped when TURN was never configured."""
    try:
        settings = turn.recorded(facts.paths)
    except PermissionError:
        return warn("cannot read the TURN settings (not root)", "sudo jvb-join doctor")
    if settings is None:
        return skipped("no TURN server configured (jvb-join server turn)")
    again = "jvb-join server turn"
    bad = unit_check(facts, turnconf.COTURN_UNIT, "coturn")
    if bad:
        return bad
    sockets = bound_sockets(facts.paths)
    ours = socket_inodes(facts.paths, F.unit_state(facts, turnconf.COTURN_UNIT).get("MainPID"))
    if not ours:  # not root: which process holds a socket cannot be seen, only that it is held
        ours = {inode for _, _, _, inode in sockets}
    if not turn.coturn_listens(sockets, settings, ours):
        return fail("coturn does not listen on {}:{}/tcp".format(settings.listen_ip or "*", settings.port),
                    "journalctl -u coturn -n 50; then: " + again)
    try:
        conf = files.read_text(facts.paths(turnconf.TURN_CONF)) or ""
        fragment = files.read_text(facts.paths(turnconf.PROSODY_FRAGMENT))
    except PermissionError:
        return warn("cannot read coturn's and prosody's TURN settings (not root)", "sudo jvb-join doctor")
    coturn_secrets = turnconf.block_values(conf, "static-auth-secret")
    if fragment is None:
        return fail("prosody hands out no credentials for this TURN server ({} is missing)".format(
            turnconf.PROSODY_FRAGMENT), again)
    if coturn_secrets != [turnconf.prosody_secret(fragment)]:
        return fail("the secret prosody derives TURN credentials from is not coturn's{}: clients cannot "
                    "use the TURN server".format(" (coturn has {})".format(len(coturn_secrets))
                                                  if len(coturn_secrets) != 1 else ""), again)
    details = ["{} port {} (TLS {}){}".format(settings.host, settings.port, settings.tls_port,
                                               " on " + settings.listen_ip if settings.listen_ip else "")]
    source, copy = files.read_bytes(facts.paths(settings.cert)), files.read_bytes(facts.paths(settings.cert_copy))
    certs = pem_certs((copy or b"").decode("ascii", "replace"))
    if not certs:
        return fail("coturn's certificate {} is missing or not PEM".format(settings.cert_copy), again)
    names = _cert_names(certs[0])
    expiry = not_after(certs[0])
    details.append("certificate names: {}".format(", ".join(names) or "none"))
    if expiry is not None and expiry < time.time():
        return fail("coturn's certificate expired", "Renew {}, then: {}".format(settings.cert, again), details)
    if source is not None and source != copy:
        return warn("{} changed since coturn got its copy (a renewal?)".format(settings.cert), again, details)
    installed, enabled, rules = ufw.saved(facts.paths)
    closed = ["{}/{}".format(p, proto) for p, proto in settings.ports
              if installed and enabled and not ufw.allowed(rules, p, proto, from_anywhere=True)]
    if closed:
        return fail("ufw keeps clients from the TURN server: {} closed".format(", ".join(closed)),
                    "; ".join("ufw allow " + c for c in closed), details)
    if not name_matches(settings.host, names):
        return warn("coturn's certificate is not valid for {}: TURNS clients refuse it".format(settings.host),
                    "jvb-join server turn --cert FILE --key FILE   (a certificate for {})".format(settings.host),
                    details)
    return ok("coturn runs on {} port {}, with prosody's secret and a certificate for its name".format(
        settings.host, settings.port), details)
