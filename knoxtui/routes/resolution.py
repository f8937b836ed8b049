"""A route resolved for one environment becomes a `RequestPlan`: every secret looked up through the
resolver (e.g. `Vault.resolve`) before anything connects, so a missing environment value
(`EnvironmentMissing`) or an unusable key stops the request early."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from knoxtui import refs
from knoxtui.errors import EnvironmentMissing, KnoxError, ValidationError
from knoxtui.net.diagnosis import Diagnosis
from knoxtui.net.identity import load_identity
from knoxtui.net.plan import ClientIdentity, OAuth2Plan, RequestPlan
from knoxtui.net.proxy import ProxySetting
from knoxtui.routes.route import METHODS, Route, check_header_value
from knoxtui.routes.template import has_references, substitute

# (secret name, environment) -> CertificateValue | str | OAuth2Config (the vault's value types)
Resolver = Callable[[str, str], Any]

_OAUTH2_METHODS = ("client_secret_basic", "client_secret_post", "tls_client_auth")


class _Lookup:
    """Resolves each secret once per plan and checks its type."""

    def __init__(self, route: Route, environment: str, resolver: Resolver) -> None:
        self.route, self.environment, self.resolver = route, environment, resolver
        self.values: dict[str, Any] = {}

    def value(self, name: str) -> Any:
        if name not in self.values:
            if not refs.is_valid_name(name):
                raise ValidationError(
                    f"Route '{self.route.name}' references '{{{{secret:{name}}}}}', which is not a "
                    "valid secret name.",
                    hint="Secret names match [a-z0-9][a-z0-9_.-]*.",
                    code="invalid_route",
                )
            self.values[name] = self.resolver(name, self.environment)
        return self.values[name]

    def string(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            raise ValidationError(
                f"Route '{self.route.name}' uses {{{{secret:{name}}}}} in a text field, but "
                f"'{name}' is a {_kind(value)} secret.",
                hint="Only string secrets can be substituted into the URL, headers or body.",
                code="invalid_route",
            )
        return value

    def certificate(self, name: str) -> Any:
        value = self.value(name)
        if not hasattr(value, "chain_pem"):
            raise ValidationError(
                f"Route '{self.route.name}': '{name}' is a {_kind(value)} secret, "
                "not a certificate.",
                hint="certificate_secret_id must name a certificate secret.",
                code="invalid_route",
            )
        return value


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if hasattr(value, "chain_pem"):
        return "certificate"
    if hasattr(value, "token_url") or isinstance(value, dict):
        return "oauth2"
    return type(value).__name__


def _field(config: Any, name: str, default: Any = None) -> Any:
    if isinstance(config, dict):
        return config.get(name, default)
    return getattr(config, name, default)


def _identity(lookup: _Lookup, name: str) -> ClientIdentity:
    value = lookup.certificate(name)
    return load_identity(
        value.chain_pem,
        getattr(value, "key_pem", None),
        getattr(value, "key_passphrase", None),
        secret_name=name,
    )


def _join_path(url: str, path: str) -> str:
    base = urlsplit(url)
    extra = urlsplit(path if path.startswith("/") else "/" + path)
    joined = base.path.rstrip("/") + extra.path
    query = "&".join(q for q in (base.query, extra.query) if q)
    return urlunsplit((base.scheme, base.netloc, joined, query, extra.fragment))


def plan_request(
    route: Route,
    environment: str,
    resolver: Resolver,
    *,
    method: str | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    timeout: float | None = None,
    proxy: str | None = None,
    no_proxy: bool = False,
) -> RequestPlan:
    """Resolve every secret the route needs for `environment`; no connection is opened here.
    `timeout` (seconds, whole request) overrides the route's timeout_seconds; `proxy` (a URL)
    and `no_proxy` override the route's proxy key and the environment."""
    lookup = _Lookup(route, environment, resolver)
    verb = (method or route.method).upper()
    if verb not in METHODS:
        raise ValidationError(
            f"Method '{method}' is not supported; use one of {', '.join(METHODS)}.",
            code="invalid_route",
        )
    display_url = _join_path(route.target_url, path) if path else route.target_url
    display_headers = dict(route.headers)
    for name, value in (headers or {}).items():
        display_headers = {k: v for k, v in display_headers.items() if k.lower() != name.lower()}
        display_headers[name] = value
    display_body = body if body is not None else route.body
    # Resolve the named secrets first: an environment gap anywhere fails before any decryption.
    for name in route.secret_references + refs.references(
        [display_url, display_headers, display_body or ""]
    ):
        lookup.value(name)
    for name, value in display_headers.items():
        check_header_value(name, value)
    url = substitute(display_url, lookup.string)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"Route '{route.name}': the URL for '{environment}' is not an http(s) URL after "
            "substitution.",
            hint="Check the string secrets used in target_url.",
            code="invalid_route",
        )
    # The target as resolved: a {{secret:...}} may have made it http://.
    route.check_plaintext(url)
    real_headers = {k: substitute(v, lookup.string) for k, v in display_headers.items()}
    for name, value in real_headers.items():
        # The value may come from a secret: name the header, never show the value.
        check_header_value(name, value, environment=environment)
    real_body = substitute(display_body, lookup.string) if display_body is not None else None
    identity = (
        _identity(lookup, route.certificate_secret_id) if route.certificate_secret_id else None
    )
    ca_bundle = (
        lookup.string(route.ca_bundle_secret_id).encode() if route.ca_bundle_secret_id else None
    )
    oauth2 = _oauth2(lookup, route, identity, ca_bundle) if route.oauth2_secret_id else None
    return RequestPlan(
        method=verb,
        url=url,
        headers=real_headers,
        body=real_body.encode("utf-8") if real_body is not None else None,
        identity=identity,
        ca_bundle_pem=ca_bundle,
        servername=route.tls_servername,
        verify=route.tls_reject_unauthorized,
        min_version=route.tls_min_version,
        max_version=route.tls_max_version,
        oauth2=oauth2,
        route_name=route.name,
        environment=environment,
        timeout=timeout if timeout is not None else route.timeout_seconds,
        connect_timeout=route.connect_timeout_seconds,
        display_url=display_url,
        display_headers=display_headers,
        display_body=display_body,
        certificate_secret=route.certificate_secret_id,
        proxy=_proxy_setting(route, lookup, proxy, no_proxy),
        follow_redirects=route.follow_redirects,
        http2=route.http2,
        secret_headers=tuple(k for k, v in display_headers.items() if has_references(v)),
    )


def _proxy_setting(
    route: Route, lookup: _Lookup, option: str | None, no_proxy: bool
) -> ProxySetting:
    """The command line first (--no-proxy, --proxy URL), then the route's key, then the
    environment (decided per URL by net.proxy, so NO_PROXY applies to the token URL too)."""
    if no_proxy:
        return ProxySetting("none", why="--no-proxy")
    if option:
        return ProxySetting("option", url=option, display_url=option)
    if route.proxy == "none":
        return ProxySetting("none", why='the route\'s proxy is "none"')
    if route.proxy:
        return ProxySetting(
            "route", url=substitute(route.proxy, lookup.string), display_url=route.proxy
        )
    return ProxySetting("env")


def _oauth2(
    lookup: _Lookup, route: Route, identity: ClientIdentity | None, ca_bundle: bytes | None
) -> OAuth2Plan:
    name = route.oauth2_secret_id
    assert name is not None
    config = lookup.value(name)
    token_url, client_id = _field(config, "token_url"), _field(config, "client_id")
    if not isinstance(token_url, str) or not isinstance(client_id, str):
        raise ValidationError(
            f"Route '{route.name}': '{name}' is a {_kind(config)} secret, not an OAuth2 one "
            "(token_url and client_id are needed).",
            hint="oauth2_secret_id must name an oauth2 secret.",
            code="invalid_route",
        )
    method = _field(config, "auth_method", "client_secret_basic") or "client_secret_basic"
    if method not in _OAUTH2_METHODS:
        raise ValidationError(
            f"OAuth2 secret '{name}': auth_method '{method}' is not one of "
            f"{', '.join(_OAUTH2_METHODS)}.",
            code="invalid_route",
        )
    cert_name = refs.field_name(_field(config, "certificate_secret_id"))
    ca_name = refs.field_name(_field(config, "ca_bundle_secret_id"))
    return OAuth2Plan(
        token_url=token_url,
        client_id=client_id,
        client_secret=_field(config, "client_secret"),
        scope=_field(config, "scope"),
        audience=_field(config, "audience"),
        auth_method=method,
        identity=_identity(lookup, cert_name) if cert_name else identity,
        ca_bundle_pem=lookup.string(ca_name).encode() if ca_name else ca_bundle,
        secret_name=name,
    )


def prepare(
    route: Route, environment: str, resolver: Resolver, **overrides: Any
) -> tuple[RequestPlan | None, Any]:
    """(plan, None), or (None, a result) when the request cannot start: environment_missing,
    key_passphrase_wrong, an unusable key or a bad template, diagnosed like network problems."""
    from knoxtui.net.request import failed_before_connecting

    try:
        return plan_request(route, environment, resolver, **overrides), None
    except EnvironmentMissing as exc:
        diagnosis = Diagnosis("environment_missing", "config", exc.message, exc.hint)
    except KnoxError as exc:
        diagnosis = Diagnosis(exc.code, "config", exc.message, exc.hint)
    return None, failed_before_connecting(
        None,
        diagnosis,
        method=(overrides.get("method") or route.method).upper(),
        url=route.target_url,
        route_name=route.name,
        environment=environment,
        certificate_secret=route.certificate_secret_id,
    )


def run_route(route: Route, environment: str, resolver: Resolver, **overrides: Any) -> Any:
    """Plan and execute: a `RequestResult` whatever happens (never raises for user problems)."""
    from knoxtui.net.request import execute

    plan, failed = prepare(route, environment, resolver, **overrides)
    return execute(plan) if plan is not None else failed
