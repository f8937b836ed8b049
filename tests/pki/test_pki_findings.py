"""Every finding code of DESIGN.md §3, each next to its twin that must not raise it."""

from __future__ import annotations

from datetime import timedelta

import pki_factory as f
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from knoxtui.pki import ERROR_CODES, WARNING_CODES, ExpiryThresholds, Severity, load_bundle

pytestmark = pytest.mark.usefixtures("frozen_now")
NOW = f.NOW


def codes(bundle) -> set[str]:
    return {item.code for item in bundle.findings}


def one(bundle, code: str):
    (item,) = [i for i in bundle.findings if i.code == code]
    return item


def test_codes_are_exactly_design_section_3() -> None:
    assert {
        "unsupported_format",
        "corrupt",
        "no_certificate",
        "missing_private_key",
        "key_mismatch",
        "passphrase_required",
        "wrong_passphrase",
        "unsupported_key_encryption",
        "expired",
        "not_yet_valid",
    } == ERROR_CODES
    assert {
        "expiry_warning",
        "expiry_urgent",
        "no_client_auth_eku",
        "chain_incomplete",
        "chain_order",
        "unencrypted_key",
        "weak_key",
        "weak_signature",
        "non_strict_encoding",
    } == WARNING_CODES


# --- expiry ----------------------------------------------------------------------------------


def _leaf_ending(days: float, start_days_ago: int = 300) -> f.Issued:
    _, inter, _ = f.pki()
    return f.make_cert(
        "expiry.knox.test",
        issuer=inter,
        not_before=NOW - timedelta(days=start_days_ago),
        not_after=NOW + timedelta(days=days),
    )


def test_expired_says_when() -> None:
    leaf = _leaf_ending(-10)
    bundle = load_bundle(leaf.cert_pem)
    item = one(bundle, "expired")
    assert item.severity is Severity.ERROR
    assert "expired on 2026-05-22 12:00 UTC (10 days ago)" in item.message
    assert "Renew" in (item.hint or "")
    assert str(bundle.status) == "expired" and not bundle.valid


def test_valid_certificate_twin_has_no_expiry_finding() -> None:
    bundle = load_bundle(_leaf_ending(200).cert_pem)
    assert not codes(bundle) & {"expired", "expiry_warning", "expiry_urgent", "not_yet_valid"}
    assert str(bundle.status) == "valid" and bundle.valid


def test_not_yet_valid() -> None:
    _, inter, _ = f.pki()
    leaf = f.make_cert("future.knox.test", issuer=inter, not_before=NOW + timedelta(days=2))
    bundle = load_bundle(leaf.cert_pem)
    assert "not_yet_valid" in codes(bundle) and str(bundle.status) == "not_yet_valid"
    assert "2026-06-03" in one(bundle, "not_yet_valid").message


def test_expiry_warning_and_urgent_follow_thresholds() -> None:
    cert = _leaf_ending(60).cert_pem
    assert "expiry_warning" in codes(load_bundle(cert))
    assert str(load_bundle(cert).status) == "warning"
    tight = ExpiryThresholds(warning_days=30, urgent_days=10)
    assert not codes(load_bundle(cert, thresholds=tight)) & {"expiry_warning", "expiry_urgent"}
    loose = ExpiryThresholds(warning_days=120, urgent_days=60)
    assert "expiry_urgent" in codes(load_bundle(cert, thresholds=loose))
    urgent = load_bundle(_leaf_ending(12).cert_pem)
    assert "expiry_urgent" in codes(urgent) and "expiry_warning" not in codes(urgent)
    assert "in 12 days" in one(urgent, "expiry_urgent").message
    assert urgent.valid  # warnings never refuse an import


def test_expired_intermediate_is_reported_by_name() -> None:
    root, _, _ = f.pki()
    old_inter = f.make_cert(
        "Old Issuing CA",
        key=f.make_key("ec", 256, 5),
        issuer=root,
        ca=True,
        not_before=NOW - timedelta(days=400),
        days=390,
    )
    leaf = f.make_cert("leaf.knox.test", issuer=old_inter)
    bundle = load_bundle(leaf.cert_pem + old_inter.cert_pem)
    assert "chain certificate 'Old Issuing CA' expired" in one(bundle, "expired").message


# --- keys ------------------------------------------------------------------------------------


def test_key_mismatch_names_both_public_keys() -> None:
    _, _inter, leaf = f.pki()
    _, rsa_leaf = f.rsa_pki()
    bundle = load_bundle(leaf.cert_pem + rsa_leaf.key_pem())
    item = one(bundle, "key_mismatch")
    assert "the certificate's public key is EC P-256 …" in item.message
    assert "the private key's is RSA-2048 …" in item.message
    assert bundle.key_matches is False and not bundle.valid


def test_matching_key_twin() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem())
    assert "key_mismatch" not in codes(bundle) and bundle.key_matches is True


def test_missing_private_key_only_when_required() -> None:
    _, _, leaf = f.pki()
    required = load_bundle(leaf.cert_pem, require_key=True)
    assert "missing_private_key" in codes(required) and not required.valid
    assert "client.knox.test" in one(required, "missing_private_key").message
    relaxed = load_bundle(leaf.cert_pem)
    assert relaxed.valid and not relaxed.has_private_key and relaxed.key_matches is None
    with_key = load_bundle(leaf.cert_pem + leaf.key_pem(), require_key=True)
    assert "missing_private_key" not in codes(with_key)


def test_locked_key_is_not_reported_missing() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem(f.PASSPHRASE), require_key=True)
    assert {i.code for i in bundle.errors} == {"passphrase_required"}


def test_unsupported_key_encryption() -> None:
    import binascii

    der = f._seq(f._seq(f._oid("1.2.3.4.5")), f._tlv(0x04, b"x" * 64))
    pem = (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + binascii.b2a_base64(der)
        + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + pem, passphrase="pw")
    assert "unsupported_key_encryption" in codes(bundle)
    twin = load_bundle(leaf.cert_pem + leaf.key_pem("pw"), passphrase="pw")
    assert "unsupported_key_encryption" not in codes(twin) and twin.valid


def test_unencrypted_key_warning_and_encrypted_twin() -> None:
    _, _, leaf = f.pki()
    plain = load_bundle(leaf.cert_pem + leaf.key_pem())
    assert one(plain, "unencrypted_key").severity is Severity.WARNING
    encrypted = load_bundle(leaf.cert_pem + leaf.key_pem(f.PASSPHRASE), passphrase=f.PASSPHRASE)
    assert "unencrypted_key" not in codes(encrypted)


@pytest.mark.parametrize(("kind", "size"), [("rsa", 1024), ("ec", 192)])
def test_weak_key(kind: str, size: int) -> None:
    _, inter, _ = f.pki()
    leaf = f.make_cert("weak.knox.test", key=f.make_key(kind, size), issuer=inter)
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem())
    item = one(bundle, "weak_key")
    assert f"{kind.upper()}-{size}" in item.message
    assert bundle.valid  # a warning


def test_strong_key_twin() -> None:
    _, rsa_leaf = f.rsa_pki()
    assert "weak_key" not in codes(load_bundle(rsa_leaf.cert_pem + rsa_leaf.key_pem()))


def test_weak_key_alone() -> None:
    bundle = load_bundle(f.Issued(None, f.make_key("rsa", 1024)).key_pem())  # type: ignore[arg-type]
    assert {"no_certificate", "weak_key"} <= codes(bundle)


# --- signatures, EKU -------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_signature(digest: str) -> None:
    ca = f.rsa_ca()
    leaf = f.resign_rsa(f.make_cert("sha.knox.test", issuer=ca), ca.key, digest)
    bundle = load_bundle(leaf.cert_pem)
    item = one(bundle, "weak_signature")
    assert f"{digest}WithRSAEncryption" in item.message


def test_sha256_signature_twin_and_self_signed_root_is_not_judged() -> None:
    ca = f.rsa_ca()
    assert "weak_signature" not in codes(load_bundle(f.make_cert("ok", issuer=ca).cert_pem))
    old_root = f.resign_rsa(ca, ca.key, "sha1")
    leaf = f.make_cert("leaf-under-sha1-root", issuer=ca)
    bundle = load_bundle(leaf.cert_pem + old_root.cert_pem)
    assert bundle.certificates[1].signature_algorithm == "sha1WithRSAEncryption"
    assert "weak_signature" not in codes(bundle)


def test_no_client_auth_eku() -> None:
    _, inter, _ = f.pki()
    server = f.make_cert("server.knox.test", issuer=inter, eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    bundle = load_bundle(server.cert_pem)
    assert "serverAuth" in one(bundle, "no_client_auth_eku").message
    assert bundle.leaf is not None and bundle.leaf.client_auth_eku is False


@pytest.mark.parametrize(
    "eku",
    [None, (ExtendedKeyUsageOID.CLIENT_AUTH,), (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)],
    ids=["no-eku", "clientAuth", "anyEKU"],
)
def test_client_auth_eku_twins(eku: tuple[x509.ObjectIdentifier, ...] | None) -> None:
    _, inter, _ = f.pki()
    leaf = f.make_cert("client.knox.test", issuer=inter, eku=eku)
    bundle = load_bundle(leaf.cert_pem)
    assert "no_client_auth_eku" not in codes(bundle)
    assert bundle.leaf is not None and bundle.leaf.client_auth_eku is True


# --- chains ----------------------------------------------------------------------------------


def test_chain_order_when_scrambled() -> None:
    root, inter, leaf = f.pki()
    bundle = load_bundle(root.cert_pem + inter.cert_pem + leaf.cert_pem)
    assert "chain_order" in codes(bundle)
    assert [c.subject_cn for c in bundle.certificates] == [
        "client.knox.test",
        "Knox Test Issuing CA",
        "Knox Test Root CA",
    ]
    assert bundle.chain_pem() == leaf.cert_pem + inter.cert_pem


def test_chain_in_order_twin_and_pkcs7_sets_are_unordered() -> None:
    root, inter, leaf = f.pki()
    assert "chain_order" not in codes(load_bundle(leaf.cert_pem + inter.cert_pem + root.cert_pem))
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    scrambled = pkcs7.serialize_certificates([root.cert, leaf.cert, inter.cert], Encoding.PEM)
    bundle = load_bundle(scrambled)
    assert "chain_order" not in codes(bundle)
    assert bundle.leaf is not None and bundle.leaf.subject_cn == "client.knox.test"


def test_chain_incomplete_when_intermediate_missing() -> None:
    root, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + root.cert_pem)
    item = one(bundle, "chain_incomplete")
    assert "Knox Test Issuing CA" in item.message
    assert [c.subject_cn for c in bundle.chain] == ["Knox Test Root CA"]


def test_complete_chain_and_lone_leaf_twins() -> None:
    root, inter, leaf = f.pki()
    assert "chain_incomplete" not in codes(load_bundle(leaf.cert_pem + inter.cert_pem))
    assert "chain_incomplete" not in codes(load_bundle(leaf.cert_pem))
    assert "chain_incomplete" not in codes(
        load_bundle(leaf.cert_pem + inter.cert_pem + root.cert_pem)
    )


def test_findings_are_ordered_errors_first() -> None:
    _, _inter, _ = f.pki()
    leaf = _leaf_ending(-1)
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem())
    severities = [i.severity for i in bundle.findings]
    assert severities == sorted(severities, key=lambda s: s is not Severity.ERROR)


def test_key_of_the_intermediate_does_not_make_it_the_leaf() -> None:
    _, inter, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem + inter.cert_pem + inter.key_pem())
    assert bundle.leaf is not None and bundle.leaf.subject_cn == "client.knox.test"
    item = one(bundle, "key_mismatch")
    assert "it is the key of 'Knox Test Issuing CA'" in item.message


def _int(value: int) -> bytes:
    return f._tlv(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def test_hostile_work_factors_are_refused_not_run() -> None:
    import binascii

    # PBES2 / PBKDF2 with 2^31-1 iterations: decrypting would take minutes.
    kdf = f._seq(f._oid("1.2.840.113549.1.5.12"), f._seq(f._tlv(0x04, b"s" * 8), _int(2**31 - 1)))
    cipher = f._seq(f._oid("2.16.840.1.101.3.4.1.42"), f._tlv(0x04, b"i" * 16))
    info = f._seq(
        f._seq(f._oid("1.2.840.113549.1.5.13"), f._seq(kdf, cipher)), f._tlv(0x04, b"x" * 64)
    )
    pem = (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + binascii.b2a_base64(info)
        + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    bundle = load_bundle(pem, passphrase="pw")
    assert "unsupported_key_encryption" in codes(bundle)
    assert "2,147,483,647 PBKDF2 iterations" in one(bundle, "unsupported_key_encryption").message
    # A PKCS#12 whose MAC asks for as much.
    digest = f._seq(f._seq(f._oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00"), f._tlv(0x04, b"m" * 32))
    pfx = f._seq(
        _int(3),
        f._seq(f._oid("1.2.840.113549.1.7.1"), f._tlv(0xA0, f._tlv(0x04, b"\x30\x00"))),
        f._seq(digest, f._tlv(0x04, b"s" * 8), _int(2**31 - 1)),
    )
    p12 = load_bundle(pfx, passphrase="pw")
    assert p12.format == "pkcs12" and "unsupported_key_encryption" in codes(p12)


@pytest.mark.parametrize("legacy", [False, True], ids=["modern", "legacy"])
def test_pkcs12_bag_work_factors_are_checked(legacy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from knoxtui.pki import der

    _, _, leaf = f.pki()
    top = der.read_tlv(leaf.pkcs12(legacy=legacy))
    parts = der.children(top.value)
    without_mac = f._tlv(0x30, top.value[: parts[1].end])
    assert der.excessive_pkcs12(without_mac) is None
    monkeypatch.setattr(der, "MAX_ITERATIONS", 100)  # real files then count as "hostile"
    assert "iterations" in (der.excessive_pkcs12(without_mac) or "")
    bundle = load_bundle(leaf.pkcs12(legacy=legacy), passphrase=f.PASSPHRASE)
    assert "unsupported_key_encryption" in codes(bundle)
