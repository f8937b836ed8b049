"""The vault side of team sync (issue 13): remotes (OpenBao / HashiCorp Vault servers), their
credentials, the per-item sync state and the certificates a remote PKI issued.

Plain columns and free functions over a connection, like `pending`: `knoxtui.remote` reads and
writes them through `Vault`; the vault never imports `remote`. Credentials (tokens, AppRole ids)
sit in `remote_credential_blobs`, which `audit --sql` cannot read (every `*_blobs` table is hidden).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from knoxtui import clock
from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.vault import changes
from knoxtui.vault.models import CertificateValue, OAuth2Config, check_name, iso, parse_iso

# Appended to schema.MIGRATIONS as one step.
MIGRATION = [
    """CREATE TABLE remotes (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        kv_mount TEXT NOT NULL,
        prefix TEXT NOT NULL,
        namespace TEXT,
        auth TEXT NOT NULL CHECK (auth IN ('token', 'approle', 'cert')),
        cert_secret TEXT,
        ca_bundle_secret TEXT,
        pki_mount TEXT NOT NULL,
        auth_mount TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE remote_credential_blobs (
        remote_name TEXT PRIMARY KEY REFERENCES remotes(name) ON DELETE CASCADE,
        token BLOB,
        role_id BLOB,
        secret_id BLOB
    )""",
    # Per item and remote: the upstream version last seen and a digest of the local item then.
    """CREATE TABLE remote_sync (
        remote_name TEXT NOT NULL REFERENCES remotes(name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('secret', 'route')),
        item_name TEXT NOT NULL,
        upstream_version INTEGER NOT NULL,
        local_digest TEXT NOT NULL,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (remote_name, kind, item_name)
    )""",
    # Certificates signed by a remote's PKI engine: `retire --revoke` finds the issuer here.
    """CREATE TABLE remote_issued (
        serial TEXT NOT NULL,
        remote_name TEXT NOT NULL,
        pki_mount TEXT NOT NULL,
        secret_name TEXT NOT NULL,
        environment_name TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        revoked_at TEXT,
        PRIMARY KEY (remote_name, serial)
    )""",
]

AUTH_METHODS = ("token", "approle", "cert")
SYNC_KINDS = ("secret", "route")
CREDENTIAL_TYPE = "remote_credential"  # secret_type of the audit rows that read credentials
_REMOTE_COLUMNS = (
    "name, url, kv_mount, prefix, namespace, auth, cert_secret, ca_bundle_secret, pki_mount, "
    "auth_mount, created_at"
)


@dataclass(frozen=True)
class RemoteRecord:
    """A secrets server the team shares (no credentials: those come from `credentials()`)."""

    name: str
    url: str
    kv_mount: str = "secret"
    prefix: str = "knoxtui"
    namespace: str | None = None
    auth: str = "token"
    cert_secret: str | None = None
    ca_bundle_secret: str | None = None
    pki_mount: str = "pki"
    auth_mount: str | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["created_at"] = iso(self.created_at)
        return out


@dataclass(frozen=True)
class RemoteCredentials:
    """Decrypted from the vault, in memory only; never printed."""

    token: str | None = field(default=None, repr=False)
    role_id: str | None = field(default=None, repr=False)
    secret_id: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SyncMark:
    """What the vault knew of an item at its last push or pull to a remote."""

    kind: str
    name: str
    upstream_version: int
    local_digest: str
    synced_at: datetime


@dataclass(frozen=True)
class SecretMaterial:
    """A whole secret, every environment's value decrypted, to be written upstream."""

    name: str
    secret_type: str
    description: str | None
    values: dict[str, Any] = field(repr=False)  # env -> CertificateValue, str or OAuth2Config


@dataclass(frozen=True)
class IssuedCertificate:
    serial: str
    remote_name: str
    pki_mount: str
    secret_name: str
    environment: str
    issued_at: datetime
    revoked_at: datetime | None


def _remote_from_row(row: tuple[Any, ...]) -> RemoteRecord:
    return RemoteRecord(
        name=row[0],
        url=row[1],
        kv_mount=row[2],
        prefix=row[3],
        namespace=row[4],
        auth=row[5],
        cert_secret=row[6],
        ca_bundle_secret=row[7],
        pki_mount=row[8],
        auth_mount=row[9],
        created_at=parse_iso(row[10]),
    )


def _blob(text: str | None) -> bytes | None:
    return text.encode("utf-8") if text else None


def _text(blob: Any) -> str | None:
    return bytes(blob).decode("utf-8") if blob is not None else None


def secret_digests(conn: Any, names: list[str] | None = None) -> dict[str, str]:
    """Name -> digest of what a remote holds of a secret (type, description, every environment's
    value), as stored with the secret when it was written (vault/changes.py): no blob is read."""
    return changes.stored(conn, changes.SECRET, names)


def route_digests(conn: Any, names: list[str] | None = None) -> dict[str, str]:
    return changes.stored(conn, changes.ROUTE, names)


class RemoteStore:
    """The remotes part of a `Vault` (`vault.remotes`): config, credentials, sync marks, issued
    certificates. Every write runs in the vault's transaction rules and appends its audit row."""

    def __init__(self, vault: Any) -> None:
        self._vault = vault

    # ------------------------------------------------------------------ remotes

    def add(
        self, record: RemoteRecord, credentials: RemoteCredentials, *, replace: bool = False
    ) -> RemoteRecord:
        check_name(record.name, "remote")
        if record.auth not in AUTH_METHODS:
            raise ValidationError(
                f"Unknown auth method '{record.auth}'.",
                hint="Use one of: " + ", ".join(AUTH_METHODS) + ".",
            )
        with self._vault.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM remotes WHERE name = ?", (record.name,)).fetchone()
            if exists and not replace:
                raise Conflict(
                    f"A remote named '{record.name}' already exists; nothing was changed.",
                    hint=f"Remove it first (knoxtui remote rm {record.name}) or choose another "
                    "name.",
                )
            now = iso(clock.now())
            values = (
                record.url,
                record.kv_mount,
                record.prefix,
                record.namespace,
                record.auth,
                record.cert_secret,
                record.ca_bundle_secret,
                record.pki_mount,
                record.auth_mount,
            )
            if exists:
                conn.execute(
                    "UPDATE remotes SET url = ?, kv_mount = ?, prefix = ?, namespace = ?, "
                    "auth = ?, cert_secret = ?, ca_bundle_secret = ?, pki_mount = ?, "
                    "auth_mount = ? "
                    "WHERE name = ?",
                    (*values, record.name),
                )
            else:
                conn.execute(
                    f"INSERT INTO remotes ({_REMOTE_COLUMNS}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.name, *values, now),
                )
            conn.execute(
                "INSERT OR REPLACE INTO remote_credential_blobs (remote_name, token, role_id, "
                "secret_id) VALUES (?, ?, ?, ?)",
                (
                    record.name,
                    _blob(credentials.token),
                    _blob(credentials.role_id),
                    _blob(credentials.secret_id),
                ),
            )
            stored = [k for k in ("token", "role_id", "secret_id") if getattr(credentials, k)]
            self._vault.trail.record(
                "remote_update" if exists else "remote_add",
                secret_name=record.name,
                secret_type="remote",
                detail=f"remote '{record.name}' at {record.url} (auth {record.auth}; stored: "
                f"{', '.join(stored) or 'no credentials'})",
            )
        return self.get(record.name)

    def get(self, name: str) -> RemoteRecord:
        rows = self._vault.fetch(f"SELECT {_REMOTE_COLUMNS} FROM remotes WHERE name = ?", (name,))
        if not rows:
            raise NotFound(
                f"There is no remote named '{name}'.",
                hint="knoxtui remote list shows the remotes; knoxtui remote add NAME --url URL "
                "adds one.",
            )
        return _remote_from_row(rows[0])

    def all(self) -> list[RemoteRecord]:
        return [
            _remote_from_row(row)
            for row in self._vault.fetch(f"SELECT {_REMOTE_COLUMNS} FROM remotes ORDER BY name")
        ]

    def remove(self, name: str) -> None:
        with self._vault.transaction() as conn:
            if not conn.execute("SELECT 1 FROM remotes WHERE name = ?", (name,)).fetchone():
                raise self._missing(name)
            conn.execute("DELETE FROM remotes WHERE name = ?", (name,))
            self._vault.trail.record(
                "remote_remove",
                secret_name=name,
                secret_type="remote",
                detail=f"remote '{name}' removed with its credentials and sync marks",
            )

    def _missing(self, name: str) -> NotFound:
        return NotFound(f"There is no remote named '{name}'.", hint="knoxtui remote list")

    def credentials(self, name: str) -> RemoteCredentials:
        """Decrypted credentials of a remote (an audited access)."""
        with self._vault.transaction() as conn:
            row = conn.execute(
                "SELECT token, role_id, secret_id FROM remote_credential_blobs "
                "WHERE remote_name = ?",
                (name,),
            ).fetchone()
            if row is None:
                return RemoteCredentials()
            if any(part is not None for part in row):
                self._vault.trail.record(
                    "access",
                    secret_name=name,
                    secret_type=CREDENTIAL_TYPE,
                    detail=f"credentials of remote '{name}' read to log in",
                )
            return RemoteCredentials(_text(row[0]), _text(row[1]), _text(row[2]))

    def transaction(self) -> Any:
        """One item's writes as a unit: a transaction, or a savepoint inside `vault.batch()`
        (a refused item rolls back alone and the batch goes on)."""
        return self._vault.transaction()

    # ------------------------------------------------------------------ sync marks

    def marks(self, remote: str) -> dict[tuple[str, str], SyncMark]:
        return {
            (row[0], row[1]): SyncMark(row[0], row[1], int(row[2]), row[3], parse_iso(row[4]))
            for row in self._vault.fetch(
                "SELECT kind, item_name, upstream_version, local_digest, synced_at "
                "FROM remote_sync WHERE remote_name = ?",
                (remote,),
            )
        }

    def digests(self, kind: str, names: list[str] | None = None) -> dict[str, str]:
        """Name -> digest of the local items of `kind` (all, or those named that exist)."""
        with self._vault.reading() as conn:
            return secret_digests(conn, names) if kind == "secret" else route_digests(conn, names)

    def mark(self, remote: str, kind: str, name: str, version: int, *, operation: str) -> None:
        """After a push or pull: remember `version` and the local digest now, with its audit
        row (item, remote, version — never a value)."""
        self.mark_many(remote, kind, [(name, version)], operation=operation)

    def mark_many(
        self,
        remote: str,
        kind: str,
        items: list[tuple[str, int]],
        *,
        operation: str,
        overwrote: dict[str, int] | None = None,
    ) -> None:
        """`mark` for many items of one kind in one write (one digest query for all).
        `overwrote`: name -> the upstream version a `push --ours` wrote over (named in the row)."""
        if kind not in SYNC_KINDS:
            raise ValueError(kind)
        if not items:
            return
        names = [name for name, _ in items]
        with self._vault.transaction() as conn:
            found: dict[str, str] = {}
            for start in range(0, len(names), 500):
                part = names[start : start + 500]
                found.update((secret_digests if kind == "secret" else route_digests)(conn, part))
            missing = [n for n in names if n not in found]
            if missing:
                raise NotFound(f"There is no {kind} named '{missing[0]}' to mark as synced.")
            now = iso(clock.now())
            conn.executemany(
                "INSERT OR REPLACE INTO remote_sync (remote_name, kind, item_name, "
                "upstream_version, local_digest, synced_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(remote, kind, name, version, found[name], now) for name, version in items],
            )
            ids: dict[str, tuple[str, str]] = {}
            if kind == "secret":
                for start in range(0, len(names), 500):
                    part = names[start : start + 500]
                    ids.update(
                        (row[0], (row[1], row[2]))
                        for row in conn.execute(
                            "SELECT name, id, secret_type FROM secrets WHERE name IN "
                            f"({', '.join('?' * len(part))})",
                            part,
                        )
                    )
            direction = "to" if operation == "push" else "from"
            for name, version in items:
                secret_id, secret_type = ids.get(name, (None, "route"))
                detail = f"{kind} '{name}' {direction} remote '{remote}', version {version}"
                if overwrote and name in overwrote:
                    detail += f" (--ours: overwrote version {overwrote[name]})"
                self._vault.trail.record(
                    operation,
                    secret_id=secret_id,
                    secret_name=name,
                    secret_type=secret_type,
                    detail=detail,
                )

    def forget(self, remote: str, kind: str, name: str) -> None:
        with self._vault.transaction() as conn:
            conn.execute(
                "DELETE FROM remote_sync WHERE remote_name = ? AND kind = ? AND item_name = ?",
                (remote, kind, name),
            )

    def secret_material(self, name: str) -> SecretMaterial:
        """Every value of a secret, decrypted (for a push; the push's audit row covers it)."""
        with self._vault.reading() as conn:
            head = conn.execute(
                "SELECT id, secret_type, description FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if head is None:
                raise NotFound(f"There is no secret named '{name}'.")
            rows = conn.execute(
                "SELECT v.environment_name, b.chain_pem, b.key_pem, b.key_passphrase, b.payload "
                "FROM secret_values v JOIN value_blobs b ON b.value_id = v.id "
                "WHERE v.secret_id = ? ORDER BY v.environment_name",
                (head[0],),
            ).fetchall()
        values: dict[str, Any] = {}
        for env, chain, key, passphrase, payload in rows:
            if head[1] == "certificate":
                values[env] = CertificateValue(
                    chain_pem=bytes(chain),
                    key_pem=bytes(key) if key is not None else None,
                    key_passphrase=_text(passphrase),
                )
            elif head[1] == "oauth2":
                values[env] = OAuth2Config.from_dict(json.loads(bytes(payload).decode("utf-8")))
            else:
                values[env] = bytes(payload).decode("utf-8")
        return SecretMaterial(name=name, secret_type=head[1], description=head[2], values=values)

    # ------------------------------------------------------------------ issued certificates

    def record_issued(
        self, remote: str, pki_mount: str, serial: str, secret_name: str, environment: str
    ) -> None:
        with self._vault.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_issued (serial, remote_name, pki_mount, "
                "secret_name, environment_name, issued_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (serial, remote, pki_mount, secret_name, environment, iso(clock.now())),
            )
            self._vault.trail.record(
                "sign",
                secret_name=secret_name,
                secret_type="certificate",
                environment=environment,
                detail=f"serial {serial} signed by remote '{remote}' ({pki_mount})",
            )

    def issued(self, serials: list[str]) -> list[IssuedCertificate]:
        if not serials:
            return []
        marks = ", ".join("?" * len(serials))
        return [
            IssuedCertificate(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                parse_iso(row[5]),
                parse_iso(row[6]) if row[6] else None,
            )
            for row in self._vault.fetch(
                "SELECT serial, remote_name, pki_mount, secret_name, environment_name, issued_at, "
                f"revoked_at FROM remote_issued WHERE serial IN ({marks}) ORDER BY issued_at",
                tuple(serials),
            )
        ]

    def mark_revoked(self, remote: str, serial: str, secret_name: str) -> None:
        with self._vault.transaction() as conn:
            conn.execute(
                "UPDATE remote_issued SET revoked_at = ? WHERE remote_name = ? AND serial = ?",
                (iso(clock.now()), remote, serial),
            )
            self._vault.trail.record(
                "revoke",
                secret_name=secret_name,
                secret_type="certificate",
                detail=f"serial {serial} revoked on remote '{remote}'",
            )
