"""The route model (DESIGN.md §2): a saved target and its TLS settings, read from the stored
configuration dict with messages that name the bad key and the fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from knoxtui import refs
from knoxtui.errors import ValidationError
from knoxtui.safetext import visible

TLS_VERSIONS = ("1.2", "1.3")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SECRET_ID_KEYS = ("certificate_secret_id", "oauth2_secret_id", "ca_bundle_secret_id")
_OPTIONAL_STR_KEYS = ("tls_servername", "body", "description")
_BOOL_KEYS = ("tls_reject_unauthorized", "follow_redirects", "http2", "allow_plaintext")
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 3600.0
KNOWN_KEYS = (
    "target_url",
    *_SECRET_ID_KEYS,
    "headers",
    "tls_servername",
    "tls_reject_unauthorized",
    "tls_min_version",
    "tls_max_version",
    "method",
    "body",
    "description",
    "proxy",
    "timeout_seconds",
    "connect_timeout_seconds",
    "follow_redirects",
    "http2",
    "allow_plaintext",
)
# One line per key, for `knoxtui route add --help` and the README's table.
KEY_HELP = {
    "target_url": "https:// URL of the API (required); {{secret:NAME}} allowed inside",
    "certificate_secret_id": "client certificate secret: NAME or {{secret:NAME}}",
    "oauth2_secret_id": "oauth2 secret (client credentials): NAME or {{secret:NAME}}",
    "ca_bundle_secret_id": "string secret of PEM CA certificates to trust (default: system)",
    "headers": 'object of header name to value, e.g. {"API-Key": "{{secret:api_key}}"}',
    "tls_servername": "SNI and certificate name to use instead of the URL's host",
    "tls_reject_unauthorized": "false turns server certificate verification OFF (tests only)",
    "tls_min_version": '"1.2" or "1.3"',
    "tls_max_version": '"1.2" or "1.3"',
    "method": "GET (default), POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
    "body": "request body text; {{secret:NAME}} allowed inside",
    "description": "free text",
    "proxy": 'http://[user[:password]@]host:port ({{secret:NAME}} allowed), or "none" to go '
    "direct; absent: HTTPS_PROXY/ALL_PROXY/NO_PROXY as curl reads them",
    "timeout_seconds": "whole request, in seconds (default 30)",
    "connect_timeout_seconds": "TCP connect (to the proxy or the server), seconds (default 10)",
    "follow_redirects": "follow 3xx (default false); secrets and the certificate only go to "
    "the same origin",
    "http2": "offer HTTP/2 (ALPN h2), default false",
    "allow_plaintext": "allow an http:// target that carries a certificate, a token or a "
    "secret (default false: refused)",
}


def _fail(route: str, message: str, hint: str | None = None) -> ValidationError:
    return ValidationError(f"Route '{route}': {message}", hint=hint, code="invalid_route")


@dataclass(frozen=True)
class Route:
    """One route. Values may hold `{{secret:NAME}}` references; they are substituted per
    environment by `plan_request`, never stored resolved."""

    name: str
    target_url: str
    certificate_secret_id: str | None = None
    oauth2_secret_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ca_bundle_secret_id: str | None = None
    tls_servername: str | None = None
    tls_reject_unauthorized: bool = True
    tls_min_version: str | None = None
    tls_max_version: str | None = None
    method: str = "GET"
    body: str | None = None
    description: str | None = None
    proxy: str | None = None  # a URL (templates allowed), "none", or None: the environment's
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    follow_redirects: bool = False
    http2: bool = False
    allow_plaintext: bool = False

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> Route:
        if not isinstance(config, Mapping):
            raise _fail(
                name, f"the configuration must be a JSON object, not {type(config).__name__}."
            )
        unknown = sorted(set(config) - set(KNOWN_KEYS))
        if unknown:
            raise _fail(
                name,
                f"unknown key(s) {', '.join(repr(k) for k in unknown)}.",
                hint=f"Allowed keys: {', '.join(KNOWN_KEYS)}.",
            )
        url = config.get("target_url")
        if not isinstance(url, str) or not url.strip():
            raise _fail(
                name,
                "'target_url' is required and must be a URL string.",
                hint='Example: {"target_url": "https://api.bank.example/v1/accounts"}',
            )
        _check_url(name, url)
        values: dict[str, Any] = {"name": name, "target_url": url.strip()}
        for key in _SECRET_ID_KEYS:
            value = config.get(key)
            if value is None:
                continue
            # The guide writes {{secret:NAME}}; the model keeps the name alone.
            value = refs.field_name(value)
            if not isinstance(value, str) or not refs.is_valid_name(value):
                raise _fail(
                    name,
                    f"'{key}' must name a secret: NAME or {{{{secret:NAME}}}} with NAME matching "
                    "[a-z0-9][a-z0-9_.-]*.",
                    hint='Example: "certificate_secret_id": "{{secret:bank_api_certificate}}"',
                )
            values[key] = value
        headers = config.get("headers", {})
        if headers is None:
            headers = {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise _fail(name, "'headers' must be an object of header name to string value.")
        for key, value in headers.items():
            if not key or not _TOKEN.fullmatch(key):
                raise _fail(
                    name,
                    f"header name {visible(key)!r} is not valid.",
                    hint="Header names are letters, digits and !#$%&'*+-.^_`|~ (no spaces).",
                )
            check_header_value(key, value, f"Route '{name}': ")
        values["headers"] = dict(headers)
        for key in _OPTIONAL_STR_KEYS:
            value = config.get(key)
            if value is not None and not isinstance(value, str):
                raise _fail(name, f"'{key}' must be a string.")
            values[key] = value
        for key in _BOOL_KEYS:
            flag = config.get(key, Route.__dataclass_fields__[key].default)
            if not isinstance(flag, bool):
                raise _fail(name, f"'{key}' must be true or false (a JSON boolean).")
            values[key] = flag
        values["proxy"] = _proxy(name, config.get("proxy"))
        for key in ("timeout_seconds", "connect_timeout_seconds"):
            seconds = config.get(key, Route.__dataclass_fields__[key].default)
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not 0 < seconds <= MAX_TIMEOUT_SECONDS
            ):
                raise _fail(
                    name,
                    f"'{key}' must be a number of seconds above 0 and at most "
                    f"{MAX_TIMEOUT_SECONDS:g}.",
                    hint=f'Example: "{key}": 30',
                )
            values[key] = float(seconds)
        for key in ("tls_min_version", "tls_max_version"):
            value = config.get(key)
            if value is None:
                continue
            text = str(value) if isinstance(value, int | float | str) else None
            if text not in TLS_VERSIONS:
                raise _fail(name, f'\'{key}\' must be "1.2" or "1.3", got {value!r}.')
            values[key] = text
        low, high = values.get("tls_min_version"), values.get("tls_max_version")
        if low and high and float(low) > float(high):
            raise _fail(name, f"tls_min_version {low} is above tls_max_version {high}.")
        method = config.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise _fail(name, f"'method' must be one of {', '.join(METHODS)}, got {method!r}.")
        values["method"] = method.upper()
        route = cls(**values)
        route.check_plaintext()
        return route

    def plaintext_leaks(self, url: str | None = None) -> list[str]:
        """What an http:// target would send in clear text (empty for https:// or nothing)."""
        target = url if url is not None else self.target_url
        if urlsplit(refs.SECRET_REF.sub("x", target.strip())).scheme != "http":
            return []
        leaks = []
        if self.certificate_secret_id:
            leaks.append(f"the client certificate '{self.certificate_secret_id}'")
        if self.oauth2_secret_id:
            leaks.append(f"the OAuth2 token of '{self.oauth2_secret_id}'")
        for where, names in (
            ("target_url", refs.references(self.target_url)),
            *((f"header {key}", refs.references(v)) for key, v in self.headers.items()),
            ("body", refs.references(self.body or "")),
        ):
            leaks += [f"{{{{secret:{n}}}}} in {where}" for n in names]
        return leaks

    @property
    def plaintext(self) -> bool:
        """An http:// target: nothing on this route is encrypted."""
        return urlsplit(refs.SECRET_REF.sub("x", self.target_url)).scheme == "http"

    def check_plaintext(self, url: str | None = None) -> None:
        """Refuse an http:// target that would carry a secret, unless allow_plaintext."""
        if self.allow_plaintext:
            return
        leaks = self.plaintext_leaks(url)
        if leaks:
            raise _fail(
                self.name,
                "the target is plain http://, yet the route carries "
                + ", ".join(leaks)
                + ": nothing would be encrypted (secrets readable on the way, no client "
                "certificate without TLS); it was refused.",
                hint='Use the https:// URL of the API, or set "allow_plaintext": true on the '
                "route if you accept that risk (e.g. a local test server).",
            )

    def to_config(self) -> dict[str, Any]:
        """The stored dict: only keys that differ from the defaults, plus target_url."""
        out: dict[str, Any] = {"target_url": self.target_url}
        for key in KNOWN_KEYS[1:]:
            value = getattr(self, key)
            default = Route.__dataclass_fields__[key].default
            if key == "headers":
                if value:
                    out[key] = dict(value)
            elif value != default:
                out[key] = value
        return out

    @property
    def secret_references(self) -> list[str]:
        """Every secret this route needs: the *_secret_id names and the {{secret:NAME}} refs."""
        names = [getattr(self, key) for key in _SECRET_ID_KEYS if getattr(self, key)]
        names += refs.references([self.target_url, self.headers, self.body or "", self.proxy or ""])
        return list(dict.fromkeys(names))


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Header values: visible ASCII, space and tab; every other control is refused (h11 would fail
# later with the whole value in its message).
_BAD_HEADER_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_header_value(header: str, value: str, where: str = "", environment: str = "") -> None:
    """Refuse a value HTTP cannot carry, naming the header only: the value may be a secret."""
    if _BAD_HEADER_CHAR.search(value) or not value.isascii():
        env = f" in environment '{environment}'" if environment else ""
        label = "header" if where else "Header"
        raise ValidationError(
            f"{where}{label} '{visible(header)}' holds characters HTTP headers cannot carry "
            f"(control characters, line breaks or non-ASCII){env}.",
            hint="Check the header's value and any string secret it references.",
            code="invalid_route",
        )


def plaintext_config(config: Any) -> bool:
    """A stored route config whose target is plain http:// (never "verified" anywhere)."""
    url = config.get("target_url") if isinstance(config, Mapping) else None
    return isinstance(url, str) and urlsplit(refs.SECRET_REF.sub("x", url.strip())).scheme == "http"


def _proxy(route: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(route, "'proxy' must be a URL string or \"none\".")
    value = value.strip()
    if value.lower() == "none":
        return "none"
    probe = refs.SECRET_REF.sub("x", value)
    parts = _split(probe)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None:
        raise _fail(
            route,
            "'proxy' must be http://[user[:password]@]host:port or \"none\".",
            hint='Example: "proxy": "http://me:{{secret:proxy_pass}}@proxy.corp:8080"',
        )
    return value


def _split(url: str) -> SplitResult:
    """urlsplit, with a malformed URL (`https://[::1/`) as an empty one: the caller's shape check
    then refuses it with its own message instead of a ValueError."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def _check_url(route: str, url: str) -> None:
    # References may sit in the host or path; check the shape with them replaced by a stand-in.
    probe = refs.SECRET_REF.sub("x", url.strip())
    parts = _split(probe)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise _fail(
            route,
            f"'target_url' {url!r} is not an http(s) URL.",
            hint="Use the full URL, e.g. https://api.bank.example/v1/accounts",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _fail(route, f"'target_url' {url!r} has an invalid port.") from None
