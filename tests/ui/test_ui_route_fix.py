"""suggest_fix: each diagnosis that names a route field maps to that field, with the value the run
supports (the lab flows for CA bundle and certificate are in test_ui_tester)."""

from __future__ import annotations

from types import SimpleNamespace as NS

from knoxtui.ui.route_fix import suggest_fix


def _result(code: str, **report: object) -> NS:
    return NS(diagnosis=NS(code=code), report=NS(server_chain=(), **report))


def test_hostname_mismatch_suggests_a_name_the_certificate_holds() -> None:
    leaf = NS(san=("DNS:*.bank.example", "IP:10.0.0.1", "DNS:api.bank.example"), subject="CN=x")
    result = _result("hostname_mismatch")
    result.report.server_chain = (leaf,)
    fix = suggest_fix(result, {})
    assert fix is not None and (fix.field, fix.value) == ("tls_servername", "api.bank.example")


def test_protocol_mismatch_suggests_the_servers_version() -> None:
    fix = suggest_fix(
        _result("protocol_mismatch", server_tls_version="TLSv1.2"), {"tls_min_version": "1.3"}
    )
    assert fix is not None and (fix.field, fix.value) == ("tls_min_version", "1.2")


def test_proxy_codes_open_the_proxy_field() -> None:
    fix = suggest_fix(_result("tls_intercepted"), {})
    assert fix is not None and (fix.field, fix.value) == ("proxy", "none")
    fix = suggest_fix(_result("proxy_auth_required"), {"proxy": "http://p:8080"})
    assert fix is not None and (fix.field, fix.value) == ("proxy", None)
    assert "opens the route editor on proxy" in fix.sentence


def test_no_route_fix_for_what_is_fixed_elsewhere() -> None:
    for code in ("ok", "key_passphrase_wrong", "http_error", "server_cert_expired"):
        assert suggest_fix(_result(code), {}) is None


def test_timing_phases_add_up_and_name_a_failure() -> None:
    from knoxtui.ui.widgets.timing import timing_phases

    done = timing_phases(
        {"oauth2_ms": 10.0, "connect_ms": 2.0, "tls_handshake_ms": 5.0, "ttfb_ms": 3.0,
         "total_ms": 12.0}
    )  # fmt: skip
    assert [label for label, _ in done] == [
        "OAuth2 token", "DNS + connect", "TLS handshake", "first byte", "body + rest", "total"
    ]  # fmt: skip
    assert done[-1][1] == sum(ms for _, ms in done[:-1]) == 22.0
    failed = timing_phases({"total_ms": 6.9})
    assert failed == [("until failure", 6.9), ("total", 6.9)]
