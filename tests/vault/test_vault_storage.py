"""The SQLCipher file itself: permissions, no plaintext anywhere on disk, wrong passphrase changes
nothing, passwd, not-a-vault detection, crash safety (SIGKILL) and two processes at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlcipher3
from vault_material import (
    CHEAP_KDF,
    VAULT_PASSPHRASE,
    bundle_of,
    file_sha256,
    make_client,
    vault_files,
)

from knoxtui.errors import NotAVault, UsageError, VaultBusy, WrongVaultPassphrase
from knoxtui.vault import OAuth2Config, Vault
from knoxtui.vault import connection as vault_connection

ROOT = Path(__file__).resolve().parents[2]


def test_vault_file_is_0600_in_a_0700_folder(vault: Vault, vault_path: Path) -> None:
    assert vault_path.stat().st_mode & 0o777 == 0o600
    assert vault_path.parent.stat().st_mode & 0o777 == 0o700
    assert vault_files(vault_path) == [vault_path]  # no scratch file left from creation


def test_create_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "taken.knox"
    target.write_bytes(b"my thesis")
    with pytest.raises(UsageError, match="already exists"):
        Vault.create(target, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    assert target.read_bytes() == b"my thesis"


def test_open_tightens_a_loose_file_mode(vault_path: Path, frozen) -> None:
    Vault.create(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF).close()
    vault_path.chmod(0o644)
    Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF).close()
    assert vault_path.stat().st_mode & 0o777 == 0o600


def _plaintexts(materials, strings, extra) -> list[bytes]:
    needles = [b"BEGIN", b"PRIVATE KEY", b"CERTIFICATE", b"Vault Test Org", b"Vault Test CA"]
    for m in materials:
        needles += [m.subject_cn.encode(), m.key_pem[40:80]]
        if m.key_passphrase:
            needles.append(m.key_passphrase.encode())
    needles += [s.encode() for s in strings] + [e.encode() for e in extra]
    return needles


def _assert_no_plaintext(vault_path: Path, needles: list[bytes]) -> None:
    files = vault_files(vault_path)
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path.name}"


def test_no_plaintext_in_the_file_or_journal(vault_path: Path, frozen) -> None:
    plain = make_client("plain-key.bank.example")
    locked = make_client("locked-key.bank.example", key_passphrase="kp-Zebra-4471")
    strings = ["sk_live_51HyperSecretApiKey", "ghp_tokenValueThatMustNotLeak"]
    client_secret = "oauth-client-secret-Quokka"
    needles = _plaintexts([plain, locked], strings, [client_secret, VAULT_PASSPHRASE])
    with Vault.create(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as v:
        v.add_certificate("plain", bundle_of(plain))
        v.add_certificate(
            "locked", bundle_of(locked, encrypted=True), key_passphrase=locked.key_passphrase
        )
        v.add_string("api", strings[0])
        v.add_string("ca-bundle", plain.ca_pem.decode())
        v.add_oauth2(
            "oauth",
            OAuth2Config(
                token_url="https://auth.bank.example/token",
                client_id="client-1",
                client_secret=client_secret,
            ),
        )
        # Mid-transaction: the rollback journal holds the old pages of a replaced value.
        with v.batch():
            v.add_string("api", strings[1], replace=True)
            v.add_string("gh", strings[1])
            assert Path(str(vault_path) + "-journal").exists()
            _assert_no_plaintext(vault_path, needles)
        v.remove_secret("gh")
    _assert_no_plaintext(vault_path, needles)


def test_wrong_passphrase_changes_no_byte(vault: Vault, vault_path: Path) -> None:
    vault.add_string("api", "sk_live_value")
    vault.close()
    before = file_sha256(vault_path)
    with pytest.raises(WrongVaultPassphrase) as caught:
        Vault.open(vault_path, "not the passphrase", kdf_iter=CHEAP_KDF)
    assert caught.value.code == "wrong_vault_passphrase"
    assert caught.value.exit_code == 2
    assert "not the passphrase" not in str(caught.value)
    assert file_sha256(vault_path) == before
    assert vault_files(vault_path) == [vault_path]
    # Its twin: the right passphrase still opens it.
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as again:
        assert again.resolve("api", "default") == "sk_live_value"


def test_passwd_old_fails_new_works(vault: Vault, vault_path: Path) -> None:
    vault.add_string("api", "sk_live_value")
    vault.change_passphrase("a new passphrase")
    vault.close()
    with pytest.raises(WrongVaultPassphrase):
        Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    with Vault.open(vault_path, "a new passphrase", kdf_iter=CHEAP_KDF) as again:
        assert again.resolve("api", "default") == "sk_live_value"
        assert [e.operation for e in again.audit_entries()][-2:] == ["rekey", "access"]
        assert again.verify_audit().ok


def test_empty_new_passphrase_is_refused(vault: Vault) -> None:
    with pytest.raises(UsageError):
        vault.change_passphrase("")


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "empty file"),
        (b"-----BEGIN CERTIFICATE-----\nnot a vault at all\n" * 40, "not a knoxtui vault"),
    ],
)
def test_not_a_vault(tmp_path: Path, content: bytes, expect: str) -> None:
    target = tmp_path / "file.knox"
    target.write_bytes(content)
    with pytest.raises(NotAVault, match=expect) as caught:
        Vault.open(target, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    assert caught.value.code == "not_a_vault"
    assert target.read_bytes() == content


def test_plain_sqlite_database_is_not_a_vault(tmp_path: Path) -> None:
    target = tmp_path / "plain.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = file_sha256(target)
    with pytest.raises(NotAVault, match="plain"):
        Vault.open(target, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    assert file_sha256(target) == before


def test_another_apps_sqlcipher_database_is_not_a_vault(tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    conn = sqlcipher3.connect(str(target))
    conn.execute(f"PRAGMA key = '{VAULT_PASSPHRASE}'")
    conn.execute(f"PRAGMA kdf_iter = {CHEAP_KDF}")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAVault, match="not a knoxtui vault"):
        Vault.open(target, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)


def test_missing_vault_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no vault"):
        Vault.open(tmp_path / "nothing.knox", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)


def test_busy_vault_is_a_clear_error(vault: Vault, vault_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(vault_connection, "BUSY_TIMEOUT_MS", 200)
    other = Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF)
    try:
        with vault.batch():
            vault.add_string("first", "value-one")
            with pytest.raises(VaultBusy) as caught:
                other.add_string("second", "value-two")
            assert caught.value.exit_code == 2
        # Its twin: once the batch committed, the other process gets through.
        other.add_string("second", "value-two")
        assert {s.name for s in other.list_secrets()} == {"first", "second"}
    finally:
        other.close()


# ---------------------------------------------------------------- processes

_BULK_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault
    path, passphrase, kdf = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count, size, stall_at = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    cert, key = open(sys.argv[7], "rb").read(), open(sys.argv[8], "rb").read()
    bundle = load_bundle(cert, key_data=key, require_key=True)
    vault = Vault.open(path, passphrase, kdf_iter=kdf)
    # A tiny page cache makes SQLite spill uncommitted pages into the file mid-batch.
    vault._conn.execute("PRAGMA cache_size = 8")
    done = 0
    while done < count:
        with vault.batch():
            for i in range(done, min(done + size, count)):
                if i % 2:
                    vault.add_certificate(f"cert-{i:04d}", bundle)
                else:
                    vault.add_string(f"str-{i:04d}", f"value-{i:04d}-" + "x" * 2000)
                if done == stall_at and i == done + size - 2:
                    print("mid-batch", flush=True)
                    time.sleep(120)
        done = min(done + size, count)
        print(done, flush=True)
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_sigkill_mid_bulk_import_leaves_whole_secrets(vault: Vault, vault_path: Path) -> None:
    material = make_client("bulk.bank.example", days_left=900)
    vault.close()
    cert_file, key_file = vault_path.parent / "c.pem", vault_path.parent / "k.pem"
    cert_file.write_bytes(material.cert_pem)
    key_file.write_bytes(material.key_pem)
    size, stall_at = 50, 250
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _BULK_SCRIPT,
            str(vault_path),
            VAULT_PASSPHRASE,
            str(CHEAP_KDF),
            "600",
            str(size),
            str(stall_at),
            str(cert_file),
            str(key_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line or line.strip() == "mid-batch":
            break
        lines.append(line.strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert lines[-1:] == [str(stall_at)], proc.stderr.read() if proc.stderr else ""
    journal = Path(str(vault_path) + "-journal")
    assert journal.exists() and journal.stat().st_size > 0  # a hot journal to recover from
    # The killed batch spilled pages into the file; neither it nor the journal is readable.
    _assert_no_plaintext(vault_path, [b"BEGIN", b"bulk.bank.example", b"value-0"])

    # A wrong passphrase, even with a hot journal beside the file, changes nothing.
    before = {p.name: file_sha256(p) for p in vault_files(vault_path)}
    with pytest.raises(WrongVaultPassphrase):
        Vault.open(vault_path, "wrong", kdf_iter=CHEAP_KDF)
    assert {p.name: file_sha256(p) for p in vault_files(vault_path)} == before

    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as reopened:
        assert reopened._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        secrets = reopened.list_secrets()
        assert len(secrets) == stall_at  # every committed batch, nothing of the killed one
        created = {e.secret_name for e in reopened.audit_entries() if e.operation == "create"}
        for info in secrets:
            assert info.environments == ("default",)
            value = reopened.resolve(info.name, "production")
            if info.secret_type == "certificate":
                assert info.values[0].certificate.subject_cn == "bulk.bank.example"
                assert value.chain_pem.startswith(b"-----BEGIN CERTIFICATE")
                assert value.plain_key_pem() is not None
            else:
                assert value.startswith(f"value-{info.name[4:]}-")
            assert info.name in created
        assert reopened.verify_audit().ok
    assert vault_files(vault_path) == [vault_path]


_WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from knoxtui.errors import VaultBusy
    from knoxtui.vault import Vault
    path, passphrase, kdf, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    vault = Vault.open(path, passphrase, kdf_iter=kdf)
    busy = 0
    for i in range(60):
        try:
            vault.add_string(f"{prefix}-{i:03d}", f"value-{prefix}-{i}")
            vault.list_secrets()
        except VaultBusy:
            busy += 1
    print("busy", busy)
    """
)


def test_two_processes_at_once_never_corrupt(vault: Vault, vault_path: Path) -> None:
    vault.close()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER_SCRIPT,
                str(vault_path),
                VAULT_PASSPHRASE,
                str(CHEAP_KDF),
                prefix,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            text=True,
        )
        for prefix in ("a", "b")
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    busy = sum(int(out.split()[-1]) for out, _ in outputs)
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as reopened:
        assert reopened._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(reopened.list_secrets()) == 120 - busy
        assert reopened.verify_audit().ok


_REKEY_SCRIPT = textwrap.dedent(
    """
    import sys
    from knoxtui.vault import Vault
    vault = Vault.open(sys.argv[1], sys.argv[2], kdf_iter=int(sys.argv[3]))
    vault._conn.execute("PRAGMA cache_size = 8")  # spill re-encrypted pages mid-transaction
    print("rekeying", flush=True)
    vault.change_passphrase(sys.argv[4])
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02])
def test_sigkill_during_passwd_leaves_old_or_new(vault: Vault, vault_path: Path, delay) -> None:
    with vault.batch():
        for i in range(300):
            vault.add_string(f"s-{i:03d}", f"value-{i:03d}-" + "y" * 1500)
    vault.close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _REKEY_SCRIPT,
            str(vault_path),
            VAULT_PASSPHRASE,
            str(CHEAP_KDF),
            "the new one",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "rekeying"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    opened = []
    for passphrase in (VAULT_PASSPHRASE, "the new one"):
        try:
            with Vault.open(vault_path, passphrase, kdf_iter=CHEAP_KDF) as again:
                assert again._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert len(again.list_secrets()) == 300
                assert again.resolve("s-299", "default").startswith("value-299-")
                opened.append(passphrase)
        except WrongVaultPassphrase:
            pass
    assert len(opened) == 1  # exactly one passphrase opens it: all old or all new


def test_existing_folder_keeps_its_mode(tmp_path: Path, frozen) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    Vault.create(shared / "v.knox", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF).close()
    assert shared.stat().st_mode & 0o777 == 0o755
    assert (shared / "v.knox").stat().st_mode & 0o777 == 0o600
