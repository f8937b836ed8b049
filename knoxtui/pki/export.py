"""Exporting a certificate and its key for other tools: PKCS#12 or PEM, key encrypted by default.

Modern PKCS#12 uses PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC) and an HMAC-SHA256 MAC, both at
600,000 iterations, which OpenSSL 3, current Java and Windows read; `legacy` gives 3DES/SHA-1 at
2,048 iterations for old Java keystores and Windows Server 2016 and earlier (labelled as such).
PEM keys are PKCS#8 with PBES2 (PBKDF2-HMAC-SHA256, 600,000 iterations, AES-256-CBC). An
unencrypted key is written only when the caller says so.
"""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from knoxtui.errors import ValidationError
from knoxtui.pki.csr import public_key_sha256
from knoxtui.pki.pbe import EXPORT_ITERATIONS, encrypt_pkcs8, strengthen_pkcs12_mac

EXPORT_FORMATS = ("pkcs12", "pem")
# PBKDF2 rounds for modern PKCS#12 (key bag and MAC) and PEM keys: OpenSSL 3 and cryptography
# write 2,048; a file that travels deserves OWASP's 600,000 for PBKDF2-HMAC-SHA256.
MODERN_KDF_ROUNDS = EXPORT_ITERATIONS
# 3DES/SHA-1 readers (old Java, Windows) expect OpenSSL's classic 2048 iterations.
LEGACY_KDF_ROUNDS = 2048

_P12_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)


def load_chain(chain_pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; ValidationError when there are none."""
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        certificates = []
    if not certificates:
        raise ValidationError(
            "The stored value holds no certificate to export.",
            hint="Check the secret with: knoxtui secret show NAME",
            code="no_certificate",
        )
    return certificates


def _check_pair(certificate: x509.Certificate, key: PrivateKeyTypes | None) -> None:
    if key is not None and public_key_sha256(key) != public_key_sha256(certificate):
        raise ValidationError(
            "The stored private key does not match the certificate; nothing was exported.",
            hint="Import the certificate again with the key generated for it.",
            code="key_mismatch",
        )


def _plaintext_refused(what: str) -> ValidationError:
    return ValidationError(
        f"Refusing to write {what} without a passphrase.",
        hint="Give an export passphrase, or pass --insecure-plaintext-key if you really want "
        "the key unencrypted on disk.",
        code="plaintext_key_refused",
    )


def export_pkcs12(
    chain_pem: bytes,
    key: PrivateKeyTypes | None,
    passphrase: str | None,
    *,
    friendly_name: str | None = None,
    legacy: bool = False,
    allow_plaintext_key: bool = False,
) -> bytes:
    """A PKCS#12 file (DER bytes) with the leaf, its key and the chain."""
    certificates = load_chain(chain_pem)
    _check_pair(certificates[0], key)
    if key is not None and not isinstance(key, _P12_KEY_TYPES):
        raise ValidationError(
            "This key type cannot be put in a PKCS#12 file.",
            hint="Export as --format pem.",
            code="unsupported_format",
        )
    encryption: serialization.KeySerializationEncryption
    if not passphrase:
        if key is not None and not allow_plaintext_key:
            raise _plaintext_refused("a PKCS#12 file with the private key")
        encryption = serialization.NoEncryption()
    elif legacy:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(LEGACY_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(passphrase.encode("utf-8"))
        )
    else:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(MODERN_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(passphrase.encode("utf-8"))
        )
    name = friendly_name.encode("utf-8") if friendly_name else None
    data = pkcs12.serialize_key_and_certificates(
        name,
        key,
        certificates[0],
        certificates[1:] or None,
        encryption,
    )
    if passphrase and not legacy:
        # cryptography's MAC always uses 2,048 iterations: a guess would be tested against the MAC
        # at a fraction of the key bag's cost. Recompute it at the key bag's strength.
        data = strengthen_pkcs12_mac(data, passphrase.encode("utf-8"), MODERN_KDF_ROUNDS)
    return data


def export_pem(
    chain_pem: bytes,
    key: PrivateKeyTypes | None,
    passphrase: str | None,
    *,
    allow_plaintext_key: bool = False,
) -> bytes:
    """The chain as PEM (leaf first) followed by the key as PKCS#8, encrypted with `passphrase`."""
    certificates = load_chain(chain_pem)
    _check_pair(certificates[0], key)
    out = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    if key is None:
        return out
    if passphrase:
        # BestAvailableEncryption uses 2,048 PBKDF2 iterations; write PBES2 at full strength.
        info = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        encrypted = encrypt_pkcs8(info, passphrase.encode("utf-8"), MODERN_KDF_ROUNDS)
        return out + _pem("ENCRYPTED PRIVATE KEY", encrypted)
    if not allow_plaintext_key:
        raise _plaintext_refused("a PEM file with the private key")
    return out + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem(label: str, data: bytes) -> bytes:
    body = base64.encodebytes(data).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return (
        b"-----BEGIN "
        + label.encode()
        + b"-----\n"
        + lines
        + b"\n-----END "
        + label.encode()
        + b"-----\n"
    )


def export_certificate(
    export_format: str,
    chain_pem: bytes,
    key: PrivateKeyTypes | None,
    passphrase: str | None,
    *,
    friendly_name: str | None = None,
    legacy: bool = False,
    allow_plaintext_key: bool = False,
) -> bytes:
    """Dispatch on EXPORT_FORMATS; `legacy` applies to PKCS#12 only."""
    if export_format == "pkcs12":
        return export_pkcs12(
            chain_pem,
            key,
            passphrase,
            friendly_name=friendly_name,
            legacy=legacy,
            allow_plaintext_key=allow_plaintext_key,
        )
    if export_format == "pem":
        if legacy:
            raise ValidationError(
                "--legacy applies to PKCS#12 only.",
                hint="Drop --legacy, or use --format pkcs12.",
                code="usage",
            )
        return export_pem(chain_pem, key, passphrase, allow_plaintext_key=allow_plaintext_key)
    raise ValidationError(
        f"Unknown export format '{export_format}'.",
        hint=f"Use one of: {', '.join(EXPORT_FORMATS)}.",
        code="unsupported_format",
    )


def exported_key_is_encrypted(data: bytes) -> bool | None:
    """For PEM exports: True/False whether a key block is encrypted; None when there is no key."""
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        return True
    if b"PRIVATE KEY-----" in data:
        return False
    return None
