"""The client identity: a certificate chain and its private key, decrypted in memory."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from knoxtui.net.errors import ClientKeyUnusable, KeyPassphraseWrong
from knoxtui.net.plan import ClientIdentity
from knoxtui.pki.export import exported_key_is_encrypted


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, uppercase and colon-separated like `openssl x509 -fingerprint`."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_identity(
    chain_pem: bytes,
    key_pem: bytes | None,
    passphrase: str | bytes | None = None,
    *,
    secret_name: str | None = None,
) -> ClientIdentity:
    """Decrypt the key (PEM or DER) with its stored passphrase and pair it with the chain."""
    label = f"certificate secret '{secret_name}'" if secret_name else "the client certificate"
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise ClientKeyUnusable(
            f"The chain of {label} is not readable PEM.",
            hint="Import the certificate again (knoxtui secret add on the command line, i in the "
            "console).",
        ) from None
    if not key_pem:
        raise ClientKeyUnusable(
            f"The {label} has no private key, so it cannot be used for mutual TLS.",
            hint="Store it again with its key: --key F on the command line, or open the secret and "
            "press R in the console.",
        )
    password = passphrase.encode() if isinstance(passphrase, str) else passphrase
    key = _load_key(key_pem, password, label)
    leaf = certs[0]
    if leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ClientKeyUnusable(
            f"The private key of {label} does not match its certificate.",
            hint="Import the key that was generated with this certificate's CSR.",
            code="key_mismatch",
        )
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ClientIdentity(
        chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs),
        key_pem=plain,
        fingerprint_sha256=fingerprint(leaf),
        secret_name=secret_name,
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        issuer_der=leaf.issuer.public_bytes(),
        chain_issuers_der=tuple(c.issuer.public_bytes() for c in certs),
        valid_from=leaf.not_valid_before_utc,
        valid_until=leaf.not_valid_after_utc,
    )


def _load_key(data: bytes, password: bytes | None, label: str):  # type: ignore[no-untyped-def]
    loader = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        return loader(data, password=password)
    except TypeError:
        # Encrypted without a stored passphrase, or a passphrase given for a plain key.
        if password is None:
            raise KeyPassphraseWrong(
                f"The private key of {label} is encrypted and no key passphrase is stored.",
                hint="Store it again with its key passphrase: --key-passphrase-file F on the "
                "command line, or open the secret and press R in the console.",
            ) from None
        return loader(data, password=None)
    except ValueError:
        # Decide from the structure, not the message: about one wrong passphrase in 256 decrypts
        # to valid padding, and then the error speaks of key data, not of the password.
        if password is not None and exported_key_is_encrypted(data):
            raise KeyPassphraseWrong(
                f"The stored key passphrase does not decrypt the private key of {label}.",
                hint="Store the right one: --key-passphrase-file F on the command line, or open "
                "the secret and press R in the console.",
            ) from None
        raise ClientKeyUnusable(
            f"The private key of {label} is not readable.",
            hint="Re-import the key (PEM or DER, PKCS#8 or traditional).",
        ) from None
