"""Requests in the field: timeouts that name their phase, cancel from another thread, redirects
(reported, or followed to the same origin only), HTTP/2 by ALPN, and a hostile server whose
headers, body and certificate names reach the text report only escaped."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pytest

from knoxtui.commands.request import render_text
from knoxtui.lab import Authority
from knoxtui.lab.nginx import NginxServer, nginx_path
from knoxtui.net.cancel import Cancellation
from knoxtui.net.reproduce import reproduction_commands
from knoxtui.net.request import execute
from knoxtui.net.tls_server import ServerResponse, TlsServer
from knoxtui.routes import Route, plan_request, run_route
from tests.net.net_helpers import Pki, pyopenssl_server, resolver
from tests.net.proxies import SilentListener


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def values(pki: Pki) -> dict[str, Any]:
    return {"cert": pki.value(pki.client), "ca": pki.server_ca.cert_pem.decode(), "k": "key-42"}


def route(url: str, **config: Any) -> Route:
    config.setdefault("certificate_secret_id", "cert")
    config.setdefault("ca_bundle_secret_id", "ca")
    return Route.from_config("bank", {"target_url": url, **config})


# --- timeouts and cancel -----------------------------------------------------------------------


def test_timeout_in_the_tls_handshake_names_the_phase(pki: Pki) -> None:
    with SilentListener() as silent:
        result = run_route(
            route(f"https://127.0.0.1:{silent.port}/", timeout_seconds=1),
            "x",
            resolver(values(pki)),
        )
    assert result.diagnosis.code == "timeout"
    assert "within 1 s (phase: TLS handshake)" in result.diagnosis.summary


def test_timeout_waiting_for_the_response_names_the_phase() -> None:
    with SilentListener() as silent:
        result = run_route(
            Route.from_config("plain", {"target_url": silent.url + "/", "timeout_seconds": 1}),
            "x",
            resolver({}),
        )
    assert result.diagnosis.code == "timeout"
    assert "(phase: waiting for the response)" in result.diagnosis.summary


def test_the_command_line_timeout_wins_over_the_route(pki: Pki) -> None:
    plan = plan_request(
        route("https://x/", timeout_seconds=60), "x", resolver(values(pki)), timeout=2
    )
    assert plan.timeout == 2 and plan.connect_timeout == 10


def test_cancel_stops_a_request_at_once_and_leaves_no_thread(pki: Pki) -> None:
    cancel = Cancellation()
    results: list[Any] = []
    with SilentListener() as silent:
        plan = plan_request(
            route(f"https://127.0.0.1:{silent.port}/", timeout_seconds=60),
            "x",
            resolver(values(pki)),
        )
        worker = threading.Thread(target=lambda: results.append(execute(plan, cancel)))
        worker.start()
        while silent.accepted == 0 and worker.is_alive():
            worker.join(0.01)
        cancel.cancel()
        worker.join(10)  # bounded: a request left running would hold it for 60 s
        assert not worker.is_alive()
    (result,) = results
    assert (result.diagnosis.code, result.diagnosis.side) == ("cancelled", "none")
    assert result.status_code is None


def test_cancel_before_start_sends_nothing(pki: Pki) -> None:
    cancel = Cancellation()
    cancel.cancel()
    with SilentListener() as silent:
        plan = plan_request(route(f"https://127.0.0.1:{silent.port}/"), "x", resolver(values(pki)))
        result = execute(plan, cancel)
    assert result.diagnosis.code == "cancelled" and silent.accepted == 0


# --- redirects ---------------------------------------------------------------------------------


def _redirecting(pki: Pki) -> Any:
    seen: list[tuple[str, str | None]] = []

    def handler(request: Any) -> ServerResponse:
        seen.append((request.path, request.headers.get("x-api-key")))
        port = request.headers.get("host", "").rsplit(":", 1)[-1]
        if request.path == "/start":
            return ServerResponse(302, b"", headers=(("Location", "/next"),))
        if request.path == "/away":
            where = f"https://localhost:{port}/elsewhere"
            return ServerResponse(301, b"", headers=(("Location", where),))
        return ServerResponse(200, json.dumps({"at": request.path}).encode())

    return handler, seen


def test_redirect_not_followed_by_default_is_reported_with_its_location(pki: Pki) -> None:
    handler, seen = _redirecting(pki)
    with pyopenssl_server(pki, handler=handler) as server:
        result = run_route(route(server.url + "/start"), "x", resolver(values(pki)))
    assert result.status_code == 302 and result.diagnosis.code == "ok"
    assert "redirect to /next (not followed" in result.diagnosis.summary
    assert [p for p, _ in seen] == ["/start"]


def test_same_origin_redirect_is_followed_with_its_secrets(pki: Pki) -> None:
    handler, seen = _redirecting(pki)
    with pyopenssl_server(pki, handler=handler) as server:
        result = run_route(
            route(
                server.url + "/start", follow_redirects=True, headers={"X-Api-Key": "{{secret:k}}"}
            ),
            "x",
            resolver(values(pki)),
        )
    assert result.status_code == 200 and json.loads(result.body) == {"at": "/next"}
    assert seen == [("/start", "key-42"), ("/next", "key-42")]
    assert result.final_url is not None and result.final_url.endswith("/next")


def test_cross_origin_redirect_stops_and_names_the_origin(pki: Pki) -> None:
    handler, seen = _redirecting(pki)
    with pyopenssl_server(pki, handler=handler) as server:
        result = run_route(
            route(
                server.url + "/away", follow_redirects=True, headers={"X-Api-Key": "{{secret:k}}"}
            ),
            "x",
            resolver(values(pki)),
        )
    assert result.status_code == 301 and result.diagnosis.code == "redirect_not_followed"
    assert f"https://localhost:{server.port}" in result.diagnosis.summary
    assert [p for p, _ in seen] == ["/away"]  # nothing went to the other origin


# --- HTTP/2 -----------------------------------------------------------------------------------


@pytest.mark.skipif(nginx_path() is None, reason="nginx is not installed")
@pytest.mark.parametrize("http2", [True, False])
def test_http2_negotiated_by_alpn(pki: Pki, http2: bool) -> None:
    ca = pki.client_root.cert_pem + pki.client_ca.cert_pem
    with NginxServer(pki.server.chain_pem, pki.server.key_pem(), ca, http2=True) as nginx:
        result = run_route(route(nginx.url + "/v1", http2=http2), "x", resolver(values(pki)))
    assert result.diagnosis.code == "ok", result.diagnosis
    assert result.report.alpn == ("h2" if http2 else "http/1.1")
    assert result.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
    assert json.loads(result.body)["verify"] == "SUCCESS"
    assert result.to_dict()["tls"]["alpn"] == result.report.alpn
    plan = plan_request(route(nginx.url, http2=http2), "x", resolver(values(pki)))
    assert ("--http2" in reproduction_commands(plan)["curl"]) is http2


# --- a hostile server --------------------------------------------------------------------------

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
CLEAR = "\x1b[2J"
FORGED = "\rserver verified: yes"


def test_hostile_server_reaches_the_text_report_only_escaped(pki: Pki) -> None:
    evil_ca = Authority(f"Evil CA{OSC52}{FORGED}")
    server_cert = pki.server_ca.issue(
        f"api{CLEAR}{OSC52}{FORGED}", dns_names=("localhost",), ip_addresses=("127.0.0.1",)
    )
    body = f'{{"note": "{OSC52}{CLEAR}{FORGED}"}}'.encode()

    def handler(request: Any) -> ServerResponse:
        return ServerResponse(
            200,
            body,
            content_type="text/plain",
            headers=(("X-Evil", "a\x9b2J\x9d0;title\x9cb"),),  # C1 CSI/OSC: legal bytes in HTTP
        )

    with pyopenssl_server(
        pki,
        handler=handler,
        server_cert=server_cert,
        advertised_client_cas_pem=(pki.client_root.cert_pem, evil_ca.cert_pem),
    ) as server:
        result = run_route(route(server.url), "x", resolver(values(pki)))
    assert result.diagnosis.code == "ok"
    text = render_text(result, None)
    for raw in ("\x1b", "\x07", "\r", "\x9b", "\x9d", "\x9c"):
        assert raw not in text
    assert "\\x1b]52" in text and "\\x1b[2J" in text and "\\rserver verified: yes" in text
    assert "\\x9b2J" in text
    # JSON keeps the exact strings (its encoder escapes them).
    data = result.to_dict()
    assert any("\x1b]52" in c["subject"] for c in data["server_chain"])
    assert any("\x1b]52" in name for name in data["acceptable_client_cas"])


def test_binary_body_is_shown_as_its_size(pki: Pki) -> None:
    blob = bytes(range(256)) * 4

    def handler(request: Any) -> ServerResponse:
        return ServerResponse(200, blob, content_type="application/octet-stream")

    with TlsServer(
        handler,
        cert_chain_pem=pki.server.chain_pem,
        key_pem=pki.server.key_pem(),
        verify="none",
    ) as server:
        result = run_route(
            route(f"https://127.0.0.1:{server.port}/", certificate_secret_id=None),
            "x",
            resolver(values(pki)),
        )
    text = render_text(result, None)
    assert "(binary, 1024 bytes)" in text and "\x00" not in text and "\x1b" not in text


class _Trickle:
    """A plain HTTP server that sends its answer one byte every 0.2 s: each read is quick, the
    whole response is slow (only the whole-request deadline stops it)."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(5)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for _ in range(100):
                if self._stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    def __enter__(self) -> _Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def test_the_whole_request_deadline_stops_a_trickling_answer() -> None:
    with _Trickle() as trickle:
        result = run_route(
            Route.from_config(
                "slow", {"target_url": f"http://127.0.0.1:{trickle.port}/", "timeout_seconds": 1}
            ),
            "x",
            resolver({}),
        )
    assert result.diagnosis.code == "timeout"
    assert "(phase: waiting for the response)" in result.diagnosis.summary


def test_plain_http_report_carries_the_plaintext_warning() -> None:
    with TlsServer(
        lambda r: ServerResponse(200, b"{}"), cert_chain_pem=None, key_pem=None, plain=True
    ) as plain:
        result = run_route(
            Route.from_config("p", {"target_url": plain.url + "/"}), "x", resolver({})
        )
    assert result.diagnosis.code == "ok"
    assert any(w.startswith("plaintext:") for w in result.warnings)
    assert result.to_dict()["plaintext"] is True
    assert "WARNING  plaintext:" in render_text(result, None)


class _FullBacklog:
    """A listener whose accept queue is full (never accepted): a further connect hangs in the
    SYN stage, as to a firewalled address, without leaving loopback."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.held = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.held.append(filler)

    def __enter__(self) -> _FullBacklog:
        return self

    def __exit__(self, *exc: object) -> None:
        for filler in self.held:
            filler.close()
        self.sock.close()


def test_connect_timeouts_name_the_server_or_the_proxy() -> None:
    with _FullBacklog() as full:
        direct = run_route(
            Route.from_config(
                "d", {"target_url": f"http://127.0.0.1:{full.port}/", "connect_timeout_seconds": 1}
            ),
            "x",
            resolver({}),
        )
        via = run_route(
            Route.from_config(
                "p",
                {
                    "target_url": "https://127.0.0.1:9/",
                    "proxy": f"http://127.0.0.1:{full.port}",
                    "connect_timeout_seconds": 1,
                },
            ),
            "x",
            resolver({}),
        )
    assert direct.diagnosis.code == "timeout"
    assert "within 1 s (phase: TCP connect)" in direct.diagnosis.summary
    assert via.diagnosis.code == "timeout" and "(phase: proxy connect;" in via.diagnosis.summary


@pytest.mark.skipif(nginx_path() is None, reason="nginx is not installed")
def test_http2_through_a_proxy_tunnel(pki: Pki, tmp_path: Any) -> None:
    from tests.net.proxies import TINYPROXY, tinyproxy

    if TINYPROXY is None:
        pytest.skip("tinyproxy is not installed")
    ca = pki.client_root.cert_pem + pki.client_ca.cert_pem
    with (
        NginxServer(pki.server.chain_pem, pki.server.key_pem(), ca, http2=True) as nginx,
        tinyproxy(tmp_path) as tp,
    ):
        result = run_route(
            route(nginx.url + "/v1", http2=True, proxy=tp.url), "x", resolver(values(pki))
        )
    assert result.diagnosis.code == "ok" and result.http_version == "HTTP/2"
    assert result.report.alpn == "h2" and len(tp.connects()) == 1
    assert json.loads(result.body)["verify"] == "SUCCESS"
