"""A real nginx with ssl_verify_client (skipped where nginx is not installed): it finishes the
handshake and answers 400 pages, and each must still come out as the certificate problem it is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from net_helpers import Pki, resolver

from knoxtui import clock
from knoxtui.lab.nginx import NginxServer, nginx_path
from knoxtui.routes import Route, run_route

pytestmark = pytest.mark.skipif(nginx_path() is None, reason="nginx is not installed")
NAMES = ("CN=Test Bank Client Root,O=knoxtui lab", "CN=Test Bank Client Issuing CA,O=knoxtui lab")


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _values(pki: Pki) -> dict[str, Any]:
    now = clock.now()
    expired = pki.client_ca.issue(
        "tpp-old",
        client=True,
        not_before=now - timedelta(days=9),
        not_after=now - timedelta(days=1),
    )
    return {
        "cert": pki.value(pki.client),
        "other": pki.value(pki.other_client),
        "expired": pki.value(expired),
        "ca": pki.server_ca.cert_pem.decode(),
    }


def _nginx(pki: Pki, **options: Any) -> NginxServer:
    server = options.pop("server", pki.server)
    return NginxServer(
        server.chain_pem,
        server.key_pem(),
        pki.client_root.cert_pem + pki.client_ca.cert_pem,
        **options,
    )


def _run(url: str, vals: dict[str, Any], cert: str | None = "cert", **config: Any) -> Any:
    base = {"target_url": url + "/v1/accounts", "ca_bundle_secret_id": "ca", **config}
    if cert:
        base["certificate_secret_id"] = cert
    return run_route(Route.from_config("bank", base), "default", resolver(vals), timeout=5)


@pytest.mark.parametrize("verify", ["on", "optional"])
def test_nginx_verify_client(pki: Pki, verify: str) -> None:
    vals = _values(pki)
    with _nginx(pki, verify=verify) as nginx:
        ok = _run(nginx.url, vals)
        stranger = _run(nginx.url, vals, "other")
        old = _run(nginx.url, vals, "expired")
        none = _run(nginx.url, vals, None)
    assert ok.diagnosis.code == "ok" and ok.report.acceptable_client_cas == NAMES
    assert (stranger.diagnosis.code, stranger.diagnosis.side) == (
        "client_cert_rejected_unknown_ca",
        "client",
    )
    assert stranger.report.acceptable_client_cas == NAMES and stranger.status_code == 400
    assert old.diagnosis.code == "client_cert_expired"
    assert none.diagnosis.code == ("client_cert_required" if verify == "on" else "ok")


def test_nginx_tls13_only(pki: Pki) -> None:
    vals = _values(pki)
    with _nginx(pki, protocols="TLSv1.3") as nginx:
        bad = _run(nginx.url, vals, tls_max_version="1.2")
        good = _run(nginx.url, vals, tls_min_version="1.3")
    assert (bad.diagnosis.code, bad.diagnosis.side) == ("protocol_mismatch", "config")
    assert good.diagnosis.code == "ok" and good.report.tls_version == "TLSv1.3"


def test_nginx_expired_and_mismatched_server_certificates(pki: Pki) -> None:
    vals = _values(pki)
    now = clock.now()
    old = pki.server_ca.issue(
        "api.bank.test",
        dns_names=("api.bank.test",),
        not_before=now - timedelta(days=90),
        not_after=now - timedelta(days=1),
    )
    with _nginx(pki, server=old) as nginx:
        expired = _run(nginx.url, vals, tls_servername="api.bank.test")
    with _nginx(pki) as nginx:
        wrong = _run(nginx.url, vals, tls_servername="payments.bank.test")
        right = _run(nginx.url, vals, tls_servername="api.bank.test")
    assert (expired.diagnosis.code, expired.diagnosis.side) == ("server_cert_expired", "server")
    assert (wrong.diagnosis.code, wrong.diagnosis.side) == ("hostname_mismatch", "server")
    assert "api.bank.test" in wrong.diagnosis.summary
    assert right.diagnosis.code == "ok"
