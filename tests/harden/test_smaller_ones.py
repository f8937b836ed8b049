"""Issue 11 item 11, the smaller ones: planted symlinks, folder modes under umask 000, the audit
rows of passwd and export, the OAuth2 secret over an unverified connection, names never echoed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from vault_material import CHEAP_KDF, VAULT_PASSPHRASE, bundle_of, make_client

from knoxtui.cli import main
from knoxtui.errors import InputFileError, ValidationError
from knoxtui.lab import CLIENT_ID, LabServer
from knoxtui.vault import Vault
from knoxtui.vault import connection as vault_connection
from knoxtui.vault.models import check_name

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(VAULT_PASSPHRASE)
    vault = tmp_path / "v" / "small.knox"

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--vault", str(vault), "--vault-passphrase-file", str(pass_file)])
        out, err = capsys.readouterr()
        return code, out, err

    run.vault = vault  # type: ignore[attr-defined]
    run.dir = tmp_path  # type: ignore[attr-defined]
    return run


def test_csr_out_force_replaces_a_planted_symlink_never_its_target(cli, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    out = tmp_path / "req.csr"
    out.symlink_to(victim)
    code, _out, err = cli(
        "csr", "new", "renewal", "--subject", "CN=renewal.example", "--out", str(out), "--force"
    )
    assert code == 0, err
    assert victim.read_text() == "do not touch"
    assert not out.is_symlink() and out.read_text().startswith("-----BEGIN CERTIFICATE REQUEST")


def test_lab_files_replace_planted_symlinks_and_folders_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    (folder / "client.key").symlink_to(victim)
    with LabServer(folder, port=0) as lab:
        key = lab.files.client_key
    assert victim.read_text() == "do not touch"
    assert not key.is_symlink() and _mode(key) == 0o600
    assert _mode(folder) == 0o700


def test_umask_000_home_and_vault_parents_are_0700(tmp_path: Path) -> None:
    home = tmp_path / "new-home" / "knox"
    vault = tmp_path / "deep" / "er" / "v.knox"
    value = tmp_path / "val.txt"
    value.write_text("tok-1")
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text("pass-Umask-0")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "knoxtui",
            "secret",
            "add",
            "api",
            "--type",
            "string",
            "--value-file",
            str(value),
            "--vault",
            str(vault),
            "--vault-passphrase-file",
            str(pass_file),
        ],
        env={"KNOXTUI_HOME": str(home), "PATH": "/usr/bin:/bin"},
        preexec_fn=lambda: os.umask(0),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    for folder in (tmp_path / "new-home", home, home / "state", tmp_path / "deep", vault.parent):
        assert _mode(folder) == 0o700, folder
    assert _mode(vault) == 0o600


def test_passwd_logs_its_rekey_and_the_chain_holds(cli) -> None:
    value = cli.dir / "v.txt"
    value.write_text("tok")
    assert cli("secret", "add", "api", "--type", "string", "--value-file", str(value))[0] == 0
    new = cli.dir / "new.txt"
    new.write_text("brand-new-Pass-9")
    assert cli("passwd", "--new-passphrase-file", str(new))[0] == 0
    with Vault.open(cli.vault, "brand-new-Pass-9", kdf_iter=CHEAP_KDF) as vault:
        operations = [e.operation for e in vault.audit_entries()]
        assert operations[-1] == "rekey"
        assert vault.audit.verify().ok


def test_export_row_only_once_the_file_is_written(
    tmp_path: Path, frozen_now, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knoxtui.lifecycle import export as export_module

    def full_disk(*_args: Any, **_kwargs: Any) -> None:
        raise InputFileError("Cannot write the file: No space left on device.")

    with Vault.create(tmp_path / "e.knox", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        vault.add_certificate("bank", bundle_of(make_client()))
        monkeypatch.setattr(export_module, "write_private_file", full_disk)
        target = tmp_path / "out.p12"
        with pytest.raises(InputFileError):
            export_module.export_secret(
                vault, "bank", target, export_format="pkcs12", passphrase="exp-Pass-1"
            )
        operations = [e.operation for e in vault.audit_entries()]
        assert "export" not in operations and operations[-1] == "export_failed"
        assert not target.exists()
        monkeypatch.undo()
        export_module.export_secret(
            vault, "bank", target, export_format="pkcs12", passphrase="exp-Pass-1"
        )
        assert target.exists() and vault.audit_entries()[-1].operation == "export"
        assert vault.audit.verify().ok


def test_oauth2_secret_over_unverified_tls_is_named_in_the_warning(tmp_path: Path) -> None:
    from net_helpers import CertValue, resolver

    from knoxtui.net import oauth2
    from knoxtui.routes import Route, run_route

    oauth2.clear_cache()
    with LabServer(tmp_path / "lab", behaviour="oauth2") as lab:
        files = lab.files
        values = {
            "cert": CertValue(files.client_cert.read_bytes(), files.client_key.read_bytes()),
            "oauth": {
                "token_url": lab.token_url,
                "client_id": CLIENT_ID,
                "client_secret": lab.client_secret,
                "auth_method": "client_secret_post",
            },
        }
        route = Route.from_config(
            "psd2",
            {
                "target_url": lab.url + "/accounts",
                "certificate_secret_id": "cert",
                "oauth2_secret_id": "oauth",
                "tls_reject_unauthorized": False,
            },
        )
        result = run_route(route, "sandbox", resolver(values), timeout=5)
        secret = lab.client_secret
    oauth2.clear_cache()
    warnings = " ".join(result.warnings)
    assert "OAuth2 client secret is sent to the token endpoint" in warnings
    assert lab.token_url.split("?")[0] in warnings
    assert secret not in json.dumps(result.to_dict())


@pytest.mark.parametrize("typed", ["sk_live_Pelican_0042", "Pass Word 1", "x" * 300, "-bad"])
def test_a_value_typed_into_a_name_field_is_not_echoed(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_name(typed)
    assert typed not in caught.value.message and typed not in (caught.value.hint or "")
    assert caught.value.code == "invalid_name"


def test_string_values_show_no_length(cli) -> None:
    value = cli.dir / "v.txt"
    value.write_text("sk_live_0123456789abcdef")
    assert cli("secret", "add", "api", "--type", "string", "--value-file", str(value))[0] == 0
    code, out, _err = cli("secret", "show", "api", "--json")
    assert code == 0 and "length" not in out  # (no "24" check: a random id may hold it)
    code, out, _err = cli("audit", "--sql", "SELECT details FROM secret_values", "--json")
    assert code == 0 and "length" not in out


def test_a_value_given_as_a_name_on_the_command_line_is_not_echoed(cli) -> None:
    value = cli.dir / "v.txt"
    value.write_text("tok")
    assert cli("secret", "add", "api", "--type", "string", "--value-file", str(value))[0] == 0
    for argv in (("secret", "show", "sk_live_Pelican 0042"), ("route", "show", "Pass Word 1")):
        code, out, err = cli(*argv)
        assert code == 1
        assert argv[2] not in out + err and "no valid name" in err
    code, _out, err = cli("secret", "show", "missing-one")
    assert code == 1 and "'missing-one'" in err  # a valid name is named as before
