"""`knoxtui test` end to end through a real vault and the lab; `knoxtui lab` itself."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from knoxtui.cli import main
from knoxtui.lab import LabServer

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("knoxtui.vault") is None, reason="knoxtui.vault is not built yet"
)
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault, connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", 2)  # the product keeps SQLCipher's default
    with LabServer(tmp_path / "lab", behaviour="ok") as lab:
        files = lab.files
        vault_path = tmp_path / "vault.db"
        pass_file = tmp_path / "pass.txt"
        pass_file.write_text(PASSPHRASE + "\n")
        with Vault.create(vault_path, PASSPHRASE) as vault:
            for name, cert, key in (
                ("lab-cert", files.client_cert, files.client_key),
                ("other-cert", files.other_ca_client_cert, files.other_ca_client_key),
            ):
                bundle = load_bundle(cert.read_bytes(), key_data=key.read_bytes())
                vault.add_certificate(name, bundle)
            bundle = load_bundle(
                files.client_cert.read_bytes(), key_data=files.client_key.read_bytes()
            )
            vault.add_certificate("sandbox-only", bundle, environment="sandbox")
            vault.add_string("lab-ca", files.ca_bundle.read_text())
            for route, cert in (
                ("lab", "lab-cert"),
                ("stranger", "other-cert"),
                ("envs", "sandbox-only"),
            ):
                vault.save_route(
                    route,
                    {
                        "target_url": lab.url + "/accounts",
                        "certificate_secret_id": cert,
                        "ca_bundle_secret_id": "lab-ca",
                    },
                )
        args = ["--vault", str(vault_path), "--vault-passphrase-file", str(pass_file)]
        yield lab, args, vault_path


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return json.loads(capsys.readouterr().out)


def test_test_json_ok_and_logged(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from knoxtui.vault import Vault

    _, args, vault_path = setup
    assert main([*args, "test", "lab", "--json"]) == 0
    data = _json(capsys)
    assert data["diagnosis"]["code"] == "ok" and data["diagnosis"]["side"] == "none"
    assert data["status_code"] == 200
    assert data["acceptable_client_cas"] == ["CN=knoxtui lab client CA,O=knoxtui lab"]
    assert data["client_certificate"]["sent"] is True
    for key in ("tls", "server_chain", "alert", "timings", "reproduce"):
        assert key in data
    assert "PRIVATE KEY" not in json.dumps(data)
    with Vault.open(vault_path, PASSPHRASE) as vault:
        (entry,) = vault.request_entries()
    assert entry.outcome == "ok" and entry.status_code == 200
    assert entry.certificate_fingerprint == data["client_certificate"]["fingerprint_sha256"]


def test_test_json_failure_twin(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, args, _ = setup
    assert main([*args, "test", "stranger", "--json"]) == 1
    data = _json(capsys)
    assert data["diagnosis"]["code"] == "client_cert_rejected_unknown_ca"
    assert data["diagnosis"]["side"] == "client"
    assert data["acceptable_client_cas"] == ["CN=knoxtui lab client CA,O=knoxtui lab"]
    assert data["alert"]["name"] == "unknown_ca"
    # The stored certificates whose issuer the server does accept are named as the way out.
    fits = {(f["secret"], f["environment"]) for f in data["fitting_certificates"]}
    assert ("lab-cert", "default") in fits and ("other-cert", "default") not in fits
    assert main([*args, "test", "stranger"]) == 1
    assert "stored certificates that fit:\n    - lab-cert (default)" in capsys.readouterr().out


def test_fitting_certificates_match_the_console_and_expired_ones_are_not_usable(
    setup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON lists what the console's tester lists whenever the server named its CAs (issue
    15 item 4: it said [] where the console listed six); an expired one is never 'fitting'."""
    from knoxtui.lifecycle.fit import fitting_stored_certificates
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    lab, args, vault_path = setup
    expired = load_bundle(
        lab.files.expired_client_cert.read_bytes(),
        key_data=lab.files.expired_client_key.read_bytes(),
    )
    with Vault.open(vault_path, PASSPHRASE) as vault:
        vault.add_certificate("old-cert", expired, allow_expired=True)
    assert main([*args, "test", "lab", "--json"]) == 0
    data = _json(capsys)
    with Vault.open(vault_path, PASSPHRASE) as vault:
        console = fitting_stored_certificates(vault, tuple(data["acceptable_client_cas"]))
    listed = [(f["secret"], f["environment"]) for f in data["fitting_certificates"]]
    assert listed == [(f.secret, f.environment) for f in console] and listed
    by_name = {f["secret"]: f for f in data["fitting_certificates"]}
    assert by_name["old-cert"]["status"] == "expired" and not by_name["old-cert"]["usable"]
    assert by_name["lab-cert"]["usable"]
    assert main([*args, "test", "stranger"]) == 1
    out = capsys.readouterr().out
    fitting = out.split("stored certificates that fit:")[1].split("not usable now:")[0]
    assert "lab-cert" in fitting and "old-cert" not in fitting
    assert "    - old-cert (default): expired" in out


def test_no_sni_is_reported_for_an_ip_target(
    setup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, args, _ = setup
    assert main([*args, "test", "lab", "--json"]) == 0
    data = _json(capsys)
    assert data["url"].startswith("https://127.0.0.1:") and data["tls"]["servername"] is None
    assert "-noservername" in data["reproduce"]["openssl"]


def test_test_environment_missing(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, args, _ = setup
    assert main([*args, "test", "envs", "--env", "production", "--json"]) == 1
    assert _json(capsys)["diagnosis"]["code"] == "environment_missing"
    assert main([*args, "test", "envs", "--env", "sandbox", "--json"]) == 0


def test_test_human_output(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, args, _ = setup
    assert main([*args, "test", "lab", "--path", "/x?y=1", "--header", "X-Trace: 7"]) == 0
    out = capsys.readouterr().out
    assert "OK  ok" in out and "acceptable client CAs" in out
    assert "curl -v -X GET --cert <cert-file> --key <key-file>" in out
    assert "openssl s_client -connect" in out and "PRIVATE KEY" not in out
    assert '"path": "/accounts/x?y=1"' in out


def test_test_usage_errors(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, args, _ = setup
    assert main([*args, "test", "lab", "--header", "no-colon"]) == 2
    assert main([*args, "test", "nope"]) == 2
    err = capsys.readouterr().err
    assert "NAME:VALUE" in err and "nope" in err


def test_lab_command_runs_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "knoxtui", "lab", "--port", "0", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "client.key").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert proc.returncode == 0
    assert "listening on   https://127.0.0.1:" in err and "lab stopped" in err
    assert (tmp_path / "client.key").stat().st_mode & 0o777 == 0o600


def test_lab_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--list"]) == 0
    assert "wrong_client_ca" in capsys.readouterr().out
    assert main(["lab", "--behaviour", "chaos", "--port", "0"]) == 2
    assert "Unknown lab behaviour" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["tok\x0bsecret-part", "\x01secret-part", "secret-part\x7f"])
def test_header_with_a_control_character_is_refused_naming_the_header_only(
    setup: Any, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """Issue 11 item 8: h11 refused a \\x0b value and its message (the whole value) landed in the
    text output and twice in --json; \\x01 and \\x7f were even sent to the server."""
    _, args, _ = setup
    for extra in (["--json"], []):
        assert main([*args, "test", "lab", "--header", f"X-Token: {value}", *extra]) == 1
        out = capsys.readouterr()
        assert "secret-part" not in out.out + out.err
        assert "X-Token" in out.out + out.err
        if extra:
            data = json.loads(out.out)
            assert data["diagnosis"]["code"] == "invalid_route"
            assert data["timings"]["connect_ms"] is None  # refused before any connection
