"""CA bundles: string values that hold PEM certificates (what a route's `ca_bundle_secret_id`
names). Their facts (count, subjects, validity, earliest expiry) are read once, when the value is
stored, and kept in the value's metadata column (`details`): the inventory, the expiry watch and
`knoxtui check` never decrypt or parse a value to show or watch them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from knoxtui.errors import ValidationError

if TYPE_CHECKING:
    from knoxtui.pki import ExpiryStatus, ExpiryThresholds

PEM_MARKER = "-----BEGIN CERTIFICATE-----"
# Layout version of the CA-bundle facts in `details`; older values are read again once (backfill).
LAYOUT = 1
# Worst first, as in the expiry watch: the status of a bundle is that of its worst certificate.
_RANK = {"expired": 0, "urgent": 1, "warning": 2, "not_yet_valid": 3, "valid": 4}
_time = datetime.fromisoformat  # Python 3.11 reads the trailing "Z"
_expiry: Any = None


def _pki_expiry() -> Any:
    """knoxtui.pki.expiry, imported on first use (importing pki loads cryptography)."""
    global _expiry
    if _expiry is None:
        from knoxtui.pki import expiry

        _expiry = expiry
    return _expiry


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BundleCertificate:
    """One certificate of a CA bundle, from the stored metadata."""

    subject: str
    subject_cn: str | None
    issuer: str
    issuer_cn: str | None
    serial: str
    fingerprint_sha256: str
    valid_from: datetime
    valid_until: datetime

    @property
    def label(self) -> str:
        return self.subject_cn or self.subject

    def days_remaining(self, now: datetime) -> int:
        return int(_pki_expiry().days_remaining(self.valid_until, now))

    def status(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> ExpiryStatus:
        expiry = _pki_expiry()
        status: ExpiryStatus = expiry.expiry_status(
            self.valid_from, self.valid_until, now, thresholds or expiry.DEFAULT_THRESHOLDS
        )
        return status

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "subject_cn": self.subject_cn,
            "issuer": self.issuer,
            "issuer_cn": self.issuer_cn,
            "serial": self.serial,
            "fingerprint_sha256": self.fingerprint_sha256,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
        }


@dataclass(frozen=True)
class CABundleMetadata:
    """The certificates of one CA-bundle value; its expiry is that of its first to expire."""

    certificates: tuple[BundleCertificate, ...]

    @property
    def count(self) -> int:
        return len(self.certificates)

    @cached_property
    def earliest(self) -> BundleCertificate:
        """The certificate that expires first: when it does, routes trusting it break."""
        return min(self.certificates, key=lambda c: c.valid_until)

    @property
    def valid_until(self) -> datetime:
        return self.earliest.valid_until

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(c.subject for c in self.certificates)

    def days_remaining(self, now: datetime) -> int:
        return self.earliest.days_remaining(now)

    def worst(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> BundleCertificate:
        """The certificate whose status is worst (ties: the first to expire)."""
        chosen = self.certificates[0]
        best = (_RANK[chosen.status(now, thresholds)], chosen.valid_until)
        for cert in self.certificates[1:]:
            key = (_RANK[cert.status(now, thresholds)], cert.valid_until)
            if key < best:
                chosen, best = cert, key
        return chosen

    def status(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> ExpiryStatus:
        return self.worst(now, thresholds).status(now, thresholds)

    def to_dict(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> dict[str, Any]:
        return {
            "pem_certificates": self.count,
            "subjects": list(self.subjects),
            "valid_until": _iso(self.valid_until),
            "days_remaining": self.days_remaining(now),
            "status": str(self.status(now, thresholds)),
        }


def looks_like_bundle(value: str) -> bool:
    return PEM_MARKER in value


def details_for(value: str, name: str = "<value>") -> dict[str, Any]:
    """The metadata of a string value; PEM certificates in it are read (and must be readable)."""
    # No length: it would tell how long an API key is (issue 11 item 11).
    details: dict[str, Any] = {}
    if not looks_like_bundle(value):
        return details
    from knoxtui.pki import load_bundle

    bundle = load_bundle(value.encode("utf-8"), source=name)
    broken = [f for f in bundle.errors if f.code in ("corrupt", "unsupported_format")]
    if broken or not bundle.certificates:
        finding = broken[0] if broken else None
        raise ValidationError(
            finding.message if finding else f"The value of '{name}' holds no readable certificate.",
            hint=finding.hint if finding else "Paste the CA certificates as PEM blocks.",
            code=finding.code if finding else "no_certificate",
        )
    certificates = [
        BundleCertificate(
            subject=c.subject,
            subject_cn=c.subject_cn,
            issuer=c.issuer,
            issuer_cn=c.issuer_cn,
            serial=c.serial,
            fingerprint_sha256=c.fingerprint_sha256,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
        ).to_dict()
        for c in bundle.certificates
    ]
    details["ca_bundle"] = LAYOUT
    details["pem_certificates"] = len(certificates)
    details["valid_until"] = min(c["valid_until"] for c in certificates)
    details["certificates"] = certificates
    return details


def from_details(details: Mapping[str, Any]) -> CABundleMetadata | None:
    """The CA-bundle facts of a stored string value, or None when it holds no certificates."""
    if details.get("ca_bundle") != LAYOUT or not details.get("certificates"):
        return None
    try:
        certificates = tuple(_certificate(item) for item in details["certificates"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return CABundleMetadata(certificates)


def _certificate(item: Mapping[str, Any]) -> BundleCertificate:
    """From metadata this module wrote: the frozen dataclass filled without its generated
    __init__ (one object.__setattr__ per field), a third of the cost of a watch over bundles."""
    cert = object.__new__(BundleCertificate)
    cert.__dict__.update(
        subject=item["subject"],
        subject_cn=item.get("subject_cn"),
        issuer=item["issuer"],
        issuer_cn=item.get("issuer_cn"),
        serial=item["serial"],
        fingerprint_sha256=item["fingerprint_sha256"],
        valid_from=_time(item["valid_from"]),
        valid_until=_time(item["valid_until"]),
    )
    return cert


# String values whose metadata predates the CA-bundle layout: never read (NULL, written before
# the details column existed) or read with the first, shorter layout (subjects and expiry only).
_STALE_SQL = (
    "SELECT v.id, v.details, b.payload FROM secret_values v "
    "JOIN secrets s ON s.id = v.secret_id JOIN value_blobs b ON b.value_id = v.id "
    "WHERE s.secret_type = 'string' AND (v.details IS NULL OR "
    "(instr(v.details, '\"pem_certificates\"') > 0 AND instr(v.details, '\"ca_bundle\"') = 0))"
)
_ANY_STALE_SQL = (
    "SELECT 1 FROM secret_values v JOIN secrets s ON s.id = v.secret_id "
    "WHERE s.secret_type = 'string' AND (v.details IS NULL OR "
    "(instr(v.details, '\"pem_certificates\"') > 0 AND instr(v.details, '\"ca_bundle\"') = 0)) "
    "LIMIT 1"
)


def needs_backfill(conn: Any) -> bool:
    return conn.execute(_ANY_STALE_SQL).fetchone() is not None


def backfill(conn: Any) -> int:
    """Read the CA bundles of values stored by an older knoxtui once, inside the caller's
    transaction; returns how many values got new metadata. A value that no longer reads keeps
    its value and is marked unreadable (a route using it will say so), never dropped."""
    changed = 0
    for value_id, _old, payload in conn.execute(_STALE_SQL).fetchall():
        text = bytes(payload or b"").decode("utf-8", "replace")
        try:
            details = details_for(text)
        except ValidationError:
            details = {"ca_bundle": LAYOUT, "unreadable": True}
        conn.execute(
            "UPDATE secret_values SET details = ? WHERE id = ?", (json.dumps(details), value_id)
        )
        changed += 1
    return changed
