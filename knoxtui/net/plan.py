"""What a request will do, fully resolved: the values `execute` needs and nothing it has to look up.
Secret-bearing fields are hidden from reprs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from knoxtui.net.proxy import ProxySetting

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ClientIdentity:
    """The client certificate chain (leaf first) and its decrypted key, in memory only."""

    chain_pem: bytes
    key_pem: bytes = field(repr=False)
    fingerprint_sha256: str = ""
    secret_name: str | None = None
    subject: str = ""
    issuer: str = ""
    issuer_der: bytes = field(default=b"", repr=False)
    # Issuer names up our chain (DER): any of them in the server's accepted list will do.
    chain_issuers_der: tuple[bytes, ...] = field(default=(), repr=False)
    valid_from: Any = None
    valid_until: Any = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.chain_pem + b"\0" + self.key_pem).hexdigest()


@dataclass(frozen=True)
class OAuth2Plan:
    """The client-credentials grant for a route, resolved for one environment."""

    token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    audience: str | None = None
    auth_method: str = "client_secret_basic"
    identity: ClientIdentity | None = None
    ca_bundle_pem: bytes | None = field(default=None, repr=False)
    secret_name: str | None = None

    @property
    def cache_key(self) -> str:
        parts = [
            self.token_url,
            self.client_id,
            self.client_secret or "",
            self.scope or "",
            self.audience or "",
            self.auth_method,
            self.identity.fingerprint_sha256 if self.identity else "",
        ]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _HiddenHeaders(dict[str, str]):
    """Header values hidden from repr: they may hold API keys or bearer tokens."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: '***'" for k in self) + "}"


@dataclass(frozen=True)
class RequestPlan:
    method: str
    url: str = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    identity: ClientIdentity | None = None
    ca_bundle_pem: bytes | None = field(default=None, repr=False)
    servername: str | None = None
    verify: bool = True
    min_version: str | None = None
    max_version: str | None = None
    oauth2: OAuth2Plan | None = None
    route_name: str | None = None
    environment: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    # The same request with every {{secret:NAME}} left as a reference: safe to show and log.
    display_url: str = ""
    display_headers: dict[str, str] = field(default_factory=dict)
    display_body: str | None = field(default=None, repr=False)
    certificate_secret: str | None = None
    proxy: ProxySetting | None = None  # None: the environment's, as curl reads it
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    follow_redirects: bool = False
    http2: bool = False
    # Secrets in the URL, headers or body (resolved from {{secret:NAME}}): never across origins.
    secret_headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _HiddenHeaders(self.headers))
        if not self.display_url:
            object.__setattr__(self, "display_url", self.url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def is_tls(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def origin(self) -> tuple[str, str, int]:
        return (urlsplit(self.url).scheme, self.host.lower(), self.port)

    @property
    def sends_secrets(self) -> bool:
        """A certificate, a token or a secret value goes with this request."""
        return bool(
            self.identity is not None
            or self.oauth2 is not None
            or self.secret_headers
            or self.url != self.display_url
            or (self.display_body is not None and self.body != (self.display_body or "").encode())
        )

    def __repr__(self) -> str:
        return (
            f"RequestPlan(method={self.method!r}, url={self.display_url!r}, "
            f"route={self.route_name!r}, environment={self.environment!r}, "
            f"identity={self.identity.fingerprint_sha256[:23] if self.identity else None!r}, "
            f"verify={self.verify}, servername={self.servername!r})"
        )
