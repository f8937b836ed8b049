"""Acceptance (issue 3's check): a fresh vault driven only through the command line with material
made by the openssl tool, the raw file searched for plaintext, the passphrase changed, and the
audit chain tampered with through a raw SQLCipher connection."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlcipher3
from vault_material import CHEAP_KDF

from knoxtui.cli import main
from knoxtui.vault import connection as vault_connection

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")

OLD = "first vault pass Q7"
NEW = "second vault pass X9"
KEY_PASS = "key pass Heron 41"
STRING_VALUE = "string-value-Marten-5521"
CLIENT_SECRET = "oauth-secret-Osprey-870"
SUBJECT = "acceptance-client.qa.example"

Run = Callable[..., tuple[int, str, str]]


def _openssl(d: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("vault-openssl")
    (d / "kp.txt").write_text(KEY_PASS + "\n")
    _openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out",
             "leaf.pem", "-days", "365", "-subj", f"/O=QA Bank/CN={SUBJECT}",
             "-addext", "extendedKeyUsage=clientAuth")  # fmt: skip
    pw = ["-passout", "file:kp.txt"]
    _openssl(d, "rsa", "-in", "leaf.key", "-traditional", "-aes256", *pw, "-out", "leaf_enc.key")
    p12 = ["pkcs12", "-export", "-in", "leaf.pem", "-inkey", "leaf.key", *pw]
    _openssl(d, *p12, "-out", "modern.p12")
    _openssl(d, *p12, "-legacy", "-out", "legacy.p12")
    (d / "value.txt").write_text(STRING_VALUE + "\n")
    config = {
        "token_url": "https://auth.qa.example/token",
        "client_id": "qa-client",
        "client_secret": CLIENT_SECRET,
        "auth_method": "client_secret_post",
    }
    (d / "oauth.json").write_text(json.dumps(config))
    return d


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    (tmp_path / "old.txt").write_text(OLD + "\n")
    (tmp_path / "new.txt").write_text(NEW + "\n")

    def knoxtui(*argv: str, passphrase: str = "old.txt") -> tuple[int, str, str]:
        vault = ["--vault", str(tmp_path / "v" / "qa.knox")]
        code = main([*vault, "--vault-passphrase-file", str(tmp_path / passphrase), *argv])
        out, err = capsys.readouterr()
        for value in (KEY_PASS, STRING_VALUE, CLIENT_SECRET, OLD, NEW):
            assert value not in out + err
        return code, out, err

    return knoxtui


def _vault_file(tmp_path: Path) -> Path:
    return tmp_path / "v" / "qa.knox"


def _fill(run: Run, material: Path) -> None:
    kp = ["--key-passphrase-file", str(material / "kp.txt")]
    m = lambda name: str(material / name)  # noqa: E731
    add = ["secret", "add"]
    assert run(*add, "bank", "--type", "certificate", "--file", m("modern.p12"), *kp, "--env",
               "production")[0] == 0  # fmt: skip
    assert run(*add, "bank", "--type", "certificate", "--file", m("legacy.p12"), *kp, "--env",
               "sandbox")[0] == 0  # fmt: skip
    assert run(*add, "pair", "--type", "certificate", "--file", m("leaf.pem"), "--key",
               m("leaf_enc.key"), *kp)[0] == 0  # fmt: skip
    assert run(*add, "token", "--type", "string", "--value-file", m("value.txt"))[0] == 0
    assert run(*add, "client", "--type", "oauth2", "--config", m("oauth.json"))[0] == 0


def _raw(path: Path, passphrase: str) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{passphrase}'")
    conn.execute(f"PRAGMA kdf_iter = {CHEAP_KDF}")
    return conn


def test_cli_only_vault_holds_no_plaintext_and_rekeys(
    run: Run, material: Path, tmp_path: Path
) -> None:
    _fill(run, material)
    der = subprocess.run(
        ["openssl", "x509", "-in", str(material / "leaf.pem"), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    needles = [b"BEGIN", b"PRIVATE KEY", SUBJECT.encode(), b"QA Bank", KEY_PASS.encode(),
               STRING_VALUE.encode(), CLIENT_SECRET.encode(), OLD.encode(), der[:48],
               base64.b64encode(der)[:48]]  # fmt: skip
    vault = _vault_file(tmp_path)
    for path in vault.parent.iterdir():  # the vault and any -journal/-wal beside it
        data = path.read_bytes()
        assert [n for n in needles if n in data] == [], path.name

    assert run("passwd", "--new-passphrase-file", str(tmp_path / "new.txt"))[0] == 0
    before = hashlib.sha256(vault.read_bytes()).hexdigest()
    code, _, err = run("secret", "list")
    assert code == 2 and "Wrong vault passphrase" in err
    assert hashlib.sha256(vault.read_bytes()).hexdigest() == before
    code, out, _ = run("secret", "list", passphrase="new.txt")
    assert code == 0 and "bank" in out and "client" in out
    assert run("audit", "--verify", passphrase="new.txt")[0] == 0


def test_dropped_append_only_triggers_fail_verification(
    run: Run, material: Path, tmp_path: Path
) -> None:
    # regression: dropping the triggers alone (the log opened for edits) verified as OK
    _fill(run, material)
    conn = _raw(_vault_file(tmp_path), OLD)
    conn.execute("DROP TRIGGER secret_audit_log_no_update")
    conn.close()
    code, out, _ = run("audit", "--verify")
    assert code == 1
    assert "append-only trigger secret_audit_log_no_update was removed" in out


def test_cut_tail_with_sequence_rewound_names_the_secret(
    run: Run, material: Path, tmp_path: Path
) -> None:
    # regression: deleting the last rows and rewinding sqlite_sequence left a valid-looking chain
    _fill(run, material)
    conn = _raw(_vault_file(tmp_path), OLD)
    conn.execute("DROP TRIGGER secret_audit_log_no_delete")
    conn.execute("DELETE FROM secret_audit_log WHERE id = (SELECT max(id) FROM secret_audit_log)")
    conn.execute("UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'secret_audit_log'")
    conn.execute(
        "CREATE TRIGGER secret_audit_log_no_delete BEFORE DELETE ON secret_audit_log "
        "BEGIN SELECT RAISE(ABORT, 'secret_audit_log is append-only'); END"
    )
    conn.close()
    code, out, _ = run("audit", "--verify")
    assert code == 1
    assert "the creation of secret 'client' is not in the log" in out


def test_edited_and_deleted_rows_fail_verification(
    run: Run, material: Path, tmp_path: Path
) -> None:
    _fill(run, material)
    conn = _raw(_vault_file(tmp_path), OLD)
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        conn.execute("UPDATE secret_audit_log SET performed_by = 'mallory' WHERE id = 2")
    conn.execute("DROP TRIGGER secret_audit_log_no_update")
    conn.execute("DROP TRIGGER secret_audit_log_no_delete")
    conn.execute("UPDATE secret_audit_log SET performed_by = 'mallory' WHERE id = 2")
    conn.execute("DELETE FROM secret_audit_log WHERE id = 3")
    conn.close()
    code, out, _ = run("audit", "--verify")
    assert code == 1
    assert "row 2 was changed after it was written" in out
    assert "row 3 missing (deleted)" in out


def test_route_add_refuses_keys_the_route_model_does_not_know(
    run: Run, material: Path, tmp_path: Path
) -> None:
    # regression: `route add` stored {"certificate": ...}; `rotate` then failed on that route
    _fill(run, material)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"target_url": "https://api.qa.example", "certificate": "bank"}))
    code, _, err = run("route", "add", "r", "--config", str(bad))
    assert code == 1 and "unknown key(s) 'certificate'" in err
    assert run("route", "list", "--json")[1].strip() == "[]"
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"target_url": "https://api.qa.example", "certificate_secret_id": "bank"})
    )
    assert run("route", "add", "r", "--config", str(good))[0] == 0
    code, _, err = run("secret", "rm", "bank")
    assert code == 1 and "used by route(s) r" in err
