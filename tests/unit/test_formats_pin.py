"""SPKI pins: equal to a hand computation from the certificate's DER, constant-time comparison."""

import hashlib

import pytest

from jvbjoin.formats import pin

from helpers import make_cert


def _tlv(data, pos):
    """(tag, start of content, end of content) of the DER element at pos."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + length


def spki_by_hand(der):
    """Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, sigAlg, issuer,
    validity, subject, subjectPublicKeyInfo, ... } ... }: walk to the 7th element of tbsCertificate."""
    _, cert_start, _ = _tlv(der, 0)
    _, pos, _ = _tlv(der, cert_start)
    for _ in range(6):
        _, _, end = _tlv(der, pos)
        pos = end
    _, _, end = _tlv(der, pos)
    return der[pos:end]


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_pin_equals_sha256_of_the_spki_der_walked_by_hand(key_type):
    der, pem, _ = make_cert(key_type=key_type)
    expected = "sha256:" + hashlib.sha256(spki_by_hand(der)).hexdigest()
    assert pin.spki_pin(der) == expected
    assert pin.spki_pin(pem) == expected
    assert pin.spki_pin(pem.decode("ascii")) == expected
    assert pin.spki_der(der) == spki_by_hand(der)


def test_pin_format():
    der, _, _ = make_cert()
    p = pin.spki_pin(der)
    assert p.startswith("sha256:") and len(p) == 7 + 64 and p == p.lower()


def test_pins_equal():
    a = "sha256:" + "ab" * 32
    assert pin.pins_equal(a, a)
    assert pin.pins_equal(a, a.upper().replace("SHA256", "sha256"))
    assert not pin.pins_equal(a, "sha256:" + "ac" * 32)
    assert not pin.pins_equal(a, "sha256:" + "ab" * 31)
    assert not pin.pins_equal("", "")
    assert not pin.pins_equal(None, None)
    assert not pin.pins_equal("md5:" + "ab" * 32, "md5:" + "ab" * 32)


def test_cert_summary_names_cn_sans_and_expiry():
    der, pem, _ = make_cert(cn="auth.meet.example.org")
    text = pin.cert_summary(der)
    assert "CN=auth.meet.example.org" in text and "names auth.meet.example.org" in text and "valid until" in text
    assert pin.cert_summary(pem) == text
    assert pin.der_of(pem) == der
