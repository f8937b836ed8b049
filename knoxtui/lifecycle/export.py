"""Exporting a stored certificate and key to a file (PKCS#12 or PEM), audited as `export`.

The file is created 0600 under a temporary name beside the target and renamed into place, so
no other user can read it at any moment and a failed write leaves no half-written key behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knoxtui.errors import InputFileError, UsageError, ValidationError
from knoxtui.pki.export import EXPORT_FORMATS, export_certificate

if TYPE_CHECKING:
    from knoxtui.vault import SecretInfo, Vault

DEFAULT_ENV = "default"


@dataclass(frozen=True)
class ExportResult:
    secret: str
    environment: str
    path: Path
    export_format: str
    legacy: bool
    has_private_key: bool
    key_encrypted: bool | None  # None when there is no key in the file
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "environment": self.environment,
            "path": str(self.path),
            "format": self.export_format,
            "legacy": self.legacy,
            "has_private_key": self.has_private_key,
            "key_encrypted": self.key_encrypted,
            "size": self.size,
        }


def choose_environment(secret: SecretInfo, environment: str | None) -> str:
    """The environment value to export: the one asked for, else the only one there is."""
    have = secret.environments
    if environment is not None:
        if environment in have:
            return environment
        if have == (DEFAULT_ENV,):
            return DEFAULT_ENV  # a default-only secret serves every environment
        raise ValidationError(
            f"Secret '{secret.name}' has no value for environment '{environment}' "
            f"(it has: {', '.join(have) or 'none'}).",
            hint=f"Pick one with --env ({', '.join(have)}).",
            code="environment_missing",
        )
    if len(have) == 1:
        return have[0]
    raise UsageError(
        f"Secret '{secret.name}' has values for several environments ({', '.join(have)}).",
        hint="Say which one to export with --env E.",
    )


def check_target(path: Path, *, overwrite: bool) -> Path:
    """Fail before anything is decrypted or audited when the file cannot be written."""
    target = Path(path).expanduser()
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(
            f"The folder '{parent}' does not exist.",
            hint="Create it first, or choose another --out.",
        )
    if target.is_dir():
        raise InputFileError(f"'{target}' is a folder; give a file name with --out.")
    if target.exists() and not overwrite:
        raise UsageError(
            f"'{target}' already exists; it was left alone.",
            hint="Choose another file, or replace it from the command line (--out with --force).",
        )
    return target


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write `data` to `path` with mode 0600, atomically."""
    write_file_atomically(path, data, mode=0o600, overwrite=overwrite)


def write_file_atomically(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """`data` to a scratch file beside `path` (O_EXCL|O_NOFOLLOW, `mode`), then renamed over it:
    a symlink planted at `path` is replaced, never followed, and no half-written file is left."""
    target = check_target(path, overwrite=overwrite)
    scratch = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(scratch, flags, mode)
    except OSError as exc:
        raise InputFileError(f"Cannot create '{target}': {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            with contextlib.suppress(OSError):
                os.fchmod(handle.fileno(), mode)  # the umask can only remove bits; be explicit
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(scratch, target)
        else:
            # link() refuses to replace a file that appeared meanwhile
            os.link(scratch, target)
            scratch.unlink()
    except FileExistsError:
        scratch.unlink(missing_ok=True)
        raise UsageError(f"'{target}' appeared while exporting; it was left alone.") from None
    except OSError as exc:
        scratch.unlink(missing_ok=True)
        raise InputFileError(f"Cannot write '{target}': {exc.strerror}.") from None


@dataclass(frozen=True)
class ExportPlan:
    """What an export will write, known before anything is decrypted or audited."""

    secret: str
    environment: str
    path: Path
    has_private_key: bool  # so the caller asks for an export passphrase only when needed


def plan_export(
    vault: Vault,
    name: str,
    out: Path,
    *,
    export_format: str,
    environment: str | None = None,
    legacy: bool = False,
    overwrite: bool = False,
) -> ExportPlan:
    if export_format not in EXPORT_FORMATS:
        raise UsageError(
            f"Unknown export format '{export_format}'.",
            hint=f"Use one of: {', '.join(EXPORT_FORMATS)}.",
        )
    if legacy and export_format != "pkcs12":
        raise UsageError("--legacy applies to --format pkcs12 only.")
    secret = vault.get_secret(name)
    if secret.secret_type != "certificate":
        raise ValidationError(
            f"Secret '{name}' is a {secret.secret_type} secret; only certificates can be exported.",
            hint="Reveal string and oauth2 secrets in the TUI instead.",
            code="wrong_secret_type",
        )
    env = choose_environment(secret, environment)
    target = check_target(out, overwrite=overwrite)
    meta = secret.value(env)
    has_key = bool(meta and meta.certificate and meta.certificate.has_private_key)
    return ExportPlan(secret=name, environment=env, path=target, has_private_key=has_key)


def export_secret(
    vault: Vault,
    name: str,
    out: Path,
    *,
    export_format: str,
    passphrase: str | None,
    environment: str | None = None,
    legacy: bool = False,
    allow_plaintext_key: bool = False,
    overwrite: bool = False,
) -> ExportResult:
    """Write certificate secret `name` to `out`. Refuses an unencrypted key unless allowed."""
    if passphrase is not None and passphrase == "" and not allow_plaintext_key:
        raise UsageError("An empty export passphrase is not allowed.")
    plan = plan_export(
        vault,
        name,
        out,
        export_format=export_format,
        environment=environment,
        legacy=legacy,
        overwrite=overwrite,
    )
    env, target, has_key = plan.environment, plan.path, plan.has_private_key
    if has_key and not passphrase and not allow_plaintext_key:
        raise ValidationError(
            "Refusing to write the private key without an export passphrase.",
            hint="Give --export-passphrase-file P (or answer the prompt), or pass "
            "--insecure-plaintext-key to write it unencrypted.",
            code="plaintext_key_refused",
        )
    from knoxtui.pki import load_private_key
    from knoxtui.vault import CertificateValue

    kind = "pkcs12 (legacy 3DES)" if legacy else export_format
    if not has_key:
        protection = "no private key"
    elif passphrase:
        protection = "key encrypted"
    else:
        protection = "KEY UNENCRYPTED (--insecure-plaintext-key)"
    # The auditor sees what left the vault, where to, and whether the key was protected. The
    # export row commits only once the file is written (one transaction); a failed export
    # leaves no file and says so in the log (issue 11 item 11).
    written = False
    try:
        with vault.batch():
            value = vault.resolve(
                name, env, purpose="export", detail=f"{kind} to '{target}'; {protection}"
            )
            if not isinstance(value, CertificateValue):
                raise ValidationError(
                    f"Secret '{name}' holds no certificate.", code="no_certificate"
                )
            key = (
                load_private_key(value.key_pem, value.key_passphrase)
                if value.key_pem is not None
                else None
            )
            data = export_certificate(
                export_format,
                value.chain_pem,
                key,
                passphrase or None,
                friendly_name=name,
                legacy=legacy,
                allow_plaintext_key=allow_plaintext_key,
            )
            write_private_file(target, data, overwrite=overwrite)
            written = True
    except BaseException as exc:
        if written:  # the log row did not commit: no unlogged export is left behind
            target.unlink(missing_ok=True)
        with contextlib.suppress(Exception), vault.transaction():
            vault.trail.record(
                "export_failed",
                secret_name=name,
                environment=env,
                detail=f"{kind} to '{target}' failed ({type(exc).__name__}); nothing written",
            )
        raise
    return ExportResult(
        secret=name,
        environment=env,
        path=target,
        export_format=export_format,
        legacy=legacy,
        has_private_key=key is not None,
        key_encrypted=None if key is None else bool(passphrase),
        size=len(data),
    )
