"""The remote's PKI engine signs, the key stays home: `csr sign` and `retire --revoke` against a
real OpenBao PKI mount (root CA and a client role made by the session fixture)."""

from __future__ import annotations

import json
from pathlib import Path

from remote_helpers import BaoServer, LocalCA, key_pem
from test_remote_sync import _add_remote

from knoxtui.pki import load_bundle
from knoxtui.vault import Vault


def _csr_new(knox, name: str, tmp_path: Path, *source: str) -> None:
    code, _, err = knox("csr", "new", name, *source, "--out", str(tmp_path / f"{name}.csr"))
    assert code == 0, err


def test_csr_signed_by_the_server_pki_is_stored_and_revoked_on_retire(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "team_cert", tmp_path, "--subject", "CN=knox-team-client,O=Knox Team")
    code, out, err = knox_a(
        "csr", "sign", "team_cert", "--remote", "team", "--role", "client", "--ttl", "720h",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    attached = json.loads(out)
    assert attached["secret"] == "team_cert"
    assert "Signed by remote 'team'" in err
    info = alice.get_secret("team_cert")
    meta = info.values[0].certificate
    assert meta is not None
    assert meta.issuer_cn == "Knox Team Test Root" and meta.subject_cn == "knox-team-client"
    assert meta.has_private_key and meta.client_auth_eku
    assert alice.list_pending_keys() == []
    signs = [e for e in alice.audit_entries() if e.operation == "sign"]
    assert len(signs) == 1 and meta.serial in (signs[0].detail or "")
    assert "team" in (signs[0].detail or "")

    # Renewal through the same PKI, rotation, then retire --revoke the old one.
    alice.save_route(
        "payments",
        {"target_url": "https://api.bank.example/v1", "certificate_secret_id": "team_cert"},
    )
    _csr_new(knox_a, "team_cert_2", tmp_path, "--like", "team_cert")
    assert knox_a("csr", "sign", "team_cert_2", "--remote", "team", "--role", "client")[0] == 0
    code, _, err = knox_a("rotate", "team_cert", "team_cert_2", "--grace-days", "0")
    assert code == 0, err
    code, _, err = knox_a("retire", "team_cert", "--revoke", "--yes")
    assert code == 0, err
    assert "Revoked serial" in err and meta.serial in err
    serial = ":".join(meta.serial.lower()[i : i + 2] for i in range(0, len(meta.serial), 2))
    revoked = bao.call("GET", f"pki/cert/{serial}")["data"]
    assert revoked["revocation_time"] > 0
    assert [s.name for s in alice.list_secrets()] == ["team_cert_2"]
    revokes = [e for e in alice.audit_entries() if e.operation == "revoke"]
    assert len(revokes) == 1 and meta.serial in (revokes[0].detail or "")


def test_retire_revoke_refuses_a_certificate_no_remote_signed(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    ca = LocalCA()
    cert, key = ca.issue("elsewhere")
    alice.add_certificate("bought", load_bundle(cert + ca.pem, key_data=key_pem(key)))
    alice.add_certificate("bought_2", load_bundle(cert + ca.pem, key_data=key_pem(key)))
    alice.save_route(
        "payments", {"target_url": "https://api.bank.example/v1", "certificate_secret_id": "bought"}
    )
    _add_remote(knox_a, bao, prefix)
    assert knox_a("rotate", "bought", "bought_2", "--grace-days", "0")[0] == 0
    code, _, err = knox_a("retire", "bought", "--revoke", "--yes")
    assert code == 1 and "nothing to revoke" in err
    assert "bought" in [s.name for s in alice.list_secrets()]


def test_csr_sign_with_an_unknown_role_keeps_the_pending_key(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "waiting", tmp_path, "--subject", "CN=waiting")
    code, _, err = knox_a("csr", "sign", "waiting", "--remote", "team", "--role", "no-such-role")
    assert code in (1, 2) and "no-such-role" in err
    assert [p.name for p in alice.list_pending_keys()] == ["waiting"]
    assert alice.list_secrets() == []


def test_csr_sign_into_an_environment(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "sandbox_cert", tmp_path, "--subject", "CN=knox-sandbox")
    code, _, err = knox_a(
        "csr", "sign", "sandbox_cert", "--remote", "team", "--role", "client", "--env", "sandbox"
    )
    assert code == 0, err
    assert alice.get_secret("sandbox_cert").environments == ("sandbox",)


def test_csr_sign_warns_about_subject_fields_the_role_dropped(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "org_cert", tmp_path, "--subject", "CN=knox-org,O=Knox Team,OU=Pay\x1bments")
    code, out, err = knox_a("csr", "sign", "org_cert", "--remote", "team", "--role", "client")
    assert code == 0, err  # never fails the sign
    assert "warning csr_fields_dropped" in err
    assert "O=Knox Team" in err and "OU=Pay\\x1bments" in err and "\x1b" not in err
    assert "CN=knox-org" not in err.split("csr_fields_dropped")[1]  # the CN was kept
    assert "pki/roles/client" in err and "organization=" in err and "ou=" in err
    assert "pki/sign-verbatim" in err
    meta = alice.get_secret("org_cert").values[0].certificate
    assert meta is not None and meta.subject_cn == "knox-org"

    _csr_new(knox_a, "org_json", tmp_path, "--subject", "CN=knox-org-2,O=Knox Team")
    code, out, err = knox_a(
        "csr", "sign", "org_json", "--remote", "team", "--role", "client", "--json"
    )
    assert code == 0, err
    warnings = [w for w in json.loads(out)["warnings"] if w["code"] == "csr_fields_dropped"]
    assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
    assert "O=Knox Team" in warnings[0]["message"] and "sign-verbatim" in warnings[0]["hint"]


def test_csr_sign_keeping_every_field_warns_nothing(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "cn_only", tmp_path, "--subject", "CN=knox-cn-only")
    code, out, err = knox_a(
        "csr", "sign", "cn_only", "--remote", "team", "--role", "client", "--json"
    )
    assert code == 0, err
    assert "csr_fields_dropped" not in [w["code"] for w in json.loads(out)["warnings"]]
    assert "csr_fields_dropped" not in err
