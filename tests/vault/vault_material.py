"""Test material for the vault tests: certificates made with cryptography at test time, dated
from the suite's fixed clock (tests/conftest.py TEST_NOW)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEST_NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
CHEAP_KDF = 64  # SQLCipher's KDF iterations in tests only; the product uses 256,000
VAULT_PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Material:
    subject_cn: str
    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    ca_pem: bytes
    encrypted_key_pem: bytes | None = field(default=None, repr=False)
    key_passphrase: str | None = field(default=None, repr=False)


_CA_CACHE: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]] = {}


def _ca(name: str = "Vault Test CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    if name not in _CA_CACHE:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(TEST_NOW - timedelta(days=3650))
            .not_valid_after(TEST_NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        _CA_CACHE[name] = (key, cert)
    return _CA_CACHE[name]


def make_client(
    cn: str = "acme-client.vault-test",
    *,
    days_left: int = 365,
    not_before_days: int = -30,
    key_passphrase: str | None = None,
    organization: str = "Vault Test Org",
) -> Material:
    ca_key, ca_cert = _ca()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(TEST_NOW + timedelta(days=not_before_days))
        .not_valid_after(TEST_NOW + timedelta(days=days_left))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted = (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(key_passphrase.encode()),
        )
        if key_passphrase
        else None
    )
    return Material(
        subject_cn=cn,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key_pem,
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        encrypted_key_pem=encrypted,
        key_passphrase=key_passphrase,
    )


def bundle_of(material: Material, *, encrypted: bool = False, key_pem: bytes | None = None):
    from knoxtui.pki import load_bundle

    key = (
        key_pem
        if key_pem is not None
        else (material.encrypted_key_pem if encrypted else material.key_pem)
    )
    return load_bundle(
        material.cert_pem + material.ca_pem,
        key_data=key,
        passphrase=material.key_passphrase if encrypted else None,
        source=material.subject_cn,
        now=TEST_NOW,
        require_key=True,
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vault_files(path: Path) -> list[Path]:
    """The vault and every side file SQLite may have left beside it."""
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
