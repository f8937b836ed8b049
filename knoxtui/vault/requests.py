"""The request log part of the vault: one hash-chained row per request a route made
(`route_request_log`), with the route and certificate used but never a value or a query string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from knoxtui.vault.models import RequestLogEntry

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault


def _safe_url(url: str | None) -> str | None:
    """Scheme, host and path only: query strings and user-info may carry substituted secrets."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
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
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """One row in route_request_log (its id returned). The URL is kept without its query
        string. `details`: what the run found, for the request history (the caller passes only
        facts that hold no secret: diagnosis, handshake summary, status, timings)."""
        with self._vault.transaction() as conn:
            route_row = conn.execute("SELECT id FROM routes WHERE name = ?", (route,)).fetchone()
            cert_row = (
                conn.execute(
                    "SELECT id FROM secrets WHERE name = ?", (certificate_secret,)
                ).fetchone()
                if certificate_secret
                else None
            )
            request_id = self._vault.trail.record_request(
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
            if details is not None:
                conn.execute(
                    "INSERT INTO route_request_details (request_id, details) VALUES (?, ?)",
                    (request_id, json.dumps(dict(details), sort_keys=True)),
                )
        return request_id

    def details(self, request_id: int) -> dict[str, Any] | None:
        """What run `request_id` found, or None (logged by the CLI before this was kept)."""
        with self._vault.reading() as conn:
            row = conn.execute(
                "SELECT details FROM route_request_details WHERE request_id = ?", (request_id,)
            ).fetchone()
        if row is None:
            return None
        found = json.loads(row[0])
        return found if isinstance(found, dict) else None

    def previous(self, request_id: int) -> RequestLogEntry | None:
        """The run of the same route just before `request_id` (for "compare")."""
        entries = self.entries()
        by_id = {entry.id: entry for entry in entries}
        current = by_id.get(request_id)
        if current is None:
            return None
        earlier = [e for e in entries if e.route_name == current.route_name and e.id < request_id]
        return earlier[-1] if earlier else None

    def entries(self, *, limit: int | None = None) -> list[RequestLogEntry]:
        with self._vault.reading():
            return self._vault.trail.requests(limit=limit)
