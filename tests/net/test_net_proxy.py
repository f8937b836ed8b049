"""Requests through real proxies: each way a proxy is chosen (route, env, NO_PROXY, "none",
option) proven by the proxy's own log, each proxy diagnosis code against a real proxy, the client
certificate going to the server only, and the proxy password never shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knoxtui.net import proxy
from knoxtui.net.proxy import ProxySetting, choose, no_proxy_match, transport_for
from knoxtui.routes import Route, run_route
from tests.net.net_helpers import Pki, free_port, pyopenssl_server, resolver
from tests.net.proxies import SilentListener, mitmdump, needs_mitmdump, needs_tinyproxy, tinyproxy

PASSWORD = "pr0xy-S3cret-pw"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def values(pki: Pki, **extra: Any) -> dict[str, Any]:
    return {
        "cert": pki.value(pki.client),
        "ca": pki.server_ca.cert_pem.decode(),
        "proxy_pass": PASSWORD,
        **extra,
    }


def run(url: str, vals: dict[str, Any], *, timeout: float = 10.0, **config: Any) -> Any:
    overrides = {k: config.pop(k) for k in ("proxy_option", "no_proxy") if k in config}
    config.setdefault("certificate_secret_id", "cert")
    config.setdefault("ca_bundle_secret_id", "ca")
    route = Route.from_config("bank", {"target_url": url, **config})
    return run_route(
        route,
        "production",
        resolver(vals),
        timeout=timeout,
        proxy=overrides.get("proxy_option"),
        no_proxy=overrides.get("no_proxy", False),
    )


def everything(result: Any) -> str:
    from knoxtui.commands.request import render_text

    return render_text(result, None) + json.dumps(result.to_dict()) + repr(result)


# --- choosing: pure rules -----------------------------------------------------------------------


def test_environment_is_read_as_curl_reads_it() -> None:
    https = "https://api.bank.test/v1"
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    assert choose(https, None, env).url == "http://lower:2"  # lowercase first, as curl
    assert choose(https, None, {"ALL_PROXY": "proxy.corp:3128"}).url == "http://proxy.corp:3128"
    assert choose(https, None, {"all_proxy": "http://a:1", "HTTPS_PROXY": "http://h:2"}).url == (
        "http://h:2"
    )
    # For http:// targets curl reads http_proxy in lowercase only (HTTP_PROXY can come from a
    # CGI request header), then ALL_PROXY.
    assert not choose("http://api/", None, {"HTTP_PROXY": "http://h:1"}).used
    assert choose("http://api/", None, {"http_proxy": "http://h:1"}).source == "env"
    assert not choose(https, None, {}).used


@pytest.mark.parametrize(
    ("host", "entries", "direct"),
    [
        ("api.bank.test", "*", True),
        ("api.bank.test", "bank.test", True),
        ("api.bank.test", ".bank.test", True),
        ("bank.test", ".bank.test", True),
        ("notbank.test", "bank.test", False),
        ("api.bank.test", "other.test, api.bank.test:443", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "10.1.2.4", False),
        ("::1", "[::1]", True),
        ("127.0.0.1", "localhost", False),
    ],
)
def test_no_proxy_entries(host: str, entries: str, direct: bool) -> None:
    assert (no_proxy_match(host, entries) is not None) is direct


def test_route_and_option_win_and_none_goes_direct() -> None:
    env = {"HTTPS_PROXY": "http://envproxy:1", "NO_PROXY": "*"}
    route = ProxySetting(
        "route", url="http://u:pw@rp:8080", display_url="http://u:{{secret:p}}@rp:8080"
    )
    chosen = choose("https://x/", route, env)
    assert (chosen.source, chosen.url) == ("route", "http://u:pw@rp:8080")
    assert chosen.shown_url == "http://u:***@rp:8080" and chosen.to_dict() == {
        "url": "http://u:***@rp:8080",
        "source": "route",
        "reason": "the route's proxy key",
    }
    assert choose("https://x/", ProxySetting("option", url="http://o:1"), env).source == "option"
    assert not choose("https://x/", ProxySetting("none", why="--no-proxy"), env).used
    with pytest.raises(proxy.ProxyConfigError, match="HTTP forward proxies only"):
        choose("https://x/", None, {"HTTPS_PROXY": "socks5://u:secretpw@s:1080"})
    try:
        choose("https://x/", None, {"HTTPS_PROXY": "socks5://u:secretpw@s:1080"})
    except proxy.ProxyConfigError as exc:
        assert "secretpw" not in exc.message


def test_transport_for_is_the_one_place_that_routes() -> None:
    import ssl

    import httpx

    context = ssl.create_default_context()
    direct, choice = transport_for("https://x/", ProxySetting("none"), ssl_context=context)
    assert isinstance(direct, httpx.HTTPTransport) and not choice.used
    tunnelled, choice = transport_for(
        "https://x/", ProxySetting("option", url="http://p:3128"), ssl_context=context
    )
    assert choice.used and type(tunnelled._pool).__name__ == "HTTPProxy"
    assert type(direct._pool).__name__ == "ConnectionPool"


# --- each way a proxy is chosen, proven by the proxy's log ---------------------------------


@needs_tinyproxy
def test_route_proxy_tunnels_and_the_certificate_goes_to_the_server(
    pki: Pki, tmp_path: Path
) -> None:
    with tinyproxy(tmp_path) as tp, pyopenssl_server(pki) as server:
        result = run(server.url + "/accounts", values(pki), proxy=tp.url)
    assert result.diagnosis.code == "ok", result.diagnosis
    assert tp.connects() == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"]
    # The server authenticated us through the tunnel: the certificate went to it, end to end.
    assert json.loads(result.body)["client"].startswith("CN=tpp-client")
    assert result.report.client_cert_sent and result.report.server_verified
    assert result.proxy.to_dict()["source"] == "route"
    assert "tpp-client" not in tp.log()  # the proxy saw a CONNECT line, never the handshake


@needs_tinyproxy
def test_env_proxy_is_used(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with tinyproxy(tmp_path) as tp, pyopenssl_server(pki) as server:
        monkeypatch.setenv("HTTPS_PROXY", tp.url)
        result = run(server.url, values(pki))
    assert result.diagnosis.code == "ok"
    assert tp.connects() == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"]
    assert result.proxy.source == "env" and result.proxy.reason == "HTTPS_PROXY is set"


@needs_tinyproxy
def test_no_proxy_goes_direct(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with tinyproxy(tmp_path) as tp, pyopenssl_server(pki) as server:
        monkeypatch.setenv("HTTPS_PROXY", tp.url)
        monkeypatch.setenv("NO_PROXY", "example.test,127.0.0.1")
        result = run(server.url, values(pki))
    assert result.diagnosis.code == "ok" and result.proxy is None
    assert tp.connects() == []


@needs_tinyproxy
def test_route_none_goes_direct_whatever_the_env(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tinyproxy(tmp_path) as tp, pyopenssl_server(pki) as server:
        monkeypatch.setenv("HTTPS_PROXY", tp.url)
        result = run(server.url, values(pki), proxy="none")
    assert result.diagnosis.code == "ok" and result.proxy is None
    assert tp.connects() == []


@needs_tinyproxy
def test_option_proxy_and_no_proxy_override_the_route(pki: Pki, tmp_path: Path) -> None:
    with (
        tinyproxy(tmp_path) as used,
        tinyproxy(tmp_path) as bypassed,
        pyopenssl_server(pki) as server,
    ):
        chosen = run(server.url, values(pki), proxy=bypassed.url, proxy_option=used.url)
        direct = run(server.url, values(pki), proxy=bypassed.url, no_proxy=True)
    assert chosen.diagnosis.code == direct.diagnosis.code == "ok"
    assert chosen.proxy.source == "option" and direct.proxy is None
    assert len(used.connects()) == 1 and bypassed.connects() == []


@needs_tinyproxy
def test_oauth2_token_request_follows_the_same_rule(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knoxtui.net.tls_server import ServerResponse

    def handler(request: Any) -> ServerResponse:
        if request.path == "/token":
            return ServerResponse(200, b'{"access_token": "tok-123", "expires_in": 60}')
        return ServerResponse(
            200, json.dumps({"auth": request.headers.get("authorization")}).encode()
        )

    with tinyproxy(tmp_path) as tp, pyopenssl_server(pki, handler=handler) as server:
        monkeypatch.setenv("HTTPS_PROXY", tp.url)
        oauth = {
            "token_url": server.url + "/token",
            "client_id": "id",
            "client_secret": "client-s3cret",
        }
        result = run(server.url + "/api", values(pki, oauth=oauth), oauth2_secret_id="oauth")
    assert result.diagnosis.code == "ok", result.diagnosis
    assert tp.connects() == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"] * 2


# --- the diagnosis codes ------------------------------------------------------------------------


def test_proxy_unreachable(pki: Pki) -> None:
    port = free_port()
    result = run(
        "https://127.0.0.1:9/",
        values(pki),
        proxy=f"http://me:{{{{secret:proxy_pass}}}}@127.0.0.1:{port}",
    )
    assert (result.diagnosis.code, result.diagnosis.side) == ("proxy_unreachable", "network")
    assert f"http://me:***@127.0.0.1:{port}" in result.diagnosis.summary
    assert PASSWORD not in everything(result)


@needs_tinyproxy
@pytest.mark.parametrize("credentials", [None, "alice:wrong-pass", f"alice:{PASSWORD}"])
def test_proxy_auth(pki: Pki, tmp_path: Path, credentials: str | None) -> None:
    with tinyproxy(tmp_path, auth=("alice", PASSWORD)) as tp, pyopenssl_server(pki) as server:
        userinfo = (
            f"{credentials.replace(PASSWORD, '{{secret:proxy_pass}}')}@" if credentials else ""
        )
        result = run(server.url, values(pki), proxy=f"http://{userinfo}127.0.0.1:{tp.port}")
    text = everything(result)
    if credentials and PASSWORD in credentials:
        assert result.diagnosis.code == "ok"
    else:
        assert (result.diagnosis.code, result.diagnosis.side) == ("proxy_auth_required", "config")
        assert "it asks for Basic" in result.diagnosis.summary
        wrong = credentials is not None
        assert ("refused our credentials" in result.diagnosis.summary) is wrong
    assert PASSWORD not in text and "wrong-pass" not in text
    assert PASSWORD not in tp.log()


@needs_tinyproxy
def test_proxy_refused_quotes_the_answer(pki: Pki, tmp_path: Path) -> None:
    with tinyproxy(tmp_path, connect_ports=(443,)) as tp, pyopenssl_server(pki) as server:
        result = run(server.url, values(pki), proxy=tp.url)
    assert (result.diagnosis.code, result.diagnosis.side) == ("proxy_refused", "network")
    assert '"403 ' in result.diagnosis.summary and "policy" in (result.diagnosis.fix or "")
    assert f"Refused CONNECT method on port {server.port}" in tp.log()


@needs_mitmdump
def test_tls_intercepted_names_the_inspecting_issuer(pki: Pki, tmp_path: Path) -> None:
    with mitmdump(tmp_path) as mitm, pyopenssl_server(pki) as server:
        result = run(server.url + "/accounts", values(pki), proxy=mitm.url)
        log = mitm.log()
    assert (result.diagnosis.code, result.diagnosis.side) == ("tls_intercepted", "network")
    assert "mitmproxy" in result.diagnosis.summary  # the inspecting CA's name
    assert "bypass" in (result.diagnosis.fix or "")
    assert not result.report.client_cert_sent
    assert f"127.0.0.1:{server.port}" in log  # it passed the inspecting proxy


def test_timeout_through_a_proxy_that_never_answers(pki: Pki) -> None:
    with SilentListener() as silent:
        result = run("https://127.0.0.1:9/", values(pki), proxy=silent.url, timeout=1)
    assert result.diagnosis.code == "timeout" and "phase: proxy CONNECT" in result.diagnosis.summary
    assert silent.accepted == 1


def test_proxy_config_error_is_a_diagnosis(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://u:pw-x@127.0.0.1:1080")
    result = run("https://127.0.0.1:9/", values(pki))
    assert result.diagnosis.code == "invalid_route" and "pw-x" not in everything(result)


@needs_tinyproxy
def test_tls_servername_is_the_sni_inside_the_tunnel(pki: Pki, tmp_path: Path) -> None:
    seen: list[str | None] = []

    def handler(request: Any) -> Any:
        from knoxtui.net.tls_server import ServerResponse

        seen.append(request.servername)
        return ServerResponse(200, b"{}")

    named = pki.server_ca.issue("api.specific.test", dns_names=("api.specific.test",))
    with (
        tinyproxy(tmp_path) as tp,
        pyopenssl_server(pki, server_cert=named, handler=handler) as server,
    ):
        good = run(server.url, values(pki), proxy=tp.url, tls_servername="api.specific.test")
        bad = run(server.url, values(pki), proxy=tp.url)
    assert good.diagnosis.code == "ok" and seen == ["api.specific.test"]
    assert good.report.servername == "api.specific.test"
    # A wrong name through a proxy is the server's name problem, not interception; the
    # diagnostic probe for the chain goes through the same proxy (the third CONNECT).
    assert bad.diagnosis.code == "hostname_mismatch"
    assert "api.specific.test" in (bad.diagnosis.fix or "")
    assert tp.connects() == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"] * 3


@needs_mitmdump
def test_client_certificate_is_never_offered_to_an_inspecting_proxy_that_asks(
    pki: Pki, tmp_path: Path
) -> None:
    """mitmdump asking for a client certificate in its own handshake: we refuse its certificate
    first, so ours never reaches it (it would, were verification skipped)."""
    with (
        mitmdump(tmp_path, "--set", "request_client_cert=true") as mitm,
        pyopenssl_server(pki) as server,
    ):
        result = run(server.url, values(pki), proxy=mitm.url)
        log = mitm.log()
    assert result.diagnosis.code == "tls_intercepted"
    assert not result.report.client_cert_sent and result.report.client_cert_fingerprint is None
    assert "tpp-client" not in log
