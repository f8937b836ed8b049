"""CA bundles in the expiry watch: a string secret of PEM CA certificates (made at test time,
frozen clock) is reported with its first certificate to expire, the routes that trust it (directly
or through an oauth2 token endpoint), `knoxtui check`'s exit code as for certificates, and the
inventory report."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from life_helpers import CHEAP_KDF, VAULT_PASSPHRASE, IssuingCA, make_vault, store_certificate

from knoxtui import cli
from knoxtui.lifecycle.expiry import expiry_report
from knoxtui.lifecycle.inventory import inventory_report, render
from knoxtui.pki.expiry import ExpiryStatus, ExpiryThresholds
from knoxtui.vault import OAuth2Config, Vault


def ca_pem(cn: str, now: datetime, *, days_left: float, starts_in: float = -365) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=starts_in))
        .not_valid_after(now + timedelta(days=days_left))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@pytest.fixture
def kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    from knoxtui.vault import connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", CHEAP_KDF)


def _bank(path: Path, now: datetime, *, issuing_days: float) -> None:
    """A client certificate valid for a year, a CA bundle (root for 10 years, issuing CA for
    `issuing_days`), an API key, and routes that trust the bundle directly or via oauth2."""
    with make_vault(path) as vault:
        store_certificate(vault, "client", IssuingCA(), days_left=365)
        bundle = ca_pem("Bank Root CA", now, days_left=3650) + ca_pem(
            "Bank Issuing CA", now, days_left=issuing_days
        )
        vault.add_string("bank-ca", bundle)
        vault.add_string("api-key", "sk_live_0123456789")
        vault.save_route(
            "payments",
            {
                "target_url": "https://api.bank.example/v1",
                "certificate_secret_id": "client",
                "ca_bundle_secret_id": "bank-ca",
                "headers": {"X-Api-Key": "{{secret:api-key}}"},
            },
        )
        vault.add_oauth2(
            "bank-oauth",
            OAuth2Config(
                token_url="https://auth.bank.example/token",
                client_id="knox",
                auth_method="tls_client_auth",
                certificate_secret_id="client",
                ca_bundle_secret_id="bank-ca",
            ),
        )
        vault.save_route(
            "accounts",
            {"target_url": "https://api.bank.example/accounts", "oauth2_secret_id": "bank-oauth"},
        )
        vault.save_route("unrelated", {"target_url": "https://other.example/"})
        from knoxtui.vault.remotes import RemoteCredentials, RemoteRecord

        vault.remotes.add(
            RemoteRecord(
                name="team", url="https://bao.bank.example:8200", ca_bundle_secret="bank-ca"
            ),
            RemoteCredentials(),
        )


@pytest.mark.parametrize(
    ("days", "status", "due"),
    [
        (200, ExpiryStatus.VALID, False),
        (60, ExpiryStatus.WARNING, False),
        (20, ExpiryStatus.URGENT, True),
        (-2, ExpiryStatus.EXPIRED, True),
    ],
)
def test_a_ca_bundle_is_watched_like_a_certificate(
    tmp_path: Path, frozen_now: datetime, days: int, status: ExpiryStatus, due: bool
) -> None:
    _bank(tmp_path / "v.db", frozen_now, issuing_days=days)
    with Vault.open(tmp_path / "v.db", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        report = expiry_report(vault, thresholds=ExpiryThresholds())
    rows = {row.secret: row for row in report.rows}
    assert set(rows) == {"client", "bank-ca"}  # the API key is no CA bundle
    row = rows["bank-ca"]
    assert (row.kind, row.certificates) == ("ca_bundle", 2)
    assert row.subject_cn == "Bank Issuing CA"  # the first to expire speaks for the bundle
    assert (row.status, row.days_remaining, row.due) == (status, days, due)
    # Every route that trusts it breaks: directly, and through the oauth2 token endpoint.
    assert row.routes == ("accounts", "payments")
    assert row.breaks_environments == ("default",)
    assert row.remotes == ("team",) and rows["client"].remotes == ()  # team sync trusts it too
    assert row.to_dict()["kind"] == "ca_bundle"
    line = report.warning_line()
    if due:
        assert line is not None and line.startswith("CA bundles: 1 ")
        assert "first: bank-ca (default, CA bundle)" in line
    else:
        assert line is None


def test_not_yet_valid_ca_is_reported_not_due(tmp_path: Path, frozen_now: datetime) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        vault.add_string(
            "future-ca", ca_pem("Next Root CA", frozen_now, days_left=3000, starts_in=5)
        )
        (row,) = expiry_report(vault).rows
    assert (row.status, row.due, row.routes) == (ExpiryStatus.NOT_YET_VALID, False, ())


def _main(tmp_path: Path, *argv: str) -> int:
    (tmp_path / "vault.pass").write_text(VAULT_PASSPHRASE + "\n")
    vault = ["--vault", str(tmp_path / "v.db")]
    return cli.main([*vault, "--vault-passphrase-file", str(tmp_path / "vault.pass"), *argv])


def test_check_fails_on_an_urgent_ca_and_names_the_routes(
    tmp_path: Path, frozen_now: datetime, kdf: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _bank(tmp_path / "v.db", frozen_now, issuing_days=12)
    assert _main(tmp_path, "check") == 1
    captured = capsys.readouterr()
    first = captured.out.splitlines()[1]
    assert first.startswith("! urgent") and "bank-ca (CA bundle of 2)" in first
    assert "1 certificate value(s) and 1 CA bundle(s)" in captured.err
    assert "CA bundle 'bank-ca' (default): 'Bank Issuing CA' expires 2026-06-13" in captured.err
    # offline, which CA of the bundle a server's chain needs is unknown: said so, not "break"
    assert "routes that trust it (they break if this CA is" in captured.err
    assert "chain needs): accounts, payments." in captured.err
    assert "routes that break" not in captured.err
    # the command line names its own way only (the console's keys are the console's)
    assert "--value-file F --replace)." in captured.err and "in the console" not in captured.err
    assert "'bank-ca' (default) is also used by remote(s) team" in captured.err
    assert "BEGIN CERTIFICATE" not in captured.out + captured.err
    assert _main(tmp_path, "check", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    (bundle,) = [r for r in data["certificates"] if r["kind"] == "ca_bundle"]
    assert (bundle["secret"], bundle["due"], bundle["certificates"]) == ("bank-ca", True, 2)


def test_check_passes_on_a_valid_ca_and_honours_days(
    tmp_path: Path, frozen_now: datetime, kdf: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _bank(tmp_path / "v.db", frozen_now, issuing_days=120)
    assert _main(tmp_path, "check") == 0
    capsys.readouterr()
    # --days N makes anything failing within N days count, the bundle too (the client has 365).
    assert _main(tmp_path, "check", "--days", "150", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert [r["secret"] for r in data["certificates"] if r["due"]] == ["bank-ca"]


def test_inventory_report_lists_the_bundle(tmp_path: Path, frozen_now: datetime) -> None:
    _bank(tmp_path / "v.db", frozen_now, issuing_days=60)
    with Vault.open(tmp_path / "v.db", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        report = inventory_report(vault, thresholds=ExpiryThresholds())
    rows = {r["secret"]: r for r in csv.DictReader(io.StringIO(render(report, "csv")))}
    assert rows["bank-ca"]["kind"] == "ca_bundle" and rows["bank-ca"]["certificates"] == "2"
    assert rows["bank-ca"]["status"] == "warning" and rows["bank-ca"]["key_type"] == ""
    assert rows["client"]["kind"] == "certificate"
    assert "bank-ca" in render(report, "md")
    assert "BEGIN" not in render(report, "json")


def test_control_characters_in_a_ca_name_never_reach_the_terminal(
    tmp_path: Path, frozen_now: datetime, kdf: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CA whose name carries OSC 52 (clipboard write) and CSI 2J (clear screen): text output
    shows them escaped; JSON keeps the exact string."""
    evil = "Evil\x1b]52;c;QUJD\x07 CA\x1b[2J"
    with make_vault(tmp_path / "v.db") as vault:
        vault.add_string("evil-ca", ca_pem(evil, frozen_now, days_left=5))
        vault.save_route(
            "r", {"target_url": "https://x.example/", "ca_bundle_secret_id": "evil-ca"}
        )
    assert _main(tmp_path, "check") == 1
    assert _main(tmp_path, "secret", "show", "evil-ca") == 0
    assert _main(tmp_path, "secret", "list") == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "\x1b" not in text and "\x07" not in text
    assert "Evil\\x1b]52;c;QUJD\\x07 CA\\x1b[2J" in text
    assert _main(tmp_path, "check", "--json") == 1
    (row,) = json.loads(capsys.readouterr().out)["certificates"]
    assert row["subject_cn"] == evil
