"""What changed since: a digest of each item's content (secret, route), stored when the item is
written, and the items changed after a moment. The seam team sync (issue 13) compares against
what it saw at its last push or pull, without decrypting every value each time."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from knoxtui.vault.models import iso, parse_iso

if TYPE_CHECKING:
    from knoxtui.errors import NotFound
    from knoxtui.vault.vault import Vault

# Appended to schema.MIGRATIONS as one step: the digest of each item's content, kept up to date
# by every write (NULL until then: filled once when an older vault is opened).
MIGRATION = [
    "ALTER TABLE secrets ADD COLUMN digest TEXT",
    "ALTER TABLE routes ADD COLUMN digest TEXT",
]
# A second step: the digests are keyed (HMAC-SHA256) with a random key of this vault, so a digest
# read through `audit --sql` (or a sync mark) cannot be used to guess a short string value. The
# key sits in a *_blobs table, which `audit --sql` cannot read.
KEY_MIGRATION = [
    """CREATE TABLE digest_key_blobs (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key BLOB NOT NULL
    )""",
]


SECRET = "secret"
ROUTE = "route"
_TABLES = {SECRET: "secrets", ROUTE: "routes"}


@dataclass(frozen=True)
class ItemChange:
    """One secret or route as it is now: its content digest and when it was last written."""

    kind: str  # "secret" or "route"
    name: str
    digest: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "digest": self.digest,
            "updated_at": iso(self.updated_at),
        }


def _key(conn: Any) -> bytes:
    """The vault's digest key, made on first use (inside the writer's transaction)."""
    row = conn.execute("SELECT key FROM digest_key_blobs WHERE id = 1").fetchone()
    if row is not None:
        return bytes(row[0])
    key = secrets.token_bytes(32)
    conn.execute("INSERT INTO digest_key_blobs (id, key) VALUES (1, ?)", (key,))
    return key


def _feed(digest: Any, *parts: Any) -> None:
    """Length-prefixed, so ("ab", "c") and ("a", "bc") never feed the same bytes."""
    for part in parts:
        if part is None:
            digest.update(b"\x00N")
            continue
        data = part if isinstance(part, bytes | bytearray | memoryview) else str(part).encode()
        digest.update(b"\x00" + len(data).to_bytes(8, "big") + bytes(data))


def secret_digest(conn: Any, secret_id: str) -> str:
    """HMAC over what a secret holds: type, description and every environment's value (blobs),
    environments in name order. Its name, lifecycle marks and timestamps are not part of it."""
    digest = hmac.new(_key(conn), digestmod=hashlib.sha256)
    kind, description = conn.execute(
        "SELECT secret_type, description FROM secrets WHERE id = ?", (secret_id,)
    ).fetchone()
    _feed(digest, kind, description)
    for row in conn.execute(
        "SELECT v.environment_name, b.chain_pem, b.key_pem, b.key_passphrase, b.payload "
        "FROM secret_values v JOIN value_blobs b ON b.value_id = v.id WHERE v.secret_id = ? "
        "ORDER BY v.environment_name",
        (secret_id,),
    ):
        _feed(digest, *row)
    return digest.hexdigest()


def route_digest(conn: Any, config: str) -> str:
    """HMAC over a route's configuration as canonical JSON (its name is not part of it)."""
    canonical = json.dumps(json.loads(config), sort_keys=True).encode("utf-8")
    return hmac.new(_key(conn), canonical, hashlib.sha256).hexdigest()


def store_secret_digest(conn: Any, secret_id: str) -> None:
    """Inside the writer's transaction, after its last change to the secret's rows."""
    conn.execute(
        "UPDATE secrets SET digest = ? WHERE id = ?", (secret_digest(conn, secret_id), secret_id)
    )


def stored(conn: Any, kind: str, names: list[str] | None = None) -> dict[str, str]:
    """Name -> stored digest of every item of `kind`, or of those `names` that exist."""
    sql = f"SELECT name, digest FROM {_TABLES[kind]}"
    if names is None:
        return dict(conn.execute(sql).fetchall())
    found: dict[str, str] = {}
    for start in range(0, len(names), 500):  # SQLite's bound-parameter limit
        chunk = names[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(conn.execute(f"{sql} WHERE name IN ({marks})", chunk).fetchall())
    return found


def changed_since(conn: Any, kind: str, since: datetime | None) -> list[ItemChange]:
    """Items of `kind` written after `since` (all when None), oldest write first. Removed items
    are not here: an item with a sync mark and no row was removed."""
    changes = [
        ItemChange(kind, name, digest, parse_iso(updated_at))
        for name, digest, updated_at in conn.execute(
            f"SELECT name, digest, updated_at FROM {_TABLES[kind]}"
        ).fetchall()
    ]
    if since is not None:
        changes = [change for change in changes if change.updated_at > since]
    changes.sort(key=lambda change: (change.updated_at, change.name))
    return changes


def needs_backfill(conn: Any) -> bool:
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE digest IS NULL LIMIT 1").fetchone()
        for table in _TABLES.values()
    )


def backfill(conn: Any) -> None:
    """Inside the caller's transaction: the digest of every item written before there were
    digests (a vault opened for the first time by this version)."""
    for (secret_id,) in conn.execute("SELECT id FROM secrets WHERE digest IS NULL").fetchall():
        store_secret_digest(conn, secret_id)
    for route_id, config in conn.execute(
        "SELECT id, config FROM routes WHERE digest IS NULL"
    ).fetchall():
        conn.execute(
            "UPDATE routes SET digest = ? WHERE id = ?", (route_digest(conn, config), route_id)
        )


class ItemChanges:
    """The "what changed since" seam of a part whose items have digests (`vault.secrets`,
    `vault.routes`): `digest(name)`, `digests(names)`, `changes_since(moment)`."""

    KIND: str  # SECRET or ROUTE
    _vault: Vault

    def not_found(self, name: str) -> NotFound:
        raise NotImplementedError

    def digest(self, name: str) -> str:
        """The digest of the item's content, stored when it was written: equal digests, equal
        content (its name is not content). Keyed per vault."""
        found = self.digests([name])
        if name not in found:
            raise self.not_found(name)
        return found[name]

    def digests(self, names: list[str] | None = None) -> dict[str, str]:
        """Name -> digest of every item, or of those `names` that exist; no value is read."""
        with self._vault.reading() as conn:
            return stored(conn, self.KIND, names)

    def changes_since(self, since: datetime | None) -> list[ItemChange]:
        """The items written after `since` (every item when None), oldest write first."""
        with self._vault.reading() as conn:
            return changed_since(conn, self.KIND, since)
