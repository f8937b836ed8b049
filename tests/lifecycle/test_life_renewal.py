"""CSR with a pending key kept in the vault, signed by a test CA, attached back (pairing and
chain checked), as a new secret or a new environment value — and the failure twins."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from life_helpers import IssuingCA, make_vault, pem, store_certificate

from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.lifecycle.renewal import attach_certificate, new_signing_request
from knoxtui.pki.csr import load_signing_request


@pytest.fixture
def ca(frozen_now: datetime) -> IssuingCA:
    return IssuingCA()


def test_life_csr_like_then_attach_as_new_secret(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        old_cert, _ = store_certificate(vault, "bank_api_certificate", ca, days_left=20)
        pending = new_signing_request(
            vault,
            "bank_api_certificate_2027",
            like="bank_api_certificate",
            san=["IP:10.1.2.3"],
            key_type="ec-p256",
        )
        assert pending.like_secret == "bank_api_certificate"
        assert pending.key_pem is None and pending.key_passphrase is None  # metadata only
        csr = load_signing_request(pending.csr_pem)
        assert csr.subject == old_cert.subject
        assert [p.name for p in vault.list_pending_keys()] == ["bank_api_certificate_2027"]

        issued = ca.sign_csr(csr, days=400)
        result = attach_certificate(vault, "bank_api_certificate_2027", pem(issued) + ca.pem)

        assert result.secret == "bank_api_certificate_2027" and result.created_secret
        assert result.replaces == "bank_api_certificate" and not result.subject_changed
        assert vault.list_pending_keys() == []
        info = vault.get_secret("bank_api_certificate_2027")
        meta = info.values[0].certificate
        assert meta is not None and meta.has_private_key and meta.encrypted_key
        assert (
            meta.san == ("DNS:bank_api_certificate.knox.test", "IP:10.1.2.3")
            or "IP:10.1.2.3" in meta.san
        )
        # the stored key opens with the stored passphrase and pairs with the certificate
        value = vault.resolve("bank_api_certificate_2027", "default")
        assert value.plain_key_pem() is not None
        operations = [(e.operation, e.secret_type) for e in vault.audit_entries()]
        assert ("create", "pending_key") in operations and ("delete", "pending_key") in operations
        assert vault.verify_audit().ok


def test_life_attach_as_new_environment_value(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "bank", ca, environment="production")
        pending = new_signing_request(vault, "bank-sandbox", subject="/C=GB/O=Bank/CN=sandbox")
        issued = ca.sign_csr(load_signing_request(pending.csr_pem))
        result = attach_certificate(
            vault, "bank-sandbox", pem(issued), secret_name="bank", environment="sandbox"
        )
        assert not result.created_secret
        assert vault.get_secret("bank").environments == ("production", "sandbox")
        assert result.warnings == ()


def test_life_attach_failure_twin_key_mismatch_changes_nothing(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        new_signing_request(vault, "mine", subject="CN=mine", key_type="ec-p256")
        other = new_signing_request(vault, "other", subject="CN=other", key_type="ec-p256")
        foreign = ca.sign_csr(load_signing_request(other.csr_pem))
        before = len(vault.audit_entries())
        with pytest.raises(ValidationError) as info:
            attach_certificate(vault, "mine", pem(foreign) + ca.pem)
        assert info.value.code == "key_mismatch"
        assert "PRIVATE" not in info.value.message
        assert [p.name for p in vault.list_pending_keys()] == ["mine", "other"]
        assert [s.name for s in vault.list_secrets()] == []
        assert len(vault.audit_entries()) == before


def test_life_attach_failure_twin_forged_chain(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    impostor = IssuingCA(name=ca.name)  # same name, another key: the chain does not verify
    with make_vault(tmp_path / "v.db") as vault:
        pending = new_signing_request(vault, "mine", subject="CN=mine", key_type="ec-p256")
        issued = impostor.sign_csr(load_signing_request(pending.csr_pem))
        with pytest.raises(ValidationError) as info:
            attach_certificate(vault, "mine", pem(issued) + ca.pem)
        assert info.value.code == "chain_signature"
        assert vault.list_secrets() == [] and len(vault.list_pending_keys()) == 1


def test_life_attach_failure_twins_names(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "taken", ca)
        pending = new_signing_request(vault, "p", subject="CN=p", key_type="ec-p256")
        issued = ca.sign_csr(load_signing_request(pending.csr_pem))
        with pytest.raises(Conflict):
            attach_certificate(vault, "p", pem(issued), secret_name="taken")  # default env exists
        with pytest.raises(NotFound):
            attach_certificate(vault, "nope", pem(issued))
        with pytest.raises(Conflict):
            new_signing_request(vault, "p", subject="CN=again")
        with pytest.raises(ValidationError) as info:
            attach_certificate(vault, "p", b"not a certificate")
        assert info.value.code == "no_certificate"
        assert len(vault.list_pending_keys()) == 1


def test_life_pending_key_material_hidden_from_sql_and_repr(
    tmp_path: Path, frozen_now: datetime
) -> None:
    from knoxtui.errors import UsageError

    with make_vault(tmp_path / "v.db") as vault:
        pending = new_signing_request(
            vault, "p", subject="CN=p", key_type="ec-p256", key_passphrase="my key passphrase"
        )
        full = vault.get_pending_key("p", with_key=True)
        assert full.key_passphrase == "my key passphrase"
        assert "my key passphrase" not in repr(full) and "PRIVATE" not in repr(full)
        _columns, rows = vault.query("SELECT name, subject FROM pending_keys")
        assert rows == [("p", pending.subject)]
        with pytest.raises(UsageError):
            vault.query("SELECT key_pem FROM pending_key_blobs")
        logged = json.dumps([entry.to_dict() for entry in vault.audit_entries()])
        assert "my key passphrase" not in logged and "PRIVATE" not in logged
    raw = (tmp_path / "v.db").read_bytes()
    assert b"PRIVATE KEY" not in raw and b"my key passphrase" not in raw


def test_life_csr_from_subject_parses_and_stores(tmp_path: Path, frozen_now: datetime) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        pending = new_signing_request(
            vault,
            "hmrc",
            subject="/C=GB/O=Example Ltd/CN=api.example.co.uk",
            san=["api.example.co.uk"],
        )
    csr = x509.load_pem_x509_csr(pending.csr_pem)
    assert csr.subject.rfc4514_string() == "CN=api.example.co.uk,O=Example Ltd,C=GB"
    assert pending.key_type == "rsa-2048" and pending.passphrase_generated


@pytest.mark.parametrize("encoding", ["der", "pkcs7"])
def test_life_attach_accepts_der_and_pkcs7(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA, encoding: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    with make_vault(tmp_path / "v.db") as vault:
        pending = new_signing_request(vault, "p", subject="CN=p", key_type="ec-p256")
        issued = ca.sign_csr(load_signing_request(pending.csr_pem))
        if encoding == "der":
            data = issued.public_bytes(serialization.Encoding.DER)
        else:  # a CA's .p7b, CA first: the leaf is found by its key, not its position
            data = pkcs7.serialize_certificates(
                [ca.certificate, issued], serialization.Encoding.DER
            )
        result = attach_certificate(vault, "p", data)
        assert result.subject == "CN=p"
        stored = vault.resolve("p", "default")
        assert x509.load_pem_x509_certificates(stored.chain_pem)[0] == issued
