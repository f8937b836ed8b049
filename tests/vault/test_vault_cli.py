"""The command line around the vault, through knoxtui.cli.main (cheap KDF) and one real
subprocess (SQLCipher's default KDF): exit codes, output shapes, and no value in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from vault_material import CHEAP_KDF, make_client, vault_files

from knoxtui.cli import main
from knoxtui.vault import connection as vault_connection

ROOT = Path(__file__).resolve().parents[2]
VALUES = ("sk_live_Pelican_0042", "kp-Osprey-311", "cs-Marmot-555", "vault-pass-Ibis-9")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `knoxtui ...` in-process; returns (exit code, stdout, stderr) and checks that no
    secret value ever reaches either stream."""
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    monkeypatch.setenv("KNOXTUI_NOW", "2026-06-01T12:00:00Z")
    secret_file = tmp_path / "vault-pass.txt"
    secret_file.write_text(VALUES[3] + "\n")
    vault = tmp_path / "v" / "cli.knox"

    def run(*argv: str, passphrase_file: Path | None = secret_file) -> tuple[int, str, str]:
        args = ["--vault", str(vault)]
        if passphrase_file is not None:
            args += ["--vault-passphrase-file", str(passphrase_file)]
        code = main([*argv, *args])
        out, err = capsys.readouterr()
        for value in VALUES:
            assert value not in out and value not in err, f"{value} leaked"
        assert "BEGIN" not in out + err
        return code, out, err

    run.vault = vault  # type: ignore[attr-defined]
    run.dir = tmp_path  # type: ignore[attr-defined]
    return run


def _files(base: Path) -> dict[str, Path]:
    plain = make_client("cli-client.bank.example")
    locked = make_client("cli-locked.bank.example", key_passphrase=VALUES[1])
    files = {
        "cert": base / "client.pem",
        "key": base / "client.key",
        "lcert": base / "locked.pem",
        "lkey": base / "locked.key",
        "kpass": base / "kpass.txt",
        "value": base / "api.txt",
        "oauth": base / "oauth.json",
        "other_key": base / "other.key",
        "expired": base / "expired.pem",
        "expired_key": base / "expired.key",
    }
    files["cert"].write_bytes(plain.cert_pem)
    files["key"].write_bytes(plain.key_pem)
    files["lcert"].write_bytes(locked.cert_pem)
    files["lkey"].write_bytes(locked.encrypted_key_pem or b"")
    files["kpass"].write_text(VALUES[1] + "\n")
    files["value"].write_text(VALUES[0] + "\n")
    files["oauth"].write_text(
        json.dumps(
            {
                "token_url": "https://auth.bank.example/token",
                "client_id": "cli-client",
                "client_secret": VALUES[2],
                "scope": "accounts",
            }
        )
    )
    files["other_key"].write_bytes(make_client("x").key_pem)
    old = make_client("old.bank.example", days_left=-3)
    files["expired"].write_bytes(old.cert_pem)
    files["expired_key"].write_bytes(old.key_pem)
    return files


def test_cli_round_trip(cli) -> None:
    f = _files(cli.dir)
    code, out, err = cli(
        "secret",
        "add",
        "bank",
        "--type",
        "certificate",
        "--file",
        str(f["cert"]),
        "--key",
        str(f["key"]),
        "--env",
        "production",
    )
    assert code == 0, err
    assert "cli-client.bank.example" in out and cli.vault.exists()
    assert cli.vault.stat().st_mode & 0o777 == 0o600
    assert (
        cli(
            "secret",
            "add",
            "locked",
            "--type",
            "certificate",
            "--file",
            str(f["lcert"]),
            "--key",
            str(f["lkey"]),
            "--key-passphrase-file",
            str(f["kpass"]),
        )[0]
        == 0
    )
    assert cli("secret", "add", "api", "--type", "string", "--value-file", str(f["value"]))[0] == 0
    assert cli("secret", "add", "auth", "--type", "oauth2", "--config", str(f["oauth"]))[0] == 0

    code, out, _ = cli("secret", "list", "--json")
    assert code == 0
    listed = {item["name"]: item for item in json.loads(out)}
    assert set(listed) == {"api", "auth", "bank", "locked"}
    code, out, _ = cli("secret", "list")
    assert code == 0 and "cli-locked.bank.example" in out and "NAME" in out

    code, out, _ = cli("secret", "show", "bank", "--json")
    shown = json.loads(out)
    assert {"id", "name", "secret_type", "description"} <= set(shown)
    meta = shown["environments"][0]["metadata"]
    assert shown["environments"][0]["environment_name"] == "production"
    for key in (
        "subject",
        "issuer",
        "valid_from",
        "valid_until",
        "days_remaining",
        "status",
        "has_private_key",
        "has_passphrase",
        "fingerprint_sha256",
    ):
        assert key in meta
    assert meta["days_remaining"] == 365 and meta["status"] == "valid"
    code, out, _ = cli("secret", "show", "locked")
    assert code == 0 and "has_passphrase" in out

    route = cli.dir / "route.json"
    route.write_text(
        json.dumps(
            {
                "target_url": "https://api.bank.example/v1",
                "certificate_secret_id": "bank",
                "oauth2_secret_id": "auth",
                "headers": {"X-Api-Key": "{{secret:api}}"},
            }
        )
    )
    code, out, _ = cli("route", "add", "accounts", "--config", str(route))
    assert code == 0 and "api" in out
    code, out, _ = cli("route", "list", "--json")
    assert json.loads(out)[0]["name"] == "accounts"
    assert cli("route", "show", "accounts")[0] == 0

    code, _, err = cli("secret", "rm", "bank")
    assert code == 1 and "accounts" in err and "--force" in err
    assert cli("route", "rm", "accounts")[0] == 0
    assert cli("secret", "rm", "bank")[0] == 0
    assert cli("secret", "show", "bank")[0] == 1

    code, out, _ = cli("audit", "--json")
    operations = [row["operation"] for row in json.loads(out)]
    assert operations.count("create") == 4 and "delete" in operations
    code, out, _ = cli("audit", "--secret", "bank")
    assert code == 0 and "delete" in out
    code, out, _ = cli("audit", "--verify")
    assert code == 0 and "OK" in out
    code, out, _ = cli(
        "audit",
        "--sql",
        "SELECT operation, secret_type FROM secret_audit_log WHERE operation = 'delete'",
        "--json",
    )
    assert json.loads(out) == [{"operation": "delete", "secret_type": "certificate"}]
    code, _, err = cli("audit", "--sql", "SELECT payload FROM value_blobs")
    assert code == 2 and "refused" in err
    code, _, err = cli("audit", "--sql", "DELETE FROM secret_audit_log")
    assert code == 2

    new_pass = cli.dir / "new-pass.txt"
    new_pass.write_text("new-Vault-Pass-Egret\n")
    code, _, err = cli("passwd", "--new-passphrase-file", str(new_pass))
    assert code == 0, err
    code, _, err = cli("secret", "list")
    assert code == 2 and "Wrong vault passphrase" in err
    assert cli("secret", "list", passphrase_file=new_pass)[0] == 0


def test_cli_failures_and_exit_codes(cli) -> None:
    f = _files(cli.dir)
    # Error finding: exit 1, and no vault is created for a refused first secret.
    code, _, err = cli(
        "secret",
        "add",
        "bank",
        "--type",
        "certificate",
        "--file",
        str(f["cert"]),
        "--key",
        str(f["other_key"]),
    )
    assert code == 1 and "match" in err
    assert not cli.vault.exists()
    code, _, err = cli("secret", "add", "bank", "--type", "certificate", "--file", str(f["cert"]))
    assert code == 1 and "private key" in err
    # Missing input file: exit 2.
    code, _, err = cli(
        "secret",
        "add",
        "bank",
        "--type",
        "certificate",
        "--file",
        str(cli.dir / "nope.pem"),
        "--key",
        str(f["key"]),
    )
    assert code == 2 and "does not exist" in err
    code, _, err = cli("secret", "add", "api", "--type", "string", "--file", str(f["cert"]))
    assert code == 2
    # Expired: refused, then stored with --allow-expired and marked.
    args = [
        "secret",
        "add",
        "old",
        "--type",
        "certificate",
        "--file",
        str(f["expired"]),
        "--key",
        str(f["expired_key"]),
    ]
    code, _, err = cli(*args)
    assert code == 1 and "expired" in err.lower()
    code, _, err = cli(*args, "--allow-expired")
    assert code == 0 and "allow-expired" in err
    code, out, _ = cli("secret", "show", "old", "--json")
    meta = json.loads(out)["metadata"]
    assert meta["status"] == "expired" and meta["allowed_expired"] is True
    # Same name+env again: conflict (exit 1); --replace works.
    assert cli(*args, "--allow-expired")[0] == 1
    assert cli(*args, "--allow-expired", "--replace")[0] == 0
    # Unknown route references: exit 1, listed.
    route = cli.dir / "route.json"
    route.write_text(
        json.dumps(
            {
                "target_url": "https://a.example",
                "headers": {"A": "{{secret:ghost}}", "B": "{{secret:spook}}"},
            }
        )
    )
    code, _, err = cli("route", "add", "r", "--config", str(route))
    assert code == 1 and "ghost" in err and "spook" in err
    route.write_text("{not json")
    assert cli("route", "add", "r", "--config", str(route))[0] == 1
    # Wrong vault passphrase: exit 2, file untouched.
    wrong = cli.dir / "wrong.txt"
    wrong.write_text("nope\n")
    before = cli.vault.read_bytes()
    code, _, err = cli("secret", "list", passphrase_file=wrong)
    assert code == 2 and "Wrong vault passphrase" in err
    assert cli.vault.read_bytes() == before
    # No passphrase source at all (no terminal): exit 2 with the fix.
    code, _, err = cli("secret", "list", passphrase_file=None)
    assert code == 2 and "--vault-passphrase-file" in err


def test_cli_environment_missing(cli) -> None:
    value = cli.dir / "v.txt"
    value.write_text("x-prod\n")
    assert (
        cli(
            "secret",
            "add",
            "tok",
            "--type",
            "string",
            "--value-file",
            str(value),
            "--env",
            "production",
        )[0]
        == 0
    )
    code, _, _ = cli("secret", "rm", "tok", "--env", "sandbox")
    assert code == 1
    assert cli("secret", "rm", "tok", "--env", "production")[0] == 0
    assert cli("secret", "list", "--json")[1].strip() == "[]"


def test_cli_import_json_post_and_put_bodies(cli) -> None:
    material = make_client("imported.bank.example")
    locked = make_client("imported-locked.bank.example", key_passphrase=VALUES[1])
    post = cli.dir / "post.json"
    post.write_text(
        json.dumps(
            [
                {
                    "name": "imported",
                    "secret_type": "certificate",
                    "certificate_pem": material.cert_pem.decode(),
                    "private_key_pem": material.key_pem.decode(),
                    "description": "from KnoxCall",
                },
                {
                    "name": "imported-locked",
                    "secret_type": "certificate",
                    "certificate_pem": locked.cert_pem.decode(),
                    "private_key_pem": (locked.encrypted_key_pem or b"").decode(),
                    "passphrase": VALUES[1],
                },
                {"name": "key", "secret_type": "api_key", "value": VALUES[0]},
            ]
        )
    )
    code, out, err = cli("secret", "import-json", str(post))
    assert code == 0, err
    assert out.count("Imported") == 3
    put = cli.dir / "put.json"
    sandbox = make_client("sandbox.bank.example")
    put.write_text(
        json.dumps(
            {
                "certificate_pem": sandbox.cert_pem.decode(),
                "private_key_pem": sandbox.key_pem.decode(),
            }
        )
    )
    code, _, err = cli("secret", "import-json", str(put), "--env", "sandbox")
    assert code == 1 and "--name" in err
    code, _, err = cli("secret", "import-json", str(put), "--env", "sandbox", "--name", "imported")
    assert code == 0, err
    code, out, _ = cli("secret", "show", "imported", "--json")
    shown = json.loads(out)
    assert [e["environment_name"] for e in shown["environments"]] == ["default", "sandbox"]
    assert shown["description"] == "from KnoxCall"
    # All or nothing: one bad body stores none of the list.
    bad = cli.dir / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"name": "fine", "secret_type": "string", "value": "v"},
                {"name": "broken", "secret_type": "certificate", "certificate_pem": "garbage"},
            ]
        )
    )
    code, _, err = cli("secret", "import-json", str(bad))
    assert code == 1 and "broken" in err
    names = [s["name"] for s in json.loads(cli("secret", "list", "--json")[1])]
    assert "fine" not in names


def test_cli_subprocess_with_the_real_kdf(tmp_path: Path) -> None:
    """One real run: `python -m knoxtui`, SQLCipher's default KDF, env passphrase."""
    material = make_client("subprocess.bank.example")
    (tmp_path / "c.pem").write_bytes(material.cert_pem)
    (tmp_path / "k.pem").write_bytes(material.key_pem)
    vault = tmp_path / "real.knox"
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "KNOXTUI_VAULT": str(vault),
            "KNOXTUI_VAULT_PASSPHRASE": VALUES[3],
            "KNOXTUI_NOW": "2026-06-01T12:00:00Z",
        }
    )

    def knoxtui(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "knoxtui", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    added = knoxtui(
        "secret",
        "add",
        "bank",
        "--type",
        "certificate",
        "--file",
        str(tmp_path / "c.pem"),
        "--key",
        str(tmp_path / "k.pem"),
    )
    assert added.returncode == 0, added.stderr
    listed = knoxtui("secret", "list", "--json")
    assert listed.returncode == 0
    assert (
        json.loads(listed.stdout)[0]["metadata"]["subject"].endswith("CN=subprocess.bank.example")
        or "subprocess.bank.example" in listed.stdout
    )
    env["KNOXTUI_VAULT_PASSPHRASE"] = "wrong"
    refused = knoxtui("secret", "list")
    assert refused.returncode == 2 and "Wrong vault passphrase" in refused.stderr
    for result in (added, listed, refused):
        assert VALUES[3] not in result.stdout + result.stderr
        assert "PRIVATE KEY" not in result.stdout + result.stderr
    assert vault_files(vault) == [vault]
    assert b"subprocess.bank.example" not in vault.read_bytes()
