"""The lab: material it writes, what it answers, and each behaviour's diagnosis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from net_helpers import CertValue, resolver

from knoxtui.errors import UsageError
from knoxtui.lab import BEHAVIOURS, SERVER_NAME, LabServer
from knoxtui.routes import Route, run_route


def _run(lab: LabServer, cert: str | None = "cert", **config: Any) -> Any:
    files = lab.files
    vals = {
        "cert": CertValue(files.client_cert.read_bytes(), files.client_key.read_bytes()),
        "expired": CertValue(
            files.expired_client_cert.read_bytes(), files.expired_client_key.read_bytes()
        ),
        "other": CertValue(
            files.other_ca_client_cert.read_bytes(), files.other_ca_client_key.read_bytes()
        ),
        "ca": files.ca_bundle.read_text(),
    }
    base = {"target_url": lab.url + "/hello", "ca_bundle_secret_id": "ca", **config}
    if cert:
        base["certificate_secret_id"] = cert
    return run_route(Route.from_config("lab", base), "default", resolver(vals), timeout=1.5)


def test_lab_writes_material_and_echoes_the_client(tmp_path: Path) -> None:
    with LabServer(tmp_path / "lab") as lab:
        result = _run(lab)
    files = lab.files
    assert files.client_key.stat().st_mode & 0o777 == 0o600
    assert b"BEGIN CERTIFICATE" in files.ca_bundle.read_bytes()
    assert (tmp_path / "lab" / "README.txt").read_text().startswith("knoxtui lab material")
    assert result.diagnosis.code == "ok"
    seen = json.loads(result.body)
    assert seen["client_certificate"]["fingerprint_sha256"] == result.report.client_cert_fingerprint
    assert seen["path"] == "/hello" and seen["tls_version"] == "TLSv1.3"


def test_unknown_behaviour_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Unknown lab behaviour"):
        LabServer(tmp_path, behaviour="chaos")


# behaviour -> (certificate secret, extra route config, expected code)
CASES: dict[str, tuple[str | None, dict[str, Any], str]] = {
    "ok": ("expired", {}, "client_cert_expired"),
    "optional": (None, {}, "ok"),
    "wrong_client_ca": ("cert", {}, "client_cert_rejected_unknown_ca"),
    "no_client_auth": (None, {}, "ok"),
    "expired_server": ("cert", {}, "server_cert_expired"),
    "hostname_mismatch": ("cert", {"tls_servername": SERVER_NAME}, "hostname_mismatch"),
    "untrusted_server": ("cert", {}, "server_cert_untrusted"),
    "tls13_only": ("cert", {"tls_max_version": "1.2"}, "protocol_mismatch"),
    "tls12_only": ("cert", {"tls_min_version": "1.3"}, "protocol_mismatch"),
    "plain_http": ("cert", {}, "not_tls"),
    "nginx_required": (None, {}, "client_cert_required"),
    "nginx_optional": ("other", {}, "client_cert_rejected_unknown_ca"),
    "oauth2": ("cert", {}, "http_error"),  # no Bearer token
    "slow": ("cert", {}, "timeout"),
}


def test_every_behaviour_has_a_case() -> None:
    assert set(CASES) == set(BEHAVIOURS)


@pytest.mark.parametrize("behaviour", list(CASES))
def test_behaviour_diagnosis(tmp_path: Path, behaviour: str) -> None:
    cert, config, code = CASES[behaviour]
    with LabServer(tmp_path / "lab", behaviour=behaviour, slow_seconds=3) as lab:
        result = _run(lab, cert, **config)
    assert result.diagnosis.code == code, result.diagnosis


def test_same_named_but_different_client_ca_is_called_a_look_alike(tmp_path: Path) -> None:
    """Two labs make two CAs with one name: the issuer 'matches' by name, the server still says
    unknown_ca, and the diagnosis must not claim the server does not accept that name."""
    with LabServer(tmp_path / "a") as first, LabServer(tmp_path / "b") as second:
        files = first.files
        vals = {
            "cert": CertValue(files.client_cert.read_bytes(), files.client_key.read_bytes()),
            "ca": second.files.ca_bundle.read_text(),
        }
        route = Route.from_config(
            "twin",
            {
                "target_url": second.url + "/hello",
                "certificate_secret_id": "cert",
                "ca_bundle_secret_id": "ca",
            },
        )
        result = run_route(route, "default", resolver(vals), timeout=1.5)
    assert result.diagnosis.code == "client_cert_rejected_unknown_ca"
    assert result.report.client_issuer_accepted is True
    assert "different CA with the same name" in result.diagnosis.summary
