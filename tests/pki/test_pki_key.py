"""load_private_key and public_key_description: every key kind, every failure code, and no
key material or passphrase in any message or repr."""

from __future__ import annotations

import binascii
import re

import pki_factory as f
import pytest
from cryptography.hazmat.primitives import serialization

from knoxtui.errors import KnoxError
from knoxtui.pki import PkiError, load_private_key, public_key_description


def _same(a, b) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_key().public_bytes(*fmt) == b.public_key().public_bytes(*fmt)


@pytest.mark.parametrize(
    ("kind", "size"), [("rsa", 2048), ("ec", 256), ("ec", 384), ("ed25519", 0), ("ed448", 0)]
)
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_pkcs8_pem_and_der(kind: str, size: int, encrypted: bool) -> None:
    key = f.make_key(kind, size)
    issued = f.Issued(None, key)  # type: ignore[arg-type]
    passphrase = f.PASSPHRASE if encrypted else None
    assert _same(load_private_key(issued.key_pem(passphrase), passphrase), key)
    assert _same(load_private_key(issued.key_der(passphrase), passphrase), key)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_traditional_plain_and_encrypted(kind: str) -> None:
    key = f.make_key(kind, 2048 if kind == "rsa" else 256)
    issued = f.Issued(None, key)  # type: ignore[arg-type]
    plain = issued.key_pem(fmt="traditional")
    assert plain.startswith(f"-----BEGIN {kind.upper()} PRIVATE KEY-----".encode())
    assert _same(load_private_key(plain), key)
    locked = issued.key_pem(f.PASSPHRASE, fmt="traditional")
    assert _same(load_private_key(locked, f.PASSPHRASE.encode()), key)


def test_passphrase_given_for_unencrypted_key_is_ignored() -> None:
    key = f.make_key()
    assert _same(load_private_key(f.Issued(None, key).key_pem(), "unused"), key)  # type: ignore[arg-type]


def _code(data: bytes, passphrase: str | None = None) -> str:
    with pytest.raises(PkiError) as caught:
        load_private_key(data, passphrase)
    assert isinstance(caught.value, KnoxError) and caught.value.exit_code == 1
    return caught.value.code


def test_failure_codes() -> None:
    issued = f.Issued(None, f.make_key())  # type: ignore[arg-type]
    locked = issued.key_pem(f.PASSPHRASE)
    assert _code(locked) == "passphrase_required"
    assert _code(locked, "") == "passphrase_required"
    assert _code(locked, "wrong") == "wrong_passphrase"
    assert _code(issued.key_der(f.PASSPHRASE)) == "passphrase_required"
    assert _code(issued.key_der(f.PASSPHRASE), "wrong") == "wrong_passphrase"
    der = f._seq(f._seq(f._oid("1.2.3.4.5")), f._tlv(0x04, b"x" * 32))
    odd = (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + binascii.b2a_base64(der)
        + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    assert _code(odd, "pw") == "unsupported_key_encryption"
    assert _code(b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n") == "corrupt"
    assert _code(b"not a key at all") == "corrupt"
    assert _code(issued.key_pem()[:120]) == "corrupt"
    _, _, leaf = f.pki()
    assert _code(leaf.cert_pem) == "corrupt"


def test_messages_never_contain_secrets() -> None:
    issued = f.Issued(None, f.make_key())  # type: ignore[arg-type]
    locked = issued.key_pem(f.PASSPHRASE)
    secret_body = issued.key_pem().split(b"\n")[1].decode()
    for passphrase in (None, "wrong-Passphrase-123"):
        with pytest.raises(PkiError) as caught:
            load_private_key(locked, passphrase)
        text = f"{caught.value} {caught.value.hint} {caught.value!r}"
        assert "wrong-Passphrase-123" not in text
        assert secret_body[:20] not in text and "BEGIN" not in text


def test_public_key_description() -> None:
    rsa_key = f.make_key("rsa", 2048)
    assert re.fullmatch(r"RSA-2048 …[0-9a-f]{6}", public_key_description(rsa_key))
    assert public_key_description(rsa_key) == public_key_description(rsa_key.public_key())
    assert public_key_description(f.make_key("ec", 384)).startswith("EC P-384 …")
    assert public_key_description(f.make_key("ed25519")).startswith("Ed25519 …")
    assert public_key_description(f.make_key("ed448")).startswith("Ed448 …")
    _, _, leaf = f.pki()
    assert public_key_description(leaf.cert) == public_key_description(leaf.key)
    assert public_key_description(f.make_key("ec", 256, 7)) != public_key_description(leaf.key)
    assert public_key_description(object()) == "an unreadable public key"
