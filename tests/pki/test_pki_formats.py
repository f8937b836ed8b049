"""Every input format load_bundle reads, each with the failing twin that must be refused."""

from __future__ import annotations

import base64
from datetime import datetime

import pki_factory as f
import pytest
from cryptography import x509

from knoxtui.pki import load_bundle

pytestmark = pytest.mark.usefixtures("frozen_now")


def codes(bundle) -> list[str]:
    return [item.code for item in bundle.findings]


def errors(bundle) -> list[str]:
    return [item.code for item in bundle.errors]


# --- PEM -------------------------------------------------------------------------------------


def test_pem_leaf_chain_and_key_in_one_file() -> None:
    root, inter, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + inter.cert_pem + root.cert_pem + leaf.key_pem())
    assert bundle.format == "pem"
    assert bundle.valid, bundle.findings
    assert [c.subject_cn for c in bundle.certificates] == [
        "client.knox.test",
        "Knox Test Issuing CA",
        "Knox Test Root CA",
    ]
    assert bundle.key_matches is True
    assert bundle.has_private_key and not bundle.encrypted_key
    assert codes(bundle) == ["unencrypted_key"]


def test_pem_key_before_certificates_is_not_a_chain_order_problem() -> None:
    _, inter, leaf = f.pki()
    bundle = load_bundle(leaf.key_pem() + leaf.cert_pem + inter.cert_pem)
    assert bundle.leaf is not None and bundle.leaf.subject_cn == "client.knox.test"
    assert bundle.key_matches is True
    assert not bundle.has_finding("chain_order")


def test_pem_with_crlf_bom_blank_lines_and_indentation() -> None:
    _, inter, leaf = f.pki()
    text = leaf.cert_pem + b"\n\n\n" + inter.cert_pem + leaf.key_pem()
    messy = (
        b"\xef\xbb\xbf  \n"
        + b"\r\n".join(b"   " + line for line in text.split(b"\n"))
        + b"\r\n\r\n"
    )
    bundle = load_bundle(messy)
    assert bundle.valid, bundle.findings
    assert len(bundle.certificates) == 2 and bundle.key_matches is True


def test_pem_in_utf16_as_windows_tools_write_it() -> None:
    _, _, leaf = f.pki()
    data = (leaf.cert_pem + leaf.key_pem()).decode().encode("utf-16")
    bundle = load_bundle(data)
    assert bundle.valid and bundle.key_matches is True


def test_pem_with_bag_attributes_from_openssl_pkcs12_nodes() -> None:
    _, inter, leaf = f.pki()
    bag = (
        b"Bag Attributes\n    localKeyID: 01 00 00 00 \n    friendlyName: test\n"
        b"subject=C = GB, O = Knox Test, CN = client.knox.test\n"
        b"issuer=C = GB, O = Knox Test, CN = Knox Test Issuing CA\n"
    )
    key_bag = b"Bag Attributes\n    localKeyID: 01 00 00 00 \nKey Attributes: <No Attributes>\n"
    data = bag + leaf.cert_pem + bag + inter.cert_pem + key_bag + leaf.key_pem()
    bundle = load_bundle(data)
    assert bundle.valid, bundle.findings
    assert len(bundle.certificates) == 2 and bundle.key_matches is True


def test_separate_certificate_and_key_files() -> None:
    _, inter, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + inter.cert_pem, key_data=leaf.key_pem())
    assert bundle.key_matches is True and bundle.valid


def test_separate_key_file_that_does_not_match_twin() -> None:
    _, inter, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem, key_data=inter.key_pem())
    assert bundle.key_matches is False
    assert "key_mismatch" in errors(bundle)


@pytest.mark.parametrize(
    ("kind", "size"),
    [("rsa", 2048), ("ec", 256), ("ec", 384), ("ec", 521), ("ed25519", 0), ("ed448", 0)],
)
def test_every_key_kind_pairs_with_its_certificate(kind: str, size: int) -> None:
    _, inter, _ = f.pki()
    leaf = f.make_cert(f"{kind}-{size}.knox.test", key=f.make_key(kind, size), issuer=inter)
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem())
    assert bundle.key_matches is True, bundle.findings
    assert bundle.leaf is not None and bundle.leaf.key_type == kind
    other = f.make_key(kind, size, index=9)
    twin = load_bundle(leaf.cert_pem, key_data=f.Issued(leaf.cert, other).key_pem())
    assert twin.key_matches is False and "key_mismatch" in errors(twin)


@pytest.mark.parametrize("fmt", ["pkcs8", "traditional"])
def test_plain_key_formats(fmt: str) -> None:
    _, _, leaf = f.pki()
    _rsa_inter, rsa_leaf = f.rsa_pki()
    for issued in (leaf, rsa_leaf):
        key = issued.key_pem(fmt=fmt)
        assert (b"PRIVATE KEY-----" in key) and (fmt == "pkcs8") == (b"BEGIN PRIVATE KEY" in key)
        bundle = load_bundle(issued.cert_pem + key)
        assert bundle.key_matches is True and not bundle.encrypted_key


@pytest.mark.parametrize("fmt", ["pkcs8", "traditional"])
def test_encrypted_key_formats_with_passphrase(fmt: str) -> None:
    _, rsa_leaf = f.rsa_pki()
    key = rsa_leaf.key_pem(f.PASSPHRASE, fmt)
    marker = b"ENCRYPTED PRIVATE KEY" if fmt == "pkcs8" else b"Proc-Type: 4,ENCRYPTED"
    assert marker in key
    bundle = load_bundle(rsa_leaf.cert_pem + key, passphrase=f.PASSPHRASE)
    assert bundle.valid, bundle.findings
    assert bundle.encrypted_key and bundle.key_matches is True
    assert not bundle.has_finding("unencrypted_key")


@pytest.mark.parametrize("fmt", ["pkcs8", "traditional"])
def test_encrypted_key_without_or_with_wrong_passphrase_twin(fmt: str) -> None:
    _, rsa_leaf = f.rsa_pki()
    data = rsa_leaf.cert_pem + rsa_leaf.key_pem(f.PASSPHRASE, fmt)
    missing = load_bundle(data)
    assert errors(missing) == ["passphrase_required"]
    assert missing.has_private_key and missing.private_key is None and missing.encrypted_key
    wrong = load_bundle(data, passphrase="not the passphrase")
    assert errors(wrong) == ["wrong_passphrase"]


# --- DER -------------------------------------------------------------------------------------


def test_der_certificate_with_der_key() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_der, key_data=leaf.key_der())
    assert bundle.format == "der"
    assert bundle.key_matches is True and bundle.valid


def test_der_encrypted_key_and_its_twin() -> None:
    _, _, leaf = f.pki()
    good = load_bundle(leaf.cert_der, key_data=leaf.key_der(f.PASSPHRASE), passphrase=f.PASSPHRASE)
    assert good.key_matches is True and good.encrypted_key
    assert errors(load_bundle(leaf.cert_der, key_data=leaf.key_der(f.PASSPHRASE))) == [
        "passphrase_required"
    ]


def test_concatenated_der_certificates() -> None:
    _, inter, leaf = f.pki()
    from cryptography.hazmat.primitives.serialization import Encoding

    bundle = load_bundle(leaf.cert_der + inter.cert.public_bytes(Encoding.DER))
    assert [c.subject_cn for c in bundle.certificates] == [
        "client.knox.test",
        "Knox Test Issuing CA",
    ]


def test_truncated_der_is_corrupt_twin() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_der[:-40])
    assert errors(bundle) == ["corrupt"]


# --- PKCS#12 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["modern", "legacy-3des"])
def test_pkcs12_with_password(legacy: bool) -> None:
    _, _inter, leaf = f.pki()
    bundle = load_bundle(leaf.pkcs12(legacy=legacy), passphrase=f.PASSPHRASE)
    assert bundle.format == "pkcs12"
    assert bundle.valid, bundle.findings
    assert [c.subject_cn for c in bundle.certificates][:2] == [
        "client.knox.test",
        "Knox Test Issuing CA",
    ]
    assert bundle.key_matches is True and bundle.encrypted_key


@pytest.mark.parametrize("legacy", [False, True], ids=["modern", "legacy-3des"])
def test_pkcs12_without_or_with_wrong_password_twin(legacy: bool) -> None:
    _, _, leaf = f.pki()
    data = leaf.pkcs12(legacy=legacy)
    assert errors(load_bundle(data)) == ["passphrase_required"]
    assert errors(load_bundle(data, passphrase="nope")) == ["wrong_passphrase"]


def test_pkcs12_with_no_password_loads_without_one() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.pkcs12(passphrase=None))
    assert bundle.valid and bundle.key_matches is True
    assert not bundle.encrypted_key and bundle.has_finding("unencrypted_key")
    # A passphrase given for a file that needs none is ignored, not an error.
    assert load_bundle(leaf.pkcs12(passphrase=None), passphrase="whatever").valid


def test_pkcs12_pasted_as_base64_text() -> None:
    _, _, leaf = f.pki()
    text = base64.encodebytes(leaf.pkcs12())
    bundle = load_bundle(text, passphrase=f.PASSPHRASE)
    assert bundle.format == "pkcs12" and bundle.valid


def test_binary_pfx_pasted_as_text_is_explained_twin() -> None:
    _, _, leaf = f.pki()
    mangled = leaf.pkcs12().decode("utf-8", errors="replace").encode("utf-8")
    bundle = load_bundle(mangled, passphrase=f.PASSPHRASE)
    assert errors(bundle) == ["corrupt"]
    assert "pasted or saved as text" in bundle.errors[0].message
    assert "openssl pkcs12" in (bundle.errors[0].hint or "")
    latin = leaf.pkcs12().decode("latin-1").encode("utf-8")
    assert errors(load_bundle(latin, passphrase=f.PASSPHRASE)) == ["corrupt"]


def test_truncated_pkcs12_twin() -> None:
    _, _, leaf = f.pki()
    assert errors(load_bundle(leaf.pkcs12()[:-100], passphrase=f.PASSPHRASE)) == ["corrupt"]


# --- PKCS#7 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("der", [False, True], ids=["pem", "der"])
def test_pkcs7_bundle(der: bool) -> None:
    _root, _inter, leaf = f.pki()
    bundle = load_bundle(leaf.pkcs7(der=der))
    assert bundle.format == "pkcs7"
    assert [c.subject_cn for c in bundle.certificates] == [
        "client.knox.test",
        "Knox Test Issuing CA",
        "Knox Test Root CA",
    ]
    assert not bundle.has_private_key and bundle.valid


def test_pkcs7_damaged_twin() -> None:
    _, _, leaf = f.pki()
    assert errors(load_bundle(leaf.pkcs7(der=True)[:-50])) == ["corrupt"]
    lines = leaf.pkcs7().split(b"\n")
    lines[2] = b"A" * len(lines[2])  # valid base64, broken structure
    assert errors(load_bundle(b"\n".join(lines))) == ["corrupt"]


# --- what is not a certificate -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"hello, this is not a certificate\n",
        b"\x00\x01\x02\x03" * 10,
        b"{}",
        b"0123456789 starts like DER but is text\n" * 3,
    ],
    ids=["empty", "blank", "text", "binary", "json", "text-starting-with-0"],
)
def test_unrecognised_input_is_unsupported_format(data: bytes) -> None:
    bundle = load_bundle(data)
    assert errors(bundle) == ["unsupported_format"]
    assert bundle.format == "unknown" and bundle.certificates == ()


def test_truncated_pem_is_corrupt() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem[:200])
    assert errors(bundle) == ["corrupt"]
    assert "END" in bundle.errors[0].message


def test_damaged_base64_is_corrupt() -> None:
    _, _, leaf = f.pki()
    lines = leaf.cert_pem.split(b"\n")
    lines[3] = lines[3][:10] + b"!" + lines[3][11:]
    assert errors(load_bundle(b"\n".join(lines))) == ["corrupt"]


def test_valid_base64_of_garbage_certificate_is_corrupt() -> None:
    garbage = base64.encodebytes(b"\x30\x03\x02\x01\x01")
    data = b"-----BEGIN CERTIFICATE-----\n" + garbage + b"-----END CERTIFICATE-----\n"
    assert errors(load_bundle(data)) == ["corrupt"]


def test_key_only_is_no_certificate() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.key_pem())
    assert errors(bundle) == ["no_certificate"]
    assert bundle.key_matches is None and bundle.has_private_key
    assert "EC P-256" in bundle.errors[0].message


def test_csr_only_is_no_certificate_with_a_hint() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(f.name("csr.knox.test"))
        .sign(f.make_key(), hashes.SHA256())
    )
    bundle = load_bundle(csr.public_bytes(Encoding.PEM))
    assert errors(bundle) == ["no_certificate"]
    assert "signing request" in bundle.errors[0].message


def test_load_bundle_uses_the_injected_clock(frozen_now: datetime) -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem)
    assert bundle.now == frozen_now


def test_openssh_key_and_public_key_alone_are_explained() -> None:
    from cryptography.hazmat.primitives import serialization as s

    key = f.make_key("ed25519")
    ssh = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.OpenSSH, s.NoEncryption())
    bundle = load_bundle(ssh)
    assert errors(bundle) == ["no_certificate"] and "OpenSSH" in bundle.errors[0].message
    public = key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
    bundle = load_bundle(public)
    assert errors(bundle) == ["no_certificate"] and "public key" in bundle.errors[0].message


def test_chain_with_junk_text_between_blocks() -> None:
    _, inter, leaf = f.pki()
    data = b"# my cert\n" + leaf.cert_pem + b"intermediate below:\n\n" + inter.cert_pem + b"-- end"
    bundle = load_bundle(data)
    assert bundle.valid and len(bundle.certificates) == 2
