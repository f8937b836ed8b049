"""Numbered migrations on PRAGMA user_version, from every earlier version to the current one."""

from __future__ import annotations

import pytest
import sqlcipher3
from vault_material import (
    CHEAP_KDF,
    VAULT_PASSPHRASE,
    file_sha256,
)

from knoxtui.errors import VaultError
from knoxtui.vault import DEFAULT_ENV, Vault, schema
from knoxtui.vault.audit import AuditTrail

NOW = "2026-05-01T10:00:00Z"


def _old_vault(path, version: int) -> None:
    """A vault as an older knoxtui left it, with data in every table that version had."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{VAULT_PASSPHRASE}'")
    conn.execute(f"PRAGMA kdf_iter = {CHEAP_KDF}")
    conn.execute("BEGIN")
    schema.apply(conn, 0, version)
    conn.execute(
        "INSERT INTO secrets (id, name, secret_type, description, created_at, updated_at) "
        "VALUES ('s1', 'token', 'string', 'old one', ?, ?)",
        (NOW, NOW),
    )
    conn.execute(
        "INSERT INTO secret_values (id, secret_id, environment_name, created_at, updated_at) "
        "VALUES (1, 's1', 'production', ?, ?)",
        (NOW, NOW),
    )
    conn.execute("INSERT INTO value_blobs (value_id, payload) VALUES (1, ?)", (b"tok-old",))
    conn.execute(
        "INSERT INTO routes (id, name, config, created_at, updated_at) VALUES "
        "('r1', 'accounts', ?, ?, ?)",
        ('{"target_url": "https://a.example", "headers": {"X": "{{secret:token}}"}}', NOW, NOW),
    )
    if version >= 2:
        AuditTrail(conn).record(
            "create",
            secret_id="s1",
            secret_name="token",
            secret_type="string",
            environment="production",
        )
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.parametrize("version", range(1, schema.CURRENT_VERSION))
def test_migrates_from_every_earlier_version(vault_path, frozen, version: int) -> None:
    _old_vault(vault_path, version)
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as migrated:
        assert migrated.schema_version == schema.CURRENT_VERSION
        info = migrated.get_secret("token")
        assert info.description == "old one" and info.environments == ("production",)
        assert migrated.resolve("token", "production") == "tok-old"
        assert migrated.routes_using("token") == ["accounts"]
        migrated.add_string("new", "v", environment=DEFAULT_ENV)
        assert migrated.verify_audit().ok
    # Opening again is a no-op (already current).
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as again:
        assert again.schema_version == schema.CURRENT_VERSION


def test_fresh_vault_is_current(vault: Vault) -> None:
    assert vault.schema_version == schema.CURRENT_VERSION
    app_id = vault._conn.execute("PRAGMA application_id").fetchone()[0]
    assert app_id == schema.APPLICATION_ID


def test_vault_from_a_newer_knoxtui_is_left_alone(vault: Vault, vault_path) -> None:
    vault._conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    vault.close()
    before = file_sha256(vault_path)
    with pytest.raises(VaultError) as caught:
        Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    assert caught.value.code == "vault_too_new"
    assert file_sha256(vault_path) == before
