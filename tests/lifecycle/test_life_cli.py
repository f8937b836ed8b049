"""The lifecycle commands end to end on a real vault: csr new -> CA signs -> csr attach ->
rotate --dry-run -> rotate -> check -> report (csv/json/md) -> retire."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from life_helpers import (
    VAULT_PASSPHRASE,
    IssuingCA,
    pem,
    route_config,
    store_certificate,
)

from knoxtui import cli, clock
from knoxtui.lifecycle.inventory import inventory_report, render
from knoxtui.pki.csr import load_signing_request
from knoxtui.vault import Vault


@pytest.fixture
def world(tmp_path: Path, frozen_now: datetime) -> tuple[Path, IssuingCA]:
    ca = IssuingCA()
    with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        store_certificate(vault, "bank_api_certificate", ca, days_left=15, environment="production")
        vault.save_route("payments", route_config("bank_api_certificate"))
    (tmp_path / "vault.pass").write_text(VAULT_PASSPHRASE + "\n")
    return tmp_path, ca


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


def test_life_cli_renewal_and_rotation_flow(
    world, frozen_now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path, ca = world
    csr_file = tmp_path / "renew.csr"
    assert (
        _main(
            tmp_path,
            "csr",
            "new",
            "bank_api_certificate_2027",
            "--like",
            "bank_api_certificate",
            "--san",
            "api.bank.example",
            "--key-type",
            "ec-p384",
            "--out",
            str(csr_file),
        )
        == 0
    )
    # the next step names where the old certificate lives (not a silent `default`)
    assert "--env E (where 'bank_api_certificate' has values: production)" in (
        capsys.readouterr().err
    )
    csr = load_signing_request(csr_file.read_bytes())
    assert "CN=bank_api_certificate.knox.test" in csr.subject.rfc4514_string()
    if shutil.which("openssl"):
        verified = subprocess.run(
            ["openssl", "req", "-in", str(csr_file), "-verify", "-noout"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
    assert _main(tmp_path, "csr", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed] == ["bank_api_certificate_2027"]
    assert "key_pem" not in json.dumps(listed)

    cert_file = tmp_path / "issued.pem"
    cert_file.write_bytes(pem(ca.sign_csr(csr, days=400)) + ca.pem)
    assert (
        _main(
            tmp_path,
            "csr",
            "attach",
            "bank_api_certificate_2027",
            "--cert",
            str(cert_file),
            "--env",
            "production",
            "--json",
        )
        == 0
    )
    attached = json.loads(capsys.readouterr().out)
    assert (
        attached["secret"] == "bank_api_certificate_2027"
        and attached["replaces"] == "bank_api_certificate"
    )

    assert _main(tmp_path, "check") == 1  # the old one is urgent and still in use
    capsys.readouterr()
    assert (
        _main(
            tmp_path,
            "rotate",
            "bank_api_certificate",
            "bank_api_certificate_2027",
            "--dry-run",
            "--json",
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["routes"] == [{"route": "payments", "fields": ["certificate_secret_id"]}]
    with Vault.open(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        assert vault.routes_using("bank_api_certificate") == ["payments"]  # dry run changed nothing

    assert (
        _main(
            tmp_path,
            "rotate",
            "bank_api_certificate",
            "bank_api_certificate_2027",
            "--grace-days",
            "10",
        )
        == 0
    )
    assert "repointed route 'payments'" in capsys.readouterr().out
    assert _main(tmp_path, "check", "--json") == 0  # old retiring and unused: not counted
    report = json.loads(capsys.readouterr().out)
    statuses = {r["secret"]: (r["status"], r["secret_status"]) for r in report["certificates"]}
    assert statuses == {
        "bank_api_certificate": ("urgent", "retiring"),
        "bank_api_certificate_2027": ("valid", None),
    }

    assert _main(tmp_path, "retire", "bank_api_certificate", "--yes") == 1  # grace period running
    assert "grace period" in capsys.readouterr().err
    with clock.frozen(frozen_now + timedelta(days=11)):
        assert _main(tmp_path, "retire", "bank_api_certificate", "--yes") == 0
    with Vault.open(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        assert [s.name for s in vault.list_secrets()] == ["bank_api_certificate_2027"]
        assert vault.verify_audit().ok


def test_life_cli_csr_failure_twins(world, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path, _ = world
    out = tmp_path / "x.csr"
    assert _main(tmp_path, "csr", "new", "x", "--subject", "C=GBR,CN=x", "--out", str(out)) == 1
    assert "invalid" in capsys.readouterr().err.lower() and not out.exists()
    assert _main(tmp_path, "csr", "new", "x", "--like", "missing", "--out", str(out)) == 1
    assert "no secret named 'missing'" in capsys.readouterr().err
    out.write_text("keep me")
    assert _main(tmp_path, "csr", "new", "x", "--subject", "CN=x", "--out", str(out)) == 2
    assert out.read_text() == "keep me"
    with pytest.raises(SystemExit):
        _main(tmp_path, "csr", "new", "x", "--subject", "CN=x", "--like", "y", "--out", str(out))
    assert _main(tmp_path, "csr", "attach", "nope", "--cert", str(tmp_path / "missing.pem")) == 2


def test_life_report_formats_hold_metadata_only(
    world, frozen_now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path, _ = world
    assert _main(tmp_path, "report", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["certificates"]
    assert row["secret"] == "bank_api_certificate" and row["routes"] == ["payments"]
    assert row["status"] == "urgent" and data["counts"]["urgent"] == 1
    assert _main(tmp_path, "report", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["secret"] == "bank_api_certificate" and rows[0]["days_remaining"] == "15"
    assert _main(tmp_path, "report", "--format", "md") == 0
    text = capsys.readouterr().out
    assert (
        text.startswith("# Certificate inventory")
        and "| bank_api_certificate | production | urgent |" in text
    )
    for output in (json.dumps(data), text):
        assert "BEGIN" not in output and "PRIVATE" not in output
    out = tmp_path / "report.csv"
    assert _main(tmp_path, "report", "--format", "csv", "--out", str(out)) == 0
    assert out.read_text().startswith("secret,environment,status")


def test_life_report_csv_neutralises_formulas(tmp_path: Path, frozen_now: datetime) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from life_helpers import key_pem, new_key

    from knoxtui.pki import load_bundle

    ca = IssuingCA()
    key = new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, '=HYPERLINK("http://x.example")'),
            x509.NameAttribute(NameOID.COMMON_NAME, "evil"),
        ]
    )
    certificate = ca.issue(key.public_key(), subject=subject)
    with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE, kdf_iter=64) as vault:
        vault.add_certificate("evil", load_bundle(pem(certificate), key_data=key_pem(key)))
        text = render(inventory_report(vault), "csv")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["organization_identifier"] == '\'=HYPERLINK("http://x.example")'
    assert row["days_remaining"] == "364"  # numbers stay numbers


def test_life_check_vault_at_every_expiry_stage(
    tmp_path: Path, frozen_now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = IssuingCA()
    with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        store_certificate(vault, "stage-valid", ca, days_left=200)
        store_certificate(vault, "stage-warning", ca, days_left=60)
        store_certificate(vault, "stage-urgent", ca, days_left=7)
        store_certificate(vault, "stage-expired", ca, valid_until=frozen_now - timedelta(days=2))
        store_certificate(
            vault, "stage-future", ca, valid_from=frozen_now + timedelta(days=3), days_left=300
        )
        for name in ("stage-valid", "stage-urgent", "stage-expired"):
            vault.save_route(f"uses-{name}", route_config(name))
    (tmp_path / "vault.pass").write_text(VAULT_PASSPHRASE + "\n")
    assert _main(tmp_path, "check", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {
        "expired": 1, "urgent": 1, "warning": 1, "not_yet_valid": 1, "valid": 1
    }  # fmt: skip
    order = [(r["secret"], r["due"], r["routes"]) for r in data["certificates"]]
    assert order == [
        ("stage-expired", True, ["uses-stage-expired"]),
        ("stage-urgent", True, ["uses-stage-urgent"]),
        ("stage-warning", False, []),
        ("stage-future", False, []),
        ("stage-valid", False, ["uses-stage-valid"]),
    ]
    assert _main(tmp_path, "check") == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    header = ["STATUS", "DAYS", "SECRET", "ENV", "EXPIRES", "ROUTES", "USED", "IN"]
    assert lines[0].split() == header
    assert lines[1].startswith("! expired") and "stage-expired" in lines[1]
    assert "2 need(s) renewal now" in captured.err
    # the people's words for statuses, the same as the console's
    assert any(line.startswith("  expiring") for line in lines)
    assert any(line.startswith("  not yet valid") for line in lines)
    assert "1 not yet valid" in captured.err and "not_yet_valid" not in captured.err


def test_life_check_fits_100_columns_and_says_used_in(
    tmp_path: Path,
    frozen_now: datetime,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A valid certificate is "used in" its environments, not "breaks"; with many long route
    names the table still fits 100 columns (the lists elide to `a, b, +N`)."""
    ca = IssuingCA()
    with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        for env in ("production", "sandbox", "staging", "preproduction"):
            store_certificate(vault, "bank-client-certificate", ca, days_left=300, environment=env)
        for n in range(12):
            vault.save_route(
                f"bank-payments-initiation-{n:02d}", route_config("bank-client-certificate")
            )
    (tmp_path / "vault.pass").write_text(VAULT_PASSPHRASE + "\n")
    monkeypatch.setenv("COLUMNS", "100")
    assert _main(tmp_path, "check") == 0
    out = capsys.readouterr().out
    assert "breaks" not in out.lower()
    assert all(len(line) <= 100 for line in out.splitlines()), out
    assert "bank-payments… +11" in out
    data_row = out.splitlines()[1]
    assert data_row.split()[:2] == ["valid", "300"] and "production" in data_row
