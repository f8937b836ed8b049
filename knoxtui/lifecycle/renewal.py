"""Renewal: a key pair made and kept in the vault with its CSR (a "pending key"), then the
certificate the CA returns attached to it — pairing and chain checked — as a new secret or a new
environment value. The private key never leaves the vault unencrypted."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.lifecycle.export import choose_environment, write_file_atomically
from knoxtui.pki.csr import (
    KEY_TYPES,
    build_signing_request,
    certificate_signed_by,
    key_type_of,
    public_key_sha256,
)

if TYPE_CHECKING:
    from knoxtui.pki import Finding
    from knoxtui.vault import PendingKey, Vault

DEFAULT_ENV = "default"


@dataclass(frozen=True)
class AttachResult:
    secret: str
    environment: str
    pending_key: str
    subject: str
    issuer: str
    valid_until: datetime
    fingerprint_sha256: str
    replaces: str | None  # the secret the CSR renewed (--like), the OLD of a later rotation
    subject_changed: bool  # the CA issued another subject than the CSR asked for
    warnings: tuple[Finding, ...]
    created_secret: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "environment": self.environment,
            "pending_key": self.pending_key,
            "subject": self.subject,
            "issuer": self.issuer,
            "valid_until": self.valid_until.isoformat().replace("+00:00", "Z"),
            "fingerprint_sha256": self.fingerprint_sha256,
            "replaces": self.replaces,
            "subject_changed": self.subject_changed,
            "created_secret": self.created_secret,
            "warnings": [finding.to_dict() for finding in self.warnings],
        }


def write_public_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """A CSR or report (nothing secret): refuses to replace a file unless `overwrite`."""
    # Atomically, never through a symlink planted at `path` (--force replaced its target).
    write_file_atomically(path, data, mode=0o644, overwrite=overwrite)


def _leaf_of(vault: Vault, name: str, environment: str | None) -> tuple[x509.Certificate, str]:
    secret = vault.get_secret(name)
    if secret.secret_type != "certificate":
        raise ValidationError(
            f"--like needs a certificate secret; '{name}' is a {secret.secret_type} secret.",
            code="wrong_secret_type",
        )
    env = choose_environment(secret, environment)
    value = vault.resolve(name, env, purpose="access")
    chain_pem = getattr(value, "chain_pem", b"")
    certificates = x509.load_pem_x509_certificates(chain_pem) if chain_pem else []
    if not certificates:
        raise ValidationError(f"Secret '{name}' holds no certificate.", code="no_certificate")
    return certificates[0], env


DEFAULT_KEY_TYPE = "rsa-2048"


def new_signing_request(
    vault: Vault,
    name: str,
    *,
    subject: str | None = None,
    like: str | None = None,
    like_environment: str | None = None,
    san: list[str] | tuple[str, ...] = (),
    key_type: str | None = None,
    key_passphrase: str | None = None,
) -> PendingKey:
    """Make a key pair and CSR and keep them as pending key `name`. Subject and SANs are copied
    from secret `like` (the certificate being renewed) unless `subject` is given. Without
    `key_type` the renewed certificate's kind is kept when it is one of KEY_TYPES, else rsa-2048."""
    try:
        vault.get_pending_key(name)
    except NotFound:
        pass
    else:
        raise Conflict(
            f"A pending key named '{name}' already exists; nothing was changed.",
            hint=f"Attach its certificate (knoxtui csr attach {name} --cert F) or discard it "
            f"(knoxtui csr rm {name}).",
        )
    like_cert = _leaf_of(vault, like, like_environment)[0] if like else None
    if key_type is None:
        kept = key_type_of(like_cert.public_key()) if like_cert is not None else None
        key_type = kept if kept in KEY_TYPES else DEFAULT_KEY_TYPE
    request = build_signing_request(
        subject=subject, like=like_cert, san=san, key_type=key_type, passphrase=key_passphrase
    )
    return vault.add_pending_key(
        name,
        subject=request.subject,
        san=request.san,
        key_type=request.key_type,
        public_key_sha256=request.public_key_sha256,
        csr_pem=request.csr_pem,
        key_pem=request.key_pem,
        key_passphrase=request.key_passphrase,
        passphrase_generated=request.passphrase_generated,
        like_secret=like,
    )


def certificates_in(data: bytes) -> list[x509.Certificate]:
    """The certificates of PEM, DER or PKCS#7 bytes (empty when none can be read)."""
    with warnings.catch_warnings():
        # openssl crl2pkcs7 writes the certificate SET unsorted (BER, not DER); that is fine.
        warnings.simplefilter("ignore", UserWarning)
        return _certificates_in(data)


def _certificates_in(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        try:
            found = x509.load_pem_x509_certificates(data)
        except ValueError:
            found = []
        if found:
            return found
        try:
            return list(pkcs7.load_pem_pkcs7_certificates(data))
        except ValueError:
            return []
    for loader in (
        lambda d: [x509.load_der_x509_certificate(d)],
        lambda d: list(pkcs7.load_der_pkcs7_certificates(d)),
    ):
        try:
            return loader(data)
        except ValueError:
            continue
    return []


def _as_pem(data: bytes, what: str) -> bytes:
    found = certificates_in(data)
    if not found:
        raise ValidationError(
            f"The {what} holds no readable certificate (PEM, DER or PKCS#7 expected).",
            hint="Use the file the CA sent for this CSR.",
            code="no_certificate",
        )
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in found)


def check_chain_signatures(certificates: list[x509.Certificate]) -> None:
    """Each certificate of a leaf-to-root path is signed by the next one."""
    for child, parent in itertools.pairwise(certificates):
        if child.issuer == parent.subject and not certificate_signed_by(child, parent):
            raise ValidationError(
                f"'{parent.subject.rfc4514_string()}' did not sign "
                f"'{child.subject.rfc4514_string()}': the chain is not genuine.",
                hint="Get the intermediate certificates from the CA again.",
                code="chain_signature",
            )


def attach_certificate(
    vault: Vault,
    name: str,
    cert_data: bytes,
    *,
    chain_data: bytes | None = None,
    secret_name: str | None = None,
    environment: str | None = None,
    description: str | None = None,
    allow_expired: bool = False,
) -> AttachResult:
    """Pair the CA's certificate with pending key `name` and store both as certificate secret
    `secret_name` (default `name`) in `environment` — a new secret, or a new environment value of
    an existing one — and drop the pending key, all in one transaction."""
    from knoxtui.pki import load_bundle

    pending = vault.get_pending_key(name)
    data = _as_pem(cert_data, "certificate file")
    if chain_data is not None:
        data += _as_pem(chain_data, "chain file")
    presented = public_key_sha256(x509.load_pem_x509_certificates(data)[0])
    matching = [
        c
        for c in x509.load_pem_x509_certificates(data)
        if public_key_sha256(c) == pending.public_key_sha256
    ]
    if not matching:
        raise ValidationError(
            f"The certificate was not issued for pending key '{name}': its public key "
            f"(SHA-256 {presented[:23]}…) is not the pending key's "
            f"({pending.public_key_sha256[:23]}…).",
            hint="Attach the certificate the CA issued for this CSR (knoxtui csr show "
            f"{name} prints it), or the pending key made for that certificate.",
            code="key_mismatch",
        )
    with_key = vault.get_pending_key(name, with_key=True)
    bundle = load_bundle(
        data,
        key_data=with_key.key_pem,
        passphrase=with_key.key_passphrase,
        source=f"certificate for pending key '{name}'",
    )
    if bundle.leaf is None or bundle.key_matches is False:
        raise ValidationError(
            f"The certificate does not pair with pending key '{name}'.", code="key_mismatch"
        )
    check_chain_signatures([info.certificate for info in bundle.certificates])
    target = secret_name or name
    env = environment or DEFAULT_ENV
    created = True
    try:
        existing = vault.get_secret(target)
    except NotFound:
        existing = None
    if existing is not None:
        created = False
        if existing.secret_type != "certificate":
            raise Conflict(
                f"Secret '{target}' is a {existing.secret_type} secret; the certificate was not "
                "attached.",
                hint="Attach it under another name with --as SECRET.",
            )
        if env in existing.environments:
            raise Conflict(
                f"Secret '{target}' already has a value for environment '{env}'; the "
                "certificate was not attached.",
                hint="Attach it as a new secret with --as SECRET (then rotate), or to "
                "another --env.",
            )
    with vault.batch():
        vault.add_certificate(
            target,
            bundle,
            environment=env,
            description=description,
            key_passphrase=with_key.key_passphrase,
            allow_expired=allow_expired,
        )
        vault.remove_pending_key(name, detail=f"attached as secret '{target}' ({env})")
    leaf = bundle.leaf
    requested = x509.load_pem_x509_csr(pending.csr_pem).subject
    return AttachResult(
        secret=target,
        environment=env,
        pending_key=name,
        subject=leaf.subject,
        issuer=leaf.issuer,
        valid_until=leaf.valid_until,
        fingerprint_sha256=leaf.fingerprint_sha256,
        replaces=pending.like_secret,
        subject_changed=leaf.certificate.subject != requested,
        warnings=tuple(bundle.warnings),
        created_secret=created,
    )
