"""OAuth2 client credentials against the lab's token endpoint, which requires the client
certificate: all three auth methods, caching, and each failure twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from net_helpers import CertValue, resolver

from knoxtui.lab import CLIENT_ID, LabServer
from knoxtui.net import oauth2
from knoxtui.routes import Route, run_route


@pytest.fixture
def lab(tmp_path: Path) -> Any:
    oauth2.clear_cache()
    with LabServer(tmp_path / "lab", behaviour="oauth2") as server:
        yield server
    oauth2.clear_cache()


def _values(lab: LabServer, method: str, **oauth: Any) -> dict[str, Any]:
    files = lab.files
    config = {
        "token_url": lab.token_url,
        "client_id": CLIENT_ID,
        "client_secret": lab.client_secret,
        "auth_method": method,
        "scope": "accounts",
        **oauth,
    }
    return {
        "cert": CertValue(files.client_cert.read_bytes(), files.client_key.read_bytes()),
        "other": CertValue(
            files.other_ca_client_cert.read_bytes(), files.other_ca_client_key.read_bytes()
        ),
        "ca": files.ca_bundle.read_text(),
        "oauth": {k: v for k, v in config.items() if v is not None},
    }


def _run(lab: LabServer, vals: dict[str, Any], **config: Any) -> Any:
    base = {
        "target_url": lab.url + "/accounts",
        "certificate_secret_id": "cert",
        "ca_bundle_secret_id": "ca",
        "oauth2_secret_id": "oauth",
        **config,
    }
    route = Route.from_config("psd2", {k: v for k, v in base.items() if v is not None})
    return run_route(route, "sandbox", resolver(vals), timeout=5)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "tls_client_auth"])
def test_token_then_bearer_request(lab: LabServer, method: str) -> None:
    secret = None if method == "tls_client_auth" else lab.client_secret
    vals = _values(lab, method, client_secret=secret)
    first = _run(lab, vals)
    assert first.diagnosis.code == "ok", first.diagnosis
    step = first.oauth2_step
    assert step is not None and step.status_code == 200 and not step.cached
    assert step.auth_method == method and step.duration_ms is not None
    assert json.loads(first.body)["client_certificate"]["subject"].startswith("CN=lab-user")
    # Cached until shortly before expires_in: the second request needs no token exchange.
    second = _run(lab, vals)
    assert second.diagnosis.code == "ok" and second.oauth2_step.cached
    assert lab.token_requests == 1
    # The token itself never appears in the result, its JSON or its repr.
    (token,) = lab.tokens
    for result in (first, second):
        assert token not in json.dumps(result.to_dict())
        assert token not in repr(result)
        assert lab.client_secret not in json.dumps(result.to_dict())


def test_wrong_client_secret(lab: LabServer) -> None:
    result = _run(lab, _values(lab, "client_secret_basic", client_secret="not-the-secret"))
    assert (result.diagnosis.code, result.diagnosis.side) == ("oauth2_token_failed", "client")
    assert result.oauth2_step.status_code == 401
    assert "invalid_client" in result.diagnosis.summary
    assert result.status_code is None  # the API itself was not called


def test_token_endpoint_requires_the_client_certificate(lab: LabServer) -> None:
    result = _run(lab, _values(lab, "client_secret_post"), certificate_secret_id=None)
    assert result.diagnosis.code == "oauth2_token_failed"
    assert "client certificate" in result.diagnosis.summary


def test_token_endpoint_rejects_a_foreign_certificate(lab: LabServer) -> None:
    result = _run(
        lab, _values(lab, "tls_client_auth", client_secret=None), certificate_secret_id="other"
    )
    assert result.diagnosis.code == "oauth2_token_failed"
    assert result.oauth2_step.cause == "client_cert_rejected_unknown_ca"
    # The token exchange's handshake is the report: its accepted CAs name the lab's client CA.
    assert result.report.acceptable_client_cas == ("CN=knoxtui lab client CA,O=knoxtui lab",)


def test_oauth2_secret_names_its_own_certificate(lab: LabServer) -> None:
    vals = _values(lab, "tls_client_auth", client_secret=None, certificate_secret_id="cert")
    # The route itself has no certificate; the OAuth2 secret's certificate serves the token call.
    result = _run(lab, vals, certificate_secret_id=None)
    assert result.oauth2_step.status_code == 200
    assert result.diagnosis.code == "ok"


def test_tls_client_auth_without_any_certificate_is_a_config_error(lab: LabServer) -> None:
    result = _run(
        lab, _values(lab, "tls_client_auth", client_secret=None), certificate_secret_id=None
    )
    assert (result.diagnosis.code, result.diagnosis.side) == ("oauth2_token_failed", "config")
    assert lab.token_requests == 0


def test_bearer_is_required_by_the_api(lab: LabServer) -> None:
    result = _run(lab, _values(lab, "client_secret_basic"), oauth2_secret_id=None)
    assert (result.diagnosis.code, result.diagnosis.side) == ("http_error", "client")
    assert result.status_code == 401


def test_token_preview_is_not_the_token() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
    assert oauth2.preview(token) == f"eyJh…({len(token)} chars)"


def test_forget_secrets_drops_cached_tokens(lab: LabServer) -> None:
    from knoxtui.net import forget_secrets

    vals = _values(lab, "client_secret_post")
    assert _run(lab, vals).diagnosis.code == "ok"
    forget_secrets()
    again = _run(lab, vals)
    assert again.diagnosis.code == "ok" and not again.oauth2_step.cached
    assert lab.token_requests == 2
