"""The issue's acceptance check, kept as regressions: one real nginx (skipped where it is not
installed) with hand-written server blocks the project's own helper does not produce — SNI virtual
hosts, optional verification answering 403, a default server that rejects unknown names, TLS 1.2
or 1.3 only, a token endpoint behind mTLS — and the diagnosis each must give."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from net_helpers import Pki, free_port, resolver

from knoxtui import clock
from knoxtui.commands.request import render_text
from knoxtui.lab import Authority
from knoxtui.lab.nginx import nginx_path
from knoxtui.net import oauth2
from knoxtui.routes import Route, run_route

pytestmark = pytest.mark.skipif(nginx_path() is None, reason="nginx is not installed")
VERSIONS = [None, "1.2"]  # TLS 1.3 (the default when both speak it) and TLS 1.2
BASIC = b64encode(b"qa-client:s3cret").decode()
TLS = "ssl_certificate {run}/{cert}.pem; ssl_certificate_key {run}/{cert}.key;"
VERIFY = "ssl_client_certificate {run}/{cas}.pem; ssl_verify_client {mode};"
SERVERS = {
    # SNI virtual hosts: the default server has the API certificate, alpha wants a client cert.
    "vhosts": [
        "listen {addr} ssl default_server; server_name _; "
        + TLS.format(run="{run}", cert="api")
        + ' location / {{ return 200 \'{{"vhost":"default"}}\'; }}',
        "listen {addr} ssl; server_name alpha.bank.test; "
        + TLS.format(run="{run}", cert="alpha")
        + VERIFY.format(run="{run}", cas="client-cas", mode="on")
        + ' location / {{ return 200 \'{{"vhost":"alpha"}}\'; }}',
        "listen {addr} ssl; server_name beta.bank.test; "
        + TLS.format(run="{run}", cert="beta")
        + ' location / {{ return 200 \'{{"vhost":"beta"}}\'; }}',
    ],
    # Names it does not know are refused in the handshake (unrecognized_name).
    "strict_sni": [
        "listen {addr} ssl default_server; ssl_reject_handshake on;",
        "listen {addr} ssl; server_name alpha.bank.test; "
        + TLS.format(run="{run}", cert="alpha")
        + ' location / {{ return 200 \'{{"vhost":"alpha"}}\'; }}',
    ],
    "optional": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="api")
        + VERIFY.format(run="{run}", cas="client-cas", mode="optional")
        + " location / {{ if ($ssl_client_verify != SUCCESS) {{ return 403; }}"
        " return 200 '{{}}'; }}",
    ],
    "optional_no_ca": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="api")
        + VERIFY.format(run="{run}", cas="client-cas", mode="optional_no_ca")
        + " location / {{ if ($ssl_client_verify = NONE) {{ return 403; }} return 200 '{{}}'; }}",
    ],
    "root_only": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="api")
        + VERIFY.format(run="{run}", cas="client-root", mode="on")
        + " location / {{ return 200 '{{}}'; }}",
    ],
    "tls13_only": [
        "listen {addr} ssl; ssl_protocols TLSv1.3; "
        + TLS.format(run="{run}", cert="api")
        + " location / {{ return 200 '{{}}'; }}",
    ],
    "tls12_only": [
        "listen {addr} ssl; ssl_protocols TLSv1.2; "
        + TLS.format(run="{run}", cert="api")
        + " location / {{ return 200 '{{}}'; }}",
    ],
    # Revocation: a CRL for every CA of the client chain (nginx checks them all).
    "crl": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="api")
        + VERIFY.format(run="{run}", cas="client-cas", mode="on")
        + " ssl_crl {run}/client-crls.pem; location / {{ return 200 '{{}}'; }}",
    ],
    # The server omits its intermediate; a self-signed server.
    "server_leaf_only": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="leaf-only")
        + " location / {{ return 200 '{{}}'; }}",
    ],
    "self_signed": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="self-signed")
        + " location / {{ return 200 '{{}}'; }}",
    ],
    # A token endpoint and an API behind the same mTLS server.
    "oauth": [
        "listen {addr} ssl; "
        + TLS.format(run="{run}", cert="api")
        + VERIFY.format(run="{run}", cas="client-cas", mode="on")
        + ' location = /tls/token {{ return 200 \'{{"access_token":"qa-token-tls-0123456789",'
        '"expires_in":300,"token_type":"Bearer"}}\'; }}'
        + ' location = /basic/token {{ if ($http_authorization != "Basic '
        + BASIC
        + '") {{'
        ' return 401 \'{{"error":"invalid_client"}}\'; }}'
        ' return 200 \'{{"access_token":"qa-token-basic-0123456789","expires_in":300}}\'; }}'
        ' location /api/ {{ if ($http_authorization !~ "^Bearer qa-token-") {{ return 401; }}'
        " return 200 '{{\"ok\":true}}'; }}",
    ],
}
CONFIG = """daemon off; master_process on; worker_processes 1; pid {run}/nginx.pid;
error_log {run}/error.log error;
events {{ worker_connections 64; }}
http {{ access_log off; default_type application/json; ssl_verify_depth 3;
  ssl_protocols TLSv1.2 TLSv1.3; keepalive_timeout 0;
  client_body_temp_path {run}/body; proxy_temp_path {run}/proxy; fastcgi_temp_path {run}/fcgi;
  uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
{servers}
}}
"""


class QaPki(Pki):
    def __init__(self) -> None:
        super().__init__()
        self.revoked = self.client_ca.issue("tpp-revoked", client=True)
        soon = clock.now() + timedelta(days=2)
        self.future = self.client_ca.issue(
            "tpp-future", client=True, not_before=soon, not_after=soon + timedelta(days=90)
        )


@dataclass
class Nginx:
    ports: dict[str, int]
    pki: QaPki

    def url(self, server: str, host: str = "localhost", path: str = "/v1") -> str:
        return f"https://{host}:{self.ports[server]}{path}"


@pytest.fixture(scope="module")
def nginx() -> Iterator[Nginx]:
    pki = QaPki()
    run = Path(tempfile.mkdtemp(prefix="knoxtui-nginx-qa-"))
    issuing = Authority("Test Server Issuing CA", parent=pki.server_ca)
    material = {
        "api": pki.server,
        "alpha": pki.server_ca.issue("alpha.bank.test", dns_names=("alpha.bank.test",)),
        "beta": pki.server_ca.issue("beta.bank.test", dns_names=("beta.bank.test",)),
        "leaf-only": issuing.issue("api.bank.test", dns_names=("localhost",)),
    }
    for name, issued in material.items():
        chain = issued.cert_pem if name == "leaf-only" else issued.chain_pem
        (run / f"{name}.pem").write_bytes(chain)
        (run / f"{name}.key").write_bytes(issued.key_pem())
    selfie = Authority("localhost")  # a CA certificate serving as its own leaf
    (run / "self-signed.pem").write_bytes(selfie.cert_pem)
    (run / "self-signed.key").write_bytes(_key_pem(selfie.key))
    (run / "client-cas.pem").write_bytes(pki.client_root.cert_pem + pki.client_ca.cert_pem)
    (run / "client-root.pem").write_bytes(pki.client_root.cert_pem)
    (run / "client-crls.pem").write_bytes(
        _crl(pki.client_ca, (pki.revoked.certificate.serial_number,)) + _crl(pki.client_root, ())
    )
    ports = {name: free_port() for name in SERVERS}
    blocks = [
        "  server { " + block.format(addr=f"127.0.0.1:{ports[name]}", run=run) + " }"
        for name, server_blocks in SERVERS.items()
        for block in server_blocks
    ]
    (run / "nginx.conf").write_text(CONFIG.format(run=run, servers="\n".join(blocks)))
    binary = nginx_path()
    assert binary is not None
    proc = subprocess.Popen(
        [binary, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", "stderr"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(proc, ports.values())
        yield Nginx(ports, pki)
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr:
            proc.stderr.close()
        shutil.rmtree(run, ignore_errors=True)


def _crl(authority: Authority, serials: tuple[int, ...]) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    now = clock.now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - timedelta(days=1))
        .next_update(now + timedelta(days=30))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - timedelta(hours=1))
            .build()
        )
    return builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _wait_listening(proc: subprocess.Popen[bytes], ports: Any) -> None:
    deadline = time.monotonic() + 10
    pending = set(ports)
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"nginx did not start: {err[:400]}")
        for port in list(pending):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                pending.discard(port)
            except OSError:
                time.sleep(0.02)
    assert not pending, "nginx did not listen within 10 s"


def _values(pki: QaPki) -> dict[str, Any]:
    return {
        "cert": pki.value(pki.client),
        "leaf_only": _leaf_only(pki),
        "revoked": pki.value(pki.revoked),
        "future": pki.value(pki.future),
        "ca": pki.server_ca.cert_pem.decode(),
    }


def _leaf_only(pki: Pki) -> Any:
    value = pki.value(pki.client)
    return type(value)(pki.client.cert_pem, value.key_pem)


def _run(nginx: Nginx, url: str, cert: str | None = "cert", **config: Any) -> Any:
    values = {**_values(nginx.pki), **config.pop("extra_values", {})}
    base: dict[str, Any] = {"target_url": url, "ca_bundle_secret_id": "ca", **config}
    if cert:
        base["certificate_secret_id"] = cert
    return run_route(Route.from_config("qa", base), "default", resolver(values), timeout=5)


def _body(result: Any) -> Any:
    return json.loads(result.body)


@pytest.mark.parametrize("version", VERSIONS)
def test_sni_servername_selects_the_virtual_host(nginx: Nginx, version: str | None) -> None:
    url = nginx.url("vhosts", host="127.0.0.1")
    alpha = _run(nginx, url, tls_servername="alpha.bank.test", tls_max_version=version)
    beta = _run(nginx, url, None, tls_servername="beta.bank.test", tls_max_version=version)
    default = _run(nginx, url, None, tls_max_version=version)
    # The Host header follows tls_servername, so nginx answers from the SNI's server block...
    assert alpha.diagnosis.code == "ok" and _body(alpha) == {"vhost": "alpha"}
    assert beta.diagnosis.code == "ok" and _body(beta) == {"vhost": "beta"}
    assert default.diagnosis.code == "ok" and _body(default) == {"vhost": "default"}
    assert alpha.report.server_chain[0].subject.startswith("CN=alpha.bank.test")
    # A Host header on the route still wins over the SNI name.
    pinned = _run(
        nginx,
        url,
        tls_servername="alpha.bank.test",
        headers={"Host": "beta.bank.test"},
        tls_max_version=version,
    )
    assert pinned.diagnosis.code == "ok" and _body(pinned) == {"vhost": "beta"}
    # ...and that block's ssl_verify_client applies (not the default server's).
    bare = _run(nginx, url, None, tls_servername="alpha.bank.test", tls_max_version=version)
    assert (bare.diagnosis.code, bare.diagnosis.side) == ("client_cert_required", "client")


@pytest.mark.parametrize("version", VERSIONS)
def test_sni_unknown_name_gets_the_default_certificate(nginx: Nginx, version: str | None) -> None:
    url = nginx.url("vhosts", host="127.0.0.1")
    result = _run(nginx, url, None, tls_servername="gamma.bank.test", tls_max_version=version)
    assert (result.diagnosis.code, result.diagnosis.side) == ("hostname_mismatch", "server")
    assert "default certificate" in result.diagnosis.summary
    # Only DNS names are suggested for SNI (an IP address cannot be a server name).
    assert result.diagnosis.fix.startswith("Set tls_servername on the route to one of: ")
    assert "api.bank.test, localhost (" in result.diagnosis.fix


@pytest.mark.parametrize("version", VERSIONS)
def test_sni_strict_default_server(nginx: Nginx, version: str | None) -> None:
    by_ip = _run(nginx, nginx.url("strict_sni", host="127.0.0.1"), None, tls_max_version=version)
    assert (by_ip.diagnosis.code, by_ip.diagnosis.side) == ("hostname_mismatch", "config")
    assert by_ip.report.alert.name == "unrecognized_name"
    assert "IP address" in by_ip.diagnosis.summary
    named = _run(
        nginx,
        nginx.url("strict_sni", host="127.0.0.1"),
        None,
        tls_servername="alpha.bank.test",
        tls_max_version=version,
    )
    assert named.diagnosis.code == "ok" and _body(named) == {"vhost": "alpha"}


@pytest.mark.parametrize("server", ["optional", "optional_no_ca"])
@pytest.mark.parametrize("version", VERSIONS)
def test_optional_verification_answering_403(
    nginx: Nginx, server: str, version: str | None
) -> None:
    ok = _run(nginx, nginx.url(server), tls_max_version=version)
    none = _run(nginx, nginx.url(server), None, tls_max_version=version)
    assert ok.diagnosis.code == "ok"
    assert (none.diagnosis.code, none.diagnosis.side) == ("client_cert_required", "client")
    assert none.status_code == 403 and not none.report.client_cert_sent
    assert none.report.acceptable_client_cas == (
        "CN=Test Bank Client Root,O=knoxtui lab",
        "CN=Test Bank Client Issuing CA,O=knoxtui lab",
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_leaf_without_its_intermediate(nginx: Nginx, version: str | None) -> None:
    alone = _run(nginx, nginx.url("root_only"), "leaf_only", tls_max_version=version)
    chained = _run(nginx, nginx.url("root_only"), tls_max_version=version)
    assert (alone.diagnosis.code, alone.diagnosis.side) == (
        "client_cert_rejected_unknown_ca",
        "client",
    )
    assert alone.report.acceptable_client_cas == ("CN=Test Bank Client Root,O=knoxtui lab",)
    assert "intermediate" in alone.diagnosis.fix
    assert chained.diagnosis.code == "ok"


@pytest.mark.parametrize(
    ("server", "bounds", "speaks", "setting"),
    [
        ("tls13_only", {"tls_max_version": "1.2"}, "TLSv1.3", "tls_max_version"),
        ("tls12_only", {"tls_min_version": "1.3"}, "TLSv1.2", "tls_min_version"),
    ],
)
def test_protocol_mismatch_names_what_the_server_speaks(
    nginx: Nginx, server: str, bounds: dict[str, str], speaks: str, setting: str
) -> None:
    result = _run(nginx, nginx.url(server), **bounds)
    assert (result.diagnosis.code, result.diagnosis.side) == ("protocol_mismatch", "config")
    assert result.report.alert.name == "protocol_version"
    assert result.report.server_tls_version == speaks
    assert result.diagnosis.fix.startswith(f'Set {setting} on the route to "{speaks[-3:]}"')
    # nginx's "plain HTTP sent to HTTPS port" page is no plain-HTTP service.
    assert not result.report.plain_http_answer
    assert result.to_dict()["tls"]["server_version"] == speaks
    # The human report does not claim facts from a handshake that never got that far.
    text = render_text(result, None)
    assert "ended before the server sent its certificate" in text
    assert "client certificate requested" not in text and "server verified" not in text


@pytest.mark.parametrize("version", VERSIONS)
def test_token_endpoint_behind_mtls(nginx: Nginx, version: str | None) -> None:
    port = nginx.ports["oauth"]
    token_url = f"https://localhost:{port}"

    def oauth(path: str, method: str, secret: str | None = None) -> dict[str, Any]:
        config = {"token_url": token_url + path, "client_id": "qa-client", "auth_method": method}
        return {"oauth": {**config, "client_secret": secret} if secret else config}

    api = nginx.url("oauth", path="/api/accounts")
    oauth2.clear_cache()
    try:
        tls = _run(
            nginx,
            api,
            oauth2_secret_id="oauth",
            tls_max_version=version,
            extra_values=oauth("/tls/token", "tls_client_auth"),
        )
        basic = _run(
            nginx,
            api,
            oauth2_secret_id="oauth",
            tls_max_version=version,
            extra_values=oauth("/basic/token", "client_secret_basic", "s3cret"),
        )
        wrong = _run(
            nginx,
            api,
            oauth2_secret_id="oauth",
            tls_max_version=version,
            extra_values=oauth("/basic/token", "client_secret_basic", "not-it"),
        )
        bare = _run(
            nginx,
            api,
            None,
            oauth2_secret_id="oauth",
            tls_max_version=version,
            extra_values=oauth("/basic/token", "client_secret_basic", "other"),
        )
    finally:
        oauth2.clear_cache()
    assert tls.diagnosis.code == "ok" and tls.oauth2_step.status_code == 200
    assert basic.diagnosis.code == "ok" and _body(basic) == {"ok": True}
    # Wrong credentials: the server refused the client's credentials.
    assert (wrong.diagnosis.code, wrong.diagnosis.side) == ("oauth2_token_failed", "client")
    assert wrong.oauth2_step.status_code == 401 and wrong.status_code is None
    assert (bare.diagnosis.code, bare.oauth2_step.cause) == (
        "oauth2_token_failed",
        "client_cert_required",
    )
    assert "neither the route nor the OAuth2 secret 'oauth'" in bare.diagnosis.summary
    # The human report says it once, not again on the OAuth2 line.
    text = render_text(bare, None)
    assert text.count(bare.diagnosis.summary) == 1 and "failed (see above)" in text


@pytest.mark.parametrize("version", VERSIONS)
def test_server_chain_problems(nginx: Nginx, version: str | None) -> None:
    lone = _run(nginx, nginx.url("server_leaf_only"), None, tls_max_version=version)
    selfie = _run(nginx, nginx.url("self_signed"), None, tls_max_version=version)
    assert (lone.diagnosis.code, lone.diagnosis.side) == ("server_cert_untrusted", "server")
    assert "CN=Test Server Issuing CA" in lone.diagnosis.summary
    assert "route's CA bundle" in lone.diagnosis.summary and "full chain" in lone.diagnosis.fix
    assert (selfie.diagnosis.code, selfie.diagnosis.side) == ("server_cert_untrusted", "server")
    assert "self-signed" in selfie.diagnosis.summary


@pytest.mark.parametrize("version", VERSIONS)
def test_revoked_client_certificate(nginx: Nginx, version: str | None) -> None:
    revoked = _run(nginx, nginx.url("crl"), "revoked", tls_max_version=version)
    valid = _run(nginx, nginx.url("crl"), tls_max_version=version)
    # Its issuer is accepted, so it is neither an unknown CA nor a missing certificate.
    assert (revoked.diagnosis.code, revoked.diagnosis.side) == ("client_cert_rejected", "client")
    assert revoked.report.client_issuer_accepted is True and revoked.status_code == 400
    assert "revoked" in revoked.diagnosis.fix
    assert valid.diagnosis.code == "ok"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_certificate_not_valid_yet(nginx: Nginx, version: str | None) -> None:
    result = _run(nginx, nginx.url("crl"), "future", tls_max_version=version)
    assert (result.diagnosis.code, result.diagnosis.side) == ("client_cert_rejected", "client")
    assert "not valid before" in result.diagnosis.summary
