"""Secrets in the vault: validation through knoxtui.pki on the way in, per-environment values,
metadata without blobs, references from routes and oauth2 secrets."""

from __future__ import annotations

import pytest
from vault_material import (
    TEST_NOW,
    bundle_of,
    make_client,
)

from knoxtui.errors import Conflict, EnvironmentMissing, NotFound, ValidationError
from knoxtui.pki import ExpiryThresholds
from knoxtui.vault import DEFAULT_ENV, CertificateValue, OAuth2Config, Vault


def test_certificate_metadata_is_stored_and_status_computed_at_read(vault: Vault) -> None:
    material = make_client("api-client.bank.example", days_left=60)
    info = vault.add_certificate("bank", bundle_of(material), description="PSD2 QWAC")
    assert info.secret_type == "certificate" and info.description == "PSD2 QWAC"
    cert = info.values[0].certificate
    assert cert is not None
    assert cert.subject_cn == "api-client.bank.example"
    assert cert.issuer_cn == "Vault Test CA"
    assert cert.has_private_key and not cert.has_passphrase and not cert.encrypted_key
    assert cert.key_type == "ec" and cert.client_auth_eku
    assert cert.san == ("DNS:api-client.bank.example",)
    assert cert.days_remaining(TEST_NOW) == 60
    assert str(cert.status(TEST_NOW, ExpiryThresholds())) == "warning"
    assert "expiry_warning" in cert.warnings
    meta = info.to_dict(TEST_NOW, ExpiryThresholds())["environments"][0]["metadata"]
    assert meta["days_remaining"] == 60 and meta["status"] == "warning"
    assert {
        "subject",
        "issuer",
        "valid_from",
        "valid_until",
        "has_private_key",
        "has_passphrase",
        "fingerprint_sha256",
    } <= set(meta)


def test_certificate_value_round_trip(vault: Vault) -> None:
    material = make_client()
    vault.add_certificate("bank", bundle_of(material))
    value = vault.resolve("bank", "production")
    assert isinstance(value, CertificateValue)
    assert value.chain_pem == material.cert_pem  # the self-signed root is left out
    assert b"PRIVATE KEY" in (value.plain_key_pem() or b"")
    assert "PRIVATE" not in repr(value)


def test_encrypted_key_stays_encrypted_with_its_passphrase(vault: Vault) -> None:
    material = make_client(key_passphrase="kp-Heron-19")
    info = vault.add_certificate(
        "locked", bundle_of(material, encrypted=True), key_passphrase="kp-Heron-19"
    )
    cert = info.values[0].certificate
    assert cert is not None and cert.encrypted_key and cert.has_passphrase
    value = vault.resolve("locked", DEFAULT_ENV)
    assert isinstance(value, CertificateValue)
    assert b"ENCRYPTED PRIVATE KEY" in (value.key_pem or b"")
    assert value.key_passphrase == "kp-Heron-19"
    assert b"-----BEGIN PRIVATE KEY" in (value.plain_key_pem() or b"")
    assert "kp-Heron-19" not in repr(value)


def test_encrypted_key_without_passphrase_for_the_vault_is_refused(vault: Vault) -> None:
    material = make_client(key_passphrase="kp-Heron-19")
    with pytest.raises(ValidationError) as caught:
        vault.add_certificate("locked", bundle_of(material, encrypted=True))
    assert caught.value.code == "passphrase_required"
    assert vault.list_secrets() == []


def test_key_mismatch_is_refused_with_the_finding(vault: Vault) -> None:
    material, other = make_client("one.example"), make_client("two.example")
    with pytest.raises(ValidationError) as caught:
        vault.add_certificate("bank", bundle_of(material, key_pem=other.key_pem))
    assert caught.value.code == "key_mismatch"
    assert caught.value.hint
    assert vault.list_secrets() == []


def test_missing_key_is_refused(vault: Vault) -> None:
    from knoxtui.pki import load_bundle

    material = make_client()
    bundle = load_bundle(material.cert_pem, now=TEST_NOW, require_key=True)
    with pytest.raises(ValidationError) as caught:
        vault.add_certificate("bank", bundle)
    assert caught.value.code == "missing_private_key"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"days_left": -5}, "expired"), ({"not_before_days": 10, "days_left": 400}, "not_yet_valid")],
)
def test_expired_refused_unless_allowed_and_then_marked(vault: Vault, kwargs, code) -> None:
    material = make_client(**kwargs)
    with pytest.raises(ValidationError) as caught:
        vault.add_certificate("old", bundle_of(material))
    assert caught.value.code == code
    info = vault.add_certificate("old", bundle_of(material), allow_expired=True)
    cert = info.values[0].certificate
    assert cert is not None and cert.allowed_expired and code in cert.warnings
    assert str(cert.status(TEST_NOW)) == code
    # the audit row says which, in the people's words
    words = {"expired": "expired", "not_yet_valid": "not yet valid"}[code]
    detail = vault.audit_entries()[-1].detail or ""
    assert f"stored although {words} (allowed on purpose)" in detail


def test_default_value_serves_every_environment(vault: Vault) -> None:
    vault.add_string("token", "t-default")
    assert vault.resolve("token", "production") == "t-default"
    assert vault.resolve("token", "sandbox") == "t-default"


def test_environment_values_never_fall_back(vault: Vault) -> None:
    vault.add_string("token", "t-prod", environment="production")
    vault.add_string("token", "t-sandbox", environment="sandbox")
    assert vault.resolve("token", "sandbox") == "t-sandbox"
    with pytest.raises(EnvironmentMissing) as caught:
        vault.resolve("token", "staging")
    assert caught.value.code == "environment_missing"
    assert caught.value.available == ["production", "sandbox"]
    assert "production, sandbox" in caught.value.message
    # With a default AND environment values, a missing environment is still a hard failure.
    vault.add_string("token", "t-default")
    with pytest.raises(EnvironmentMissing):
        vault.resolve("token", "staging")


def test_same_environment_twice_conflicts_unless_replace(vault: Vault) -> None:
    vault.add_string("token", "first")
    with pytest.raises(Conflict) as caught:
        vault.add_string("token", "second")
    # The fix in both ways: the flag on the command line, R in the console.
    assert "--replace on the command line" in (caught.value.hint or "")
    assert "in the console" in (caught.value.hint or "")
    assert vault.resolve("token", DEFAULT_ENV) == "first"
    vault.add_string("token", "second", replace=True)
    assert vault.resolve("token", DEFAULT_ENV) == "second"


def test_type_change_conflicts(vault: Vault) -> None:
    vault.add_string("bank", "x")
    with pytest.raises(Conflict, match="string secret"):
        vault.add_certificate("bank", bundle_of(make_client()))


@pytest.mark.parametrize("name", ["Bank", "-bank", "bank key", "", "a" * 200])
def test_bad_names_are_refused(vault: Vault, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        vault.add_string(name, "x")
    assert caught.value.code == "invalid_name"


def test_empty_string_value_is_refused(vault: Vault) -> None:
    with pytest.raises(ValidationError):
        vault.add_string("token", "")


def test_ca_bundle_string_is_checked_by_pki(vault: Vault) -> None:
    material = make_client()
    info = vault.add_string("ca", material.ca_pem.decode())
    assert info.values[0].details["pem_certificates"] == 1
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(ValidationError) as caught:
        vault.add_string("ca2", broken)
    assert caught.value.code == "corrupt"


def test_remove_value_and_secret(vault: Vault) -> None:
    vault.add_string("token", "p", environment="production")
    vault.add_string("token", "s", environment="sandbox")
    vault.remove_value("token", "sandbox")
    assert vault.get_secret("token").environments == ("production",)
    with pytest.raises(NotFound):
        vault.remove_value("token", "sandbox")
    vault.remove_value("token", "production")  # the last value takes the secret with it
    with pytest.raises(NotFound):
        vault.get_secret("token")
    assert vault._conn.execute("SELECT count(*) FROM value_blobs").fetchone()[0] == 0


def test_remove_refused_while_a_route_uses_it_unless_forced(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()))
    vault.add_string("token", "t")
    vault.save_route(
        "accounts",
        {
            "target_url": "https://api.bank.example/v1",
            "certificate_secret_id": "bank",
            "headers": {"Authorization": "Bearer {{secret:token}}"},
        },
    )
    vault.save_route(
        "balances", {"target_url": "https://api.bank.example/v2", "certificate_secret_id": "bank"}
    )
    assert vault.routes_using("bank") == ["accounts", "balances"]
    with pytest.raises(Conflict, match="accounts, balances") as caught:
        vault.remove_secret("bank")
    assert "--force on the command line" in (caught.value.hint or "")
    assert "in the console" in (caught.value.hint or "")
    assert vault.get_secret("bank")
    vault.remove_secret("bank", force=True)
    with pytest.raises(NotFound):
        vault.get_secret("bank")


def test_route_save_refuses_unknown_references_listing_them(vault: Vault) -> None:
    vault.add_string("token", "t")
    config = {
        "target_url": "https://api.bank.example/{{secret:tenant}}",
        "certificate_secret_id": "missing-cert",
        "headers": {"Authorization": "Bearer {{secret:token}}", "X-Key": "{{secret:api-key}}"},
    }
    with pytest.raises(ValidationError) as caught:
        vault.save_route("accounts", config)
    assert caught.value.code == "unknown_secret"
    for name in ("missing-cert", "tenant", "api-key"):
        assert name in caught.value.message
    assert "'token'" not in caught.value.message
    assert vault.list_routes() == []


def test_route_secret_fields_need_the_right_type(vault: Vault) -> None:
    vault.add_string("token", "t")
    with pytest.raises(ValidationError) as caught:
        vault.save_route("r", {"target_url": "https://a.example", "certificate_secret_id": "token"})
    assert caught.value.code == "wrong_secret_type"


def test_route_without_target_is_refused(vault: Vault) -> None:
    with pytest.raises(ValidationError, match="target_url"):
        vault.save_route("r", {"headers": {}})


def test_route_replace_and_remove(vault: Vault) -> None:
    vault.save_route("r", {"target_url": "https://a.example"})
    with pytest.raises(Conflict):
        vault.save_route("r", {"target_url": "https://b.example"})
    assert (
        vault.save_route("r", {"target_url": "https://b.example"}, replace=True).config[
            "target_url"
        ]
        == "https://b.example"
    )
    vault.remove_route("r")
    with pytest.raises(NotFound):
        vault.get_route("r")


def test_rename_rewrites_route_and_oauth2_references(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()))
    vault.add_oauth2(
        "auth",
        OAuth2Config(
            token_url="https://auth.bank.example/token",
            client_id="c",
            auth_method="tls_client_auth",
            certificate_secret_id="bank",
        ),
    )
    vault.save_route(
        "r",
        {
            "target_url": "https://a.example",
            "certificate_secret_id": "bank",
            "oauth2_secret_id": "auth",
            "headers": {"X-Cert": "{{ secret:bank }}"},
        },
    )
    vault.rename_secret("bank", "bank-2027")
    config = vault.get_route("r").config
    assert config["certificate_secret_id"] == "bank-2027"
    assert config["headers"]["X-Cert"] == "{{ secret:bank-2027 }}"
    oauth = vault.resolve("auth", DEFAULT_ENV)
    assert isinstance(oauth, OAuth2Config) and oauth.certificate_secret_id == "bank-2027"
    with pytest.raises(Conflict, match="oauth2 secret"):
        vault.remove_secret("bank-2027")


def test_oauth2_round_trip_and_reference_checks(vault: Vault) -> None:
    config = OAuth2Config.from_dict(
        {
            "token_url": "https://auth.example/token",
            "client_id": "id",
            "client_secret": "cs-Walrus",
            "scope": "accounts",
        }
    )
    assert "cs-Walrus" not in repr(config)
    vault.add_oauth2("auth", config)
    assert vault.resolve("auth", "production") == config
    assert vault.get_secret("auth").values[0].details["has_client_secret"] is True
    bad = OAuth2Config(
        token_url="https://auth.example/token",
        client_id="id",
        client_secret="x",
        certificate_secret_id="nope",
    )
    with pytest.raises(ValidationError) as caught:
        vault.add_oauth2("auth2", bad)
    assert caught.value.code == "unknown_secret"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"token_url": "ftp://x", "client_id": "a", "client_secret": "s"}, "https"),
        ({"token_url": "http://auth.example/t", "client_id": "a", "client_secret": "s"}, "http"),
        ({"token_url": "https://auth.example/t", "client_id": "a"}, "client_secret"),
        (
            {
                "token_url": "https://auth.example/t",
                "client_id": "a",
                "client_secret": "s",
                "auth_method": "magic",
            },
            "auth_method",
        ),
        ({"token_url": "https://auth.example/t", "client_id": "a", "clientsecret": "s"}, "Unknown"),
        ({"client_id": "a"}, "token_url"),
    ],
)
def test_oauth2_config_validation(data, needle) -> None:
    with pytest.raises(ValidationError, match=needle) as caught:
        OAuth2Config.from_dict(data)
    assert caught.value.code == "invalid_oauth2"
    assert caught.value.message != "s"  # never echoes the secret itself


def test_tls_client_auth_needs_no_client_secret() -> None:
    config = OAuth2Config.from_dict(
        {"token_url": "https://auth.example/t", "client_id": "a", "auth_method": "tls_client_auth"}
    )
    assert config.client_secret is None


def test_listing_reads_no_blob(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()))
    vault.add_string("token", "t")

    def deny_blobs(action, table, *rest):
        return 1 if table == "value_blobs" else 0

    vault._conn.set_authorizer(deny_blobs)
    try:
        assert [s.name for s in vault.list_secrets()] == ["bank", "token"]
        assert vault.get_secret("bank").values[0].certificate is not None
        with pytest.raises(Exception, match="value_blobs"):
            vault.resolve("token", DEFAULT_ENV)
    finally:
        vault._conn.set_authorizer(None)


def test_batch_is_all_or_nothing(vault: Vault) -> None:
    with pytest.raises(RuntimeError), vault.batch():
        vault.add_string("one", "1")
        vault.add_string("two", "2")
        raise RuntimeError("stop")
    assert vault.list_secrets() == []
    with vault.batch():
        vault.add_string("one", "1")
        with pytest.raises(Conflict):
            vault.add_string("one", "again")  # only this operation's savepoint rolls back
        vault.add_string("two", "2")
    assert [s.name for s in vault.list_secrets()] == ["one", "two"]
