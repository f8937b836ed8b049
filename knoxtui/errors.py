"""The one exception family of knoxtui.

Every error a user can cause is a `KnoxError` with a message they can act on, an optional hint
(the fix), a machine-readable `code` (the finding/diagnosis words of DESIGN.md) and the exit code
the command line uses for it. Messages never contain secret values.
"""

from __future__ import annotations


class KnoxError(Exception):
    """Base class: a problem the user can fix. `exit_code` follows DESIGN.md §4."""

    code: str = "error"
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(KnoxError):
    """Bad command-line usage or environment: exit 2."""

    code = "usage"
    exit_code = 2


class InputFileError(UsageError):
    """A file named on the command line is missing or unreadable."""

    code = "file_error"


class ValidationError(KnoxError):
    """Input was read but is not acceptable (an error finding): exit 1."""

    code = "invalid"
    exit_code = 1


class VaultError(KnoxError):
    """Vault environment problems (locked, wrong passphrase, busy, not a vault): exit 2."""

    code = "vault_error"
    exit_code = 2


class WrongVaultPassphrase(VaultError):
    code = "wrong_vault_passphrase"


class VaultBusy(VaultError):
    code = "vault_busy"


class NotAVault(VaultError):
    code = "not_a_vault"


class NotFound(KnoxError):
    """A named secret, environment value or route does not exist: exit 1."""

    code = "not_found"
    exit_code = 1


class Conflict(KnoxError):
    """The operation would break something (name taken, secret in use by a route): exit 1."""

    code = "conflict"
    exit_code = 1


class EnvironmentMissing(KnoxError):
    """A secret has environment values but not the one asked for: never a silent fallback."""

    code = "environment_missing"
    exit_code = 1

    def __init__(self, secret: str, environment: str, available: list[str]) -> None:
        have = ", ".join(sorted(available)) or "none"
        super().__init__(
            f"Secret '{secret}' has no value for environment '{environment}' (it has: {have}).",
            hint=f"Add one with: knoxtui secret add {secret} ... --env {environment}",
        )
        self.secret = secret
        self.environment = environment
        self.available = sorted(available)
