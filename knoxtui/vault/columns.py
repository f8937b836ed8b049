"""How secrets are laid out in their tables: the certificate metadata columns, the lists packed
into them, and the two-scan read that builds `SecretInfo` objects without touching a blob."""

from __future__ import annotations

import gc
import json
from datetime import datetime
from typing import Any, TypeVar

from knoxtui.vault.models import CertificateMetadata, SecretInfo, ValueInfo

CERT_COLUMNS = (
    "subject",
    "subject_cn",
    "issuer",
    "issuer_cn",
    "serial",
    "valid_from",
    "valid_until",
    "fingerprint_sha256",
    "key_type",
    "key_size",
    "san",
    "client_auth_eku",
    "has_private_key",
    "has_passphrase",
    "encrypted_key",
    "chain_issuers",
    "psd2_roles",
    "organization_identifier",
    "warnings",
    "allowed_expired",
)
_META_COLUMNS = (*CERT_COLUMNS, "details")
_EMPTY: tuple[str, ...] = ()
_SEP = "\x1f"  # ASCII unit separator: never part of a DN, SAN or finding code


def join_list(items: list[str] | tuple[str, ...]) -> str:
    """Lists in metadata columns: unit-separated (splitting is ~10x cheaper than json.loads when
    listing 10,000 secrets); JSON for the odd item that holds the separator itself."""
    if any(_SEP in item for item in items):
        return json.dumps(list(items))
    return _SEP + _SEP.join(items) if items else ""


def _tuple(text: str | None) -> tuple[str, ...]:
    if not text:
        return _EMPTY
    if text[0] == _SEP:
        return tuple(text[1:].split(_SEP))
    return tuple(json.loads(text))


_fromiso = datetime.fromisoformat  # Python 3.11 reads the trailing "Z"


_T = TypeVar("_T")


def _trusted(cls: type[_T], **fields: Any) -> _T:
    """A frozen dataclass from rows this code wrote and validated: skipping the generated
    __init__ (one object.__setattr__ per field) more than halves the cost of listing 10,000
    secrets. Only for dataclasses without __post_init__."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _certificate_metadata(row: tuple[Any, ...]) -> CertificateMetadata:
    """Build from the 20 certificate columns (in CERT_COLUMNS order)."""
    return _trusted(
        CertificateMetadata,
        subject=row[0],
        subject_cn=row[1],
        issuer=row[2],
        issuer_cn=row[3],
        serial=row[4],
        valid_from=_fromiso(row[5]),
        valid_until=_fromiso(row[6]),
        fingerprint_sha256=row[7],
        key_type=row[8],
        key_size=row[9],
        san=_tuple(row[10]),
        client_auth_eku=bool(row[11]),
        has_private_key=bool(row[12]),
        has_passphrase=bool(row[13]),
        encrypted_key=bool(row[14]),
        chain_issuers=_tuple(row[15]),
        psd2_roles=_tuple(row[16]),
        organization_identifier=row[17],
        warnings=_tuple(row[18]),
        allowed_expired=bool(row[19]),
    )


_SECRET_SQL = (
    "SELECT id, name, secret_type, description, created_at, updated_at, status FROM secrets"
)
_VALUE_SQL = (
    "SELECT secret_id, environment_name, created_at, updated_at, "
    + ", ".join(_META_COLUMNS)
    + " FROM secret_values"
)


def _value_info(row: tuple[Any, ...]) -> ValueInfo:
    meta = row[4:]
    return _trusted(
        ValueInfo,
        environment=row[1],
        created_at=_fromiso(row[2]),
        updated_at=_fromiso(row[3]),
        certificate=_certificate_metadata(meta) if meta[0] is not None else None,
        details=json.loads(meta[20]) if meta[20] else {},
    )


def _secret_info(row: tuple[Any, ...], values: list[ValueInfo]) -> SecretInfo:
    values.sort(key=lambda value: value.environment)
    return _trusted(
        SecretInfo,
        id=row[0],
        name=row[1],
        secret_type=row[2],
        description=row[3],
        created_at=_fromiso(row[4]),
        updated_at=_fromiso(row[5]),
        values=tuple(values),
        status=row[6],
    )


def load_secrets(conn: Any, where: str = "", params: tuple[Any, ...] = ()) -> list[SecretInfo]:
    """Two plain scans joined in Python: each (encrypted) page is read and decrypted once, where
    an index-ordered join would revisit pages at random."""
    secrets = conn.execute(_SECRET_SQL + where, params).fetchall()
    if not secrets:
        return []
    if where:
        marks = ", ".join("?" * len(secrets))
        value_rows = conn.execute(
            _VALUE_SQL + f" WHERE secret_id IN ({marks})", [row[0] for row in secrets]
        ).fetchall()
    else:
        value_rows = conn.execute(_VALUE_SQL).fetchall()
    grouped: dict[str, list[ValueInfo]] = {row[0]: [] for row in secrets}
    for row in value_rows:
        bucket = grouped.get(row[0])
        if bucket is not None:
            bucket.append(_value_info(row))
    secrets.sort(key=lambda row: row[1])
    return [_secret_info(row, grouped[row[0]]) for row in secrets]


def list_secrets_on(conn: Any) -> list[SecretInfo]:
    """The listing on any DB-API connection with the vault schema (the benchmark runs the same
    code on plain sqlite3)."""
    # Tens of thousands of small immutable objects would trigger repeated full GC passes.
    paused = gc.isenabled()
    gc.disable()
    try:
        return load_secrets(conn)
    finally:
        if paused:
            gc.enable()


def payload_value(
    details: dict[str, Any], payload: bytes
) -> tuple[dict[str, Any], dict[str, bytes | None]]:
    """Columns and blobs of a string or oauth2 value: no certificate metadata, one payload blob."""
    columns = {c: None for c in CERT_COLUMNS} | {"details": json.dumps(details)}
    blobs: dict[str, bytes | None] = {
        "chain_pem": None,
        "key_pem": None,
        "key_passphrase": None,
        "payload": payload,
    }
    return columns, blobs
