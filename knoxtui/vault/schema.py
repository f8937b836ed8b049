"""The vault schema as numbered migrations on `PRAGMA user_version`.

Migration N takes a vault at version N-1 to N. Never edit a released step: add a new one. All
pending steps run in one transaction, so a vault is always at exactly one version.
Values (PEM, keys, passphrases, string and oauth2 payloads) live in `value_blobs`, apart from the
metadata columns, so listing never reads a blob page.
"""

from __future__ import annotations

from typing import Any

from knoxtui.errors import NotAVault, VaultError
from knoxtui.vault import changes, pending, remotes

# "KNXT": marks the decrypted database as ours (an SQLCipher file of another app is not a vault).
APPLICATION_ID = 0x4B4E5854

_V1 = [
    """CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        secret_type TEXT NOT NULL CHECK (secret_type IN ('certificate', 'string', 'oauth2')),
        description TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE secret_values (
        id INTEGER PRIMARY KEY,
        secret_id TEXT NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
        environment_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        subject TEXT, subject_cn TEXT, issuer TEXT, issuer_cn TEXT, serial TEXT,
        valid_from TEXT, valid_until TEXT, fingerprint_sha256 TEXT,
        key_type TEXT, key_size INTEGER, san TEXT, client_auth_eku INTEGER,
        has_private_key INTEGER, has_passphrase INTEGER, encrypted_key INTEGER,
        chain_issuers TEXT, psd2_roles TEXT, organization_identifier TEXT,
        warnings TEXT, allowed_expired INTEGER,
        UNIQUE (secret_id, environment_name)
    )""",
    """CREATE TABLE value_blobs (
        value_id INTEGER PRIMARY KEY REFERENCES secret_values(id) ON DELETE CASCADE,
        chain_pem BLOB,
        key_pem BLOB,
        key_passphrase BLOB,
        payload BLOB
    )""",
    """CREATE TABLE routes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        config TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    f"PRAGMA application_id = {APPLICATION_ID}",
]


def _append_only(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
    ]


_V2 = [
    # Column names of the KnoxCall guide, so its compliance queries run verbatim.
    """CREATE TABLE secret_audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        operation TEXT NOT NULL,
        secret_id TEXT,
        secret_name TEXT,
        secret_type TEXT,
        environment_name TEXT,
        performed_by TEXT NOT NULL,
        performed_at TEXT NOT NULL,
        ip_address TEXT,
        host TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        row_hash TEXT NOT NULL
    )""",
    *_append_only("secret_audit_log"),
    """CREATE TABLE route_request_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        route_id TEXT,
        route_name TEXT NOT NULL,
        environment_name TEXT NOT NULL,
        certificate_secret_id TEXT,
        certificate_secret_name TEXT,
        certificate_used INTEGER NOT NULL,
        certificate_fingerprint TEXT,
        method TEXT,
        url TEXT,
        status_code INTEGER,
        outcome TEXT NOT NULL,
        duration_ms REAL,
        accessed_at TEXT NOT NULL,
        client_ip TEXT,
        performed_by TEXT,
        host TEXT,
        prev_hash TEXT NOT NULL,
        row_hash TEXT NOT NULL
    )""",
    *_append_only("route_request_log"),
]

_V3 = [
    # Non-secret facts of string/oauth2 values, so their listing needs no blob either.
    "ALTER TABLE secret_values ADD COLUMN details TEXT",
    # Lifecycle marks ("retiring").
    "ALTER TABLE secrets ADD COLUMN status TEXT",
    "CREATE INDEX secret_values_valid_until ON secret_values(valid_until)",
    "CREATE INDEX secret_audit_log_secret ON secret_audit_log(secret_id)",
    "CREATE INDEX secret_audit_log_name ON secret_audit_log(secret_name)",
]

# Pending keys (CSR key pairs awaiting their certificate) and grace-period dates (issue 6).
_V4 = list(pending.MIGRATION)

# Remotes, their credentials, per-item sync state and remotely issued certificates (issue 13).
_V5 = list(remotes.MIGRATION)

# Item digests (content of each secret and route) for 'what changed since' (issue 14).
_V6 = list(changes.MIGRATION)


def _no_replace(table: str) -> str:
    # INSERT OR REPLACE deletes the old row without firing the delete trigger (issue 11 item 6);
    # a BEFORE INSERT trigger runs before that conflict resolution.
    return f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""


# The logs refuse REPLACE as they refuse UPDATE and DELETE.
_V7 = [_no_replace("secret_audit_log"), _no_replace("route_request_log")]

GUARD_TRIGGERS: dict[str, str] = {
    name: sql
    for table in ("secret_audit_log", "route_request_log")
    for name, sql in zip(
        (f"{table}_no_update", f"{table}_no_delete", f"{table}_no_replace"),
        (*_append_only(table), _no_replace(table)),
        strict=True,
    )
}

# The key of the item digests (schema 6), hidden from audit --sql like every *_blobs table.
_V8 = list(changes.KEY_MIGRATION)

# What a run found, for the console's request history (issue 15 item 14): the diagnosis, fix,
# handshake summary, status and timings as JSON — never a header, body or secret value. Kept
# beside the hash-chained log (its columns stay the guide's), append-only like it.
_V9 = [
    """CREATE TABLE route_request_details (
        request_id INTEGER PRIMARY KEY REFERENCES route_request_log(id),
        details TEXT NOT NULL
    )""",
    *_append_only("route_request_details"),
]

# A string value's length said how long an API key is, in --json and --sql (issue 11 item 11):
# no longer stored, and dropped from the values stored before.
_V10 = [
    "UPDATE secret_values SET details = json_remove(details, '$.length') "
    "WHERE details IS NOT NULL AND json_valid(details) "
    "AND json_type(details, '$.length') IS NOT NULL"
]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10]
CURRENT_VERSION = len(MIGRATIONS)


def user_version(conn: Any) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply(conn: Any, start: int, stop: int) -> None:
    """Run steps start+1..stop inside the caller's transaction."""
    for version in range(start + 1, stop + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {stop}")


def check_identity(conn: Any, where: str) -> int:
    """The schema version of an opened database, after checking it is a knoxtui vault."""
    version = user_version(conn)
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != APPLICATION_ID:
        raise NotAVault(
            f"'{where}' is an encrypted database, but not a knoxtui vault.",
            hint="Point --vault at your vault file (knoxtui locate prints the default).",
        )
    if version > CURRENT_VERSION:
        raise VaultError(
            f"The vault '{where}' was written by a newer knoxtui (schema {version}, this one "
            f"knows up to {CURRENT_VERSION}); it was not changed.",
            hint="Upgrade knoxtui to open it.",
            code="vault_too_new",
        )
    return version


def migrate(conn: Any, where: str) -> int:
    """Bring the vault to CURRENT_VERSION in one transaction; returns the version it had."""
    version = check_identity(conn, where)
    if version == CURRENT_VERSION:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated between our read and our lock.
        version = check_identity(conn, where)
        apply(conn, version, CURRENT_VERSION)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version
