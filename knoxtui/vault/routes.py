"""The routes part of the vault: named route configurations (DESIGN.md §2), checked against the
secrets they refer to, and rewritten in place when a secret is renamed."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from knoxtui import clock, refs
from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.vault import changes
from knoxtui.vault.models import (
    ROUTE_SECRET_FIELDS,
    RouteRecord,
    check_name,
    iso,
    parse_iso,
    route_references,
    shown_name,
)

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault

ROUTE_SECRET_TYPES = {
    "certificate_secret_id": "certificate",
    "oauth2_secret_id": "oauth2",
    "ca_bundle_secret_id": "string",
}


def _validate_route_config(name: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise ValidationError(
            f"The configuration of route '{name}' must be a JSON object.", code="invalid_route"
        )
    data = dict(config)
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        raise ValidationError(
            f"The configuration of route '{name}' holds values JSON cannot store.",
            code="invalid_route",
        ) from None

    def check(block: Mapping[str, Any], where: str) -> bool:
        has_target = False
        for key, value in block.items():
            if key == "target_url":
                try:
                    parts = urlsplit(value) if isinstance(value, str) else None
                except ValueError:  # https://[::1/ is not a URL
                    parts = None
                if parts is None or (parts.scheme not in ("https", "http") and "{{" not in value):
                    raise ValidationError(
                        f"Route '{name}': {where}target_url must be an http(s) URL.",
                        code="invalid_route",
                    )
                has_target = True
            elif key in ROUTE_SECRET_FIELDS or key == "tls_servername":
                if value is not None and not isinstance(value, str):
                    raise ValidationError(
                        f"Route '{name}': {where}{key} must be a string or null.",
                        code="invalid_route",
                    )
            elif key == "headers":
                if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise ValidationError(
                        f"Route '{name}': {where}headers must map header names to strings.",
                        code="invalid_route",
                    )
            elif key == "tls_reject_unauthorized":
                if not isinstance(value, bool):
                    raise ValidationError(
                        f"Route '{name}': {where}tls_reject_unauthorized must be true or false.",
                        code="invalid_route",
                    )
            elif key in ("tls_min_version", "tls_max_version"):
                if value not in (None, "1.2", "1.3"):
                    raise ValidationError(
                        f'Route \'{name}\': {where}{key} must be "1.2" or "1.3".',
                        code="invalid_route",
                    )
            elif isinstance(value, Mapping) and key not in ("headers",):
                has_target = check(value, f"{where}{key}.") or has_target
        return has_target

    if not check(data, ""):
        raise ValidationError(
            f"Route '{name}' has no target_url.",
            hint='Add "target_url": "https://api.example/..." to the configuration.',
            code="invalid_route",
        )
    return data


def _rename_in(value: Any, old: str, new: str) -> Any:
    """A copy of a route config with every reference to `old` pointing at `new`."""
    pattern = re.compile(r"(\{\{\s*secret:)" + re.escape(old) + r"(\s*\}\})")
    if isinstance(value, str):
        return pattern.sub(lambda m: m.group(1) + new + m.group(2), value)
    if isinstance(value, list):
        return [_rename_in(item, old, new) for item in value]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in ROUTE_SECRET_FIELDS and item == old:
                out[key] = new
            else:
                out[key] = _rename_in(item, old, new)
        return out
    return value


def _route_from_row(row: tuple[Any, ...]) -> RouteRecord:
    return RouteRecord(
        id=row[0],
        name=row[1],
        config=json.loads(row[2]),
        created_at=parse_iso(row[3]),
        updated_at=parse_iso(row[4]),
    )


class Routes(changes.ItemChanges):
    """`vault.routes`: one row per route in `routes`, its configuration as canonical JSON."""

    KIND = changes.ROUTE

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def save(self, name: str, config: dict[str, Any], *, replace: bool = False) -> RouteRecord:
        """Store a route (DESIGN.md §2). Every {{secret:NAME}} and *_secret_id must name an
        existing secret of the right type; unknown names are listed and nothing is saved."""
        check_name(name, "route")
        data = _validate_route_config(name, config)
        with self._vault.transaction() as conn:
            wanted = route_references(data)
            known = dict(conn.execute("SELECT name, secret_type FROM secrets").fetchall())
            unknown = [ref for ref in wanted if ref not in known]
            if unknown:
                raise ValidationError(
                    f"Route '{name}' refers to unknown secret(s): {', '.join(unknown)}; "
                    "it was not saved.",
                    hint="Add them first (knoxtui secret add ...) or fix the names.",
                    code="unknown_secret",
                )
            for key, kind in ROUTE_SECRET_TYPES.items():
                ref = refs.field_name(data.get(key))
                if isinstance(ref, str) and ref in known and known[ref] != kind:
                    raise ValidationError(
                        f"Route '{name}': {key} '{ref}' is a {known[ref]} secret, "
                        f"but a {kind} secret is needed.",
                        code="wrong_secret_type",
                    )
            now = iso(clock.now())
            row = conn.execute("SELECT id FROM routes WHERE name = ?", (name,)).fetchone()
            if row is not None and not replace:
                raise Conflict(
                    f"A route named '{name}' already exists; nothing was changed.",
                    hint="Choose another name, or replace it (--replace on the command line; in "
                    "the console, open that route and save it).",
                )
            text = json.dumps(data, sort_keys=True)
            digest = changes.route_digest(conn, text)
            if row is None:
                route_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO routes (id, name, config, created_at, updated_at, digest) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (route_id, name, text, now, now, digest),
                )
            else:
                route_id = row[0]
                conn.execute(
                    "UPDATE routes SET config = ?, updated_at = ?, digest = ? WHERE id = ?",
                    (text, now, digest, route_id),
                )
            self._vault.trail.record(
                "route_create" if row is None else "route_update",
                detail=f"route '{name}' ({route_id})",
            )
        return self.get(name)

    def get(self, name: str) -> RouteRecord:
        rows = self._vault.fetch(
            "SELECT id, name, config, created_at, updated_at FROM routes WHERE name = ?", (name,)
        )
        if not rows:
            raise self.not_found(name)
        return _route_from_row(rows[0])

    def all(self) -> list[RouteRecord]:
        return [
            _route_from_row(row)
            for row in self._vault.fetch(
                "SELECT id, name, config, created_at, updated_at FROM routes ORDER BY name"
            )
        ]

    def remove(self, name: str) -> None:
        with self._vault.transaction() as conn:
            row = conn.execute("SELECT id FROM routes WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"There is no route named '{name}'.")
            conn.execute("DELETE FROM routes WHERE id = ?", (row[0],))
            self._vault.trail.record("route_delete", detail=f"route '{name}' ({row[0]})")

    def not_found(self, name: str) -> NotFound:
        return NotFound(
            f"There is no route named {shown_name(name)}.",
            hint="knoxtui route list shows the routes in this vault.",
        )

    def using(self, secret: str) -> list[str]:
        """The routes that refer to `secret` (a *_secret_id field or a {{secret:NAME}})."""
        return sorted(
            route_name
            for route_name, config in self._vault.fetch("SELECT name, config FROM routes")
            if secret in route_references(json.loads(config))
        )

    def rename_references(self, conn: Any, old: str, new: str, now: str | None) -> None:
        """Inside the caller's transaction: every route referring to secret `old` now names
        `new` (a secret rename)."""
        for route_id, config in conn.execute("SELECT id, config FROM routes").fetchall():
            data = json.loads(config)
            if old in route_references(data):
                text = json.dumps(_rename_in(data, old, new), sort_keys=True)
                conn.execute(
                    "UPDATE routes SET config = ?, updated_at = ?, digest = ? WHERE id = ?",
                    (text, now, changes.route_digest(conn, text), route_id),
                )
