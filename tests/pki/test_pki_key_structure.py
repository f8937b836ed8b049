"""Issue 10 classes 4 and 5: key problems decided from the key's structure, not from error texts;
a corrupted RSA key (n ≠ p·q) is refused on first sight, and fully checked (OpenSSL's RSA check)
once when kept; certificates whose key cryptography refuses still say what the key is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pki_factory as f
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519

from knoxtui.pki import PkiError, der, load_bundle, load_private_key
from knoxtui.pki.pbe import integer, seq, tlv

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")


def _pem(label: str, body: bytes) -> bytes:
    import base64

    return (
        f"-----BEGIN {label}-----\n".encode()
        + base64.encodebytes(body)
        + f"-----END {label}-----\n".encode()
    )


def _corrupted_rsa() -> bytes:
    """PKCS#1 with the modulus changed: OpenSSL's `rsa -check` refuses it; loading with the RSA
    check skipped (as knoxtui does for speed) would not notice."""
    key = f.make_key("rsa", 2048)
    n = key.private_numbers()
    values = [0, n.public_numbers.n + 2, n.public_numbers.e, n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    return _pem("RSA PRIVATE KEY", seq(*(integer(v) for v in values)))


@needs_openssl
def test_pki_corrupted_rsa_key_is_refused_as_openssl_does(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(_corrupted_rsa())
    check = subprocess.run(
        ["openssl", "rsa", "-check", "-noout", "-in", str(path)], capture_output=True, timeout=30
    )
    assert b"n does not equal p q" in check.stderr  # OpenSSL: "RSA key not ok"
    with pytest.raises(PkiError) as caught:
        load_private_key(path.read_bytes())
    assert caught.value.code == "corrupt" and "n ≠ p·q" in caught.value.message
    bundle = load_bundle(f.rsa_pki()[1].cert_pem + path.read_bytes())
    assert "corrupt" in [x.code for x in bundle.errors]
    assert bundle.private_key is None


def test_pki_good_rsa_key_passes_the_full_check_when_stored() -> None:
    _inter, leaf = f.rsa_pki()
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem())
    assert bundle.valid or bundle.key_matches
    assert bundle.key_pem_for_storage(None) is not None  # runs OpenSSL's full RSA check


def test_pki_damaged_key_is_damaged_not_explicit_curve() -> None:
    key = f.make_key("rsa", 2048).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # keep the PKCS#8 frame, break the RSAPrivateKey inside (a length that overruns)
    top = der.read_tlv(key)
    version, algorithm, octets = der.children(top.value)
    broken = seq(
        der.encode(version.tag, version.value),
        der.encode(algorithm.tag, algorithm.value),
        tlv(0x04, octets.value[:40]),
    )
    with pytest.raises(PkiError) as caught:
        load_private_key(_pem("PRIVATE KEY", broken))
    assert caught.value.code == "corrupt"
    assert "explicit" not in caught.value.message and "curve" not in caught.value.message
    assert "RSA private key is damaged" in caught.value.message


@needs_openssl
def test_pki_unencrypted_key_on_an_unsupported_curve_says_so(tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "ecparam", "-name", "secp128r1", "-genkey", "-noout", "-out", "k.pem"],
        cwd=tmp_path,
        check=True,
        timeout=30,
        capture_output=True,
    )
    with pytest.raises(PkiError) as caught:
        load_private_key((tmp_path / "k.pem").read_bytes())
    assert caught.value.code == "unsupported_format"
    assert "secp128r1" in caught.value.message and "not encrypted" in caught.value.message
    assert "encrypted with a scheme" not in caught.value.message


def test_pki_x25519_key_is_named_not_damaged() -> None:
    key = x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    bundle = load_bundle(key)
    assert bundle.private_key is not None or any("X25519" in x.message for x in bundle.findings)


def _with_spki(issued: f.Issued, spki: bytes, issuer_key: rsa.RSAPrivateKey) -> bytes:
    """The certificate with its SubjectPublicKeyInfo replaced, re-signed by its issuer."""
    fields = der.children(der.read_tlv(issued.cert.tbs_certificate_bytes).value)
    items = [der.encode(x.tag, x.value) for x in fields]
    offset = 1 if fields[0].tag == der.CONTEXT_0 else 0
    items[offset + 5] = spki
    tbs = seq(*items)
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    algorithm = seq(f._oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    return seq(tbs, algorithm, tlv(0x03, b"\x00" + signature))


@needs_openssl
def test_pki_rsa_certificate_with_a_key_cryptography_refuses_keeps_key_type(
    tmp_path: Path,
) -> None:
    ca = f.rsa_ca()
    leaf = f.make_cert("odd.knox.test", key=f.make_key("rsa", 2048, 3), issuer=ca)
    n = leaf.key.public_key().public_numbers().n
    rsa_key = seq(integer(n), integer(65536))  # an even exponent: cryptography refuses the key
    spki = seq(seq(f._oid("1.2.840.113549.1.1.1"), b"\x05\x00"), tlv(0x03, b"\x00" + rsa_key))
    cert_der = _with_spki(leaf, spki, ca.key)
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(cert_der).public_key()
    path = tmp_path / "odd.der"
    path.write_bytes(cert_der)
    text = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", str(path), "-noout", "-text"],
        capture_output=True,
        timeout=30,
        check=True,
    ).stdout.decode()
    assert "Public-Key: (2048 bit)" in text
    info = load_bundle(cert_der).leaf
    assert info is not None and (info.key_type, info.key_size) == ("rsa", 2048)
