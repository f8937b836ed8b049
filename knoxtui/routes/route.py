"""The route model (DESIGN.md §2): a saved target and its TLS settings, read from the stored
configuration dict with messages that name the bad key and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from knoxtui import refs
from knoxtui.errors import ValidationError

TLS_VERSIONS = ("1.2", "1.3")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SECRET_ID_KEYS = ("certificate_secret_id", "oauth2_secret_id", "ca_bundle_secret_id")
_OPTIONAL_STR_KEYS = ("tls_servername", "body", "description")
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
)


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
            if not isinstance(value, str) or not refs.is_valid_name(value):
                raise _fail(
                    name,
                    f"'{key}' must be a secret name ([a-z0-9][a-z0-9_.-]*), got {value!r}.",
                    hint="Give the secret's name, not its value or a {{secret:...}} reference.",
                )
            values[key] = value
        headers = config.get("headers", {})
        if headers is None:
            headers = {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise _fail(name, "'headers' must be an object of header name to string value.")
        for key in headers:
            if not key or any(c in key for c in " :\r\n\t"):
                raise _fail(name, f"header name {key!r} is not valid.")
        values["headers"] = dict(headers)
        for key in _OPTIONAL_STR_KEYS:
            value = config.get(key)
            if value is not None and not isinstance(value, str):
                raise _fail(name, f"'{key}' must be a string.")
            values[key] = value
        reject = config.get("tls_reject_unauthorized", True)
        if not isinstance(reject, bool):
            raise _fail(name, "'tls_reject_unauthorized' must be true or false (a JSON boolean).")
        values["tls_reject_unauthorized"] = reject
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
        return cls(**values)

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
        names += refs.references([self.target_url, self.headers, self.body or ""])
        return list(dict.fromkeys(names))


def _check_url(route: str, url: str) -> None:
    # References may sit in the host or path; check the shape with them replaced by a stand-in.
    probe = refs.SECRET_REF.sub("x", url.strip())
    parts = urlsplit(probe)
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
