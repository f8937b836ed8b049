"""New key pairs and certificate signing requests (CSR) for renewing a client certificate.

The key is handed back only as encrypted PKCS#8 PEM, with the passphrase the user chose or one
generated here; the caller stores both in the vault, so the key never exists unencrypted on disk.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from knoxtui.errors import ValidationError
from knoxtui.pki.names import format_name, parse_name, parse_san, san_strings

KEY_TYPES = ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")
DEFAULT_KEY_TYPE = "rsa-2048"
# Long enough to resist offline guessing of the stored PKCS#8 file; URL-safe so it pastes cleanly.
GENERATED_PASSPHRASE_BYTES = 24
MIN_PASSPHRASE_LENGTH = 8


@dataclass(frozen=True)
class SigningRequest:
    """A CSR and its new private key (encrypted)."""

    csr_pem: bytes
    subject: str  # RFC 4514
    san: tuple[str, ...]  # "DNS:x", "IP:..", like CertificateInfo.san
    key_type: str  # one of KEY_TYPES
    public_key_sha256: (
        str  # SHA-256 of the SubjectPublicKeyInfo, "AB:CD:..", pairs the returned cert
    )
    key_pem: bytes = field(repr=False)  # encrypted PKCS#8 PEM
    key_passphrase: str = field(repr=False)
    passphrase_generated: bool = False

    def to_dict(self) -> dict[str, object]:
        """Metadata only: never the key or its passphrase."""
        return {
            "subject": self.subject,
            "san": list(self.san),
            "key_type": self.key_type,
            "public_key_sha256": self.public_key_sha256,
            "passphrase_generated": self.passphrase_generated,
        }


def generate_private_key(
    key_type: str = DEFAULT_KEY_TYPE,
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A fresh private key of one of KEY_TYPES."""
    if key_type in ("rsa-2048", "rsa-3072", "rsa-4096"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValidationError(
        f"Unknown key type '{key_type}'.",
        hint=f"Use one of: {', '.join(KEY_TYPES)}.",
        code="invalid_key_type",
    )


def public_key_sha256(key: PrivateKeyTypes | PublicKeyTypes | x509.Certificate) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, uppercase colon-separated (pairs keys and certs)."""
    if isinstance(key, x509.Certificate):
        public_key: PublicKeyTypes = key.public_key()
    elif hasattr(key, "public_key"):
        public_key = key.public_key()
    else:
        public_key = key
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def generate_passphrase() -> str:
    return secrets.token_urlsafe(GENERATED_PASSPHRASE_BYTES)


def encrypt_private_key(key: PrivateKeyTypes, passphrase: str) -> bytes:
    """Encrypted PKCS#8 PEM (AES-256-CBC with a PBKDF2-derived key, cryptography's best)."""
    if not passphrase:
        raise ValidationError(
            "A private key cannot be stored with an empty passphrase.",
            hint="Give a key passphrase or let knoxtui generate one.",
            code="passphrase_required",
        )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )


def _subject_alternative_names(certificate: x509.Certificate) -> list[x509.GeneralName]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(extension.value)


def _extended_key_usage(certificate: x509.Certificate | None) -> list[x509.ObjectIdentifier]:
    if certificate is not None:
        try:
            return list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        except x509.ExtensionNotFound:
            pass
    # A knoxtui CSR is for a client certificate: ask for clientAuth unless renewing copies others.
    return [ExtendedKeyUsageOID.CLIENT_AUTH]


def _signature_hash(key: PrivateKeyTypes) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def build_signing_request(
    *,
    subject: str | x509.Name | None = None,
    like: x509.Certificate | None = None,
    san: Iterable[str] = (),
    key_type: str = DEFAULT_KEY_TYPE,
    passphrase: str | None = None,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
) -> SigningRequest:
    """A new key (or `key`) and a CSR. Subject and SANs come from `like` (the certificate being
    renewed) unless `subject` is given; `san` entries are added to those of `like`."""
    if subject is None and like is None:
        raise ValidationError(
            "A CSR needs a subject.",
            hint="Give --subject DN, or --like SECRET to copy the subject of a stored certificate.",
            code="invalid_subject",
        )
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ValidationError(
            f"The key passphrase is shorter than {MIN_PASSPHRASE_LENGTH} characters.",
            hint="Choose a longer one, or leave it out and knoxtui generates and stores one.",
            code="weak_passphrase",
        )
    if isinstance(subject, str):
        name = parse_name(subject)
    elif isinstance(subject, x509.Name):
        name = subject
    else:
        assert like is not None
        name = like.subject
    names: list[x509.GeneralName] = _subject_alternative_names(like) if like is not None else []
    for general in parse_san(san):
        if general not in names:
            names.append(general)
    private_key = key if key is not None else generate_private_key(key_type)
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    builder = builder.add_extension(
        x509.ExtendedKeyUsage(_extended_key_usage(like)), critical=False
    )
    csr = builder.sign(private_key, _signature_hash(private_key))
    chosen = passphrase if passphrase is not None else generate_passphrase()
    return SigningRequest(
        csr_pem=csr.public_bytes(serialization.Encoding.PEM),
        subject=format_name(name),
        san=san_strings(names),
        key_type=key_type_of(private_key),
        public_key_sha256=public_key_sha256(private_key),
        key_pem=encrypt_private_key(private_key, chosen),
        key_passphrase=chosen,
        passphrase_generated=passphrase is None,
    )


def key_type_of(key: PrivateKeyTypes | PublicKeyTypes) -> str:
    """The KEY_TYPES word for a key ("rsa-2048", "ec-p256"), else a plain description."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"rsa-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}.get(
            key.curve.name, f"ec-{key.curve.name}"
        )
    return type(key).__name__.lower()


def load_signing_request(data: bytes) -> x509.CertificateSigningRequest:
    """A PEM or DER CSR whose self-signature checks out; ValidationError otherwise."""
    try:
        csr = (
            x509.load_pem_x509_csr(data) if b"-----BEGIN" in data else x509.load_der_x509_csr(data)
        )
    except ValueError:
        raise ValidationError(
            "The file is not a certificate signing request (PEM or DER).",
            hint="Export the CSR again with: knoxtui csr new NAME ... --out F.csr",
            code="corrupt",
        ) from None
    if not csr.is_signature_valid:
        raise ValidationError(
            "The CSR's signature does not verify; it was altered or damaged.", code="corrupt"
        )
    return csr


def certificate_signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer`'s key signed `certificate` (names match and the signature verifies)."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
