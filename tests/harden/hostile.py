"""Hostile material made at test time: certificate names carrying terminal sequences.
TEST MATERIAL ONLY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
# OSC 52 (sets the clipboard to "rm -rf ~"), BEL, a CR that would overwrite the line, CSI 2J.
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
HOSTILE_CN = f"evil{OSC52}\rserver verified: yes\x1b[2J.bank.example"
HOSTILE_ORG = "Org\x1b]0;pwned title\x07\x9b31m"
HOSTILE_TEXT = f"desc {OSC52}\r\x1b[2J[/bold] [red]x[/red]"
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b")


def raw_controls(text: str) -> list[str]:
    """The raw control characters (that reach a terminal) in `text`."""
    return [c for c in RAW_CONTROLS if c in text]


@dataclass(frozen=True)
class Hostile:
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes


def hostile_client(days_left: int = 20) -> Hostile:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, HOSTILE_ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, f"CA {OSC52}\r\x1b[2J"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=400))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, HOSTILE_ORG),
                    x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=days_left))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Hostile(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
    )
