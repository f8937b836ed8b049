"""`knoxtui secret export` on a real vault: PKCS#12 (modern and legacy) and PEM read back by the
openssl tool and cryptography, mode 0600, audited as `export`, no plaintext key unless asked."""

from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from life_helpers import VAULT_PASSPHRASE, IssuingCA, store_certificate

from knoxtui import cli
from knoxtui.errors import UsageError, ValidationError
from knoxtui.lifecycle.export import export_secret
from knoxtui.pki.csr import public_key_sha256
from knoxtui.vault import Vault

EXPORT_PASS = "export passphrase 1"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl tool")


@pytest.fixture
def setup(tmp_path: Path, frozen_now: datetime) -> tuple[Path, Path, object]:
    ca = IssuingCA()
    vault_path = tmp_path / "v.db"
    with Vault.create(vault_path, VAULT_PASSPHRASE) as vault:
        _, key = store_certificate(vault, "bank", ca)
        store_certificate(vault, "multi", ca, environment="production")
        store_certificate(vault, "multi", ca, environment="sandbox")
        vault.add_string("token", "abc")
    (tmp_path / "vault.pass").write_text(VAULT_PASSPHRASE + "\n")
    (tmp_path / "export.pass").write_text(EXPORT_PASS + "\n")
    return vault_path, tmp_path, key


def _main(tmp_path: Path, *argv: str) -> int:
    return cli.main(
        [
            "--vault",
            str(tmp_path / "v.db"),
            "--vault-passphrase-file",
            str(tmp_path / "vault.pass"),
            *argv,
        ]
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("legacy", [False, True])
def test_life_export_pkcs12_cli(setup, legacy: bool) -> None:
    vault_path, tmp_path, key = setup
    out = tmp_path / "bank.p12"
    argv = [
        "secret",
        "export",
        "bank",
        "--format",
        "pkcs12",
        "--out",
        str(out),
        "--export-passphrase-file",
        str(tmp_path / "export.pass"),
    ]
    assert _main(tmp_path, *argv, *(["--legacy"] if legacy else [])) == 0
    assert _mode(out) == 0o600
    loaded = pkcs12.load_pkcs12(out.read_bytes(), EXPORT_PASS.encode())
    assert loaded.key is not None and public_key_sha256(loaded.key) == public_key_sha256(key)
    assert loaded.cert is not None and loaded.cert.friendly_name == b"bank"
    with Vault.open(vault_path, VAULT_PASSPHRASE) as vault:
        last = vault.audit_entries(secret="bank")[-1]
    assert (last.operation, last.environment_name) == ("export", "default")
    assert not list(tmp_path.glob(".bank.p12.*"))  # no scratch file left behind


@pytest.mark.openssl
@needs_openssl
@pytest.mark.parametrize("legacy", [False, True])
def test_life_export_pkcs12_read_by_openssl(setup, legacy: bool) -> None:
    _, tmp_path, _ = setup
    out = tmp_path / "bank.p12"
    argv = [
        "secret",
        "export",
        "bank",
        "--format",
        "pkcs12",
        "--out",
        str(out),
        "--export-passphrase-file",
        str(tmp_path / "export.pass"),
    ]
    assert _main(tmp_path, *argv, *(["--legacy"] if legacy else [])) == 0
    command = [
        "openssl",
        "pkcs12",
        "-info",
        "-noout",
        "-in",
        str(out),
        "-passin",
        f"file:{tmp_path / 'export.pass'}",
    ]
    if legacy:
        command.append("-legacy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert ("3-KeyTripleDES" in text) if legacy else ("AES-256-CBC" in text)
    wrong = subprocess.run(
        ["openssl", "pkcs12", "-info", "-noout", "-in", str(out), "-passin", "pass:wrong"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert wrong.returncode != 0


@pytest.mark.openssl
@needs_openssl
def test_life_export_pem_key_encrypted_read_by_openssl(setup) -> None:
    _, tmp_path, key = setup
    out = tmp_path / "bank.pem"
    assert (
        _main(
            tmp_path,
            "secret",
            "export",
            "bank",
            "--format",
            "pem",
            "--out",
            str(out),
            "--export-passphrase-file",
            str(tmp_path / "export.pass"),
        )
        == 0
    )
    data = out.read_bytes()
    assert _mode(out) == 0o600
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in data and b"BEGIN PRIVATE KEY" not in data
    result = subprocess.run(
        [
            "openssl",
            "pkey",
            "-in",
            str(out),
            "-passin",
            f"file:{tmp_path / 'export.pass'}",
            "-noout",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    start = data.index(b"-----BEGIN ENCRYPTED")
    assert public_key_sha256(load_pem_private_key(data[start:], EXPORT_PASS.encode())) == (
        public_key_sha256(key)
    )


def test_life_export_no_plaintext_key_unless_asked(
    setup, capsys: pytest.CaptureFixture[str]
) -> None:
    vault_path, tmp_path, _ = setup
    out = tmp_path / "plain.pem"
    # no passphrase file and no terminal: refused before anything is decrypted or written
    assert _main(tmp_path, "secret", "export", "bank", "--format", "pem", "--out", str(out)) == 2
    assert not out.exists()
    with Vault.open(vault_path, VAULT_PASSPHRASE) as vault:
        assert vault.audit_entries(secret="bank")[-1].operation != "export"
        with pytest.raises(ValidationError) as info:
            export_secret(vault, "bank", out, export_format="pem", passphrase=None)
        assert info.value.code == "plaintext_key_refused"
    assert not out.exists()
    # asked for explicitly: written, still 0600
    assert (
        _main(
            tmp_path,
            "secret",
            "export",
            "bank",
            "--format",
            "pem",
            "--out",
            str(out),
            "--insecure-plaintext-key",
        )
        == 0
    )
    assert b"BEGIN PRIVATE KEY" in out.read_bytes() and _mode(out) == 0o600
    assert "KEY UNENCRYPTED" in capsys.readouterr().err


def test_life_export_failure_twins(setup) -> None:
    vault_path, tmp_path, _ = setup
    with Vault.open(vault_path, VAULT_PASSPHRASE) as vault:
        with pytest.raises(UsageError):  # several environments, none chosen
            export_secret(
                vault, "multi", tmp_path / "m.p12", export_format="pkcs12", passphrase="p4ssphrase"
            )
        result = export_secret(
            vault,
            "multi",
            tmp_path / "m.p12",
            export_format="pkcs12",
            passphrase="p4ssphrase",
            environment="sandbox",
        )
        assert result.environment == "sandbox"
        with pytest.raises(UsageError):  # exists, no --force
            export_secret(
                vault,
                "multi",
                tmp_path / "m.p12",
                export_format="pkcs12",
                passphrase="p4ssphrase",
                environment="sandbox",
            )
        with pytest.raises(ValidationError) as info:
            export_secret(
                vault,
                "multi",
                tmp_path / "x.p12",
                export_format="pkcs12",
                passphrase="p4ssphrase",
                environment="staging",
            )
        assert info.value.code == "environment_missing"
        with pytest.raises(ValidationError) as info:
            export_secret(
                vault, "token", tmp_path / "t.pem", export_format="pem", passphrase="p4ss"
            )
        assert info.value.code == "wrong_secret_type"
        with pytest.raises(UsageError):
            export_secret(
                vault,
                "bank",
                tmp_path / "b.pem",
                export_format="pem",
                passphrase="p4ss",
                legacy=True,
            )
    assert sorted(
        p.name for p in tmp_path.iterdir() if "." in p.name and p.suffix in (".p12", ".pem")
    ) == ["m.p12"]
