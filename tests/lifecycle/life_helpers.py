"""Test material for the lifecycle tests: a throwaway CA made with cryptography at test time."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from knoxtui import clock

if TYPE_CHECKING:
    from knoxtui.vault import Vault


def _name(cn: str, org: str = "Knox Test") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class IssuingCA:
    name: str = "Knox Test Root CA"
    key: CertificateIssuerPrivateKeyTypes = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    certificate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = clock.now()
        subject = _name(self.name)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=3650))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        public_key: CertificatePublicKeyTypes,
        *,
        subject: x509.Name | None = None,
        cn: str = "client.knox.test",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        days: int = 365,
        san: list[x509.GeneralName] | None = None,
    ) -> x509.Certificate:
        start = not_before or clock.now() - timedelta(days=1)
        end = not_after or start + timedelta(days=days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or _name(cn, "Knox Client"))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def sign_csr(self, csr: x509.CertificateSigningRequest, days: int = 365) -> x509.Certificate:
        san = None
        with contextlib.suppress(x509.ExtensionNotFound):
            san = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        return self.issue(csr.public_key(), subject=csr.subject, days=days, san=san)


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey, passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


# ---- vaults ------------------------------------------------------------------------------

CHEAP_KDF = 64  # SQLCipher KDF iterations for tests only; the product uses SQLCipher's default
VAULT_PASSPHRASE = "lifecycle test passphrase"


def make_vault(path: Path) -> Vault:
    from knoxtui.vault import Vault

    return Vault.create(path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)


def store_certificate(
    vault: Vault,
    name: str,
    ca: IssuingCA,
    *,
    valid_until: datetime | None = None,
    days_left: float = 365,
    valid_from: datetime | None = None,
    environment: str = "default",
    cn: str | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A client certificate issued by `ca`, stored with its key (allow_expired for edge dates)."""
    from knoxtui.pki import load_bundle

    key = new_key()
    end = valid_until or clock.now() + timedelta(days=days_left)
    start = valid_from or min(clock.now(), end) - timedelta(days=30)
    certificate = ca.issue(
        key.public_key(), cn=cn or f"{name}.knox.test", not_before=start, not_after=end
    )
    bundle = load_bundle(pem(certificate) + ca.pem, key_data=key_pem(key))
    vault.add_certificate(name, bundle, environment=environment, allow_expired=True)
    return certificate, key


def route_config(certificate: str | None, url: str = "https://api.bank.example/v1") -> dict:
    config: dict = {"target_url": url}
    if certificate:
        config["certificate_secret_id"] = certificate
    return config
