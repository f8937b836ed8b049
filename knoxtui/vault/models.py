"""The value objects of the vault: what `Vault` returns. Metadata only, except `CertificateValue`,
`OAuth2Config` and strings, which `Vault.resolve` hands out in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from knoxtui import refs
from knoxtui.errors import ValidationError
from knoxtui.vault import cabundle
from knoxtui.vault.cabundle import CABundleMetadata

if TYPE_CHECKING:
    from knoxtui.pki import ExpiryStatus, ExpiryThresholds

DEFAULT_ENV = "default"
SECRET_TYPES = ("certificate", "string", "oauth2")
OAUTH2_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "tls_client_auth")
MAX_NAME_LENGTH = 128


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, the one time format of the vault and its JSON."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def default_thresholds() -> ExpiryThresholds:
    """The expiry thresholds of the user's config.toml."""
    from knoxtui import config
    from knoxtui.pki import ExpiryThresholds

    loaded = config.load()
    return ExpiryThresholds(warning_days=loaded.warning_days, urgent_days=loaded.urgent_days)


def _name_fault(name: object) -> str:
    """What is wrong with a name, without repeating it: a value pasted into a name field by
    mistake (an API key, a passphrase) must not come back in an error (issue 11 item 11)."""
    if not isinstance(name, str) or not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long"
    if not refs.SECRET_NAME.fullmatch(name[0]):
        return "it does not start with a lowercase letter or digit"
    for index, char in enumerate(name):
        if not refs.SECRET_NAME.fullmatch("a" + char):
            kind = "an uppercase letter" if char.isupper() else "a character"
            return f"{kind} at position {index + 1} is not allowed"
    return "it is not allowed"


def shown_name(name: object) -> str:
    """`'name'` for a message, or a description when it is no valid name at all: what was typed
    there may be a value pasted by mistake, and is not repeated."""
    if isinstance(name, str) and refs.is_valid_name(name) and len(name) <= MAX_NAME_LENGTH:
        return f"'{name}'"
    return f"like that ({_name_fault(name)}, so it is no valid name)"


def check_name(name: object, what: str = "secret") -> str:
    if not isinstance(name, str) or not refs.is_valid_name(name) or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"That is not a valid {what} name: {_name_fault(name)}.",
            hint="Use lowercase letters, digits, '_', '.' and '-', starting with a letter or digit "
            f"(at most {MAX_NAME_LENGTH} characters).",
            code="invalid_name",
        )
    return name


@dataclass(frozen=True)
class CertificateValue:
    """A decrypted certificate secret value (in memory only)."""

    chain_pem: bytes
    key_pem: bytes | None = field(default=None, repr=False)
    key_passphrase: str | None = field(default=None, repr=False)

    def plain_key_pem(self) -> bytes | None:
        """The private key as unencrypted PKCS#8 PEM, decrypted with the stored key passphrase."""
        if self.key_pem is None:
            return None
        from cryptography.hazmat.primitives import serialization

        from knoxtui.pki import load_private_key

        key = load_private_key(self.key_pem, self.key_passphrase)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"The oauth2 field '{key}' must be a string.", code="invalid_oauth2")
    return value


@dataclass(frozen=True)
class OAuth2Config:
    """OAuth2 client credentials (RFC 6749 §4.4; tls_client_auth per RFC 8705)."""

    token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    audience: str | None = None
    auth_method: str = "client_secret_basic"
    certificate_secret_id: str | None = None
    ca_bundle_secret_id: str | None = None

    FIELDS = (
        "token_url",
        "client_id",
        "client_secret",
        "scope",
        "audience",
        "auth_method",
        "certificate_secret_id",
        "ca_bundle_secret_id",
    )

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        bad = "invalid_oauth2"
        try:
            parts = urlsplit(self.token_url or "")
        except ValueError:  # https://[::1/ and friends: not a URL
            parts = urlsplit("")
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationError(
                "The oauth2 token_url must be an absolute https:// URL.",
                hint='For example "https://auth.bank.example/oauth2/token".',
                code=bad,
            )
        if parts.scheme == "http" and not local:
            raise ValidationError(
                "The oauth2 token_url uses plain http; credentials would travel unencrypted.",
                hint="Use the https:// URL of the token endpoint.",
                code=bad,
            )
        if not self.client_id:
            raise ValidationError("The oauth2 config needs a client_id.", code=bad)
        if self.auth_method not in OAUTH2_AUTH_METHODS:
            raise ValidationError(
                f"Unknown oauth2 auth_method '{self.auth_method}'.",
                hint="Use one of: " + ", ".join(OAUTH2_AUTH_METHODS) + ".",
                code=bad,
            )
        if self.auth_method != "tls_client_auth" and not self.client_secret:
            raise ValidationError(
                f"The oauth2 auth_method '{self.auth_method}' needs a client_secret.",
                hint="Add client_secret, or use auth_method tls_client_auth (RFC 8705) "
                "to authenticate with the client certificate.",
                code=bad,
            )
        for key in ("certificate_secret_id", "ca_bundle_secret_id"):
            value = getattr(self, key)
            if value is not None:
                check_name(refs.field_name(value), f"{key} secret")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuth2Config:
        if not isinstance(data, Mapping):
            raise ValidationError("The oauth2 config must be a JSON object.", code="invalid_oauth2")
        unknown = sorted(set(data) - set(cls.FIELDS))
        if unknown:
            raise ValidationError(
                "Unknown oauth2 field(s): " + ", ".join(unknown) + ".",
                hint="Known fields: " + ", ".join(cls.FIELDS) + ".",
                code="invalid_oauth2",
            )
        for key in ("token_url", "client_id"):
            if not isinstance(data.get(key), str) or not data.get(key):
                raise ValidationError(
                    f"The oauth2 config needs '{key}' (a string).", code="invalid_oauth2"
                )
        return cls(
            token_url=data["token_url"],
            client_id=data["client_id"],
            client_secret=_optional_str(data, "client_secret"),
            scope=_optional_str(data, "scope"),
            audience=_optional_str(data, "audience"),
            auth_method=_optional_str(data, "auth_method") or "client_secret_basic",
            certificate_secret_id=_optional_str(data, "certificate_secret_id"),
            ca_bundle_secret_id=_optional_str(data, "ca_bundle_secret_id"),
        )

    def to_dict(self, *, include_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {key: getattr(self, key) for key in self.FIELDS}
        if not include_secret:
            out.pop("client_secret")
            out["has_client_secret"] = self.client_secret is not None
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(include_secret=True), sort_keys=True)

    def references(self) -> list[str]:
        return [n for n in (self.certificate_secret_id, self.ca_bundle_secret_id) if n]


@dataclass(frozen=True)
class CertificateMetadata:
    """Stored in clear columns inside the encrypted database, so listing needs no blob."""

    subject: str
    subject_cn: str | None
    issuer: str
    issuer_cn: str | None
    serial: str
    valid_from: datetime
    valid_until: datetime
    fingerprint_sha256: str
    key_type: str | None
    key_size: int | None
    san: tuple[str, ...]
    client_auth_eku: bool
    has_private_key: bool
    has_passphrase: bool
    encrypted_key: bool
    chain_issuers: tuple[str, ...]
    psd2_roles: tuple[str, ...]
    organization_identifier: str | None
    warnings: tuple[str, ...]
    allowed_expired: bool

    def days_remaining(self, now: datetime) -> int:
        from knoxtui.pki import days_remaining

        return days_remaining(self.valid_until, now)

    def status(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> ExpiryStatus:
        from knoxtui.pki import ExpiryThresholds, expiry_status

        return expiry_status(
            self.valid_from, self.valid_until, now, thresholds or ExpiryThresholds()
        )

    def to_dict(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "subject_cn": self.subject_cn,
            "issuer": self.issuer,
            "issuer_cn": self.issuer_cn,
            "serial": self.serial,
            "valid_from": iso(self.valid_from),
            "valid_until": iso(self.valid_until),
            "days_remaining": self.days_remaining(now),
            "status": str(self.status(now, thresholds)),
            "has_private_key": self.has_private_key,
            "has_passphrase": self.has_passphrase,
            "encrypted_key": self.encrypted_key,
            "fingerprint_sha256": self.fingerprint_sha256,
            "key_type": self.key_type,
            "key_size": self.key_size,
            "san": list(self.san),
            "client_auth_eku": self.client_auth_eku,
            "chain_issuers": list(self.chain_issuers),
            "psd2_roles": list(self.psd2_roles),
            "organization_identifier": self.organization_identifier,
            "warnings": list(self.warnings),
            "allowed_expired": self.allowed_expired,
        }


@dataclass(frozen=True)
class ValueInfo:
    """One environment value of a secret, metadata only."""

    environment: str
    created_at: datetime
    updated_at: datetime
    certificate: CertificateMetadata | None
    # Non-secret facts of string/oauth2 values (token_url, auth_method, PEM certificate count).
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ca_bundle(self) -> CABundleMetadata | None:
        """The certificates of a string value that is a CA bundle (from `details`, no parsing),
        decoded once per object (functools.cached_property takes a lock on every read)."""
        cache = self.__dict__
        if "_ca_bundle" not in cache:
            cache["_ca_bundle"] = (
                None
                if self.certificate is not None or not self.details
                else cabundle.from_details(self.details)
            )
        found: CABundleMetadata | None = cache["_ca_bundle"]
        return found

    def to_metadata_dict(
        self, now: datetime, thresholds: ExpiryThresholds | None = None
    ) -> dict[str, Any]:
        if self.certificate is not None:
            return self.certificate.to_dict(now, thresholds)
        bundle = self.ca_bundle
        if bundle is not None:
            return {**self.details, **bundle.to_dict(now, thresholds)}
        return dict(self.details)


@dataclass(frozen=True)
class SecretInfo:
    id: str
    name: str
    secret_type: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    values: tuple[ValueInfo, ...]
    status: str | None = None

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(value.environment for value in self.values)

    def value(self, environment: str) -> ValueInfo | None:
        for value in self.values:
            if value.environment == environment:
                return value
        return None

    def to_dict(self, now: datetime, thresholds: ExpiryThresholds | None = None) -> dict[str, Any]:
        """`secret show --json`: the KnoxCall GET /admin/secrets/{id} shape, metadata only."""
        environments = [
            {
                "environment_name": value.environment,
                "created_at": iso(value.created_at),
                "updated_at": iso(value.updated_at),
                "metadata": value.to_metadata_dict(now, thresholds),
            }
            for value in self.values
        ]
        default = self.value(DEFAULT_ENV)
        return {
            "id": self.id,
            "name": self.name,
            "secret_type": self.secret_type,
            "description": self.description,
            "status": self.status,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "metadata": default.to_metadata_dict(now, thresholds) if default else None,
            "environments": environments,
        }


@dataclass(frozen=True)
class RouteRecord:
    id: str
    name: str
    config: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def references(self) -> list[str]:
        return route_references(self.config)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "secret_references": self.references,
            **dict(self.config),
        }


ROUTE_SECRET_FIELDS = ("certificate_secret_id", "oauth2_secret_id", "ca_bundle_secret_id")


def _field_names(value: Any) -> list[str]:
    """The plain secret names held in *_secret_id fields, at any depth (per-environment blocks)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ROUTE_SECRET_FIELDS and isinstance(item, str) and item:
                if not refs.SECRET_REF.search(item):
                    found.append(item)
            else:
                found.extend(_field_names(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_field_names(item))
    return found


def route_references(config: Any) -> list[str]:
    """Every secret a route names: {{secret:NAME}} anywhere plus the *_secret_id fields."""
    seen: dict[str, None] = {}
    for name in _field_names(config) + refs.references(config):
        seen.setdefault(name, None)
    return list(seen)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    operation: str
    secret_id: str | None
    secret_name: str | None
    secret_type: str | None
    environment_name: str | None
    performed_by: str
    performed_at: datetime
    ip_address: str | None
    host: str | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "secret_id": self.secret_id,
            "secret_name": self.secret_name,
            "secret_type": self.secret_type,
            "environment_name": self.environment_name,
            "performed_by": self.performed_by,
            "performed_at": iso(self.performed_at),
            "ip_address": self.ip_address,
            "host": self.host,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RequestLogEntry:
    id: int
    route_id: str | None
    route_name: str
    environment_name: str
    certificate_secret_id: str | None
    certificate_secret_name: str | None
    certificate_used: bool
    certificate_fingerprint: str | None
    method: str | None
    url: str | None
    status_code: int | None
    outcome: str
    duration_ms: float | None
    accessed_at: datetime
    client_ip: str | None
    performed_by: str | None
    host: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route_id": self.route_id,
            "route_name": self.route_name,
            "environment_name": self.environment_name,
            "certificate_secret_id": self.certificate_secret_id,
            "certificate_secret_name": self.certificate_secret_name,
            "certificate_used": self.certificate_used,
            "certificate_fingerprint": self.certificate_fingerprint,
            "method": self.method,
            "url": self.url,
            "status_code": self.status_code,
            "outcome": self.outcome,
            "duration_ms": self.duration_ms,
            "accessed_at": iso(self.accessed_at),
            "client_ip": self.client_ip,
            "performed_by": self.performed_by,
            "host": self.host,
        }


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    checked: int
    problems: list[str]
    # Each log's newest {"sequence", "hash"} (keep it elsewhere; check with --anchor HASH).
    head: dict[str, Any] | None = None
    anchored: bool = False  # an anchor file for this vault existed on this machine

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "checked": self.checked,
            "problems": list(self.problems),
        }
        if self.head is not None:
            out["head"] = self.head
            out["anchored"] = self.anchored
        return out
