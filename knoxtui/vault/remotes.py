"""The vault side of team sync (issue 13): remotes (OpenBao / HashiCorp Vault servers), their
credentials, the per-item sync state and the certificates a remote PKI issued.

Plain columns and free functions over a connection, like `pending`: `knoxtui.remote` reads and
writes them through `Vault`; the vault never imports `remote`. Credentials (tokens, AppRole ids)
sit in `remote_credential_blobs`, which `audit --sql` cannot read (every `*_blobs` table is hidden).
"""

from __future__ import annotations

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
