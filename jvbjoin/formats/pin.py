"""SPKI pins of TLS certificates: "sha256:<hex>" of the SubjectPublicKeyInfo DER (RFC 7469, as kubeadm).

Equal to: openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
python3-cryptography is imported inside the functions so that jvb-join starts fast.
"""

import datetime
import hashlib
import hmac
import ssl

PREFIX = "sha256:"


def _load(cert):
    from cryptography import x509
    if isinstance(cert, str):
        cert = cert.encode("ascii")
    if cert.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(cert)
    return x509.load_der_x509_certificate(cert)


def spki_der(cert):
    """The SubjectPublicKeyInfo DER of a certificate given as DER bytes or PEM text."""
    from cryptography.hazmat.primitives import serialization
    return _load(cert).public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_pin(cert):
    """The pin of a certificate (DER bytes or PEM): 'sha256:' and 64 lower-case hex digits."""
    return PREFIX + hashlib.sha256(spki_der(cert)).hexdigest()


def normalize(pin):
    """A pin as written in tokens, lower case; anything else becomes '' (never equal to a real pin)."""
    if not isinstance(pin, str):
        return ""
    pin = pin.strip().lower()
    if not pin.startswith(PREFIX):
        return ""
    digest = pin[len(PREFIX):]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return ""
    return pin


def pins_equal(a, b):
    """Constant-time comparison of two pins; malformed pins are never equal."""
    a, b = normalize(a), normalize(b)
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def der_of(cert):
    """DER bytes of a certificate given as DER or PEM."""
    from cryptography.hazmat.primitives import serialization
    return _load(cert).public_bytes(serialization.Encoding.DER)


def cert_summary(cert):
    """A one-line description for messages: subject CN, DNS names and expiry date."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    c = _load(cert)
    cns = [a.value for a in c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        sans = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        sans = []
    parts = ["CN={}".format(cns[0] if cns else "(none)")]
    if sans:
        parts.append("names {}".format(", ".join(sans)))
    not_after = getattr(c, "not_valid_after_utc", None) or c.not_valid_after  # _utc from cryptography 42
    parts.append("valid until {} UTC".format(not_after.strftime("%Y-%m-%d %H:%M")))
    return "; ".join(parts)


def not_after(der):
    """A certificate's expiry as Unix time, or None when it cannot be read."""
    try:
        from cryptography import x509
        cert = x509.load_der_x509_certificate(bytes(der))
        moment = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(
            tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    except Exception:
        return None


def pem_certs(text):
    """The DER of every certificate in a PEM text, in order (blocks that do not decode are skipped)."""
    out = []
    for block in text.split("-----BEGIN CERTIFICATE-----")[1:]:
        body = block.split("-----END CERTIFICATE-----")[0]
        try:
            out.append(ssl.PEM_cert_to_DER_cert("-----BEGIN CERTIFICATE-----" + body + "-----END CERTIFICATE-----\n"))
        except ValueError:
            continue
    return out
