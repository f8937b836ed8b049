"""The request log part of the vault: one hash-chained row per request a route made
(`route_request_log`), with the route and certificate used but never a value or a query string."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from knoxtui.vault.models import RequestLogEntry

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault


def _safe_url(url: str | None) -> str | None:
    """Scheme, host and path only: query strings and user-info may carry substituted secrets."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Requests:
    """`vault.requests`: appends to and reads the request log (the audit trail checks its chain)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def log(
        self,
        *,
        route: str,
        environment: str,
        certificate_secret: str | None,
        certificate_fingerprint: str | None,
        status_code: int | None,
        outcome: str,
        duration_ms: float | None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        """One row in route_request_log. The URL is kept without its query string."""
        with self._vault.transaction() as conn:
            route_row = conn.execute("SELECT id FROM routes WHERE name = ?", (route,)).fetchone()
            cert_row = (
                conn.execute(
                    "SELECT id FROM secrets WHERE name = ?", (certificate_secret,)
                ).fetchone()
                if certificate_secret
                else None
            )
            self._vault.trail.record_request(
                {
                    "route_id": route_row[0] if route_row else None,
                    "route_name": route,
                    "environment_name": environment,
                    "certificate_secret_id": cert_row[0] if cert_row else None,
                    "certificate_secret_name": certificate_secret,
                    "certificate_used": int(bool(certificate_secret or certificate_fingerprint)),
                    "certificate_fingerprint": certificate_fingerprint,
                    "method": method,
                    "url": _safe_url(url),
                    "status_code": status_code,
                    "outcome": outcome,
                    "duration_ms": duration_ms,
                }
            )

    def entries(self, *, limit: int | None = None) -> list[RequestLogEntry]:
        with self._vault.reading():
            return self._vault.trail.requests(limit=limit)
