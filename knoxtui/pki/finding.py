"""Findings: what the PKI core says about an input, with the words of DESIGN.md §3."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from knoxtui.errors import ValidationError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# DESIGN.md §3: an import with any error code is refused; warnings are shown in amber.
ERROR_CODES = frozenset(
    {
        "unsupported_format",
        "corrupt",
        "no_certificate",
        "missing_private_key",
        "key_mismatch",
        "passphrase_required",
        "wrong_passphrase",
        "unsupported_key_encryption",
        "expired",
        "not_yet_valid",
    }
)
WARNING_CODES = frozenset(
    {
        "expiry_warning",
        "expiry_urgent",
        "no_client_auth_eku",
        "chain_incomplete",
        "chain_order",
        "unencrypted_key",
        "weak_key",
        "weak_signature",
        "non_strict_encoding",
    }
)


@dataclass(frozen=True)
class Finding:
    """One problem or remark. `message` names the problem, `hint` the fix; neither ever holds
    key material or a passphrase."""

    code: str
    severity: Severity
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }


def finding(code: str, message: str, hint: str | None = None) -> Finding:
    """A finding whose severity follows from its code (DESIGN.md §3)."""
    if code in ERROR_CODES:
        severity = Severity.ERROR
    elif code in WARNING_CODES:
        severity = Severity.WARNING
    else:
        severity = Severity.INFO
    return Finding(code, severity, message, hint)


class PkiError(ValidationError):
    """A PKI input problem raised (rather than reported) by `load_private_key` and friends.
    `code` is one of the finding codes; `exit_code` is 1."""

    code = "invalid"

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, code=code)

    def to_finding(self) -> Finding:
        return finding(self.code, self.message, self.hint)
