"""Import of KnoxCall API bodies: `POST /admin/secrets` (name, secret_type, certificate_pem,
private_key_pem, passphrase, ...) and the environment-specific `PUT` (the value fields only,
with the environment given by the caller). A file may hold one body or a list of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from knoxtui.errors import Conflict, ValidationError
from knoxtui.vault.models import DEFAULT_ENV, OAuth2Config, SecretInfo

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault

# KnoxCall's type words for text secrets all become knoxtui "string" secrets.
TYPE_ALIASES = {
    "certificate": "certificate",
    "string": "string",
    "api_key": "string",
    "text": "string",
    "token": "string",
    "oauth2": "oauth2",
}
_VALUE_KEYS = ("certificate_pem", "private_key_pem", "passphrase", "value", "oauth2", "config")


@dataclass(frozen=True)
class ImportItem:
    """One body, read and checked, ready to store."""

    position: int
    name: str
    secret_type: str
    environment: str
    description: str | None
    certificate_pem: bytes | None = field(default=None, repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    value: str | None = field(default=None, repr=False)
    oauth2: OAuth2Config | None = field(default=None, repr=False)


def _text(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{where}: '{key}' must be a string.", code="invalid_import")
    return value


def parse_bodies(
    data: Any, *, environment: str | None = None, name: str | None = None
) -> list[ImportItem]:
    """Every body in `data` as an ImportItem; the first bad one raises, naming its position."""
    bodies = data if isinstance(data, list) else [data]
    if not bodies:
        raise ValidationError("The file holds an empty list; nothing to import.")
    if name is not None and len(bodies) > 1:
        raise ValidationError("--name works with a file holding one body, not a list.")
    items = []
    for position, body in enumerate(bodies, start=1):
        where = f"body {position}" if len(bodies) > 1 else "the body"
        if not isinstance(body, Mapping):
            raise ValidationError(f"{where} is not a JSON object.", code="invalid_import")
        secret_name = name or _text(body, "name", where)
        if not secret_name:
            raise ValidationError(
                f"{where} has no 'name'.",
                hint="An environment PUT body has none: give it with --name NAME.",
                code="invalid_import",
            )
        raw_type = _text(body, "secret_type", where) or _text(body, "type", where)
        if raw_type is None:
            raw_type = (
                "certificate"
                if body.get("certificate_pem")
                else "oauth2"
                if body.get("oauth2") or body.get("token_url")
                else "string"
                if body.get("value")
                else None
            )
        secret_type = TYPE_ALIASES.get(raw_type or "")
        if secret_type is None:
            raise ValidationError(
                f"{where}: unknown secret_type '{raw_type}'.",
                hint="Use certificate, string (api_key) or oauth2.",
                code="invalid_import",
            )
        env = (
            environment
            or _text(body, "environment_name", where)
            or (_text(body, "environment", where) or DEFAULT_ENV)
        )
        common: dict[str, Any] = {
            "position": position,
            "name": secret_name,
            "secret_type": secret_type,
            "environment": env,
            "description": _text(body, "description", where),
        }
        if secret_type == "certificate":
            cert = _text(body, "certificate_pem", where)
            if cert is None:
                raise ValidationError(
                    f"{where} ('{secret_name}') has no certificate_pem.", code="invalid_import"
                )
            key = _text(body, "private_key_pem", where)
            items.append(
                ImportItem(
                    **common,
                    certificate_pem=cert.encode("utf-8"),
                    private_key_pem=key.encode("utf-8") if key else None,
                    passphrase=_text(body, "passphrase", where),
                )
            )
        elif secret_type == "string":
            value = _text(body, "value", where)
            if value is None:
                raise ValidationError(
                    f"{where} ('{secret_name}') has no value.", code="invalid_import"
                )
            items.append(ImportItem(**common, value=value))
        else:
            block = body.get("oauth2") or body.get("config")
            if block is None:
                block = {k: v for k, v in body.items() if k in OAuth2Config.FIELDS}
            try:
                config = OAuth2Config.from_dict(block)
            except ValidationError as exc:
                raise ValidationError(
                    f"{where} ('{secret_name}'): {exc.message}", hint=exc.hint, code=exc.code
                ) from None
            items.append(ImportItem(**common, oauth2=config))
    return items


def import_items(
    vault: Vault,
    items: list[ImportItem],
    *,
    allow_expired: bool = False,
    replace: bool = False,
) -> list[SecretInfo]:
    """Check every certificate with knoxtui.pki first, then store all in one transaction:
    either every body is stored or none is."""
    from knoxtui.pki import load_bundle

    bundles = {}
    for item in items:
        if item.secret_type == "certificate":
            assert item.certificate_pem is not None
            bundles[item.position] = load_bundle(
                item.certificate_pem,
                key_data=item.private_key_pem,
                passphrase=item.passphrase,
                source=f"{item.name} (body {item.position})",
                require_key=True,
            )
    stored = []
    with vault.batch():
        for item in items:
            try:
                if item.secret_type == "certificate":
                    info = vault.add_certificate(
                        item.name,
                        bundles[item.position],
                        environment=item.environment,
                        description=item.description,
                        key_passphrase=item.passphrase,
                        allow_expired=allow_expired,
                        replace=replace,
                    )
                elif item.secret_type == "string":
                    assert item.value is not None
                    info = vault.add_string(
                        item.name,
                        item.value,
                        environment=item.environment,
                        description=item.description,
                        replace=replace,
                    )
                else:
                    assert item.oauth2 is not None
                    info = vault.add_oauth2(
                        item.name,
                        item.oauth2,
                        environment=item.environment,
                        description=item.description,
                        replace=replace,
                    )
            except (ValidationError, Conflict) as exc:
                label = f"body {item.position} ('{item.name}')" if len(items) > 1 else item.name
                raise type(exc)(
                    f"{label}: {exc.message} Nothing was imported.", hint=exc.hint, code=exc.code
                ) from None
            stored.append(info)
    return stored
