"""OAuth2 client credentials (RFC 6749 §4.4) with client_secret_basic, client_secret_post and
tls_client_auth (RFC 8705). Tokens are cached in memory until shortly before they expire and are
never shown in full."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from knoxtui.limits import parse_json
from knoxtui.net.diagnosis import Diagnosis
from knoxtui.net.plan import OAuth2Plan, RequestPlan

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "tls_client_auth")
_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class OAuth2Step:
    """The token exchange as its own step of a request."""

    token_url: str
    auth_method: str
    status_code: int | None = None
    duration_ms: float | None = None
    cached: bool = False
    token_preview: str | None = None  # e.g. "eyJh…(812 chars)", never the token
    token_type: str | None = None
    expires_in: float | None = None
    scope: str | None = None
    error: str | None = None
    diagnosis: Diagnosis | None = None
    cause: str | None = None  # the transport's diagnosis code when the exchange failed below HTTP
    report: Any = field(default=None, repr=False, compare=False)  # the token exchange's handshake

    @property
    def ok(self) -> bool:
        return self.error is None and self.token_preview is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_url": self.token_url,
            "auth_method": self.auth_method,
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "cached": self.cached,
            "token": self.token_preview,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": self.scope,
            "error": self.error,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "cause": self.cause,
        }


@dataclass(frozen=True)
class _CachedToken:
    value: str = field(repr=False)
    token_type: str
    expires_at: float
    scope: str | None


_cache: dict[str, _CachedToken] = {}
_lock = threading.Lock()


def preview(token: str) -> str:
    return f"{token[:4]}…({len(token)} chars)"


def clear_cache() -> None:
    with _lock:
        _cache.clear()


# (plan) -> (status, body, duration_ms, diagnosis-of-transport-or-None)
Transport = Callable[[RequestPlan], tuple[int | None, bytes, float | None, Diagnosis, Any]]


def token_request(oauth: OAuth2Plan, parent: RequestPlan) -> RequestPlan:
    form: dict[str, str] = {"grant_type": "client_credentials"}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    if oauth.scope:
        form["scope"] = oauth.scope
    if oauth.audience:
        form["audience"] = oauth.audience
    if oauth.auth_method == "client_secret_basic":
        pair = f"{quote(oauth.client_id, safe='')}:{quote(oauth.client_secret or '', safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif oauth.auth_method == "client_secret_post":
        form["client_id"] = oauth.client_id
        form["client_secret"] = oauth.client_secret or ""
    else:  # tls_client_auth: the certificate authenticates, the id names the client
        form["client_id"] = oauth.client_id
    return RequestPlan(
        method="POST",
        url=oauth.token_url,
        headers=headers,
        body=urlencode(form).encode(),
        identity=oauth.identity,
        ca_bundle_pem=oauth.ca_bundle_pem,
        verify=parent.verify,
        min_version=parent.min_version,
        max_version=parent.max_version,
        route_name=parent.route_name,
        environment=parent.environment,
        timeout=parent.timeout,
        connect_timeout=parent.connect_timeout,
        proxy=parent.proxy,  # the same rule: route key, option or environment (NO_PROXY per URL)
        display_url=oauth.token_url,
        display_headers={
            k: ("<client credentials>" if k == "Authorization" else v) for k, v in headers.items()
        },
        display_body="grant_type=client_credentials",
    )


def obtain_token(
    oauth: OAuth2Plan, parent: RequestPlan, transport: Transport
) -> tuple[str | None, OAuth2Step]:
    key = oauth.cache_key
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached.expires_at > now:
        return cached.value, OAuth2Step(
            oauth.token_url,
            oauth.auth_method,
            cached=True,
            token_preview=preview(cached.value),
            token_type=cached.token_type,
            expires_in=round(cached.expires_at - now, 1),
            scope=cached.scope,
        )
    if oauth.auth_method == "tls_client_auth" and oauth.identity is None:
        return None, _failed(
            oauth,
            None,
            None,
            "tls_client_auth needs a client certificate, and neither the OAuth2 secret nor the "
            "route names one.",
            "config",
            "Set certificate_secret_id on the OAuth2 secret or on the route.",
        )
    if oauth.auth_method != "tls_client_auth" and not oauth.client_secret:
        return None, _failed(
            oauth,
            None,
            None,
            f"{oauth.auth_method} needs a client_secret; the OAuth2 secret has none.",
            "config",
            "Add client_secret to the OAuth2 secret, or use auth_method tls_client_auth.",
        )
    status, body, duration, transport_diagnosis, report = transport(token_request(oauth, parent))
    if status is None:
        return None, _failed(
            oauth,
            None,
            duration,
            f"The token request to {oauth.token_url} failed: {_lower(transport_diagnosis.summary)}",
            transport_diagnosis.side,
            transport_diagnosis.fix,
            inner=transport_diagnosis,
            report=report,
        )
    try:
        data = parse_json(body)  # depth-limited: a hostile token endpoint's nesting is bad JSON
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if status >= 400 or not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        reason = ""
        if isinstance(data, dict) and data.get("error"):
            reason = f": {data.get('error')}"
            if data.get("error_description"):
                reason += f" ({str(data.get('error_description'))[:200]})"
        elif status < 400:
            reason = ": the answer holds no access_token"
        fix = (
            "Check client_id and client_secret of the OAuth2 secret, and its auth_method."
            if status in (400, 401)
            else "Check token_url, scope and audience of the OAuth2 secret."
        )
        if transport_diagnosis.code != "ok" and transport_diagnosis.code != "http_error":
            # e.g. an nginx page saying the client certificate was missing
            summary = _lower(transport_diagnosis.summary)
            inner_fix = transport_diagnosis.fix
            if transport_diagnosis.code == "client_cert_required" and oauth.identity is None:
                summary = (
                    "it requires a client certificate, and neither the route nor the OAuth2 "
                    f"secret '{oauth.secret_name}' names one (certificate_secret_id)."
                )
                inner_fix = (
                    "Set certificate_secret_id on the route or on the OAuth2 secret "
                    f"'{oauth.secret_name}'."
                )
            return None, _failed(
                oauth,
                status,
                duration,
                f"The token endpoint {oauth.token_url} refused the request: {summary}",
                transport_diagnosis.side,
                inner_fix,
                inner=transport_diagnosis,
                report=report,
            )
        # 400/401/403 refuse our client credentials (RFC 6749 §5.2); other statuses are theirs.
        return None, _failed(
            oauth,
            status,
            duration,
            f"The token endpoint refused to issue a token: HTTP {status}{reason}."
            if status >= 400
            else f"The token endpoint answered HTTP {status}{reason}.",
            "client" if status in (400, 401, 403) else "server",
            fix,
            report=report,
        )
    token = data["access_token"]
    token_type = str(data.get("token_type") or "Bearer")
    expires_in = data.get("expires_in")
    lifetime = (
        float(expires_in)
        if isinstance(expires_in, int | float | str)
        and str(expires_in).replace(".", "", 1).isdigit()
        else None
    )
    if lifetime:
        margin = min(_MARGIN_SECONDS, lifetime / 10)
        with _lock:
            _cache[key] = _CachedToken(
                token, token_type, now + lifetime - margin, data.get("scope")
            )
    return token, OAuth2Step(
        oauth.token_url,
        oauth.auth_method,
        status_code=status,
        duration_ms=duration,
        token_preview=preview(token),
        token_type=token_type,
        expires_in=lifetime,
        scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
        report=report,
    )


def _lower(sentence: str) -> str:
    """A sentence continued after a colon ("The server ..." -> "the server ...")."""
    return sentence[:1].lower() + sentence[1:] if sentence[1:2].islower() else sentence


def _failed(
    oauth: OAuth2Plan,
    status: int | None,
    duration: float | None,
    summary: str,
    side: str,
    fix: str | None,
    inner: Diagnosis | None = None,
    report: Any = None,
) -> OAuth2Step:
    return OAuth2Step(
        oauth.token_url,
        oauth.auth_method,
        status_code=status,
        duration_ms=duration,
        error=summary,
        diagnosis=Diagnosis("oauth2_token_failed", side, summary, fix),
        cause=inner.code if inner else None,
        report=report,
    )
