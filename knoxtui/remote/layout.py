"""The upstream layout (README, "Team sync"): how an item looks in KV v2, so people and other tools
can read and write it.

    <kv-mount>/<prefix>/secrets/<name>   {"knoxtui": 1, "type": "certificate|string|oauth2",
                                          "description": ..., "environments": {"<env>": {...}}}
        certificate value: {"certificate": "<PEM chain, leaf first>", "private_key": "<PEM>",
                            "key_passphrase": "<or absent>"}
        string value:      {"value": "..."}
        oauth2 value:      its fields (token_url, client_id, client_secret, ...)
    <kv-mount>/<prefix>/routes/<name>    the route's config

Reading is strict: anything else is refused with a message naming the item and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from knoxtui.errors import ValidationError
from knoxtui.safetext import visible
from knoxtui.vault.models import (
    SECRET_TYPES,
    CertificateValue,
    OAuth2Config,
    check_name,
)

LAYOUT_VERSION = 1
KINDS = ("secret", "route")
_FOLDERS = {"secret": "secrets", "route": "routes"}
MAX_ENVIRONMENTS = 64
MAX_ITEM_BYTES = 1024 * 1024


def folder(prefix: str, kind: str) -> str:
    return f"{prefix}/{_FOLDERS[kind]}"


def item_path(prefix: str, kind: str, name: str) -> str:
    return f"{folder(prefix, kind)}/{name}"


@dataclass(frozen=True)
class UpstreamSecret:
    """A secret read from the server and checked for shape (not yet for content: the vault
    checks certificates, passphrases and references as an import does)."""

    name: str
    secret_type: str
    description: str | None
    values: dict[str, Any] = field(repr=False)  # env -> CertificateValue | str | OAuth2Config


def secret_document(
    secret_type: str, description: str | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The KV data of a secret."""
    environments: dict[str, Any] = {}
    for env, value in sorted(values.items()):
        if secret_type == "certificate":
            entry = {
                "certificate": value.chain_pem.decode("ascii"),
                "private_key": value.key_pem.decode("ascii") if value.key_pem else None,
            }
            if entry["private_key"] is None:
                del entry["private_key"]
            if value.key_passphrase:
                entry["key_passphrase"] = value.key_passphrase
            environments[env] = entry
        elif secret_type == "oauth2":
            environments[env] = {
                k: v for k, v in value.to_dict(include_secret=True).items() if v is not None
            }
        else:
            environments[env] = {"value": value}
    document: dict[str, Any] = {"knoxtui": LAYOUT_VERSION, "type": secret_type}
    if description is not None:
        document["description"] = description
    document["environments"] = environments
    return document


def _refuse(name: str, what: str, hint: str | None = None, code: str = "invalid_upstream") -> None:
    raise ValidationError(f"Secret '{name}' upstream: {what}", hint=hint, code=code)


def parse_secret(name: str, data: Any) -> UpstreamSecret:
    """Check the shape of a secret's KV data; ValidationError naming the problem otherwise."""
    check_name(name)
    if not isinstance(data, Mapping):
        _refuse(name, "its data is not a JSON object.")
    marker = data.get("knoxtui")
    if marker == str(LAYOUT_VERSION):
        marker = LAYOUT_VERSION  # `bao kv put ... knoxtui=1` writes the number as text
    if marker != LAYOUT_VERSION:
        if isinstance(marker, int) and marker > LAYOUT_VERSION:
            _refuse(
                name,
                f"it was written in layout {marker}; this knoxtui reads layout {LAYOUT_VERSION}.",
                hint="Upgrade knoxtui to pull it.",
            )
        _refuse(
            name,
            'it has no "knoxtui": 1 marker, so it is not in knoxtui\'s layout.',
            hint="Write it as the README's 'Team sync' section shows, or push it from knoxtui.",
        )
    kind = data.get("type")
    if kind not in SECRET_TYPES:
        _refuse(
            name,
            f"the type '{visible(str(kind))}' is unknown.",
            hint="Use one of: " + ", ".join(SECRET_TYPES) + ".",
            code="unknown_type",
        )
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        _refuse(name, "description must be a string.")
    environments = data.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        _refuse(name, 'it has no "environments" object with at least one value.')
    if len(environments) > MAX_ENVIRONMENTS:
        _refuse(name, f"it has more than {MAX_ENVIRONMENTS} environments.")
    values: dict[str, Any] = {}
    for env, entry in environments.items():
        check_name(env, "environment")
        where = f"environment '{env}'"
        if not isinstance(entry, Mapping):
            _refuse(name, f"the value of {where} is not an object.")
        if kind == "certificate":
            cert, key = entry.get("certificate"), entry.get("private_key")
            passphrase = entry.get("key_passphrase")
            if not isinstance(cert, str) or not cert:
                _refuse(name, f'{where} has no "certificate" (PEM text).')
            if key is not None and not isinstance(key, str):
                _refuse(name, f'{where}: "private_key" must be PEM text.')
            if passphrase is not None and not isinstance(passphrase, str):
                _refuse(name, f'{where}: "key_passphrase" must be a string.')
            extra = sorted(set(entry) - {"certificate", "private_key", "key_passphrase"})
            if extra:
                _refuse(name, f"{where} has unknown field(s): {visible(', '.join(extra))}.")
            values[env] = CertificateValue(
                chain_pem=cert.encode("utf-8"),
                key_pem=key.encode("utf-8") if key else None,
                key_passphrase=passphrase or None,
            )
        elif kind == "string":
            value = entry.get("value")
            if not isinstance(value, str) or not value or set(entry) != {"value"}:
                _refuse(name, f'{where} must be {{"value": "<non-empty text>"}}.')
            values[env] = value
        else:
            try:
                values[env] = OAuth2Config.from_dict(entry)
            except ValidationError as exc:
                raise ValidationError(
                    f"Secret '{name}' upstream, {where}: {exc.message}",
                    hint=exc.hint,
                    code=exc.code,
                ) from None
    return UpstreamSecret(name=name, secret_type=str(kind), description=description, values=values)


def parse_route(name: str, data: Any) -> dict[str, Any]:
    """A route's KV data is its config; the vault checks it as `route add` does."""
    check_name(name, "route")
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"Route '{name}' upstream: its data is not a JSON object.", code="invalid_route"
        )
    return dict(data)
