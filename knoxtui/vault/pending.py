"""Pending keys (a key pair made for a CSR, waiting for the CA's certificate): the vault side of
renewal (issue 6). `PendingKeys` is the part the vault hands out as `vault.pending`.

Key material sits in `pending_key_blobs`, which `audit --sql` cannot read (like `value_blobs`);
`pending_keys` holds the metadata that listing needs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.errors import Conflict, NotFound
from knoxtui.vault.models import check_name, iso, parse_iso

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault

# Appended to schema.MIGRATIONS as one step.
MIGRATION = [
    # Grace-period end of a secret marked "retiring" by a rotation.
    "ALTER TABLE secrets ADD COLUMN status_until TEXT",
    """CREATE TABLE pending_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        san TEXT NOT NULL,
        key_type TEXT NOT NULL,
        public_key_sha256 TEXT NOT NULL,
        like_secret TEXT,
        passphrase_generated INTEGER NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE pending_key_blobs (
        pending_id TEXT PRIMARY KEY REFERENCES pending_keys(id) ON DELETE CASCADE,
        csr_pem BLOB NOT NULL,
        key_pem BLOB NOT NULL,
        key_passphrase BLOB NOT NULL
    )""",
]
HIDDEN_TABLES = ("pending_key_blobs",)
PENDING_TYPE = "pending_key"  # the secret_type written to the audit log for these rows


@dataclass(frozen=True)
class PendingKey:
    """A key pair waiting for its certificate. `key_pem` (encrypted PKCS#8) and its passphrase
    are only filled by `Vault.get_pending_key(name, with_key=True)`."""

    id: str
    name: str
    subject: str
    san: tuple[str, ...]
    key_type: str
    public_key_sha256: str
    like_secret: str | None
    passphrase_generated: bool
    created_at: datetime
    csr_pem: bytes
    key_pem: bytes | None = field(default=None, repr=False)
    key_passphrase: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "subject": self.subject,
            "san": list(self.san),
            "key_type": self.key_type,
            "public_key_sha256": self.public_key_sha256,
            "like_secret": self.like_secret,
            "passphrase_generated": self.passphrase_generated,
            "created_at": iso(self.created_at),
        }


_SELECT = (
    "SELECT p.id, p.name, p.subject, p.san, p.key_type, p.public_key_sha256, p.like_secret, "
    "p.passphrase_generated, p.created_at, b.csr_pem FROM pending_keys p "
    "JOIN pending_key_blobs b ON b.pending_id = p.id"
)


def _from_row(row: tuple[Any, ...]) -> PendingKey:
    return PendingKey(
        id=row[0],
        name=row[1],
        subject=row[2],
        san=tuple(json.loads(row[3] or "[]")),
        key_type=row[4],
        public_key_sha256=row[5],
        like_secret=row[6],
        passphrase_generated=bool(row[7]),
        created_at=parse_iso(row[8]),
        csr_pem=bytes(row[9]),
    )


def not_found(name: str) -> NotFound:
    return NotFound(
        f"There is no pending key named '{name}'.",
        hint="knoxtui csr list shows the pending keys; knoxtui csr new NAME makes one.",
    )


def insert(
    conn: Any,
    audit: Any,
    *,
    name: str,
    subject: str,
    san: tuple[str, ...],
    key_type: str,
    public_key_sha256: str,
    like_secret: str | None,
    passphrase_generated: bool,
    csr_pem: bytes,
    key_pem: bytes,
    key_passphrase: str,
) -> str:
    check_name(name, "pending key")
    if conn.execute("SELECT 1 FROM pending_keys WHERE name = ?", (name,)).fetchone():
        raise Conflict(
            f"A pending key named '{name}' already exists; nothing was changed.",
            hint=f"Attach its certificate (knoxtui csr attach {name} --cert F), "
            f"discard it (knoxtui csr rm {name}), or choose another name.",
        )
    pending_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO pending_keys (id, name, subject, san, key_type, public_key_sha256, "
        "like_secret, passphrase_generated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            pending_id,
            name,
            subject,
            json.dumps(list(san)),
            key_type,
            public_key_sha256,
            like_secret,
            int(passphrase_generated),
            iso(clock.now()),
        ),
    )
    conn.execute(
        "INSERT INTO pending_key_blobs (pending_id, csr_pem, key_pem, key_passphrase) "
        "VALUES (?, ?, ?, ?)",
        (pending_id, csr_pem, key_pem, key_passphrase.encode("utf-8")),
    )
    audit.record(
        "create",
        secret_id=pending_id,
        secret_name=name,
        secret_type=PENDING_TYPE,
        detail=f"pending key {key_type} for a CSR; public key {public_key_sha256}"
        + (f"; renews '{like_secret}'" if like_secret else ""),
    )
    return pending_id


def select_all(conn: Any) -> list[PendingKey]:
    return [_from_row(row) for row in conn.execute(_SELECT + " ORDER BY p.name").fetchall()]


def select_one(conn: Any, audit: Any, name: str, *, with_key: bool) -> PendingKey:
    row = conn.execute(_SELECT + " WHERE p.name = ?", (name,)).fetchone()
    if row is None:
        raise not_found(name)
    pending = _from_row(row)
    if not with_key:
        return pending
    key_pem, key_passphrase = conn.execute(
        "SELECT key_pem, key_passphrase FROM pending_key_blobs WHERE pending_id = ?",
        (pending.id,),
    ).fetchone()
    audit.record(
        "access",
        secret_id=pending.id,
        secret_name=name,
        secret_type=PENDING_TYPE,
        detail="pending key read to pair a certificate",
    )
    return replace(
        pending, key_pem=bytes(key_pem), key_passphrase=bytes(key_passphrase).decode("utf-8")
    )


def delete(conn: Any, audit: Any, name: str, *, detail: str) -> None:
    row = conn.execute("SELECT id FROM pending_keys WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise not_found(name)
    conn.execute("DELETE FROM pending_keys WHERE id = ?", (row[0],))
    audit.record(
        "delete", secret_id=row[0], secret_name=name, secret_type=PENDING_TYPE, detail=detail
    )


class PendingKeys:
    """`vault.pending`: the key pairs waiting for their certificate."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def add(
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
        with self._vault.transaction() as conn:
            insert(
                conn,
                self._vault.trail,
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
        return self.get(name)

    def get(self, name: str, *, with_key: bool = False) -> PendingKey:
        """Metadata and CSR; with_key also returns the key and its passphrase (audited)."""
        if not with_key:
            with self._vault.reading() as conn:
                return select_one(conn, self._vault.trail, name, with_key=False)
        with self._vault.transaction() as conn:
            return select_one(conn, self._vault.trail, name, with_key=True)

    def all(self) -> list[PendingKey]:
        with self._vault.reading() as conn:
            return select_all(conn)

    def remove(self, name: str, *, detail: str = "pending key discarded") -> None:
        with self._vault.transaction() as conn:
            delete(conn, self._vault.trail, name, detail=detail)
