"""One real server per diagnosis code, on 127.0.0.1, TLS 1.2 and 1.3 where it matters; each
success has its failure twin asserting the exact code, the side and the accepted-CA list."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from net_helpers import (
    OPENSSL,
    Pki,
    PythonSslServer,
    RecordingListener,
    free_port,
    openssl_server,
    pyopenssl_server,
    python_server_context,
    resolver,
)

from knoxtui import clock
from knoxtui.net.tls_server import ServerResponse, TlsServer
from knoxtui.routes import Route, run_route

VERSIONS = ["1.2", "1.3"]
ROOT_NAME = "CN=Test Bank Client Root,O=knoxtui lab"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def values(pki: Pki, **extra: Any) -> dict[str, Any]:
    return {
        "cert": pki.value(pki.client),
        "other": pki.value(pki.other_client),
        "ca": pki.server_ca.cert_pem.decode(),
        "wrong-ca": pki.other_ca.cert_pem.decode(),
        **extra,
    }


def run(url: str, vals: dict[str, Any], *, timeout: float = 5.0, **config: Any) -> Any:
    config.setdefault("certificate_secret_id", "cert")
    config.setdefault("ca_bundle_secret_id", "ca")
    config = {k: v for k, v in config.items() if v is not None}
    route = Route.from_config("bank", {"target_url": url, **config})
    return run_route(route, "production", resolver(vals), timeout=timeout)


# --- ok and the client-certificate family ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_ok_reports_the_same_connection(pki: Pki, version: str) -> None:
    with pyopenssl_server(pki, min_version=version, max_version=version) as server:
        result = run(server.url + "/accounts", values(pki))
    assert (result.diagnosis.code, result.diagnosis.side) == ("ok", "none")
    report = result.report
    assert report.tls_version == f"TLSv{version}"
    assert report.server_verified and report.handshake_completed and not report.probed
    assert report.acceptable_client_cas == (ROOT_NAME,)
    assert report.client_cert_requested and report.client_cert_sent
    assert report.client_cert_fingerprint == result.report.client_cert_fingerprint
    assert report.client_issuer_accepted is True  # via the intermediate's issuer
    assert report.server_chain[0].subject_cn == "api.bank.test"
    assert report.alpn == "http/1.1"
    assert b"tpp-client" in result.body
    t = result.timings
    assert t.connect_ms is not None and t.tls_ms is not None and t.ttfb_ms is not None
    assert t.total_ms is not None and t.total_ms >= t.tls_ms


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_ca_names_the_accepted_issuers(pki: Pki, version: str) -> None:
    with pyopenssl_server(pki, min_version=version, max_version=version) as server:
        result = run(server.url, values(pki), certificate_secret_id="other")
    assert (result.diagnosis.code, result.diagnosis.side) == (
        "client_cert_rejected_unknown_ca",
        "client",
    )
    assert result.report.acceptable_client_cas == (ROOT_NAME,)
    assert result.report.client_issuer_accepted is False
    assert result.report.alert is not None and result.report.alert.name == "unknown_ca"
    assert ROOT_NAME in result.diagnosis.summary
    assert "Unrelated Client CA" in result.diagnosis.summary


@pytest.mark.parametrize("version", VERSIONS)
def test_client_cert_required_when_the_route_has_none(pki: Pki, version: str) -> None:
    with pyopenssl_server(pki, min_version=version, max_version=version) as server:
        result = run(server.url, values(pki), certificate_secret_id=None)
    assert (result.diagnosis.code, result.diagnosis.side) == ("client_cert_required", "client")
    assert result.report.client_cert_requested and not result.report.client_cert_sent
    assert result.report.acceptable_client_cas == (ROOT_NAME,)
    assert "certificate_secret_id" in result.diagnosis.summary


@pytest.mark.parametrize("version", VERSIONS)
def test_optional_verification_serves_without_a_certificate(pki: Pki, version: str) -> None:
    with pyopenssl_server(pki, verify="optional", min_version=version, max_version=version) as s:
        result = run(s.url, values(pki), certificate_secret_id=None)
    assert result.diagnosis.code == "ok"
    assert result.report.client_cert_requested and not result.report.client_cert_sent


@pytest.mark.parametrize("version", VERSIONS)
def test_client_cert_expired(pki: Pki, version: str) -> None:
    now = clock.now()
    expired = pki.client_ca.issue(
        "tpp-expired",
        client=True,
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    vals = values(pki, expired=pki.value(expired))
    with pyopenssl_server(pki, min_version=version, max_version=version) as server:
        result = run(server.url, vals, certificate_secret_id="expired")
    assert (result.diagnosis.code, result.diagnosis.side) == ("client_cert_expired", "client")
    assert result.report.alert is not None and result.report.alert.name == "certificate_expired"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_cert_rejected_for_another_reason(pki: Pki, version: str) -> None:
    # A certificate from the trusted CA, but for servers only: the server refuses its purpose.
    wrong_purpose = pki.client_ca.issue("tpp-server-only", client=False)
    vals = values(pki, purpose=pki.value(wrong_purpose))
    context = python_server_context(pki, version=version)
    with PythonSslServer(context) as server:
        result = run(f"https://127.0.0.1:{server.port}", vals, certificate_secret_id="purpose")
    assert (result.diagnosis.code, result.diagnosis.side) == ("client_cert_rejected", "client")
    assert result.report.alert is not None
    assert result.report.alert.name == "unsupported_certificate"
    # Python's ssl servers name no CAs: the report says so, it does not invent any.
    assert result.report.acceptable_client_cas == ()


@pytest.mark.parametrize("version", VERSIONS)
def test_python_ssl_server_certificate_required(pki: Pki, version: str) -> None:
    context = python_server_context(pki, version=version)
    with PythonSslServer(context) as server:
        good = run(f"https://127.0.0.1:{server.port}", values(pki))
        none = run(f"https://127.0.0.1:{server.port}", values(pki), certificate_secret_id=None)
    assert good.diagnosis.code == "ok"
    assert (none.diagnosis.code, none.diagnosis.side) == ("client_cert_required", "client")


# --- the server's side --------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_server_cert_untrusted_names_the_missing_issuer(pki: Pki, version: str) -> None:
    with pyopenssl_server(pki, min_version=version, max_version=version) as server:
        system = run(server.url, values(pki), ca_bundle_secret_id=None)
        wrong = run(server.url, values(pki), ca_bundle_secret_id="wrong-ca")
    for result in (system, wrong):
        assert (result.diagnosis.code, result.diagnosis.side) == ("server_cert_untrusted", "server")
        assert "Test Server Root CA" in result.diagnosis.summary
        assert "ca_bundle_secret_id" in (result.diagnosis.fix or "")
        # The diagnostic probe still read the server's chain and accepted CAs.
        assert result.report.probed
        assert result.report.server_chain[0].subject_cn == "api.bank.test"
        assert result.report.acceptable_client_cas == (ROOT_NAME,)
    assert "system trust store" in system.diagnosis.summary


def test_verify_off_connects_with_a_warning(pki: Pki) -> None:
    with pyopenssl_server(pki) as server:
        result = run(
            server.url, values(pki), ca_bundle_secret_id=None, tls_reject_unauthorized=False
        )
    assert result.diagnosis.code == "ok"
    assert not result.report.server_verified and not result.report.verify_enabled
    assert any("verification is OFF" in w for w in result.warnings)


def test_server_cert_expired(pki: Pki) -> None:
    now = clock.now()
    old = pki.server_ca.issue(
        "api.bank.test",
        dns_names=("api.bank.test",),
        ip_addresses=("127.0.0.1",),
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=3),
    )
    with pyopenssl_server(pki, server_cert=old) as server:
        result = run(server.url, values(pki))
    assert (result.diagnosis.code, result.diagnosis.side) == ("server_cert_expired", "server")
    assert result.report.server_chain[0].valid_until < now


def _ca_again(ca: Any, days_from: int, days_to: int) -> Any:
    """The CA's certificate made again: same name, key and issuer, other dates (a bundle or a
    server that kept an old copy of the CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = clock.now()
    signer = ca.parent or ca
    return (
        x509.CertificateBuilder()
        .subject_name(ca.certificate.subject)
        .issuer_name(signer.certificate.subject)
        .public_key(ca.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days_from))
        .not_valid_after(now + timedelta(days=days_to))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer.key, hashes.SHA256())
    )


def test_an_expired_ca_in_the_route_bundle_is_ours_to_fix(pki: Pki) -> None:
    """OpenSSL says 'certificate has expired' whichever certificate of the path expired: when it
    is the CA in the route's bundle, the server's certificate is fine and the fix is ours (was:
    'the server's certificate expired on <a date a year ahead>; tell the API provider')."""
    from cryptography.hazmat.primitives.serialization import Encoding

    expired_ca = _ca_again(pki.server_ca, -400, -2).public_bytes(Encoding.PEM).decode()
    with pyopenssl_server(pki) as server:
        result = run(server.url, values(pki, ca=expired_ca))
    d = result.diagnosis
    assert (d.code, d.side) == ("ca_bundle_unusable", "config"), d
    assert "Test Server Root CA" in d.summary and "expired on" in d.summary
    assert "CA bundle" in (d.fix or "") and "API provider" not in d.summary
    # an expired leaf is still the server's (test_server_cert_expired)


def test_a_ca_of_the_same_name_with_another_key_is_called_so(pki: Pki) -> None:
    """A re-keyed CA: the bundle holds a CA of the issuer's very name, so 'its issuer is not in
    the route's CA bundle' read wrong to the user looking at the bundle."""
    from knoxtui.lab import Authority

    namesake = Authority("Test Server Root CA").cert_pem.decode()
    with pyopenssl_server(pki) as server:
        result = run(server.url, values(pki, ca=namesake))
    d = result.diagnosis
    assert (d.code, d.side) == ("server_cert_untrusted", "server"), d
    assert "another key" in d.summary and "Test Server Root CA" in d.summary
    assert "not in the route's CA bundle" not in d.summary


def test_an_expired_intermediate_the_server_sends_is_named(pki: Pki) -> None:
    from dataclasses import replace

    from knoxtui.lab import Authority

    issuing = Authority("Test Server Issuing CA", parent=pki.server_ca)
    leaf = issuing.issue("api.bank.test", dns_names=("api.bank.test",), ip_addresses=("127.0.0.1",))
    stale = replace(leaf, chain=(_ca_again(issuing, -400, -2),))
    with pyopenssl_server(pki, server_cert=stale) as server:
        result = run(server.url, values(pki))
    d = result.diagnosis
    assert (d.code, d.side) == ("server_cert_expired", "server"), d
    assert "Test Server Issuing CA" in d.summary and "its own certificate is valid" in d.summary


def test_hostname_mismatch_and_servername_override(pki: Pki) -> None:
    seen: list[str | None] = []

    def handler(request: Any) -> ServerResponse:
        seen.append(request.servername)
        return ServerResponse(200, b"{}")

    with pyopenssl_server(pki, handler=handler) as server:
        wrong = run(server.url, values(pki), tls_servername="wrong.bank.test")
        right = run(server.url, values(pki), tls_servername="api.bank.test")
    assert (wrong.diagnosis.code, wrong.diagnosis.side) == ("hostname_mismatch", "server")
    assert "api.bank.test" in wrong.diagnosis.summary and "tls_servername" in (
        wrong.diagnosis.fix or ""
    )
    assert right.diagnosis.code == "ok"
    assert right.report.servername == "api.bank.test"
    assert seen == ["api.bank.test"]  # SNI carried the override while we dialled 127.0.0.1


@pytest.mark.parametrize(
    ("server_only", "route_option"),
    [("1.3", {"tls_max_version": "1.2"}), ("1.2", {"tls_min_version": "1.3"})],
)
def test_protocol_mismatch(pki: Pki, server_only: str, route_option: dict[str, str]) -> None:
    with pyopenssl_server(pki, min_version=server_only, max_version=server_only) as server:
        bad = run(server.url, values(pki), **route_option)
        good = run(
            server.url, values(pki), tls_min_version=server_only, tls_max_version=server_only
        )
    assert (bad.diagnosis.code, bad.diagnosis.side) == ("protocol_mismatch", "config")
    assert good.diagnosis.code == "ok" and good.report.tls_version == f"TLSv{server_only}"


def test_not_tls_on_a_plain_http_port(pki: Pki) -> None:
    with TlsServer(
        lambda r: ServerResponse(200, b"{}"), cert_chain_pem=None, key_pem=None, plain=True
    ) as plain:
        tls = run(f"https://127.0.0.1:{plain.port}/", values(pki))
        http = run(f"http://127.0.0.1:{plain.port}/", values(pki), allow_plaintext=True)
    assert (tls.diagnosis.code, tls.diagnosis.side) == ("not_tls", "server")
    assert tls.report.plain_http_answer and "plain HTTP" in tls.diagnosis.summary
    assert http.diagnosis.code == "ok"


def test_connection_refused() -> None:
    port = free_port()
    result = run(
        f"https://127.0.0.1:{port}/", {}, certificate_secret_id=None, ca_bundle_secret_id=None
    )
    assert (result.diagnosis.code, result.diagnosis.side) == ("connection_refused", "network")


def test_dns_failure() -> None:
    # tests/conftest.py answers every non-loopback name as unknown, so no DNS query leaves here.
    result = run(
        "https://no-such-host.invalid/", {}, certificate_secret_id=None, ca_bundle_secret_id=None
    )
    assert (result.diagnosis.code, result.diagnosis.side) == ("dns_failure", "network")


def test_timeout_in_the_handshake(pki: Pki) -> None:
    context = python_server_context(pki)
    with PythonSslServer(context, silent=True) as server:
        result = run(f"https://127.0.0.1:{server.port}", values(pki), timeout=0.5)
    assert (result.diagnosis.code, result.diagnosis.side) == ("timeout", "network")
    assert "handshake" in result.diagnosis.summary


def test_timeout_waiting_for_the_answer(pki: Pki) -> None:
    with pyopenssl_server(pki, handler=lambda r: ServerResponse(200, b"{}", delay=3)) as server:
        result = run(server.url, values(pki), timeout=0.5)
    # Connected and handshaken: the server is the slow side, not the network.
    assert (result.diagnosis.code, result.diagnosis.side) == ("timeout", "server")
    assert result.report.handshake_completed and "response" in result.diagnosis.summary


@pytest.mark.parametrize(("status", "side"), [(500, "server"), (404, "server"), (403, "client")])
def test_http_error(pki: Pki, status: int, side: str) -> None:
    with pyopenssl_server(
        pki, handler=lambda r: ServerResponse(status, b'{"error": "x"}')
    ) as server:
        result = run(server.url, values(pki))
    assert (result.diagnosis.code, result.diagnosis.side) == ("http_error", side)
    assert result.status_code == status and result.report.handshake_completed


# --- nginx's way: the handshake passes, a 400 page tells the truth ---------------------------


def _nginx(pki: Pki, required: bool):  # type: ignore[no-untyped-def]
    from knoxtui.lab.server import NGINX_400

    def handler(request: Any) -> ServerResponse:
        if request.peer_certificate is not None and request.peer_verify_error is not None:
            page = NGINX_400.format(title="The SSL certificate error")
            return ServerResponse(400, page.encode(), content_type="text/html")
        if request.peer_certificate is None and required:
            page = NGINX_400.format(title="No required SSL certificate was sent")
            return ServerResponse(400, page.encode(), content_type="text/html")
        return ServerResponse(200, b"{}")

    return pyopenssl_server(pki, verify="inspect", handler=handler)


@pytest.mark.parametrize("version", VERSIONS)
def test_nginx_pages_are_certificate_problems(pki: Pki, version: str) -> None:
    now = clock.now()
    expired = pki.client_ca.issue(
        "tpp-old",
        client=True,
        not_before=now - timedelta(days=9),
        not_after=now - timedelta(days=2),
    )
    vals = values(pki, expired=pki.value(expired))
    with _nginx(pki, required=True) as server:
        ok = run(server.url, vals)
        none = run(server.url, vals, certificate_secret_id=None)
        stranger = run(server.url, vals, certificate_secret_id="other")
        old = run(server.url, vals, certificate_secret_id="expired")
    assert ok.diagnosis.code == "ok"
    assert (none.diagnosis.code, none.diagnosis.side) == ("client_cert_required", "client")
    assert stranger.diagnosis.code == "client_cert_rejected_unknown_ca"
    assert stranger.report.acceptable_client_cas == (ROOT_NAME,)
    assert old.diagnosis.code == "client_cert_expired"
    assert none.status_code == 400  # the page is still reported as the response


def test_nginx_optional_serves_without_a_certificate(pki: Pki) -> None:
    with _nginx(pki, required=False) as server:
        assert run(server.url, values(pki), certificate_secret_id=None).diagnosis.code == "ok"
        assert run(server.url, values(pki), certificate_secret_id="other").diagnosis.code == (
            "client_cert_rejected_unknown_ca"
        )


# --- openssl s_server --------------------------------------------------------------------


@pytest.mark.openssl
@pytest.mark.skipif(OPENSSL is None, reason="openssl command-line tool not installed")
@pytest.mark.parametrize("version", VERSIONS)
def test_openssl_s_server(tmp_path: Path, pki: Pki, version: str) -> None:
    flag = "-tls1_2" if version == "1.2" else "-tls1_3"
    with openssl_server(tmp_path, pki, "-Verify", "2", "-verify_return_error", flag) as port:
        good = run(f"https://127.0.0.1:{port}/", values(pki))
        stranger = run(f"https://127.0.0.1:{port}/", values(pki), certificate_secret_id="other")
        none = run(f"https://127.0.0.1:{port}/", values(pki), certificate_secret_id=None)
    assert good.diagnosis.code == "ok", good.diagnosis
    assert good.report.tls_version == f"TLSv{version}"
    names = set(good.report.acceptable_client_cas)
    assert names == {ROOT_NAME, "CN=Test Bank Client Issuing CA,O=knoxtui lab"}
    assert (stranger.diagnosis.code, stranger.diagnosis.side) == (
        "client_cert_rejected_unknown_ca",
        "client",
    )
    assert set(stranger.report.acceptable_client_cas) == names
    assert none.diagnosis.code == "client_cert_required"


# --- before any connection ---------------------------------------------------------------


def test_environment_missing_opens_no_connection(pki: Pki) -> None:
    listener = RecordingListener()
    try:
        url = f"https://127.0.0.1:{listener.port}/"
        envs = {"cert": {"sandbox": pki.value(pki.client)}}
        route = Route.from_config("bank", {"target_url": url, "certificate_secret_id": "cert"})
        result = run_route(route, "production", resolver({}, envs), timeout=1)
        assert (result.diagnosis.code, result.diagnosis.side) == ("environment_missing", "config")
        assert "sandbox" in result.diagnosis.summary and "production" in result.diagnosis.summary
        assert listener.accepted() == 0
        # The twin: the environment it has does connect (to this listener, which never answers).
        run_route(route, "sandbox", resolver({}, envs), timeout=0.3)
        assert listener.accepted() == 1
    finally:
        listener.close()


def test_key_passphrase_wrong_opens_no_connection(pki: Pki) -> None:
    listener = RecordingListener()
    try:
        sealed = pki.client.key_pem(b"right horse")
        vals = {
            "wrong": type(pki.value(pki.client))(pki.client.chain_pem, sealed, "wrong horse"),
            "right": type(pki.value(pki.client))(pki.client.chain_pem, sealed, "right horse"),
        }
        url = f"https://127.0.0.1:{listener.port}/"
        route = Route.from_config("bank", {"target_url": url, "certificate_secret_id": "wrong"})
        result = run_route(route, "production", resolver(vals), timeout=0.3)
        assert (result.diagnosis.code, result.diagnosis.side) == ("key_passphrase_wrong", "config")
        assert listener.accepted() == 0
        route = Route.from_config("bank", {"target_url": url, "certificate_secret_id": "right"})
        assert (
            run_route(route, "production", resolver(vals), timeout=0.3).diagnosis.code == "timeout"
        )
        assert listener.accepted() == 1
    finally:
        listener.close()
