"""Real-world containers (issue 10, classes 1 and 3; hardening item 4): BER PKCS#12/PKCS#7 as
NSS and Windows write them, files that are not certificates named for what they are, hostile and
malformed PKCS#12. Material made at test time (cryptography, openssl CLI, hand-built DER)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from ber_factory import berify
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pki_factory import NOW, PASSPHRASE, pki

from knoxtui.pki import load_bundle, pbe
from knoxtui.pki.pbe import integer, octets, oid, seq, tlv

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")


def codes(bundle: object) -> list[str]:
    return [f.code for f in bundle.findings]  # type: ignore[attr-defined]


def openssl(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, input=stdin, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-400:]
    return result.stdout


# --- class 1: BER -----------------------------------------------------------------------------


def _ber_pkcs12(data: bytes, password: str | None) -> bytes:
    """A PFX as NSS writes it: BER throughout its outer layers, the MAC computed over the BER
    AuthenticatedSafe (when the DER original had one)."""
    from knoxtui.pki import der, pfx

    version, auth_safe, *mac = der.children(der.read_tlv(data).value)
    ber_auth = berify(der.encode(auth_safe.tag, auth_safe.value))
    unsigned = b"\x30\x80" + der.encode(version.tag, version.value) + ber_auth + b"\0\0"
    if not mac:
        return unsigned
    signed = pfx.parse(unsigned).signed
    salt = os.urandom(8)
    digest = pbe.pkcs12_mac("sha256", (password or "").encode(), salt, 2048, signed)
    mac_data = seq(
        seq(seq(oid(pbe.OID_SHA256), b"\5\0"), octets(digest)), octets(salt), integer(2048)
    )
    return unsigned[:-2] + mac_data + b"\0\0"


@needs_openssl
@pytest.mark.parametrize("password", [PASSPHRASE, None], ids=["password", "no-password"])
def test_pki_ber_pkcs12_reads_like_openssl(tmp_path: Path, password: str | None) -> None:
    _root, _inter, leaf = pki()
    data = _ber_pkcs12(leaf.pkcs12(password), password)
    assert data[1] == 0x80  # indefinite length: not DER
    path = tmp_path / "nss.p12"
    path.write_bytes(data)
    info = openssl(
        "pkcs12", "-in", str(path), "-passin", f"pass:{password or ''}", "-nokeys", cwd=tmp_path
    )
    assert b"BEGIN CERTIFICATE" in info  # OpenSSL reads it
    bundle = load_bundle(data, passphrase=password)
    assert bundle.format == "pkcs12"
    assert bundle.errors == (), bundle.findings
    assert bundle.key_matches is True
    assert bundle.leaf is not None and bundle.leaf.certificate == leaf.cert
    assert bundle.encrypted_key is (password is not None)


def test_pki_ber_pkcs12_wrong_and_missing_password_twin() -> None:
    _root, _inter, leaf = pki()
    data = _ber_pkcs12(leaf.pkcs12(PASSPHRASE), PASSPHRASE)
    assert codes(load_bundle(data)) == ["passphrase_required"]
    assert "wrong_passphrase" in codes(load_bundle(data, passphrase="nope"))


@needs_openssl
def test_pki_ber_pkcs7_bundle_reads_like_openssl(tmp_path: Path) -> None:
    _root, _inter, leaf = pki()
    data = berify(leaf.pkcs7(der=True), octet_levels=0, keep_depth=4)
    assert data[1] == 0x80
    path = tmp_path / "roots.p7b"
    path.write_bytes(data)
    printed = openssl("pkcs7", "-inform", "DER", "-in", str(path), "-print_certs", cwd=tmp_path)
    assert printed.count(b"BEGIN CERTIFICATE") == 3
    bundle = load_bundle(data)
    assert bundle.format == "pkcs7" and bundle.errors == ()
    assert {c.certificate for c in bundle.certificates} == {leaf.cert, *leaf.chain}


# --- hardening item 4: hostile PKCS#12 ---------------------------------------------------------


def _shrouded_bag(iterations: int) -> bytes:
    """A pkcs8ShroudedKeyBag whose PBKDF2 asks `iterations` (the ciphertext is never reached)."""
    kdf = seq(oid(pbe.OID_PBKDF2), seq(octets(os.urandom(16)), integer(iterations)))
    algorithm = seq(oid(pbe.OID_PBES2), seq(kdf, seq(oid(pbe.OID_AES256_CBC), octets(b"\0" * 16))))
    encrypted_key_info = seq(algorithm, octets(os.urandom(64)))
    return seq(oid("1.2.840.113549.1.12.10.1.2"), tlv(0xA0, encrypted_key_info))


def _encrypted_safe(safe_contents: bytes, password: bytes) -> bytes:
    """An EncryptedData ContentInfo: PBES2 (PBKDF2-SHA256, 2,048 rounds) + AES-256-CBC."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    salt, iv = os.urandom(16), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, 2048).derive(password)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(safe_contents) + padder.finalize())
    ciphertext += encryptor.finalize()
    kdf = seq(
        oid(pbe.OID_PBKDF2),
        seq(octets(salt), integer(2048), seq(oid(pbe.OID_HMAC_SHA256), b"\5\0")),
    )
    algorithm = seq(oid(pbe.OID_PBES2), seq(kdf, seq(oid(pbe.OID_AES256_CBC), octets(iv))))
    encrypted_content_info = seq(oid("1.2.840.113549.1.7.1"), algorithm, tlv(0x80, ciphertext))
    encrypted_data = seq(integer(0), encrypted_content_info)
    return seq(oid("1.2.840.113549.1.7.6"), tlv(0xA0, encrypted_data))


def _pfx(*safes: bytes) -> bytes:
    auth_safe = seq(*safes)
    return seq(integer(3), seq(oid("1.2.840.113549.1.7.1"), tlv(0xA0, octets(auth_safe))))


def test_pki_hostile_pkcs12_is_refused_before_any_derivation() -> None:
    """No MAC, a safe encrypted with the empty password, inside it a key bag asking for
    2,000,000,000 PBKDF2 iterations: refused with a clear finding (cryptography would compute
    for minutes; this test would hang instead of failing if the check were missing)."""
    hostile = _pfx(_encrypted_safe(seq(_shrouded_bag(2_000_000_000)), b""))
    bundle = load_bundle(hostile)
    assert codes(bundle) == ["unsupported_key_encryption"]
    assert "2,000,000,000 PBKDF2 iterations" in bundle.findings[0].message
    assert "hostile" in bundle.findings[0].message
    # the same with a password given, and in BER
    assert codes(load_bundle(hostile, passphrase="anything")) == ["unsupported_key_encryption"]
    assert codes(load_bundle(berify(hostile))) == ["unsupported_key_encryption"]


def test_pki_hostile_pkcs12_in_a_plain_safe_and_the_reasonable_twin() -> None:
    assert codes(load_bundle(_pfx(seq(oid("1.2.840.113549.1.7.1"), tlv(0xA0, octets(seq(
        _shrouded_bag(2_000_000_000)))))))) == ["unsupported_key_encryption"]  # fmt: skip
    # 2,048 iterations: no work-factor finding; the bag's garbage fails as a damaged file
    reasonable = load_bundle(_pfx(_encrypted_safe(seq(_shrouded_bag(2048)), b"")))
    assert "unsupported_key_encryption" not in codes(reasonable)
    assert "passphrase_required" not in codes(reasonable)


def _rc2_safe(safe_contents: bytes, password: bytes | None, key_size: int) -> bytes:
    """An EncryptedData ContentInfo as `openssl pkcs12 -export -legacy` writes its certificate
    safe: pbeWithSHA1And40BitRC2-CBC (key_size 5) or ...128BitRC2-CBC (16), 2,048 rounds of the
    PKCS#12 KDF; the RC2 encryption done by the openssl command line (legacy provider)."""
    salt = os.urandom(8)
    key = pbe.pkcs12_kdf("sha1", password, salt, 1, 2048, key_size)
    iv = pbe.pkcs12_kdf("sha1", password, salt, 2, 2048, 8)
    cipher = "-rc2-40-cbc" if key_size == 5 else "-rc2-cbc"
    ciphertext = subprocess.run(
        ["openssl", "enc", cipher, "-K", key.hex(), "-iv", iv.hex(), "-provider", "legacy",
         "-provider", "default"],
        input=safe_contents, capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    scheme = pbe.OID_PBE_SHA1_RC2_40 if key_size == 5 else pbe.OID_PBE_SHA1_RC2_128
    algorithm = seq(oid(scheme), seq(octets(salt), integer(2048)))
    encrypted_content_info = seq(oid("1.2.840.113549.1.7.1"), algorithm, tlv(0x80, ciphertext))
    return seq(oid("1.2.840.113549.1.7.6"), tlv(0xA0, seq(integer(0), encrypted_content_info)))


@pytest.mark.parametrize("key_size", [5, 16])
def test_pki_hostile_pkcs12_inside_a_legacy_rc2_safe_is_refused(key_size: int) -> None:
    """The legacy (RC2) outer safe is decrypted here too, so the 2,000,000,000-iteration key bag
    inside it is seen before cryptography derives anything (it hung here before)."""
    contents = seq(_shrouded_bag(2_000_000_000))
    for password, given in ((None, None), (b"", None), (b"legacy pass", "legacy pass")):
        hostile = _pfx(_rc2_safe(contents, password, key_size))
        bundle = load_bundle(hostile, passphrase=given)
        assert codes(bundle) == ["unsupported_key_encryption"], password
        assert "2,000,000,000 PBKDF2 iterations" in bundle.findings[0].message
    # a wrong password opens nothing, and hands nothing to cryptography
    wrong = load_bundle(_pfx(_rc2_safe(contents, b"right", key_size)), passphrase="wrong")
    assert codes(wrong) == ["wrong_passphrase"]


def test_pki_openssl_legacy_pkcs12_reads_through_the_rc2_safe(tmp_path: Path) -> None:
    """What `openssl pkcs12 -export -legacy` writes (certificates in an RC2-40 safe, the key in a
    3DES bag) reads as before, the certificates from the safe decrypted here."""
    from knoxtui.pki import pfx

    _root, intermediate, leaf = pki()
    (tmp_path / "leaf.pem").write_bytes(leaf.cert_pem + intermediate.cert_pem)
    (tmp_path / "key.pem").write_bytes(leaf.key_pem())
    openssl(
        "pkcs12", "-export", "-legacy", "-in", "leaf.pem", "-inkey", "key.pem",
        "-out", "legacy.p12", "-passout", f"pass:{PASSPHRASE}", cwd=tmp_path,
    )  # fmt: skip
    data = (tmp_path / "legacy.p12").read_bytes()
    parsed = pfx.parse(data)
    opened = pfx.open_safes(parsed, PASSPHRASE.encode())
    assert len(opened.certificates) == 2 and len(opened.shrouded) == 1
    bundle = load_bundle(data, passphrase=PASSPHRASE)
    assert bundle.valid and bundle.key_matches is True
    assert codes(load_bundle(data)) == ["passphrase_required"]
    assert codes(load_bundle(data, passphrase="wrong")) == ["wrong_passphrase"]


# --- class 4: a malformed PKCS#12 is not a password problem ------------------------------------


def test_pki_malformed_pkcs12_is_corrupt_not_passphrase_required() -> None:
    garbage = seq(integer(3), seq(oid("1.2.840.113549.1.7.1"), tlv(0xA0, octets(b"hello"))))
    bundle = load_bundle(garbage)
    assert codes(bundle) == ["corrupt"]
    assert "PKCS#12" in bundle.findings[0].message


def test_pki_pkcs12_whose_mac_verifies_but_key_bag_is_damaged_is_corrupt() -> None:
    from knoxtui.pki import der, pfx

    _root, _inter, leaf = pki()
    data = leaf.pkcs12(PASSPHRASE, legacy=True)
    parsed = pfx.parse(data)
    # damage the shrouded key bag's ciphertext in the plain safe, then re-MAC with the password
    plain = next(s for s in parsed.safes if s.kind == "data").content
    bag = next(v for k, v in pfx._bags(plain, 0) if k == pfx.OID_SHROUDED_KEY_BAG)
    ciphertext = der.children(bag.value)[1].value
    middle = len(ciphertext) // 2
    damaged = ciphertext[:middle] + bytes(b ^ 0x55 for b in ciphertext[middle : middle + 16])
    damaged += ciphertext[middle + 16 :]
    signed = parsed.signed.replace(ciphertext, damaged)
    assert signed != parsed.signed
    salt = os.urandom(8)
    mac = pbe.pkcs12_mac("sha1", PASSPHRASE.encode(), salt, 2048, signed)
    mac_data = seq(seq(seq(oid(pbe.OID_SHA1), b"\5\0"), octets(mac)), octets(salt), integer(2048))
    rebuilt = seq(integer(3), seq(oid("1.2.840.113549.1.7.1"), tlv(0xA0, octets(signed))), mac_data)
    assert der.read_tlv(rebuilt).end == len(rebuilt)
    assert codes(load_bundle(rebuilt, passphrase=PASSPHRASE))[0] == "corrupt"
    # twin: without the password it is (rightly) a password question
    assert codes(load_bundle(rebuilt)) == ["passphrase_required"]


# --- class 3: files that are not certificates ---------------------------------------------------


def _crl() -> x509.CertificateRevocationList:
    root, _inter, _leaf = pki()
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.cert.subject)
        .last_update(NOW - timedelta(days=1))
        .next_update(NOW + timedelta(days=6))
        .sign(root.key, hashes.SHA256())
    )


def _csr() -> x509.CertificateSigningRequest:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "req.knox.test")])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def _sentence(data: bytes) -> tuple[str, str]:
    bundle = load_bundle(data)
    assert codes(bundle) == ["no_certificate"], bundle.findings
    return bundle.findings[0].message, bundle.findings[0].hint or ""


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_pki_crl_is_named_a_crl(encoding: str) -> None:
    crl = _crl()
    data = crl.public_bytes(
        serialization.Encoding.DER if encoding == "der" else serialization.Encoding.PEM
    )
    message, _ = _sentence(data)
    assert "certificate revocation list (CRL)" in message
    assert "damaged" not in message and "empty" not in message


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_pki_csr_says_request_and_csr_attach(encoding: str) -> None:
    data = _csr().public_bytes(
        serialization.Encoding.DER if encoding == "der" else serialization.Encoding.PEM
    )
    message, hint = _sentence(data)
    assert "signing request (CSR)" in message
    assert "This is a request; import the certificate the CA issued for it" in hint
    assert "csr attach" in hint


def test_pki_der_public_key_is_named_like_the_pem_one() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der_message, _ = _sentence(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    pem_message, _ = _sentence(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert der_message == pem_message == "The input holds only a public key, not a certificate."
    _root, _inter, _leaf = pki()
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_public = rsa.generate_private_key(65537, 1024).public_key()
    pkcs1, _ = _sentence(
        rsa_public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    assert pkcs1 == der_message


@needs_openssl
def test_pki_parameters_cms_and_p7c_files_get_their_sentence(tmp_path: Path) -> None:
    _root, _inter, leaf = pki()
    run = lambda *a: openssl(*a, cwd=tmp_path)  # noqa: E731
    run("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
    run("ecparam", "-name", "prime256v1", "-out", "ec.pem")
    for name in ("dh.pem", "ec.pem"):
        message, _ = _sentence((tmp_path / name).read_bytes())
        assert "domain parameters" in message, name
    (tmp_path / "leaf.pem").write_bytes(leaf.cert_pem)
    (tmp_path / "msg.txt").write_bytes(b"hello")
    run("cms", "-encrypt", "-in", "msg.txt", "-outform", "PEM", "-out", "env.pem", "leaf.pem")
    # S/MIME PKCS#7 enveloping needs an RSA recipient
    from pki_factory import rsa_pki

    (tmp_path / "rsa.pem").write_bytes(rsa_pki()[1].cert_pem)
    run("smime", "-encrypt", "-in", "msg.txt", "-outform", "PEM", "-out", "env7.pem", "rsa.pem")
    for name in ("env.pem", "env7.pem"):
        message, _ = _sentence((tmp_path / name).read_bytes())
        assert "encrypted (enveloped) PKCS#7/CMS message" in message, name
    (tmp_path / "crl.pem").write_bytes(_crl().public_bytes(serialization.Encoding.PEM))
    run("crl2pkcs7", "-in", "crl.pem", "-outform", "DER", "-out", "crl.p7c")
    message, _ = _sentence((tmp_path / "crl.p7c").read_bytes())
    assert "holds only a certificate revocation list (CRL)" in message
    # a CRL next to the certificates of a .p7b is mentioned, not dropped silently
    (tmp_path / "chain.pem").write_bytes(leaf.cert_pem + leaf.chain_pem)
    run("crl2pkcs7", "-in", "crl.pem", "-certfile", "chain.pem", "-outform", "DER", "-out", "b.p7b")
    bundle = load_bundle((tmp_path / "b.p7b").read_bytes())
    assert bundle.errors == () and len(bundle.certificates) == 3
    mention = [f for f in bundle.findings if f.code == "crl_present"]
    assert mention and "1 certificate revocation list (CRL)" in mention[0].message


def test_pki_attribute_certificate_gets_its_sentence() -> None:
    body = seq(seq(integer(1)), seq(oid("1.2.840.113549.1.1.11")), tlv(0x03, b"\0"))
    import base64

    text = b"-----BEGIN ATTRIBUTE CERTIFICATE-----\n" + base64.encodebytes(body)
    text += b"-----END ATTRIBUTE CERTIFICATE-----\n"
    message, _ = _sentence(text)
    assert "attribute certificate" in message


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
def test_pki_openssh_certificate_and_public_key_get_their_sentence(tmp_path: Path) -> None:
    for name in ("ca", "user"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)],
            check=True,
            timeout=30,
        )
    subprocess.run(
        ["ssh-keygen", "-q", "-s", str(tmp_path / "ca"), "-I", "knox", str(tmp_path / "user.pub")],
        check=True,
        timeout=30,
        capture_output=True,
    )
    message, _ = _sentence((tmp_path / "user-cert.pub").read_bytes())
    assert message.startswith("This is an OpenSSH certificate")
    message, _ = _sentence((tmp_path / "user.pub").read_bytes())
    assert message == "This is an OpenSSH public key, not a TLS certificate."
    private, _ = _sentence((tmp_path / "user").read_bytes())
    assert private == "This is an OpenSSH key, not a TLS certificate."
