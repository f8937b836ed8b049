"""A throwaway certificate authority for the lab and the tests: EC P-256 keys, real X.509
certificates made with cryptography, kept in memory."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from knoxtui import clock


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate, its issuer chain and its private key (test material)."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the issuers, leaf's issuer first (roots excluded)
    key: Any = field(repr=False)

    @property
    def cert_pem(self) -> bytes:
        return _pem(self.certificate)

    @property
    def chain_pem(self) -> bytes:
        return self.cert_pem + b"".join(_pem(c) for c in self.chain)

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


class Authority:
    """A root CA (or an intermediate under `parent`) issuing server and client certificates."""

    def __init__(self, name: str, *, parent: Authority | None = None) -> None:
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.parent = parent
        now = clock.now()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "knoxtui lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        issuer_name: x509.Name = parent.certificate.subject if parent else subject
        signer = parent.key if parent else self.key
        self.certificate: x509.Certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(signer, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return _pem(self.certificate)

    @property
    def root(self) -> Authority:
        return self.parent.root if self.parent else self

    def _chain(self) -> tuple[x509.Certificate, ...]:
        """Issuers to send along with a leaf: this CA when it is an intermediate, upwards."""
        out: list[x509.Certificate] = []
        authority: Authority | None = self
        while authority is not None and authority.parent is not None:
            out.append(authority.certificate)
            authority = authority.parent
        return tuple(out)

    def issue(
        self,
        common_name: str,
        *,
        dns_names: tuple[str, ...] = (),
        ip_addresses: tuple[str, ...] = (),
        client: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> IssuedCertificate:
        now = clock.now()
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "knoxtui lab"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=1))
            .not_valid_after(not_after or now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return IssuedCertificate(builder.sign(self.key, hashes.SHA256()), self._chain(), key)
