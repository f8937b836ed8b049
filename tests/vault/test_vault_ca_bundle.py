"""CA bundles (string values holding PEM certificates): read once when stored, their subjects,
count and earliest expiry kept in the metadata column, so listing never decrypts or parses; old
vaults get that metadata once on open (backfill)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from vault_material import CHEAP_KDF, TEST_NOW, VAULT_PASSPHRASE

import knoxtui.pki
from knoxtui import cli
from knoxtui.errors import ValidationError
from knoxtui.vault import Vault


def ca_pem(cn: str, *, days_left: float, days_old: float = 365) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(TEST_NOW - timedelta(days=days_old))
        .not_valid_after(TEST_NOW + timedelta(days=days_left))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_ca_bundle_metadata_is_kept_when_stored(vault: Vault, frozen: datetime) -> None:
    bundle = ca_pem("Partner Root CA", days_left=3000) + ca_pem("Partner Issuing CA", days_left=20)
    info = vault.add_string("partner-ca", bundle)
    value = info.values[0]
    details = value.details
    assert details["pem_certificates"] == 2
    assert details["valid_until"] == "2026-06-21T12:00:00Z"  # the earliest of the two
    meta = value.ca_bundle
    assert meta is not None
    assert meta.count == 2
    assert meta.subjects == ("CN=Partner Root CA", "CN=Partner Issuing CA")
    assert meta.earliest.subject_cn == "Partner Issuing CA"
    assert meta.days_remaining(frozen) == 20
    assert str(meta.status(frozen)) == "urgent"


def test_listing_never_parses_or_decrypts(
    vault: Vault, frozen: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.add_string("partner-ca", ca_pem("Partner Root CA", days_left=10))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a listing parsed a stored value")

    monkeypatch.setattr(knoxtui.pki, "load_bundle", refuse)
    (secret,) = vault.list_secrets()
    meta = secret.values[0].ca_bundle
    assert meta is not None and str(meta.status(frozen)) == "urgent"
    # The audit log shows no access: nothing was decrypted for the listing.
    assert [e.operation for e in vault.audit_entries()][-1] == "create"


def test_an_api_key_is_no_ca_bundle(vault: Vault, frozen: datetime) -> None:
    info = vault.add_string("bank-api-key", "sk_live_0123456789abcdef")
    assert info.values[0].details == {}  # no length: it would tell a key's size
    assert info.values[0].ca_bundle is None


def test_a_broken_bundle_is_refused_and_nothing_is_stored(vault: Vault, frozen: datetime) -> None:
    broken = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    with pytest.raises(ValidationError):
        vault.add_string("partner-ca", broken)
    assert vault.list_secrets() == []


def test_secret_show_json_gives_the_bundle_status(
    vault_path: Path, frozen: datetime, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from knoxtui.vault import connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    bundle = ca_pem("Partner Root CA", days_left=45)
    with Vault.create(vault_path, VAULT_PASSPHRASE) as vault:
        vault.add_string("partner-ca", bundle)
    passfile = vault_path.parent / "pass.txt"
    passfile.write_text(VAULT_PASSPHRASE)
    argv = ["--vault", str(vault_path), "--vault-passphrase-file", str(passfile)]
    assert cli.main([*argv, "secret", "show", "partner-ca", "--json"]) == 0
    out = capsys.readouterr().out
    metadata = json.loads(out)["metadata"]
    assert metadata["status"] == "warning" and metadata["days_remaining"] == 45
    assert metadata["pem_certificates"] == 1
    assert metadata["subjects"] == ["CN=Partner Root CA"]
    assert "BEGIN CERTIFICATE" not in out  # metadata only, never the value


def _age(vault: Vault, name: str, details: str | None) -> None:
    """Make a value look as an older knoxtui stored it (its metadata column as it wrote it)."""
    vault._conn.execute(
        "UPDATE secret_values SET details = ? WHERE secret_id = "
        "(SELECT id FROM secrets WHERE name = ?)",
        (details, name),
    )


def test_old_vaults_get_the_metadata_once_on_open(vault_path: Path, frozen: datetime) -> None:
    bundle = ca_pem("Old Root CA", days_left=5)
    with Vault.create(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        vault.add_string("old-ca", bundle)
        vault.add_string("older-ca", bundle)
        vault.add_string("old-key", "sk_live_abc")
        # First layout (subjects and expiry only), and no metadata at all (before schema 3).
        _age(
            vault,
            "old-ca",
            json.dumps(
                {
                    "length": len(bundle),
                    "pem_certificates": 1,
                    "certificates": [{"subject": "CN=Old Root CA", "valid_until": "x"}],
                }
            ),
        )
        _age(vault, "older-ca", None)
        _age(vault, "old-key", None)
        assert vault.list_secrets()[0].values[0].ca_bundle is None
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        secrets = {s.name: s.values[0] for s in vault.list_secrets()}
        for name in ("old-ca", "older-ca"):
            meta = secrets[name].ca_bundle
            assert meta is not None and meta.subjects == ("CN=Old Root CA",)
            assert str(meta.status(frozen)) == "urgent"
        assert secrets["old-key"].details == {}
        # Values are untouched, and a backfill is metadata only: no audit row.
        assert vault.resolve("old-ca", "default") == bundle
        assert "old-ca" not in [
            e.secret_name for e in vault.audit_entries() if e.operation == "update"
        ]
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        from knoxtui.vault import cabundle

        assert not cabundle.needs_backfill(vault._conn)


def test_an_old_value_that_no_longer_reads_is_kept(vault_path: Path, frozen: datetime) -> None:
    with Vault.create(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        vault.add_string("odd", "note: -----BEGIN CERT... is how PEM starts")
        # Written by an older knoxtui that did not read PEM at all.
        vault._conn.execute(
            "UPDATE value_blobs SET payload = ? WHERE value_id = (SELECT MAX(id) FROM "
            "secret_values)",
            (b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",),
        )
        _age(vault, "odd", None)
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        (secret,) = vault.list_secrets()
        assert secret.values[0].details["unreadable"] is True
        assert secret.values[0].ca_bundle is None
        assert vault.resolve("odd", "default").startswith("-----BEGIN CERTIFICATE-----")


def test_cli_add_list_show_speak_of_the_bundle(
    tmp_path: Path, frozen: datetime, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from knoxtui.vault import connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    bundle = tmp_path / "bank-ca.pem"
    bundle.write_text(
        ca_pem("Bank Root CA", days_left=3000) + ca_pem("Bank Issuing CA", days_left=25)
    )
    passfile = tmp_path / "pass.txt"
    passfile.write_text(VAULT_PASSPHRASE)
    argv = ["--vault", str(tmp_path / "v.knox"), "--vault-passphrase-file", str(passfile)]
    add = ["secret", "add", "bank-ca", "--type", "string", "--value-file", str(bundle)]
    assert cli.main([*argv, *add]) == 0
    out = capsys.readouterr().out
    assert "CA bundle of 2 certificates, first to expire Bank Issuing CA on 2026-06-26" in out
    assert "(25 days, urgent)" in out
    assert cli.main([*argv, "secret", "list"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if "bank-ca" in line]
    assert row.split()[:5] == ["bank-ca", "string", "default", "urgent", "25"]
    assert row.endswith("CA bundle: Bank Issuing CA +1")
    assert cli.main([*argv, "secret", "show", "bank-ca"]) == 0
    shown = capsys.readouterr().out
    assert "{'subject'" not in shown and "[{" not in shown  # no Python repr
    assert "CA 1: CN=Bank Root CA, valid until 2034-08-18 (3000 days, valid)" in shown
    assert "CA 2: CN=Bank Issuing CA, valid until 2026-06-26 (25 days, urgent)" in shown
    assert "BEGIN CERTIFICATE" not in shown
