"""CertificateBundle: the JSON shape of DESIGN.md §4, key export for storage and TLS, secrets."""

from __future__ import annotations

import pki_factory as f
import pytest

from knoxtui.pki import CertificateBundle, PkiError, load_bundle, load_private_key

pytestmark = pytest.mark.usefixtures("frozen_now")


def test_to_dict_has_every_design_field_in_order() -> None:
    _, inter, leaf = f.pki()
    data = load_bundle(leaf.cert_pem + inter.cert_pem + leaf.key_pem(), source="c.pem").to_dict()
    assert list(data)[: len(f.DESIGN_FIELDS)] == f.DESIGN_FIELDS
    assert data["source"] == "c.pem" and data["format"] == "pem" and data["valid"] is True
    assert data["status"] == "valid" and data["days_remaining"] == 335
    assert data["valid_from"] == "2026-05-02T12:00:00Z"
    assert data["key_type"] == "ec" and data["key_size"] == 256
    assert data["san"] == ["DNS:client.knox.test"]
    assert data["chain"][0]["subject"] == data["subject"]
    assert set(data["chain"][1]) >= {"subject", "issuer", "valid_until", "fingerprint_sha256"}
    assert data["has_private_key"] is True and data["key_matches"] is True
    assert data["findings"] == [
        {
            "code": "unencrypted_key",
            "severity": "warning",
            "message": data["findings"][0]["message"],
            "hint": data["findings"][0]["hint"],
        }
    ]


def test_to_dict_without_a_certificate_twin() -> None:
    data = load_bundle(b"junk", source="x").to_dict()
    assert list(data)[: len(f.DESIGN_FIELDS)] == f.DESIGN_FIELDS
    assert data["valid"] is False and data["status"] is None and data["subject"] is None
    assert data["findings"][0]["code"] == "unsupported_format" and data["chain"] == []


def test_key_pem_plain_and_for_storage() -> None:
    _, _, leaf = f.pki()
    encrypted = load_bundle(leaf.cert_pem + leaf.key_pem(f.PASSPHRASE), passphrase=f.PASSPHRASE)
    stored = encrypted.key_pem_for_storage(f.PASSPHRASE)
    assert stored is not None and b"ENCRYPTED PRIVATE KEY" in stored
    load_private_key(stored, f.PASSPHRASE)
    with pytest.raises(PkiError) as caught:
        encrypted.key_pem_for_storage(None)
    assert caught.value.code == "passphrase_required"
    plain_pem = encrypted.key_pem_plain()
    assert plain_pem is not None and plain_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    plain = load_bundle(leaf.cert_pem + leaf.key_pem())
    assert plain.key_pem_for_storage("ignored") == plain.key_pem_plain()
    assert load_bundle(leaf.cert_pem).key_pem_plain() is None


def test_chain_pem_leaves_out_the_root_and_strangers() -> None:
    root, inter, leaf = f.pki()
    stranger = f.make_cert("stranger.knox.test", key=f.make_key("ec", 256, 8))
    bundle = load_bundle(leaf.cert_pem + inter.cert_pem + root.cert_pem + stranger.cert_pem)
    assert bundle.chain_pem() == leaf.cert_pem + inter.cert_pem
    assert [c.subject_cn for c in bundle.certificates][-1] == "stranger.knox.test"
    assert bundle.leaf is not None and bundle.chain[0].subject_cn == "Knox Test Issuing CA"


def test_pkcs12_leaf_is_the_key_certificate() -> None:
    _root, _inter, leaf = f.pki()
    bundle = load_bundle(leaf.pkcs12(), passphrase=f.PASSPHRASE)
    assert bundle.leaf is not None and bundle.leaf.subject_cn == "client.knox.test"


def test_nothing_secret_in_repr_or_json() -> None:
    _, _, leaf = f.pki()
    key_body = leaf.key_pem().split(b"\n")[2].decode()
    bundle = load_bundle(leaf.cert_pem + leaf.key_pem(f.PASSPHRASE), passphrase=f.PASSPHRASE)
    import json

    for text in (repr(bundle), json.dumps(bundle.to_dict()), str(bundle.findings)):
        assert f.PASSPHRASE not in text
        assert "PRIVATE KEY" not in text and key_body not in text
    wrong = load_bundle(leaf.cert_pem + leaf.key_pem(f.PASSPHRASE), passphrase="Hunter2-wrong")
    assert "Hunter2-wrong" not in repr(wrong) + json.dumps(wrong.to_dict())


def test_bundle_is_frozen_and_values_hash_like_values() -> None:
    _, _, leaf = f.pki()
    bundle = load_bundle(leaf.cert_pem)
    assert isinstance(bundle, CertificateBundle)
    with pytest.raises(AttributeError):
        bundle.format = "der"  # type: ignore[misc]
    assert load_bundle(leaf.cert_pem).certificates == bundle.certificates


def test_revalidation_gives_the_same_answer_as_first_sight() -> None:
    from knoxtui.pki import clear_key_cache

    _, _, leaf = f.pki()
    data = leaf.cert_pem + leaf.key_pem(f.PASSPHRASE)
    first = load_bundle(data, passphrase=f.PASSPHRASE).to_dict()
    again = load_bundle(data, passphrase=f.PASSPHRASE).to_dict()
    assert first == again
    # A cached key never answers for another passphrase.
    assert load_bundle(data, passphrase="other").has_finding("wrong_passphrase")
    assert load_bundle(data).has_finding("passphrase_required")
    clear_key_cache()
    assert load_bundle(data, passphrase=f.PASSPHRASE).to_dict() == first
