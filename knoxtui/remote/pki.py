"""The remote's PKI engine: the key stays home. A pending CSR (from `csr new`) goes to
`<pki-mount>/sign/<role>`; the certificate and chain come back to be attached like `csr attach`.
`retire --revoke` sends the serial to `<pki-mount>/revoke`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from knoxtui.errors import KnoxError, ValidationError
from knoxtui.remote.client import BaoClient
from knoxtui.remote.errors import RemoteError

if TYPE_CHECKING:
    from knoxtui.lifecycle.renewal import AttachResult
    from knoxtui.pki.finding import Finding
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import IssuedCertificate, RemoteRecord


@dataclass(frozen=True)
class SignedCertificate:
    certificate_pem: bytes
    chain_pem: bytes | None  # the issuing CA(s), without the leaf
    serial: str  # uppercase hex without separators, as the vault's metadata has it


def plain_serial(serial: str) -> str:
    """Vault's "3a:0f:..." (or "3a-0f-...") as the vault's "3A0F..."."""
    return serial.replace(":", "").replace("-", "").strip().upper()


def vault_serial(serial: str) -> str:
    digits = plain_serial(serial).lower()
    if len(digits) % 2:
        digits = "0" + digits
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def sign_csr(
    client: BaoClient, remote: RemoteRecord, csr_pem: bytes, role: str, ttl: str | None
) -> SignedCertificate:
    data = client.pki_sign(remote.pki_mount, role, csr_pem.decode("ascii"), ttl)
    certificate = data.get("certificate")
    serial = data.get("serial_number")
    if not isinstance(certificate, str) or "-----BEGIN CERTIFICATE-----" not in certificate:
        raise RemoteError(f"The PKI of remote '{remote.name}' answered without a certificate.")
    if not isinstance(serial, str) or not serial:
        raise RemoteError(f"The PKI of remote '{remote.name}' answered without a serial number.")
    chain = data.get("ca_chain") or [data.get("issuing_ca")]
    leaf = certificate.strip()
    parts = [c.strip() for c in chain if isinstance(c, str) and c.strip() and c.strip() != leaf]
    return SignedCertificate(
        certificate_pem=(leaf + "\n").encode("ascii"),
        chain_pem=("\n".join(parts) + "\n").encode("ascii") if parts else None,
        serial=plain_serial(serial),
    )


def issued_records(vault: Vault, name: str) -> list[IssuedCertificate]:
    """The certificates of secret `name` that a remote's PKI signed (every environment)."""
    serials = [
        value.certificate.serial
        for value in vault.get_secret(name).values
        if value.certificate is not None
    ]
    found = [r for r in vault.remotes.issued(serials) if r.revoked_at is None]
    if not found:
        raise ValidationError(
            f"No certificate of secret '{name}' was signed by a remote's PKI here, so there is "
            "nothing to revoke; nothing was removed.",
            hint="Revoke it with the CA that issued it, then retire without --revoke.",
            code="not_remotely_issued",
        )
    return found


def revoke(client: BaoClient, record: IssuedCertificate) -> None:
    client.pki_revoke(record.pki_mount, vault_serial(record.serial))


def issuing_remote(vault: Vault, name: str) -> IssuedCertificate | None:
    """The latest unrevoked record of a remote's PKI signing a certificate of secret `name` (any
    environment) whose remote is still configured; None when no remote signed one here."""
    try:
        secret = vault.get_secret(name)
    except KnoxError:
        return None
    serials = [v.certificate.serial for v in secret.values if v.certificate is not None]
    known = {r.name for r in vault.remotes.all()}
    found = [
        r for r in vault.remotes.issued(serials) if r.revoked_at is None and r.remote_name in known
    ]
    return found[-1] if found else None


def sign_and_attach(
    vault: Vault,
    remote: RemoteRecord,
    pending_name: str,
    role: str,
    ttl: str | None = None,
    *,
    secret_name: str | None = None,
    environment: str | None = None,
) -> tuple[AttachResult, SignedCertificate]:
    """Send pending key `pending_name`'s CSR (never the key) to `remote`'s PKI under `role`,
    attach what comes back (as `csr attach` does) and record the serial as issued by `remote`
    (what `retire --revoke` reads). Nothing is stored when the signing fails."""
    from knoxtui.lifecycle.renewal import attach_certificate
    from knoxtui.remote import session

    pending = vault.get_pending_key(pending_name)
    with session.connect(vault, remote) as client:
        signed = sign_csr(client, remote, pending.csr_pem, role, ttl)
    with vault.batch():
        result = attach_certificate(
            vault,
            pending_name,
            signed.certificate_pem,
            chain_data=signed.chain_pem,
            secret_name=secret_name,
            environment=environment,
        )
        vault.remotes.record_issued(
            remote.name, remote.pki_mount, signed.serial, result.secret, result.environment
        )
    dropped = dropped_by_role(pending.csr_pem, signed.certificate_pem, remote, role)
    if dropped is not None:
        result = dataclasses.replace(result, warnings=(*result.warnings, dropped))
    return result, signed


# Subject attributes an OpenBao / Vault role sets itself on pki/sign (the CSR's are ignored).
_ROLE_FIELDS = {
    NameOID.ORGANIZATION_NAME: "organization",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "ou",
    NameOID.COUNTRY_NAME: "country",
    NameOID.LOCALITY_NAME: "locality",
    NameOID.STATE_OR_PROVINCE_NAME: "province",
    NameOID.STREET_ADDRESS: "street_address",
    NameOID.POSTAL_CODE: "postal_code",
}


def dropped_by_role(
    csr_pem: bytes, certificate_pem: bytes, remote: RemoteRecord, role: str
) -> Finding | None:
    """A warning when the issued certificate lacks subject fields or alternative names the CSR
    asked for (pki/sign keeps the CN and, per role, the SANs; O=, OU=, C= ... come from the
    role); None when everything asked for is there. Never fails the signing."""
    from knoxtui.pki.finding import Finding, Severity

    csr = x509.load_pem_x509_csr(csr_pem)
    cert = x509.load_pem_x509_certificate(certificate_pem)
    issued = [(a.oid, a.value) for a in cert.subject]
    lost_subject = []
    for attribute in csr.subject:
        if (attribute.oid, attribute.value) in issued:
            issued.remove((attribute.oid, attribute.value))
        else:
            lost_subject.append(attribute)
    lost_names = [n for n in _alt_names(csr.extensions) if n not in _alt_names(cert.extensions)]
    if not lost_subject and not lost_names:
        return None
    said = [a.rfc4514_string() for a in lost_subject] + [
        f"SAN {n.value}" for n in lost_names if isinstance(n.value, str)
    ]
    settings = sorted(
        {f"{_ROLE_FIELDS[a.oid]}=..." for a in lost_subject if a.oid in _ROLE_FIELDS}
        | (
            {"use_csr_common_name=true"}
            if any(a.oid == NameOID.COMMON_NAME for a in lost_subject)
            else set()
        )
        | ({"use_csr_sans=true (and allowed_domains)"} if lost_names else set())
    )
    role_fix = (
        f"set them on the role ({remote.pki_mount}/roles/{role}: {', '.join(settings)})"
        if settings
        else f"allow them in the role ({remote.pki_mount}/roles/{role})"
    )
    return Finding(
        "csr_fields_dropped",
        Severity.WARNING,
        f"Role '{role}' of remote '{remote.name}' ({remote.pki_mount}) left out what the CSR "
        f"asked for: {', '.join(said)}. The certificate was stored as issued.",
        hint=f"To keep them, {role_fix}, or have the CA sign with "
        f"{remote.pki_mount}/sign-verbatim, which keeps the CSR's subject; then sign again.",
    )


def _alt_names(extensions: x509.Extensions) -> list[x509.GeneralName]:
    try:
        value = extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return list(value) if isinstance(value, x509.SubjectAlternativeName) else []
