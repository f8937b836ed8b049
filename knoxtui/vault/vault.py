"""The Vault: secrets with per-environment values, routes and the audit trail in one SQLCipher
file. Every write runs in one transaction (or one savepoint inside `batch()`), is validated
before the first row is touched, and appends its audit row in the same transaction."""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from knoxtui import clock, refs
from knoxtui.errors import Conflict, EnvironmentMissing, NotFound, UsageError, ValidationError
from knoxtui.vault import cabundle, connection, pending, schema
from knoxtui.vault.audit import AuditTrail
from knoxtui.vault.models import (
    DEFAULT_ENV,
    ROUTE_SECRET_FIELDS,
    AuditEntry,
    AuditVerification,
    CertificateMetadata,
    CertificateValue,
    OAuth2Config,
    RequestLogEntry,
    RouteRecord,
    SecretInfo,
    ValueInfo,
    check_name,
    iso,
    parse_iso,
    route_references,
)
from knoxtui.vault.pending import PendingKey
from knoxtui.vault.remotes import RemoteStore

if TYPE_CHECKING:
    from knoxtui.pki import CertificateBundle

ALLOWABLE_WITH_EXPIRED = frozenset({"expired", "not_yet_valid"})
RESOLVE_PURPOSES = ("access", "reveal", "export")
ROUTE_SECRET_TYPES = {
    "certificate_secret_id": "certificate",
    "oauth2_secret_id": "oauth2",
    "ca_bundle_secret_id": "string",
}
QUERY_TIME_LIMIT_S = 10.0

_CERT_COLUMNS = (
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
_META_COLUMNS = (*_CERT_COLUMNS, "details")
_EMPTY: tuple[str, ...] = ()
_SEP = "\x1f"  # ASCII unit separator: never part of a DN, SAN or finding code


def _join(items: list[str] | tuple[str, ...]) -> str:
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
    """Build from the 20 certificate columns (in _CERT_COLUMNS order)."""
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


def _load_secrets(conn: Any, where: str = "", params: tuple[Any, ...] = ()) -> list[SecretInfo]:
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
        return _load_secrets(conn)
    finally:
        if paused:
            gc.enable()


def _safe_url(url: str | None) -> str | None:
    """Scheme, host and path only: query strings and user-info may carry substituted secrets."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _validate_route_config(name: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise ValidationError(
            f"The configuration of route '{name}' must be a JSON object.", code="invalid_route"
        )
    data = dict(config)
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        raise ValidationError(
            f"The configuration of route '{name}' holds values JSON cannot store.",
            code="invalid_route",
        ) from None

    def check(block: Mapping[str, Any], where: str) -> bool:
        has_target = False
        for key, value in block.items():
            if key == "target_url":
                parts = urlsplit(value) if isinstance(value, str) else None
                if parts is None or (parts.scheme not in ("https", "http") and "{{" not in value):
                    raise ValidationError(
                        f"Route '{name}': {where}target_url must be an http(s) URL.",
                        code="invalid_route",
                    )
                has_target = True
            elif key in ROUTE_SECRET_FIELDS or key == "tls_servername":
                if value is not None and not isinstance(value, str):
                    raise ValidationError(
                        f"Route '{name}': {where}{key} must be a string or null.",
                        code="invalid_route",
                    )
            elif key == "headers":
                if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise ValidationError(
                        f"Route '{name}': {where}headers must map header names to strings.",
                        code="invalid_route",
                    )
            elif key == "tls_reject_unauthorized":
                if not isinstance(value, bool):
                    raise ValidationError(
                        f"Route '{name}': {where}tls_reject_unauthorized must be true or false.",
                        code="invalid_route",
                    )
            elif key in ("tls_min_version", "tls_max_version"):
                if value not in (None, "1.2", "1.3"):
                    raise ValidationError(
                        f'Route \'{name}\': {where}{key} must be "1.2" or "1.3".',
                        code="invalid_route",
                    )
            elif isinstance(value, Mapping) and key not in ("headers",):
                has_target = check(value, f"{where}{key}.") or has_target
        return has_target

    if not check(data, ""):
        raise ValidationError(
            f"Route '{name}' has no target_url.",
            hint='Add "target_url": "https://api.example/..." to the configuration.',
            code="invalid_route",
        )
    return data


def _rename_in(value: Any, old: str, new: str) -> Any:
    """A copy of a route config with every reference to `old` pointing at `new`."""
    pattern = re.compile(r"(\{\{\s*secret:)" + re.escape(old) + r"(\s*\}\})")
    if isinstance(value, str):
        return pattern.sub(lambda m: m.group(1) + new + m.group(2), value)
    if isinstance(value, list):
        return [_rename_in(item, old, new) for item in value]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in ROUTE_SECRET_FIELDS and item == old:
                out[key] = new
            else:
                out[key] = _rename_in(item, old, new)
        return out
    return value


class Vault:
    """One open vault. Thread-safe (one lock around the one connection)."""

    def __init__(self, path: Path, conn: Any, *, kdf_iter: int | None = None) -> None:
        self.path = path
        self.kdf_iter = kdf_iter
        self._conn = conn
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._savepoints = itertools.count(1)
        self._audit = AuditTrail(conn)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: str | Path, passphrase: str, *, kdf_iter: int | None = None) -> Vault:
        """A new vault at `path` (folder 0700, file 0600); refuses to overwrite any file."""
        target = Path(path).expanduser()
        conn, scratch = connection.create_new(target, passphrase, kdf_iter)
        try:
            conn.execute("BEGIN IMMEDIATE")
            schema.apply(conn, 0, schema.CURRENT_VERSION)
            AuditTrail(conn).record("create_vault", detail="vault created")
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            connection.discard(scratch)
            raise
        conn.close()
        connection.publish(scratch, target)
        return cls.open(target, passphrase, kdf_iter=kdf_iter)

    @classmethod
    def open(
        cls, path: str | Path, passphrase: connection.VaultKey, *, kdf_iter: int | None = None
    ) -> Vault:
        """WrongVaultPassphrase / NotAVault / VaultBusy; a failed open changes no byte. With a
        `connection.RawKey` (from the agent) no key is derived; a wrong one fails the same way."""
        target = Path(path).expanduser()
        conn = connection.open_existing(target, passphrase, kdf_iter)
        try:
            with connection.translated_errors():
                schema.migrate(conn, str(target))
                _backfill_ca_bundles(conn)
        except BaseException:
            conn.close()
            raise
        return cls(target, conn, kdf_iter=kdf_iter)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vault(path={str(self.path)!r})"

    @property
    def remotes(self) -> RemoteStore:
        """Team sync: remotes, their credentials and the per-item sync marks (issue 13)."""
        return RemoteStore(self)

    @property
    def schema_version(self) -> int:
        return schema.user_version(self._conn)

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version`: changes when another connection (the CLI, a second
        console) commits to this file; our own writes leave it alone. Cheap enough to poll."""
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def change_passphrase(self, new: str) -> None:
        """PRAGMA rekey: every page re-encrypted in one transaction, so all old or all new."""
        with self._lock:
            if self._batch_depth:
                raise Conflict("The passphrase cannot change in the middle of a batch.")
            connection.rekey(self._conn, new)
            with self._write():
                self._audit.record("rekey", detail="vault passphrase changed")

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def batch(self) -> Iterator[Vault]:
        """Many writes in one transaction: all committed at the end, or none on an exception.
        A failed operation inside only rolls back its own savepoint if the caller catches it."""
        with self._lock:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield self
                finally:
                    self._batch_depth -= 1
                return
            with connection.translated_errors():
                self._conn.execute("BEGIN IMMEDIATE")
            self._batch_depth = 1
            try:
                yield self
            except BaseException:
                self._batch_depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._batch_depth = 0
            try:
                with connection.translated_errors():
                    self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        with self._lock, connection.translated_errors():
            conn = self._conn
            if self._batch_depth or conn.in_transaction:
                name = f"op{next(self._savepoints)}"
                conn.execute(f"SAVEPOINT {name}")
                try:
                    yield conn
                except BaseException:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    raise
                conn.execute(f"RELEASE {name}")
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        with self._lock, connection.translated_errors():
            return list(self._conn.execute(sql, params).fetchall())

    # ------------------------------------------------------------------ secrets

    def add_certificate(
        self,
        name: str,
        bundle: CertificateBundle,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        key_passphrase: str | None = None,
        allow_expired: bool = False,
        replace: bool = False,
        require_key: bool = True,
    ) -> SecretInfo:
        """Store a certificate checked by knoxtui.pki: any error finding refuses it (expired and
        not_yet_valid pass with allow_expired, marked); warnings are kept with the value."""
        check_name(name)
        check_name(environment, "environment")
        allowed = ALLOWABLE_WITH_EXPIRED if allow_expired else frozenset()
        blocking = [f for f in bundle.errors if f.code not in allowed]
        if blocking:
            first = blocking[0]
            others = ", ".join(f.code for f in blocking[1:])
            message = first.message + (f" (also: {others})" if others else "")
            raise ValidationError(message, hint=first.hint, code=first.code)
        leaf = bundle.leaf
        if leaf is None:
            raise ValidationError(
                "The input holds no certificate.",
                hint="Give the client certificate (PEM, DER or PKCS#12).",
                code="no_certificate",
            )
        if bundle.private_key is None and require_key:
            raise ValidationError(
                "A certificate secret for mutual TLS needs its private key.",
                hint="Give the key too (--key F on the command line, the key file field in the "
                "console), or use a PKCS#12 file that holds it.",
                code="missing_private_key",
            )
        if bundle.encrypted_key and not key_passphrase:
            raise ValidationError(
                "The private key is encrypted, but its passphrase was not given to the vault.",
                hint="Give the key passphrase (--key-passphrase-file F on the command line, the "
                "Key passphrase field in the console); it is stored encrypted in the vault.",
                code="passphrase_required",
            )
        stored_passphrase = key_passphrase if bundle.encrypted_key else None
        key_pem = bundle.key_pem_for_storage(stored_passphrase) if bundle.private_key else None
        kept = [f.code for f in bundle.errors if f.code in allowed]
        warnings = tuple(dict.fromkeys([*kept, *(f.code for f in bundle.warnings)]))
        chain_names: list[str] = []
        for cert in bundle.certificates:
            for dn in (cert.issuer, cert.subject):
                if dn not in chain_names:
                    chain_names.append(dn)
        psd2 = getattr(leaf, "psd2", None)
        columns = {
            "subject": leaf.subject,
            "subject_cn": leaf.subject_cn,
            "issuer": leaf.issuer,
            "issuer_cn": leaf.issuer_cn,
            "serial": leaf.serial,
            "valid_from": iso(leaf.valid_from),
            "valid_until": iso(leaf.valid_until),
            "fingerprint_sha256": leaf.fingerprint_sha256,
            "key_type": leaf.key_type,
            "key_size": leaf.key_size,
            "san": _join(leaf.san),
            "client_auth_eku": int(leaf.client_auth_eku),
            "has_private_key": int(key_pem is not None),
            "has_passphrase": int(stored_passphrase is not None),
            "encrypted_key": int(bool(bundle.encrypted_key) and key_pem is not None),
            "chain_issuers": _join(chain_names),
            "psd2_roles": _join(psd2.roles if psd2 else ()),
            "organization_identifier": getattr(leaf, "organization_identifier", None),
            "warnings": _join(warnings),
            "allowed_expired": int(bool(kept)),
            "details": None,
        }
        blobs = {
            "chain_pem": bundle.chain_pem(),
            "key_pem": key_pem,
            "key_passphrase": stored_passphrase.encode("utf-8") if stored_passphrase else None,
            "payload": None,
        }
        detail = f"fingerprint {leaf.fingerprint_sha256}" + (
            "; stored although expired (allowed on purpose)" if kept else ""
        )
        return self._put_value(
            name, "certificate", environment, description, replace, columns, blobs, detail
        )

    def add_string(
        self,
        name: str,
        value: str,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        replace: bool = False,
    ) -> SecretInfo:
        """Any text (API key, token, CA bundle). PEM certificates inside are checked by pki."""
        check_name(name)
        check_name(environment, "environment")
        if not isinstance(value, str) or not value:
            raise ValidationError(
                f"The value of string secret '{name}' is empty.",
                hint="Put the value in the file given to --value-file.",
                code="empty_value",
            )
        # A CA bundle is read here, once: listing and the expiry watch use these columns.
        details = cabundle.details_for(value, name)
        columns, blobs = _payload_value(details, value.encode("utf-8"))
        return self._put_value(
            name, "string", environment, description, replace, columns, blobs, None
        )

    def add_oauth2(
        self,
        name: str,
        config: OAuth2Config,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        replace: bool = False,
    ) -> SecretInfo:
        check_name(name)
        check_name(environment, "environment")
        expected = {
            config.certificate_secret_id: "certificate",
            config.ca_bundle_secret_id: "string",
        }
        with self._lock:
            for ref, kind in expected.items():
                if ref is not None:
                    self._check_reference(f"oauth2 secret '{name}'", ref, kind)
        columns, blobs = _payload_value(config.to_dict(), config.to_json().encode("utf-8"))
        return self._put_value(
            name, "oauth2", environment, description, replace, columns, blobs, None
        )

    def _check_reference(self, who: str, ref: str, kind: str) -> None:
        row = self._read("SELECT secret_type FROM secrets WHERE name = ?", (ref,))
        if not row:
            raise ValidationError(
                f"The {who} refers to the unknown secret '{ref}'.",
                hint="Add that secret first, or fix the name.",
                code="unknown_secret",
            )
        if row[0][0] != kind:
            raise ValidationError(
                f"The {who} needs '{ref}' to be a {kind} secret, but it is a {row[0][0]} secret.",
                code="wrong_secret_type",
            )

    def _put_value(
        self,
        name: str,
        secret_type: str,
        environment: str,
        description: str | None,
        replace: bool,
        columns: dict[str, Any],
        blobs: dict[str, Any],
        detail: str | None,
    ) -> SecretInfo:
        with self._write() as conn:
            now = iso(clock.now())
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            created = row is None
            if created:
                secret_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO secrets (id, name, secret_type, description, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (secret_id, name, secret_type, description, now, now),
                )
                existing = None
            else:
                secret_id, have_type = row
                if have_type != secret_type:
                    raise Conflict(
                        f"Secret '{name}' already exists as a {have_type} secret, "
                        f"so it cannot hold a {secret_type} value.",
                        hint="Choose another name, or remove the existing secret first.",
                    )
                existing = conn.execute(
                    "SELECT id FROM secret_values WHERE secret_id = ? AND environment_name = ?",
                    (secret_id, environment),
                ).fetchone()
                if existing is not None and not replace:
                    raise Conflict(
                        f"Secret '{name}' already has a value for environment '{environment}'; "
                        "nothing was changed.",
                        hint="Replace it (--replace on the command line, R on the secret in the "
                        "console), or choose another environment.",
                    )
                if description is not None:
                    conn.execute(
                        "UPDATE secrets SET description = ? WHERE id = ?", (description, secret_id)
                    )
                conn.execute("UPDATE secrets SET updated_at = ? WHERE id = ?", (now, secret_id))
            names = list(columns)
            if existing is None:
                cursor = conn.execute(
                    "INSERT INTO secret_values (secret_id, environment_name, created_at, "
                    f"updated_at, {', '.join(names)}) VALUES (?, ?, ?, ?, "
                    f"{', '.join('?' * len(names))})",
                    (secret_id, environment, now, now, *columns.values()),
                )
                value_id = cursor.lastrowid
                conn.execute(
                    "INSERT INTO value_blobs (value_id, chain_pem, key_pem, key_passphrase, "
                    "payload) VALUES (?, ?, ?, ?, ?)",
                    (
                        value_id,
                        blobs["chain_pem"],
                        blobs["key_pem"],
                        blobs["key_passphrase"],
                        blobs["payload"],
                    ),
                )
            else:
                value_id = existing[0]
                assignments = ", ".join(f"{c} = ?" for c in names)
                conn.execute(
                    f"UPDATE secret_values SET updated_at = ?, {assignments} WHERE id = ?",
                    (now, *columns.values(), value_id),
                )
                conn.execute(
                    "UPDATE value_blobs SET chain_pem = ?, key_pem = ?, key_passphrase = ?, "
                    "payload = ? WHERE value_id = ?",
                    (
                        blobs["chain_pem"],
                        blobs["key_pem"],
                        blobs["key_passphrase"],
                        blobs["payload"],
                        value_id,
                    ),
                )
            if created:
                operation, what = "create", f"secret created with environment '{environment}'"
            elif existing is None:
                operation, what = "update", f"value added for environment '{environment}'"
            else:
                operation, what = "update", f"value replaced for environment '{environment}'"
            self._audit.record(
                operation,
                secret_id=secret_id,
                secret_name=name,
                secret_type=secret_type,
                environment=environment,
                detail=what + (f"; {detail}" if detail else ""),
            )
            infos = _load_secrets(conn, " WHERE id = ?", (secret_id,))
        return infos[0]

    def list_secrets(self) -> list[SecretInfo]:
        """Every secret with its values' metadata; no blob is read or decrypted."""
        with self._lock, connection.translated_errors():
            return list_secrets_on(self._conn)

    def get_secret(self, name: str) -> SecretInfo:
        with self._lock, connection.translated_errors():
            infos = _load_secrets(self._conn, " WHERE name = ?", (name,))
        if not infos:
            raise self._not_found(name)
        return infos[0]

    def _not_found(self, name: str) -> NotFound:
        return NotFound(
            f"There is no secret named '{name}'.",
            hint="knoxtui secret list shows the names in this vault.",
        )

    def set_status(
        self,
        name: str,
        status: str | None,
        *,
        until: datetime | None = None,
        detail: str | None = None,
    ) -> SecretInfo:
        """Lifecycle marks such as "retiring" (None clears it), with an optional grace-period
        end; audited as an update."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self._not_found(name)
            conn.execute(
                "UPDATE secrets SET status = ?, status_until = ?, updated_at = ? WHERE id = ?",
                (status, iso(until), iso(clock.now()), row[0]),
            )
            what = f"status set to {status or 'none'}"
            if until is not None:
                what += f" until {iso(until)}"
            self._audit.record(
                "update",
                secret_id=row[0],
                secret_name=name,
                secret_type=row[1],
                detail=what + (f"; {detail}" if detail else ""),
            )
        return self.get_secret(name)

    def status_dates(self) -> dict[str, datetime]:
        """Grace-period ends of secrets marked by set_status(..., until=...)."""
        with self._lock, connection.translated_errors():
            return pending.status_dates(self._conn)

    # ------------------------------------------------------------------ pending keys (CSR)

    def add_pending_key(
        self,
        name: str,
        *,
        subject: str,
        san: tuple[str, ...] | list[str],
        key_type: str,
        public_key_sha256: str,
        csr_pem: bytes,
        key_pem: bytes,
        key_passphrase: str,
        passphrase_generated: bool,
        like_secret: str | None = None,
    ) -> PendingKey:
        """Keep a key pair made for a CSR (key encrypted, passphrase in the blob table)."""
        with self._write() as conn:
            pending.insert(
                conn,
                self._audit,
                name=name,
                subject=subject,
                san=tuple(san),
                key_type=key_type,
                public_key_sha256=public_key_sha256,
                like_secret=like_secret,
                passphrase_generated=passphrase_generated,
                csr_pem=csr_pem,
                key_pem=key_pem,
                key_passphrase=key_passphrase,
            )
        return self.get_pending_key(name)

    def get_pending_key(self, name: str, *, with_key: bool = False) -> PendingKey:
        """Metadata and CSR; with_key also returns the key and its passphrase (audited)."""
        if not with_key:
            with self._lock, connection.translated_errors():
                return pending.select_one(self._conn, self._audit, name, with_key=False)
        with self._write() as conn:
            return pending.select_one(conn, self._audit, name, with_key=True)

    def list_pending_keys(self) -> list[PendingKey]:
        with self._lock, connection.translated_errors():
            return pending.select_all(self._conn)

    def remove_pending_key(self, name: str, *, detail: str = "pending key discarded") -> None:
        with self._write() as conn:
            pending.delete(conn, self._audit, name, detail=detail)

    def resolve(
        self, name: str, environment: str, *, purpose: str = "access", detail: str | None = None
    ) -> CertificateValue | str | OAuth2Config:
        """The value for `environment`, audited (with `detail`, never a value). Only a secret
        whose single value is `default` serves other environments; otherwise a missing
        environment is EnvironmentMissing."""
        if purpose not in RESOLVE_PURPOSES:
            raise UsageError(f"Unknown purpose '{purpose}'; use one of {RESOLVE_PURPOSES}.")
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self._not_found(name)
            secret_id, secret_type = row
            values = dict(
                conn.execute(
                    "SELECT environment_name, id FROM secret_values WHERE secret_id = ?",
                    (secret_id,),
                ).fetchall()
            )
            if environment in values:
                used = environment
            elif list(values) == [DEFAULT_ENV]:
                used = DEFAULT_ENV
            else:
                raise EnvironmentMissing(name, environment, list(values))
            chain_pem, key_pem, key_passphrase, payload = conn.execute(
                "SELECT chain_pem, key_pem, key_passphrase, payload FROM value_blobs "
                "WHERE value_id = ?",
                (values[used],),
            ).fetchone()
            self._audit.record(
                purpose,
                secret_id=secret_id,
                secret_name=name,
                secret_type=secret_type,
                environment=environment,
                detail="; ".join(
                    part
                    for part in (
                        None if used == environment else f"served by the '{used}' value",
                        detail,
                    )
                    if part
                )
                or None,
            )
        if secret_type == "certificate":
            return CertificateValue(
                chain_pem=bytes(chain_pem),
                key_pem=bytes(key_pem) if key_pem is not None else None,
                key_passphrase=bytes(key_passphrase).decode("utf-8") if key_passphrase else None,
            )
        if secret_type == "oauth2":
            return OAuth2Config.from_dict(json.loads(bytes(payload).decode("utf-8")))
        return bytes(payload).decode("utf-8")

    def remove_value(self, name: str, environment: str, *, force: bool = False) -> None:
        """Remove one environment's value; removing the last value removes the secret."""
        with self._write() as conn:
            info = self.get_secret(name)
            if environment not in info.environments:
                raise NotFound(
                    f"Secret '{name}' has no value for environment '{environment}' "
                    f"(it has: {', '.join(info.environments) or 'none'}).",
                )
            if info.environments == (environment,):
                self.remove_secret(name, force=force)
                return
            conn.execute(
                "DELETE FROM secret_values WHERE secret_id = ? AND environment_name = ?",
                (info.id, environment),
            )
            conn.execute(
                "UPDATE secrets SET updated_at = ? WHERE id = ?", (iso(clock.now()), info.id)
            )
            self._audit.record(
                "delete",
                secret_id=info.id,
                secret_name=name,
                secret_type=info.secret_type,
                environment=environment,
                detail=f"value removed for environment '{environment}'",
            )

    def _users_of(self, name: str) -> tuple[list[str], list[str]]:
        """(routes, oauth2 secrets) that refer to secret `name`."""
        routes = self.routes_using(name)
        oauth = []
        for secret_name, details in self._read(
            "SELECT s.name, v.details FROM secrets s JOIN secret_values v ON v.secret_id = s.id "
            "WHERE s.secret_type = 'oauth2'"
        ):
            data = json.loads(details or "{}")
            if name in (data.get("certificate_secret_id"), data.get("ca_bundle_secret_id")):
                oauth.append(secret_name)
        return routes, sorted(set(oauth))

    def remove_secret(self, name: str, *, force: bool = False) -> None:
        """Remove a secret and all its values (pages zeroed by secure_delete). Refused while a
        route or oauth2 secret uses it, unless force."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self._not_found(name)
            routes, oauth = self._users_of(name)
            if (routes or oauth) and not force:
                users = []
                if routes:
                    users.append("route(s) " + ", ".join(routes))
                if oauth:
                    users.append("oauth2 secret(s) " + ", ".join(oauth))
                raise Conflict(
                    f"Secret '{name}' is used by {' and '.join(users)}; nothing was removed.",
                    hint="Point those at another secret first, or remove it anyway (--force on the "
                    "command line, Delete and confirm in the console); they will then fail with "
                    "an unknown secret.",
                )
            conn.execute("DELETE FROM secrets WHERE id = ?", (row[0],))
            forced = " (forced; still referenced)" if routes or oauth else ""
            self._audit.record(
                "delete",
                secret_id=row[0],
                secret_name=name,
                secret_type=row[1],
                detail="secret removed" + forced,
            )

    def rename_secret(self, old: str, new: str) -> None:
        """Rename, rewriting every route and oauth2 reference in the same transaction."""
        check_name(new)
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (old,)
            ).fetchone()
            if row is None:
                raise self._not_found(old)
            if conn.execute("SELECT 1 FROM secrets WHERE name = ?", (new,)).fetchone():
                raise Conflict(f"A secret named '{new}' already exists; nothing was renamed.")
            now = iso(clock.now())
            conn.execute(
                "UPDATE secrets SET name = ?, updated_at = ? WHERE id = ?", (new, now, row[0])
            )
            for route_id, config in conn.execute("SELECT id, config FROM routes").fetchall():
                data = json.loads(config)
                if old in route_references(data):
                    conn.execute(
                        "UPDATE routes SET config = ?, updated_at = ? WHERE id = ?",
                        (json.dumps(_rename_in(data, old, new)), now, route_id),
                    )
            oauth_rows = conn.execute(
                "SELECT v.id, v.details, b.payload FROM secret_values v "
                "JOIN secrets s ON s.id = v.secret_id JOIN value_blobs b ON b.value_id = v.id "
                "WHERE s.secret_type = 'oauth2'"
            ).fetchall()
            for value_id, details, payload in oauth_rows:
                meta = json.loads(details or "{}")
                if old not in (meta.get("certificate_secret_id"), meta.get("ca_bundle_secret_id")):
                    continue
                full = json.loads(bytes(payload).decode("utf-8"))
                for key in ("certificate_secret_id", "ca_bundle_secret_id"):
                    if meta.get(key) == old:
                        meta[key] = new
                        full[key] = new
                conn.execute(
                    "UPDATE secret_values SET details = ? WHERE id = ?",
                    (json.dumps(meta), value_id),
                )
                conn.execute(
                    "UPDATE value_blobs SET payload = ? WHERE value_id = ?",
                    (json.dumps(full, sort_keys=True).encode("utf-8"), value_id),
                )
            self._audit.record(
                "update",
                secret_id=row[0],
                secret_name=new,
                secret_type=row[1],
                detail=f"renamed from '{old}'",
            )

    def routes_using(self, name: str) -> list[str]:
        return sorted(
            route_name
            for route_name, config in self._read("SELECT name, config FROM routes")
            if name in route_references(json.loads(config))
        )

    # ------------------------------------------------------------------ routes

    def save_route(
        self, name: str, config: dict[str, Any], *, replace: bool = False
    ) -> RouteRecord:
        """Store a route (DESIGN.md §2). Every {{secret:NAME}} and *_secret_id must name an
        existing secret of the right type; unknown names are listed and nothing is saved."""
        check_name(name, "route")
        data = _validate_route_config(name, config)
        with self._write() as conn:
            wanted = route_references(data)
            known = dict(conn.execute("SELECT name, secret_type FROM secrets").fetchall())
            unknown = [ref for ref in wanted if ref not in known]
            if unknown:
                raise ValidationError(
                    f"Route '{name}' refers to unknown secret(s): {', '.join(unknown)}; "
                    "it was not saved.",
                    hint="Add them first (knoxtui secret add ...) or fix the names.",
                    code="unknown_secret",
                )
            for key, kind in ROUTE_SECRET_TYPES.items():
                ref = refs.field_name(data.get(key))
                if isinstance(ref, str) and ref in known and known[ref] != kind:
                    raise ValidationError(
                        f"Route '{name}': {key} '{ref}' is a {known[ref]} secret, "
                        f"but a {kind} secret is needed.",
                        code="wrong_secret_type",
                    )
            now = iso(clock.now())
            row = conn.execute("SELECT id FROM routes WHERE name = ?", (name,)).fetchone()
            if row is not None and not replace:
                raise Conflict(
                    f"A route named '{name}' already exists; nothing was changed.",
                    hint="Choose another name, or replace it (--replace on the command line; in "
                    "the console, open that route and save it).",
                )
            text = json.dumps(data, sort_keys=True)
            if row is None:
                route_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO routes (id, name, config, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (route_id, name, text, now, now),
                )
            else:
                route_id = row[0]
                conn.execute(
                    "UPDATE routes SET config = ?, updated_at = ? WHERE id = ?",
                    (text, now, route_id),
                )
            self._audit.record(
                "route_create" if row is None else "route_update",
                detail=f"route '{name}' ({route_id})",
            )
        return self.get_route(name)

    def _route_from_row(self, row: tuple[Any, ...]) -> RouteRecord:
        return RouteRecord(
            id=row[0],
            name=row[1],
            config=json.loads(row[2]),
            created_at=parse_iso(row[3]),
            updated_at=parse_iso(row[4]),
        )

    def get_route(self, name: str) -> RouteRecord:
        rows = self._read(
            "SELECT id, name, config, created_at, updated_at FROM routes WHERE name = ?", (name,)
        )
        if not rows:
            raise NotFound(
                f"There is no route named '{name}'.",
                hint="knoxtui route list shows the routes in this vault.",
            )
        return self._route_from_row(rows[0])

    def list_routes(self) -> list[RouteRecord]:
        return [
            self._route_from_row(row)
            for row in self._read(
                "SELECT id, name, config, created_at, updated_at FROM routes ORDER BY name"
            )
        ]

    def remove_route(self, name: str) -> None:
        with self._write() as conn:
            row = conn.execute("SELECT id FROM routes WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"There is no route named '{name}'.")
            conn.execute("DELETE FROM routes WHERE id = ?", (row[0],))
            self._audit.record("route_delete", detail=f"route '{name}' ({row[0]})")

    # ------------------------------------------------------------------ logs

    def audit_entries(
        self, *, secret: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Oldest first; `secret` matches the name then, and the current secret's id (renames)."""
        with self._lock, connection.translated_errors():
            ids: tuple[str, ...] = ()
            if secret is not None:
                row = self._conn.execute(
                    "SELECT id FROM secrets WHERE name = ?", (secret,)
                ).fetchone()
                ids = (row[0],) if row else ()
            return self._audit.entries(secret_ids=ids, secret_name=secret, limit=limit)

    def verify_audit(self) -> AuditVerification:
        with self._lock, connection.translated_errors():
            return self._audit.verify()

    def log_request(
        self,
        *,
        route: str,
        environment: str,
        certificate_secret: str | None,
        certificate_fingerprint: str | None,
        status_code: int | None,
        outcome: str,
        duration_ms: float | None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        """One row in route_request_log. The URL is kept without its query string."""
        with self._write() as conn:
            route_row = conn.execute("SELECT id FROM routes WHERE name = ?", (route,)).fetchone()
            cert_row = (
                conn.execute(
                    "SELECT id FROM secrets WHERE name = ?", (certificate_secret,)
                ).fetchone()
                if certificate_secret
                else None
            )
            self._audit.record_request(
                {
                    "route_id": route_row[0] if route_row else None,
                    "route_name": route,
                    "environment_name": environment,
                    "certificate_secret_id": cert_row[0] if cert_row else None,
                    "certificate_secret_name": certificate_secret,
                    "certificate_used": int(bool(certificate_secret or certificate_fingerprint)),
                    "certificate_fingerprint": certificate_fingerprint,
                    "method": method,
                    "url": _safe_url(url),
                    "status_code": status_code,
                    "outcome": outcome,
                    "duration_ms": duration_ms,
                }
            )

    def request_entries(self, *, limit: int | None = None) -> list[RequestLogEntry]:
        with self._lock, connection.translated_errors():
            return self._audit.requests(limit=limit)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One read-only SELECT (the KnoxCall compliance queries) over the logs and the metadata
        tables; value_blobs is out of reach, and nothing can be written."""
        from knoxtui.vault.query import run_readonly

        with self._lock:
            if self._batch_depth:
                raise Conflict("A query cannot run in the middle of a batch.")
            return run_readonly(self._conn, sql, QUERY_TIME_LIMIT_S)


def _backfill_ca_bundles(conn: Any) -> None:
    """String values stored by an older knoxtui get their CA-bundle metadata once."""
    if not cabundle.needs_backfill(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        cabundle.backfill(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _payload_value(
    details: dict[str, Any], payload: bytes
) -> tuple[dict[str, Any], dict[str, bytes | None]]:
    """Columns and blobs of a string or oauth2 value: no certificate metadata, one payload blob."""
    columns = {c: None for c in _CERT_COLUMNS} | {"details": json.dumps(details)}
    blobs: dict[str, bytes | None] = {
        "chain_pem": None,
        "key_pem": None,
        "key_passphrase": None,
        "payload": payload,
    }
    return columns, blobs
