"""The encrypted vault (SQLCipher): secrets with per-environment values, routes, and the
hash-chained audit and request logs. The only package that imports the SQLCipher driver."""

from __future__ import annotations

from knoxtui.vault.changes import ItemChange
from knoxtui.vault.models import (
    DEFAULT_ENV,
    SECRET_TYPES,
    AuditEntry,
    AuditVerification,
    CertificateMetadata,
    CertificateValue,
    OAuth2Config,
    RequestLogEntry,
    RouteRecord,
    SecretInfo,
    ValueInfo,
)
from knoxtui.vault.pending import PendingKey
from knoxtui.vault.vault import Vault

__all__ = [
    "DEFAULT_ENV",
    "SECRET_TYPES",
    "AuditEntry",
    "AuditVerification",
    "CertificateMetadata",
    "CertificateValue",
    "ItemChange",
    "OAuth2Config",
    "PendingKey",
    "RequestLogEntry",
    "RouteRecord",
    "SecretInfo",
    "ValueInfo",
    "Vault",
]
