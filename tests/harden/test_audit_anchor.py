"""Issue 11 item 6: the audit log against someone who holds the vault passphrase. Every tampering
case of the review, done with raw sqlcipher3 on a real vault file, is found by `audit --verify`
and by the next open (the anchor kept in the state directory), and with `--anchor HASH` when the
state directory is gone too."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
import sqlcipher3
from vault_material import bundle_of, make_client

from knoxtui import paths
from knoxtui.cli import main
from knoxtui.vault import Vault, anchor, schema
from knoxtui.vault import connection as vault_connection
from knoxtui.vault.audit import GENESIS, TABLE_FIELDS, row_hash

PASSPHRASE = "vault-pass-Ibis-9"
KDF = 64
LOGS = ("secret_audit_log", "route_request_log")


def _populate(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()), environment="production")
    vault.add_string("token", "tok-Kestrel-77")
    vault.add_string("other", "tok-Other-78")
    vault.resolve("token", "default", purpose="reveal")
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
        duration_ms=3.0,
        method="GET",
        url="https://api.bank.example/v1",
    )


@pytest.fixture
def vault_path(tmp_path: Path, frozen_now) -> Path:
    path = tmp_path / "v" / "anchor.knox"
    with Vault.create(path, PASSPHRASE, kdf_iter=KDF) as vault:
        _populate(vault)
    return path


def _raw(path: Path):
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
    conn.execute(f"PRAGMA kdf_iter = {KDF}")
    return conn


def _open_logs(raw) -> None:
    for name in schema.GUARD_TRIGGERS:
        raw.execute(f"DROP TRIGGER IF EXISTS {name}")


def _restore_guards(raw) -> None:
    """Put the guard triggers back exactly as knoxtui made them (hiding that they were dropped)."""
    for sql in schema.GUARD_TRIGGERS.values():
        raw.execute(sql)


def _rechain(raw) -> None:
    """Recompute every prev_hash/row_hash so the chain verifies again (the attacker's last step)."""
    for table, fields in TABLE_FIELDS.items():
        prev = GENESIS
        rows = raw.execute(f"SELECT id, {', '.join(fields)} FROM {table} ORDER BY id").fetchall()
        for row in rows:
            values = dict(zip(fields, row[1:], strict=True))
            digest = row_hash(table, row[0], prev, values)
            raw.execute(
                f"UPDATE {table} SET prev_hash = ?, row_hash = ? WHERE id = ?",
                (prev, digest, row[0]),
            )
            prev = digest


def _tamper(path: Path, *statements: str, rechain: bool = True, restore: bool = True) -> None:
    raw = _raw(path)
    try:
        raw.execute("BEGIN")
        _open_logs(raw)
        for sql in statements:
            raw.execute(sql)
        if rechain:
            _rechain(raw)
        if restore:
            _restore_guards(raw)
        raw.execute("COMMIT")
    finally:
        raw.close()


def _verify(path: Path, anchor_hash: str | None = None) -> tuple[list[str], list[str]]:
    """(problems the open found, problems of audit --verify)."""
    with Vault.open(path, PASSPHRASE, kdf_iter=KDF) as vault:
        return list(vault.anchor_problems), vault.audit.verify(anchor_hash=anchor_hash).problems


def test_untouched_vault_verifies_and_anchor_file_is_private(vault_path: Path) -> None:
    on_open, problems = _verify(vault_path)
    assert on_open == [] and problems == []
    file = anchor.anchor_file(vault_path)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    data = json.loads(file.read_text())
    assert data["secret_audit_log"]["sequence"] == 6  # create_vault, 3 creates, reveal, route
    assert data["route_request_log"]["sequence"] == 1
    assert "tok-Kestrel-77" not in file.read_text()


CASES = {
    # Cut the tail and lower sqlite_sequence, chain recomputed: the hashes alone say OK.
    "cut_tail_lower_sequence": (
        [
            "DELETE FROM secret_audit_log WHERE id >= 5",
            "UPDATE sqlite_sequence SET seq = 4 WHERE name = 'secret_audit_log'",
        ],
        "is gone",
    ),
    "wipe_both_logs": (
        [
            "DELETE FROM secret_audit_log",
            "DELETE FROM route_request_log",
            "DELETE FROM sqlite_sequence WHERE name IN ('secret_audit_log', 'route_request_log')",
        ],
        "is gone",
    ),
    # Renaming the first row switches off the "every secret has its create row" check.
    "rename_create_vault_then_delete_a_create": (
        [
            "UPDATE secret_audit_log SET operation = 'migrated' WHERE id = 1",
            "DELETE FROM secret_audit_log WHERE id = 3",
            "UPDATE secret_audit_log SET id = id - 1 WHERE id > 3",
            "UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'secret_audit_log'",
        ],
        "anchor",
    ),
    # Every row rewritten in place, then the whole chain recomputed.
    "rewrite_and_rechain": (
        ["UPDATE secret_audit_log SET performed_by = 'mallory'"],
        "rewritten",
    ),
    "request_log_rewritten": (
        ["UPDATE route_request_log SET status_code = 500"],
        "rewritten",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_with_a_recomputed_chain_is_found(vault_path: Path, case: str) -> None:
    statements, needle = CASES[case]
    _tamper(vault_path, *statements)
    on_open, problems = _verify(vault_path)
    assert problems, "verify said OK"
    assert on_open, "the open said nothing"
    assert any(needle in p or "anchor" in p for p in problems), problems


def test_guards_recreated_with_when_0_are_found(vault_path: Path) -> None:
    raw = _raw(vault_path)
    try:
        _open_logs(raw)
        for table in LOGS:
            for op, verb in (("update", "UPDATE"), ("delete", "DELETE")):
                raw.execute(
                    f"CREATE TRIGGER {table}_no_{op} BEFORE {verb} ON {table} WHEN 0 "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
            raw.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN 0 "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    finally:
        raw.close()
    _on_open, problems = _verify(vault_path)
    assert any("no_update was replaced by a different one" in p for p in problems), problems
    assert any("no_replace was replaced" in p for p in problems)


def test_insert_or_replace_is_refused(vault_path: Path) -> None:
    raw = _raw(vault_path)
    try:
        row = raw.execute("SELECT * FROM secret_audit_log WHERE id = 2").fetchone()
        marks = ", ".join("?" * len(row))
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            raw.execute(f"INSERT OR REPLACE INTO secret_audit_log VALUES ({marks})", row)
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            raw.execute(f"REPLACE INTO secret_audit_log VALUES ({marks})", row)
    finally:
        raw.close()
    assert _verify(vault_path) == ([], [])


def test_replace_after_dropping_its_trigger_is_found(vault_path: Path) -> None:
    raw = _raw(vault_path)
    try:
        raw.execute("DROP TRIGGER secret_audit_log_no_replace")
        row = list(raw.execute("SELECT * FROM secret_audit_log WHERE id = 4").fetchone())
        columns = [d[1] for d in raw.execute("PRAGMA table_info(secret_audit_log)")]
        row[columns.index("performed_by")] = "mallory"
        marks = ", ".join("?" * len(row))
        raw.execute(f"INSERT OR REPLACE INTO secret_audit_log VALUES ({marks})", row)
    finally:
        raw.close()
    _on_open, problems = _verify(vault_path)
    assert any("no_replace was removed" in p for p in problems), problems
    assert any("row 4 was changed" in p for p in problems)


def test_an_anchor_kept_elsewhere_finds_what_a_wiped_state_dir_hides(
    vault_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", KDF)
    pass_file = vault_path.parent.parent / "pass.txt"
    pass_file.write_text(PASSPHRASE)
    vault_args = ["--vault", str(vault_path), "--vault-passphrase-file", str(pass_file)]
    assert main(["audit", "--head", "--json", *vault_args]) == 0
    head = json.loads(capsys.readouterr().out)
    kept = head["secret_audit_log"]["hash"]
    assert len(kept) == 64
    _tamper(vault_path, "UPDATE secret_audit_log SET performed_by = 'mallory' WHERE id = 2")
    shutil.rmtree(paths.state_dir())  # the attacker removed the local anchor too
    assert main(["audit", "--verify", *vault_args]) == 0  # the chain alone says OK...
    out = capsys.readouterr().out
    assert "Audit chain OK" in out and "no anchor" in out
    code = main(["audit", "--verify", "--anchor", kept, "--json", *vault_args])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and not result["ok"]  # ...the hash kept elsewhere does not
    assert any("is in neither log" in p for p in result["problems"])


def test_cli_verify_fails_and_every_command_warns(
    vault_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", KDF)
    pass_file = vault_path.parent.parent / "pass.txt"
    pass_file.write_text(PASSPHRASE)
    vault_args = ["--vault", str(vault_path), "--vault-passphrase-file", str(pass_file)]
    _tamper(vault_path, "DELETE FROM secret_audit_log WHERE id >= 5")
    assert main(["secret", "list", *vault_args]) == 0
    err = capsys.readouterr().err
    assert "warning: audit log" in err and "audit --verify" in err
    assert main(["audit", "--verify", "--json", *vault_args]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["head"]["secret_audit_log"]["sequence"] == 4
    # The anchor keeps the evidence: a new write does not move it onto the cut log.
    (vault_path.parent / "v.txt").write_text("x")
    late = ["secret", "add", "late", "--type", "string", "--value-file"]
    main([*late, str(vault_path.parent / "v.txt"), *vault_args])
    capsys.readouterr()
    assert main(["audit", "--verify", *vault_args]) == 1
    capsys.readouterr()
    # An explicit re-anchor (audited) accepts the logs as they are.
    assert main(["audit", "--re-anchor", *vault_args]) == 0
    capsys.readouterr()
    assert main(["audit", "--verify", "--json", *vault_args]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems and not any("anchor" in p for p in problems)  # the chain still shows the gap
    assert any("missing" in p for p in problems)


def test_the_anchor_moves_forward_with_every_write(vault_path: Path) -> None:
    before = anchor.read_anchor(vault_path)
    assert before is not None
    with Vault.open(vault_path, PASSPHRASE, kdf_iter=KDF) as vault:
        vault.add_string("more", "tok-More-1")
        with vault.batch():
            vault.add_string("more2", "tok-More-2")
            vault.add_string("more3", "tok-More-3")
    after = anchor.read_anchor(vault_path)
    assert after is not None
    assert after["secret_audit_log"].sequence == before["secret_audit_log"].sequence + 3
    assert after["secret_audit_log"].rows == before["secret_audit_log"].rows + 3


def test_json_after_a_write_carries_the_head(
    vault_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", KDF)
    pass_file = vault_path.parent.parent / "pass.txt"
    pass_file.write_text(PASSPHRASE)
    value = vault_path.parent / "v.txt"
    value.write_text("tok-Json-1")
    vault_args = ["--vault", str(vault_path), "--vault-passphrase-file", str(pass_file)]
    add = ["secret", "add", "json-key", "--type", "string", "--value-file", str(value), "--json"]
    assert main([*add, *vault_args]) == 0
    head = json.loads(capsys.readouterr().out)["audit_head"]["secret_audit_log"]
    assert head["sequence"] == 7 and len(head["hash"]) == 64
    # A read prints no head (nothing was written); the printed hash checks out later.
    assert main(["secret", "show", "json-key", "--json", *vault_args]) == 0
    assert "audit_head" not in json.loads(capsys.readouterr().out)
    assert main(["audit", "--verify", "--anchor", head["hash"], *vault_args]) == 0
