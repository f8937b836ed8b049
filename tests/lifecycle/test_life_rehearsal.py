"""Rehearsal against the real local mTLS lab (127.0.0.1): the same route run with OLD and NEW
side by side; and "which stored certificate fits" from a real handshake's acceptable CA list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from life_helpers import make_vault

from knoxtui.lab import LabServer
from knoxtui.lifecycle.fit import fitting_stored_certificates
from knoxtui.lifecycle.rotation import rehearse
from knoxtui.pki import load_bundle


def _store(vault: Any, name: str, chain_pem: bytes, key_pem: bytes) -> None:
    vault.add_certificate(name, load_bundle(chain_pem, key_data=key_pem))


@pytest.fixture
def lab_vault(tmp_path: Path) -> Any:
    with LabServer(tmp_path / "lab", behaviour="ok") as lab, make_vault(tmp_path / "v.db") as vault:
        _store(vault, "current", lab.client.chain_pem, lab.client.key_pem())
        renewed = lab.client_ca.issue("lab-user-2027", client=True)
        _store(vault, "renewed", renewed.chain_pem, renewed.key_pem())
        _store(vault, "stranger", lab.other_client.chain_pem, lab.other_client.key_pem())
        # Same accepted issuer, but a server-only EKU: never offered as a certificate that fits.
        server_only = lab.client_ca.issue("lab-server-only", dns_names=("x.test",))
        _store(vault, "server-only", server_only.chain_pem, server_only.key_pem())
        vault.add_string("lab-ca", lab.files.ca_bundle.read_text())
        vault.save_route(
            "lab",
            {
                "target_url": lab.url + "/accounts",
                "certificate_secret_id": "current",
                "ca_bundle_secret_id": "lab-ca",
            },
        )
        yield lab, vault


def test_life_rehearsal_new_certificate_works(lab_vault: Any) -> None:
    _, vault = lab_vault
    result = rehearse(vault, "current", "renewed", "production")
    (pair,) = result.runs
    assert (pair.old.ok, pair.new.ok, pair.regression) == (True, True, False)
    assert result.ok and pair.new.status_code == 200
    # nothing repointed, but both runs are in the request log
    assert vault.routes_using("current") == ["lab"]
    logged = [(e.route_name, e.certificate_secret_name) for e in vault.request_entries()]
    assert logged == [("lab", "current"), ("lab", "renewed")]


def test_life_rehearsal_failure_twin_wrong_ca(lab_vault: Any) -> None:
    _, vault = lab_vault
    result = rehearse(vault, "current", "stranger", "production", log=False)
    (pair,) = result.runs
    assert pair.old.ok and not pair.new.ok and pair.regression and not result.ok
    assert pair.new.code == "client_cert_rejected_unknown_ca"
    assert vault.routes_using("current") == ["lab"] and vault.request_entries() == []


def test_life_fit_from_a_real_handshake(lab_vault: Any) -> None:
    from knoxtui.routes import Route, run_route

    _, vault = lab_vault
    route = Route.from_config("lab", dict(vault.get_route("lab").config))
    result = run_route(route, "production", vault.resolve)
    accepted = result.report.acceptable_client_cas
    assert accepted, "the lab names its client CA in the CertificateRequest"
    fits = fitting_stored_certificates(vault, accepted)
    assert sorted(f.secret for f in fits) == ["current", "renewed"]
    assert all(f.direct for f in fits)
    assert fitting_stored_certificates(vault, ["CN=Nobody,O=Nowhere"]) == []


def test_life_cli_rotate_rehearse_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from life_helpers import VAULT_PASSPHRASE

    from knoxtui import cli
    from knoxtui.vault import Vault

    with LabServer(tmp_path / "lab", behaviour="ok") as lab:
        with Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault:
            _store(vault, "current", lab.client.chain_pem, lab.client.key_pem())
            renewed = lab.client_ca.issue("lab-user-2027", client=True)
            _store(vault, "renewed", renewed.chain_pem, renewed.key_pem())
            _store(vault, "stranger", lab.other_client.chain_pem, lab.other_client.key_pem())
            vault.add_string("lab-ca", lab.files.ca_bundle.read_text())
            vault.save_route(
                "lab",
                {
                    "target_url": lab.url + "/accounts",
                    "certificate_secret_id": "current",
                    "ca_bundle_secret_id": "lab-ca",
                },
            )
        (tmp_path / "pass").write_text(VAULT_PASSPHRASE)
        base = [
            "--vault",
            str(tmp_path / "v.db"),
            "--vault-passphrase-file",
            str(tmp_path / "pass"),
        ]
        assert cli.main([*base, "rotate", "current", "renewed", "--rehearse", "production"]) == 0
        out = capsys.readouterr().out
        assert "old current: HTTP 200" in out and "new renewed: HTTP 200" in out
        assert cli.main([*base, "rotate", "current", "stranger", "--rehearse", "production"]) == 1
        assert "NEW fails where OLD worked" in capsys.readouterr().err


def test_life_cli_rehearse_both_failing_is_no_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Server down: OLD and NEW fail alike. The sentence, the exit code and the JSON agree:
    no regression, inconclusive (exit 1, since NEW was not shown to work)."""
    import json
    import socket

    from life_helpers import VAULT_PASSPHRASE

    from knoxtui import cli
    from knoxtui.vault import Vault

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        LabServer(tmp_path / "lab", behaviour="ok") as lab,
        Vault.create(tmp_path / "v.db", VAULT_PASSPHRASE) as vault,
    ):
        _store(vault, "current", lab.client.chain_pem, lab.client.key_pem())
        renewed = lab.client_ca.issue("lab-user-2027", client=True)
        _store(vault, "renewed", renewed.chain_pem, renewed.key_pem())
        vault.save_route(
            "down",
            {"target_url": f"https://127.0.0.1:{port}/", "certificate_secret_id": "current"},
        )
    (tmp_path / "pass").write_text(VAULT_PASSPHRASE)
    base = ["--vault", str(tmp_path / "v.db"), "--vault-passphrase-file", str(tmp_path / "pass")]
    assert cli.main([*base, "rotate", "current", "renewed", "--rehearse", "production"]) == 1
    err = capsys.readouterr().err
    assert "Inconclusive" in err and "no regression" in err and "NEW fails where" not in err
    assert cli.main([*base, "rotate", "current", "renewed", "--rehearse", "x", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["regression"], data["verdict"], data["ok"]) == (False, "inconclusive", False)
    assert [r["regression"] for r in data["routes"]] == [False]


def test_life_rehearsal_verdicts_agree(lab_vault: Any) -> None:
    _, vault = lab_vault
    good = rehearse(vault, "current", "renewed", "production", log=False)
    assert (good.verdict, good.regression, good.to_dict()["verdict"]) == ("ok", False, "ok")
    bad = rehearse(vault, "current", "stranger", "production", log=False)
    assert (bad.verdict, bad.regression) == ("regression", True)
    assert "NEW fails where OLD worked" in bad.verdict_sentence and "'lab'" in bad.verdict_sentence
