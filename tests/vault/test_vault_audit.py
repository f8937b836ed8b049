"""The hash-chained, append-only logs and `query` (audit --sql)."""

from __future__ import annotations

import pytest
import sqlcipher3
from vault_material import (
    CHEAP_KDF,
    TEST_NOW,
    VAULT_PASSPHRASE,
    bundle_of,
    make_client,
)

from knoxtui.errors import UsageError
from knoxtui.vault import Vault
from knoxtui.vault.audit import local_identity


def _populate(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()), environment="production")
    vault.add_string("token", "tok-Kestrel-77")
    vault.resolve("bank", "production")
    vault.resolve("token", "sandbox", purpose="reveal")
    vault.save_route(
        "accounts", {"target_url": "https://api.bank.example", "certificate_secret_id": "bank"}
    )
    vault.log_request(
        route="accounts",
        environment="production",
        certificate_secret="bank",
        certificate_fingerprint="AB:CD",
        status_code=200,
        outcome="ok",
        duration_ms=12.5,
        method="GET",
        url="https://user:pw@api.bank.example/v1?api_key=tok-Kestrel-77",
    )
    vault.remove_secret("token")


def _raw(vault_path):
    conn = sqlcipher3.connect(str(vault_path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{VAULT_PASSPHRASE}'")
    conn.execute(f"PRAGMA kdf_iter = {CHEAP_KDF}")
    return conn


def test_every_operation_is_logged_with_who_when_where(vault: Vault) -> None:
    _populate(vault)
    entries = vault.audit_entries()
    assert [e.operation for e in entries] == [
        "create_vault",
        "create",
        "create",
        "access",
        "reveal",
        "route_create",
        "delete",
    ]
    user, host, _ = local_identity()
    bank = entries[1]
    assert (bank.secret_name, bank.secret_type, bank.environment_name) == (
        "bank",
        "certificate",
        "production",
    )
    assert bank.performed_by == user and bank.host == host and bank.ip_address
    assert bank.performed_at == TEST_NOW
    assert [e.operation for e in vault.audit_entries(secret="token")] == [
        "create",
        "reveal",
        "delete",
    ]
    assert len(vault.audit_entries(limit=2)) == 2


def test_logs_never_hold_values(vault: Vault, vault_path) -> None:
    _populate(vault)
    _columns, rows = vault.query("SELECT * FROM secret_audit_log")
    text = repr(rows) + repr(vault.query("SELECT * FROM route_request_log")[1])
    assert "tok-Kestrel-77" not in text and "pw@" not in text
    request = vault.request_entries()[0]
    assert request.url == "https://api.bank.example/v1"
    assert request.certificate_used and request.certificate_secret_name == "bank"


def test_chain_verifies(vault: Vault) -> None:
    _populate(vault)
    result = vault.verify_audit()
    assert result.ok and result.checked == 8 and result.problems == []


def test_triggers_refuse_update_and_delete(vault: Vault, vault_path) -> None:
    _populate(vault)
    raw = _raw(vault_path)
    try:
        for sql in (
            "UPDATE secret_audit_log SET performed_by = 'x'",
            "DELETE FROM secret_audit_log WHERE id = 2",
            "DELETE FROM route_request_log",
        ):
            with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
                raw.execute(sql)
    finally:
        raw.close()
    assert vault.verify_audit().ok


def _tamper(vault_path, *statements: str) -> None:
    raw = _raw(vault_path)
    try:
        raw.execute("DROP TRIGGER secret_audit_log_no_update")
        raw.execute("DROP TRIGGER secret_audit_log_no_delete")
        raw.execute("DROP TRIGGER route_request_log_no_update")
        for sql in statements:
            raw.execute(sql)
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("statements", "needle"),
    [
        (
            ["UPDATE secret_audit_log SET performed_by = 'mallory' WHERE id = 4"],
            "row 4 was changed",
        ),
        (["DELETE FROM secret_audit_log WHERE id = 3"], "row 3 missing"),
        (["DELETE FROM secret_audit_log WHERE id = 7"], "at the end are missing"),
        (
            ["UPDATE route_request_log SET status_code = 500"],
            "route_request_log: row 1 was changed",
        ),
        # Swap two rows entirely (hashes included): ids are inside the hash.
        (
            [
                "UPDATE secret_audit_log SET id = 100 WHERE id = 2",
                "UPDATE secret_audit_log SET id = 2 WHERE id = 3",
                "UPDATE secret_audit_log SET id = 3 WHERE id = 100",
            ],
            "row 2",
        ),
    ],
)
def test_tampering_is_detected(vault: Vault, vault_path, statements, needle) -> None:
    _populate(vault)
    vault.close()
    _tamper(vault_path, *statements)
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as reopened:
        result = reopened.verify_audit()
    assert not result.ok
    assert any(needle in problem for problem in result.problems), result.problems


def test_knoxcall_compliance_queries_run_verbatim(vault: Vault) -> None:
    _populate(vault)
    columns, rows = vault.query(
        "SELECT operation, secret_id, secret_type, environment_name, performed_by, "
        "performed_at, ip_address FROM secret_audit_log WHERE operation IN "
        "('access', 'reveal', 'export') ORDER BY performed_at DESC"
    )
    assert columns[0] == "operation" and len(rows) == 2
    columns, rows = vault.query(
        "WITH used AS (SELECT route_id, environment_name, certificate_secret_id, "
        "certificate_used, accessed_at, client_ip FROM route_request_log) "
        "SELECT r.name, u.certificate_used FROM used u JOIN routes r ON r.id = u.route_id"
    )
    assert rows == [("accounts", 1)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT key_pem FROM value_blobs",
        "SELECT * FROM secrets JOIN value_blobs ON 1",
        "DELETE FROM secret_audit_log",
        "UPDATE secrets SET name = 'x'",
        "SELECT 1; DROP TABLE secrets",
        "PRAGMA key = 'x'",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "INSERT INTO routes VALUES ('a','b','{}','c','d')",
        "SELECT sqlcipher_export('main')",
        "SELECT load_extension('x')",
        "",
    ],
)
def test_query_refuses_anything_but_one_select(vault: Vault, sql: str) -> None:
    _populate(vault)
    with pytest.raises(UsageError):
        vault.query(sql)
    # The connection is writable again afterwards.
    vault.add_string("after", "x")
    assert vault._conn.execute("PRAGMA query_only").fetchone()[0] == 0


def test_query_errors_are_usage_errors(vault: Vault) -> None:
    with pytest.raises(UsageError, match="no such table"):
        vault.query("SELECT * FROM nowhere")


def test_request_details_kept_beside_the_log_and_append_only(vault, vault_path) -> None:
    """The request history's details: stored with the run, read back by id, the previous run of
    the same route found; the table refuses UPDATE/DELETE like the log, and the chain verifies."""
    vault.save_route("accounts", {"target_url": "https://api.bank.example"})
    vault.save_route("other", {"target_url": "https://other.example"})
    ids = []
    for route, code in (("accounts", "timeout"), ("other", "ok"), ("accounts", "ok")):
        ids.append(
            vault.log_request(
                route=route,
                environment="production",
                certificate_secret=None,
                certificate_fingerprint=None,
                status_code=200 if code == "ok" else None,
                outcome=code,
                duration_ms=5.0,
                details={"diagnosis": {"code": code}},
            )
        )
    no_details = vault.log_request(
        route="accounts",
        environment="production",
        certificate_secret=None,
        certificate_fingerprint=None,
        status_code=None,
        outcome="ok",
        duration_ms=None,
    )
    assert vault.request_details(ids[2]) == {"diagnosis": {"code": "ok"}}
    assert vault.request_details(no_details) is None
    previous = vault.previous_request(ids[2])
    assert previous is not None and previous.id == ids[0]
    assert vault.previous_request(ids[0]) is None
    assert vault.verify_audit().ok
    conn = _raw(vault_path)
    try:
        for sql in (
            "UPDATE route_request_details SET details = '{}'",
            "DELETE FROM route_request_details",
        ):
            with pytest.raises(sqlcipher3.dbapi2.IntegrityError, match="append-only"):
                conn.execute(sql)
    finally:
        conn.close()
