"""The expiry watch: boundaries at 90, 30 and 0 days and not-yet-valid through the frozen clock,
routes and environments that break, and `knoxtui check` exit codes on a real SQLCipher vault."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from life_helpers import (
    VAULT_PASSPHRASE,
    IssuingCA,
    make_vault,
    route_config,
    store_certificate,
)

from knoxtui import cli
from knoxtui.lifecycle.expiry import expiry_report
from knoxtui.pki.expiry import ExpiryStatus, ExpiryThresholds


@pytest.fixture
def ca(frozen_now: datetime) -> IssuingCA:
    return IssuingCA()


@pytest.mark.parametrize(
    ("delta", "status", "days"),
    [
        (timedelta(days=91), ExpiryStatus.VALID, 91),
        (timedelta(days=90, hours=23), ExpiryStatus.WARNING, 90),
        (timedelta(days=90), ExpiryStatus.WARNING, 90),
        (timedelta(days=31), ExpiryStatus.WARNING, 31),
        (timedelta(days=30, hours=23), ExpiryStatus.URGENT, 30),
        (timedelta(days=30), ExpiryStatus.URGENT, 30),
        (timedelta(hours=1), ExpiryStatus.URGENT, 0),
        (timedelta(0), ExpiryStatus.EXPIRED, 0),
        (timedelta(seconds=-1), ExpiryStatus.EXPIRED, -1),
    ],
)
def test_life_expiry_boundaries(
    tmp_path: Path,
    frozen_now: datetime,
    ca: IssuingCA,
    delta: timedelta,
    status: ExpiryStatus,
    days: int,
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "edge", ca, valid_until=frozen_now + delta)
        report = expiry_report(vault, thresholds=ExpiryThresholds())
    (row,) = report.rows
    assert (row.status, row.days_remaining) == (status, days)
    assert row.due == (status in (ExpiryStatus.URGENT, ExpiryStatus.EXPIRED))


def test_life_not_yet_valid_is_reported_but_not_due(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(
            vault, "future", ca, valid_from=frozen_now + timedelta(days=1), days_left=400
        )
        report = expiry_report(vault, thresholds=ExpiryThresholds())
    (row,) = report.rows
    assert row.status == ExpiryStatus.NOT_YET_VALID and not row.due and report.ok


def test_life_thresholds_are_configurable(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA, isolated_home: Path
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "soon", ca, days_left=45.5)
        assert expiry_report(vault).rows[0].status == ExpiryStatus.WARNING
        # config.toml under KNOXTUI_HOME drives the default thresholds
        from knoxtui import paths

        config = paths.config_file()
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("[expiry]\nwarning_days = 120\nurgent_days = 60\n", encoding="utf-8")
        assert expiry_report(vault).rows[0].status == ExpiryStatus.URGENT
        assert expiry_report(vault).thresholds == ExpiryThresholds(120, 60)


def test_life_routes_and_environments_that_break(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "bank", ca, days_left=10, environment="production")
        store_certificate(vault, "bank", ca, days_left=200, environment="sandbox")
        store_certificate(vault, "shared", ca, days_left=5)  # default: serves every environment
        vault.add_string("token", "t0ken", environment="staging")
        vault.save_route("payments", route_config("bank"))
        vault.save_route("accounts", route_config("bank"))
        vault.save_route("partner", route_config("shared"))
        report = expiry_report(vault, thresholds=ExpiryThresholds())
    rows = {(r.secret, r.environment): r for r in report.rows}
    assert rows["bank", "production"].routes == ("accounts", "payments")
    assert rows["bank", "production"].breaks_environments == ("production",)
    # said as people read it: an urgent value breaks them, a valid one is only used in them
    assert rows["bank", "production"].environments_label == "breaks"
    assert rows["bank", "sandbox"].environments_label == "used in"
    assert rows["shared", "default"].breaks_environments == ("production", "sandbox", "staging")
    assert rows["shared", "default"].routes == ("partner",)
    # worst and soonest first
    assert [(r.secret, r.environment) for r in report.rows] == [
        ("shared", "default"),
        ("bank", "production"),
        ("bank", "sandbox"),
    ]
    line = report.warning_line()
    assert line is not None and "2 urgent (30 days or fewer left)" in line
    groups = report.by_status()
    assert list(groups) == [ExpiryStatus.URGENT, ExpiryStatus.VALID]


def test_life_oauth2_token_certificate_routes_count(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    from knoxtui.vault import OAuth2Config

    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "mtls-token", ca, days_left=3)
        vault.add_oauth2(
            "bank-oauth",
            OAuth2Config(
                token_url="https://auth.bank.example/token",
                client_id="abc",
                auth_method="tls_client_auth",
                certificate_secret_id="mtls-token",
            ),
        )
        vault.save_route(
            "api", {"target_url": "https://api.bank.example", "oauth2_secret_id": "bank-oauth"}
        )
        (row,) = expiry_report(vault, thresholds=ExpiryThresholds()).rows
    assert row.routes == ("api",)


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _check(tmp_path: Path, *extra: str) -> int:
    passfile = _write(tmp_path / "vault.pass", VAULT_PASSPHRASE)
    return cli.main(
        [
            "--vault",
            str(tmp_path / "v.db"),
            "--vault-passphrase-file",
            str(passfile),
            "check",
            *extra,
        ]
    )


def _vault_with(tmp_path: Path, ca: IssuingCA, days: float) -> None:
    from knoxtui.vault import Vault

    # the CLI opens with SQLCipher's default KDF, so this vault is made with it
    with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
        store_certificate(vault, "bank", ca, days_left=days)


def test_life_check_exit_zero_when_all_valid(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA, capsys: pytest.CaptureFixture[str]
) -> None:
    _vault_with(tmp_path, ca, 120)
    assert _check(tmp_path) == 0
    assert _check(tmp_path, "--days", "60") == 0
    # --days widens what fails: 120 days left is within 150
    assert _check(tmp_path, "--days", "150") == 1
    out = capsys.readouterr()
    assert "bank" in out.out and "valid" in out.out


def test_life_check_exit_one_when_urgent_or_expired(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA, capsys: pytest.CaptureFixture[str]
) -> None:
    _vault_with(tmp_path, ca, 12)
    assert _check(tmp_path, "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["due"] == 1
    (row,) = data["certificates"]
    assert row["status"] == "urgent" and row["days_remaining"] == 12 and row["due"] is True
    assert "BEGIN" not in json.dumps(data)


def test_life_check_failure_twin_wrong_vault_passphrase(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA, capsys: pytest.CaptureFixture[str]
) -> None:
    _vault_with(tmp_path, ca, 120)
    passfile = _write(tmp_path / "wrong.pass", "not it")
    code = cli.main(
        ["check", "--vault", str(tmp_path / "v.db"), "--vault-passphrase-file", str(passfile)]
    )
    assert code == 2
    assert "Wrong vault passphrase" in capsys.readouterr().err
