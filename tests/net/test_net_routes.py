"""The route model, {{secret:NAME}} templates and resolution into a request plan."""

from __future__ import annotations

from typing import Any

import pytest
from net_helpers import Pki, resolver

from knoxtui.errors import EnvironmentMissing, ValidationError
from knoxtui.net import KeyPassphraseWrong, reproduction_commands
from knoxtui.routes import Route, plan_request, substitute

GOOD = {
    "target_url": "https://api.bank.test/v1/{{secret:tenant}}/accounts?x=1",
    "certificate_secret_id": "qwac",
    "headers": {"Authorization": "Bearer {{secret:api-token}}", "X-Fixed": "1"},
    "ca_bundle_secret_id": "bank-ca",
    "tls_servername": "api.bank.test",
    "tls_reject_unauthorized": True,
    "tls_min_version": "1.2",
    "tls_max_version": "1.3",
    "method": "post",
    "body": '{"tenant": "{{secret:tenant}}"}',
}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def test_from_config_and_back() -> None:
    route = Route.from_config("bank", GOOD)
    assert route.method == "POST" and route.tls_min_version == "1.2"
    expected = {k: v for k, v in GOOD.items() if k != "tls_reject_unauthorized"}
    assert route.to_config() == {**expected, "method": "POST"}  # defaults are left out
    again = Route.from_config("bank", route.to_config())
    assert again == route
    assert route.secret_references == ["qwac", "bank-ca", "tenant", "api-token"]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({}, "'target_url' is required"),
        ({"target_url": "ftp://x"}, "not an http(s) URL"),
        ({"target_url": "https://x:99999/"}, "invalid port"),
        ({"target_url": "https://x", "certificate_secret_id": "{{secret:A B}}"}, "must name a"),
        ({"target_url": "https://x", "headers": {"A": 1}}, "'headers' must be"),
        ({"target_url": "https://x", "headers": {"Bad Name": "v"}}, "header name"),
        ({"target_url": "https://x", "tls_reject_unauthorized": "false"}, "JSON boolean"),
        ({"target_url": "https://x", "tls_min_version": "1.1"}, '"1.2" or "1.3"'),
        ({"target_url": "https://x", "tls_min_version": "1.3", "tls_max_version": "1.2"}, "above"),
        ({"target_url": "https://x", "method": "BREW"}, "'method' must be"),
        ({"target_url": "https://x", "tls_verify": False}, "unknown key(s) 'tls_verify'"),
    ],
)
def test_bad_configs_name_the_problem(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Route.from_config("bank", config)
    assert words in caught.value.message
    assert caught.value.message.startswith("Route 'bank'")


def test_substitute_inside_longer_strings() -> None:
    lookup = {"a": "1", "b": "two"}.__getitem__
    assert substitute("x-{{secret:a}}-{{ secret:b }}-{{secret:a}}", lookup) == "x-1-two-1"
    assert substitute("no refs", lookup) == "no refs"


def test_plan_substitutes_url_headers_body(pki: Pki) -> None:
    vals = {
        "qwac": pki.value(pki.client),
        "bank-ca": pki.server_ca.cert_pem.decode(),
        "tenant": "acme",
        "api-token": "s3cr3t-token",
    }
    plan = plan_request(Route.from_config("bank", GOOD), "production", resolver(vals))
    assert plan.url == "https://api.bank.test/v1/acme/accounts?x=1"
    assert plan.headers["Authorization"] == "Bearer s3cr3t-token"
    assert plan.body == b'{"tenant": "acme"}'
    assert plan.servername == "api.bank.test" and plan.identity is not None
    assert plan.identity.fingerprint_sha256.count(":") == 31
    # What is shown or logged keeps the references, never the values.
    assert plan.display_url == GOOD["target_url"]
    text = repr(plan)
    for secret in ("s3cr3t-token", "acme", "PRIVATE KEY"):
        assert secret not in text
    assert "s3cr3t-token" not in repr(plan.headers)
    commands = reproduction_commands(plan)
    assert "<key-file>" in commands["curl"] and "<secret:api-token>" in commands["curl"]
    assert "s3cr3t-token" not in str(commands) and "acme" not in str(commands)
    assert "-servername api.bank.test" in commands["openssl"]


def test_overrides_method_path_headers_body(pki: Pki) -> None:
    route = Route.from_config(
        "bank", {"target_url": "https://api.bank.test/v1/", "headers": {"Accept": "a"}}
    )
    plan = plan_request(
        route,
        "default",
        resolver({"k": "v"}),
        method="put",
        path="/items/7?full=1",
        headers={"accept": "b", "X-Key": "{{secret:k}}"},
        body="{}",
    )
    assert plan.method == "PUT" and plan.url == "https://api.bank.test/v1/items/7?full=1"
    assert dict(plan.headers) == {"accept": "b", "X-Key": "v"} and plan.body == b"{}"


def test_environment_missing_is_raised_by_planning(pki: Pki) -> None:
    route = Route.from_config("bank", {"target_url": "https://x/{{secret:tenant}}"})
    envs = {"tenant": {"sandbox": "t1"}}
    with pytest.raises(EnvironmentMissing):
        plan_request(route, "production", resolver({}, envs))
    assert plan_request(route, "sandbox", resolver({}, envs)).url == "https://x/t1"


def test_wrong_secret_types_are_clear(pki: Pki) -> None:
    vals = {"qwac": pki.value(pki.client), "text": "hello"}
    route = Route.from_config(
        "bank", {"target_url": "https://x/", "headers": {"A": "{{secret:qwac}}"}}
    )
    with pytest.raises(ValidationError, match="'qwac' is a certificate secret"):
        plan_request(route, "default", resolver(vals))
    route = Route.from_config("bank", {"target_url": "https://x/", "certificate_secret_id": "text"})
    with pytest.raises(ValidationError, match="not a certificate"):
        plan_request(route, "default", resolver(vals))


def test_key_passphrase_wrong_and_right(pki: Pki) -> None:
    route = Route.from_config("bank", {"target_url": "https://x/", "certificate_secret_id": "c"})
    sealed = pki.client.key_pem(b"correct")
    value = type(pki.value(pki.client))
    with pytest.raises(KeyPassphraseWrong) as caught:
        plan_request(route, "default", resolver({"c": value(pki.client.chain_pem, sealed, "nope")}))
    assert "nope" not in caught.value.message and "correct" not in caught.value.message
    # Both ways to fix it: the flag on the command line, the key in the console.
    assert "--key-passphrase-file F" in (caught.value.hint or "")
    assert "press R in the console" in (caught.value.hint or "")
    with pytest.raises(KeyPassphraseWrong, match="no key passphrase is stored") as caught:
        plan_request(route, "default", resolver({"c": value(pki.client.chain_pem, sealed, None)}))
    assert "--key-passphrase-file F" in (caught.value.hint or "")
    assert "press R in the console" in (caught.value.hint or "")
    plan = plan_request(
        route, "default", resolver({"c": value(pki.client.chain_pem, sealed, "correct")})
    )
    assert plan.identity is not None and b"ENCRYPTED" not in plan.identity.key_pem


def test_key_mismatch_is_named(pki: Pki) -> None:
    route = Route.from_config("bank", {"target_url": "https://x/", "certificate_secret_id": "c"})
    value = type(pki.value(pki.client))(pki.client.chain_pem, pki.other_client.key_pem(), None)
    with pytest.raises(Exception) as caught:
        plan_request(route, "default", resolver({"c": value}))
    assert getattr(caught.value, "code", None) == "key_mismatch"


def test_oauth2_config_from_object_or_dict(pki: Pki) -> None:
    route = Route.from_config(
        "bank", {"target_url": "https://x/", "oauth2_secret_id": "o", "certificate_secret_id": "c"}
    )
    vals = {
        "c": pki.value(pki.client),
        "o": {"token_url": "https://x/token", "client_id": "id", "client_secret": "shh"},
    }
    plan = plan_request(route, "default", resolver(vals))
    assert plan.oauth2 is not None and plan.oauth2.identity == plan.identity
    assert "shh" not in repr(plan) and "shh" not in repr(plan.oauth2)
    vals["o"] = {"token_url": "https://x/token", "client_id": "id", "auth_method": "magic"}
    with pytest.raises(ValidationError, match="auth_method 'magic'"):
        plan_request(route, "default", resolver(vals))


@pytest.mark.parametrize("value", ["é", "a\nb", "a\x0bb", "a\x01b", "a\x7fb"])
def test_header_values_http_cannot_carry_are_refused_when_saved(value: str) -> None:
    with pytest.raises(ValidationError, match="header 'X-A' holds characters") as caught:
        Route.from_config("bank", {"target_url": "https://x/", "headers": {"X-A": value}})
    assert value not in caught.value.message


@pytest.mark.parametrize("secret", ["line\r\nInjected: 1", "tok\x0bInjected", "\x01Injected\x7f"])
def test_header_values_from_a_secret_are_refused_naming_the_header_only(secret: str) -> None:
    route = Route.from_config(
        "bank", {"target_url": "https://x/", "headers": {"X-A": "{{secret:bad}}", "T": "a\tb"}}
    )
    with pytest.raises(ValidationError, match="Header 'X-A'") as caught:
        plan_request(route, "default", resolver({"bad": secret}))
    assert "Injected" not in caught.value.message and "Injected" not in str(caught.value.hint)


def test_reproduction_keeps_sni_and_versions(pki: Pki) -> None:
    route = Route.from_config(
        "bank",
        {
            "target_url": "https://10.0.0.5:8443/v1",
            "certificate_secret_id": "c",
            "tls_servername": "api.bank.test",
            "tls_min_version": "1.3",
            "tls_max_version": "1.3",
            "tls_reject_unauthorized": False,
        },
    )
    plan = plan_request(route, "default", resolver({"c": pki.value(pki.client)}))
    commands = reproduction_commands(plan)
    assert "--connect-to api.bank.test:8443:10.0.0.5:8443" in commands["curl"]
    assert "https://api.bank.test:8443/v1" in commands["curl"]
    assert "--insecure" in commands["curl"] and "--tlsv1.3" in commands["curl"]
    assert "-connect 10.0.0.5:8443 -servername api.bank.test" in commands["openssl"]
    assert "-tls1_3" in commands["openssl"]


def test_wrong_key_passphrase_is_named_even_when_the_padding_happens_to_check(pki: Pki) -> None:
    """About one wrong passphrase in 256 decrypts to valid padding and cryptography then says
    'Could not deserialize key data' instead of 'Incorrect password': still a wrong passphrase."""
    from cryptography.hazmat.primitives import serialization

    route = Route.from_config("bank", {"target_url": "https://x/", "certificate_secret_id": "c"})
    sealed = pki.client.key_pem(b"correct")
    unlucky = None
    for i in range(4000):
        try:
            serialization.load_pem_private_key(sealed, password=f"wrong-{i}".encode())
        except ValueError as exc:
            if "password" not in str(exc).lower() and "decrypt" not in str(exc).lower():
                unlucky = f"wrong-{i}"
                break
    assert unlucky is not None
    value = type(pki.value(pki.client))(pki.client.chain_pem, sealed, unlucky)
    with pytest.raises(KeyPassphraseWrong):
        plan_request(route, "default", resolver({"c": value}))
