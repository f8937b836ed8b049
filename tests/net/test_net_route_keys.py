"""The route keys of the field: the guide's {{secret:NAME}} form in *_secret_id, the plain-HTTP
guard, proxy, timeouts, redirects and HTTP/2 read from a route config with clear refusals."""

from __future__ import annotations

from typing import Any

import pytest

from knoxtui.errors import ValidationError
from knoxtui.routes import Route, plan_request
from knoxtui.routes.route import KEY_HELP, KNOWN_KEYS
from tests.net.net_helpers import Pki, resolver


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def test_secret_id_fields_take_name_and_the_guide_form_alike(pki: Pki) -> None:
    guide = Route.from_config(
        "bank",
        {
            "target_url": "https://x/",
            "certificate_secret_id": "{{secret:bank_api_certificate}}",
            "oauth2_secret_id": "{{ secret:bank_oauth }}",
            "ca_bundle_secret_id": "custom_ca_bundle",
        },
    )
    assert guide.certificate_secret_id == "bank_api_certificate"
    assert guide.oauth2_secret_id == "bank_oauth"
    assert guide.ca_bundle_secret_id == "custom_ca_bundle"
    assert guide.secret_references == ["bank_api_certificate", "bank_oauth", "custom_ca_bundle"]
    plan = plan_request(
        Route.from_config(
            "b", {"target_url": "https://x/", "certificate_secret_id": "{{secret:c}}"}
        ),
        "default",
        resolver({"c": pki.value(pki.client)}),
    )
    assert plan.identity is not None and plan.identity.secret_name == "c"


@pytest.mark.parametrize("value", ["{{secret:Bad Name}}", "{{secret:a}} extra", 5, "A"])
def test_secret_id_fields_refuse_anything_else(value: Any) -> None:
    with pytest.raises(ValidationError, match="'certificate_secret_id' must name a secret"):
        Route.from_config("b", {"target_url": "https://x/", "certificate_secret_id": value})


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"certificate_secret_id": "c"}, "the client certificate 'c'"),
        ({"oauth2_secret_id": "o"}, "the OAuth2 token of 'o'"),
        (
            {"headers": {"X-Api-Key": "{{secret:api_key}}"}},
            "{{secret:api_key}} in header X-Api-Key",
        ),
        ({"body": '{"k": "{{secret:k}}"}'}, "{{secret:k}} in body"),
    ],
)
def test_plain_http_target_carrying_a_secret_is_refused(config: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Route.from_config("api", {"target_url": "http://api.example/v1", **config})
    assert named in caught.value.message and "allow_plaintext" in (caught.value.hint or "")
    allowed = Route.from_config(
        "api", {"target_url": "http://api.example/v1", "allow_plaintext": True, **config}
    )
    assert allowed.plaintext and allowed.allow_plaintext


def test_plain_http_without_secrets_is_allowed_and_https_never_refused() -> None:
    assert Route.from_config("a", {"target_url": "http://api.example/"}).plaintext
    secure = Route.from_config(
        "a", {"target_url": "https://api.example/", "certificate_secret_id": "c"}
    )
    assert not secure.plaintext


def test_a_secret_that_makes_the_target_http_is_refused_at_plan_time(pki: Pki) -> None:
    from knoxtui.routes import prepare

    route = Route.from_config(
        "a", {"target_url": "https://{{secret:host}}/v1", "certificate_secret_id": "c"}
    )
    plan, failed = prepare(
        route, "default", resolver({"host": "x", "c": pki.value(pki.client)}), path="/p"
    )
    assert plan is not None  # https stays https whatever the host
    # a path or secret cannot turn https into http, but a per-call URL can: checked again
    plan, failed = prepare(
        Route("a", "http://{{secret:host}}/v1", certificate_secret_id="c"),
        "default",
        resolver({"host": "x", "c": pki.value(pki.client)}),
    )
    assert plan is None and failed.diagnosis.code == "invalid_route"
    assert "plain http://" in failed.diagnosis.summary


def test_new_keys_have_defaults_and_are_checked() -> None:
    route = Route.from_config("a", {"target_url": "https://x/"})
    assert (route.timeout_seconds, route.connect_timeout_seconds) == (30.0, 10.0)
    assert (route.follow_redirects, route.http2, route.allow_plaintext, route.proxy) == (
        False,
        False,
        False,
        None,
    )
    full = Route.from_config(
        "a",
        {
            "target_url": "https://x/",
            "proxy": "http://me:{{secret:proxy_pass}}@proxy.corp:8080",
            "timeout_seconds": 5,
            "connect_timeout_seconds": 2.5,
            "follow_redirects": True,
            "http2": True,
        },
    )
    assert full.secret_references == ["proxy_pass"]
    assert full.to_config()["timeout_seconds"] == 5 and full.to_config()["http2"] is True
    assert Route.from_config("a", {"target_url": "https://x/", "proxy": "None"}).proxy == "none"
    for key, bad in (
        ("proxy", "socks5://p:1080"),
        ("proxy", "http://no-port"),
        ("proxy", 8080),
        ("timeout_seconds", 0),
        ("timeout_seconds", "30"),
        ("connect_timeout_seconds", True),
        ("follow_redirects", "yes"),
        ("http2", 1),
        ("allow_plaintext", "true"),
    ):
        with pytest.raises(ValidationError, match=f"'{key}'"):
            Route.from_config("a", {"target_url": "https://x/", key: bad})


def test_every_key_is_documented() -> None:
    assert set(KEY_HELP) == set(KNOWN_KEYS)


def test_plan_carries_the_new_keys(pki: Pki) -> None:
    route = Route.from_config(
        "a",
        {
            "target_url": "https://x/",
            "proxy": "http://me:{{secret:pp}}@proxy.corp:8080",
            "timeout_seconds": 7,
            "connect_timeout_seconds": 3,
            "follow_redirects": True,
            "http2": True,
        },
    )
    plan = plan_request(route, "default", resolver({"pp": "s3cr3t-proxy"}))
    assert plan.timeout == 7 and plan.connect_timeout == 3
    assert plan.follow_redirects and plan.http2
    assert plan.proxy is not None and plan.proxy.mode == "route"
    assert plan.proxy.url == "http://me:s3cr3t-proxy@proxy.corp:8080"
    assert "s3cr3t" not in repr(plan) and "s3cr3t" not in repr(plan.proxy)
    assert plan_request(route, "default", resolver({"pp": "x"}), timeout=2).timeout == 2
    assert plan_request(route, "default", resolver({"pp": "x"}), no_proxy=True).proxy.mode == (
        "none"
    )
    option = plan_request(route, "default", resolver({"pp": "x"}), proxy="http://o:3128")
    assert option.proxy is not None and option.proxy.mode == "option"
