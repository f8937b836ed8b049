"""Helpers shared by command handlers: JSON output, reading files, the vault passphrase."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from knoxtui.errors import InputFileError, UsageError

if TYPE_CHECKING:
    from knoxtui.vault import Vault

PASSPHRASE_ENV = "KNOXTUI_VAULT_PASSPHRASE"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(value: Any) -> None:
    """JSON to stdout (messages go to stderr). A listing prints one item per line (json's C
    encoder: `secret list --json` over thousands of secrets in milliseconds, and greppable);
    anything else is indented (json's indenting encoder is pure Python, fine for one object)."""
    from knoxtui.safetext import json_text

    anchor = sys.modules.get("knoxtui.vault.anchor")
    head = anchor.written_heads() if anchor is not None else None
    if head is not None and isinstance(value, dict) and "audit_head" not in value:
        # After a write: each log's newest (sequence, hash), to keep elsewhere and check later
        # with `knoxtui audit --verify --anchor HASH` (issue 11 item 6).
        value = {**value, "audit_head": head}
    if isinstance(value, list) and value:
        compact = json.JSONEncoder(default=_default, ensure_ascii=False).encode
        text = "[\n  " + ",\n  ".join(compact(item) for item in value) + "\n]"
    else:
        text = json.dumps(value, indent=2, default=_default, ensure_ascii=False)
    sys.stdout.write(json_text(text) + "\n")


MB = 1024 * 1024
# Every input has a size limit, checked before reading (issue 11 item 5): certificates, keys and
# containers a few MB, configs and JSON 1 MB, string values 1 MB, passphrases 64 KiB.
INPUT_LIMITS = {
    "passphrase": 64 * 1024,
    "config": 1 * MB,
    "JSON": 1 * MB,
    "value": 1 * MB,
    "body": 10 * MB,
}
DEFAULT_INPUT_LIMIT = 8 * MB  # certificates, keys, chains, PKCS#12, keystores
MAX_JSON_DEPTH = 32


def input_limit(what: str) -> int:
    for word, limit in INPUT_LIMITS.items():
        if word in what:
            return limit
    return DEFAULT_INPUT_LIMIT


def _size_text(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KiB"


def read_input_file(path: Path, what: str = "file", *, limit: int | None = None) -> bytes:
    """A file's bytes, bounded: devices (/dev/zero) and sockets are refused, a regular file over
    the limit is refused before a byte is read, and a pipe (`<(cmd)`) is read up to the limit."""
    import stat as stat_module

    from knoxtui.safetext import visible

    limit = input_limit(what) if limit is None else limit
    shown = visible(path)
    try:
        info = os.stat(path)
        if stat_module.S_ISDIR(info.st_mode):
            raise InputFileError(f"The {what} '{shown}' is a folder, not a file.")
        if not (stat_module.S_ISREG(info.st_mode) or stat_module.S_ISFIFO(info.st_mode)):
            raise InputFileError(
                f"The {what} '{shown}' is not a regular file (a device or socket).",
                hint="Give the path of a file.",
            )
        if info.st_size > limit:
            raise InputFileError(
                f"The {what} '{shown}' is {_size_text(info.st_size)}; the limit is "
                f"{_size_text(limit)}.",
                hint="Check that this is the right file.",
            )
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(
            f"The {what} '{shown}' does not exist.", hint="Check the path and try again."
        ) from None
    except IsADirectoryError:
        raise InputFileError(f"The {what} '{shown}' is a folder, not a file.") from None
    except OSError as exc:
        raise InputFileError(f"Cannot read the {what} '{shown}': {exc.strerror}.") from None
    if len(data) > limit:
        raise InputFileError(
            f"The {what} '{shown}' is longer than {_size_text(limit)}, the limit.",
            hint="Check that this is the right file.",
        )
    return data


def parse_json(raw: bytes | str) -> Any:
    """JSON with a depth limit (knoxtui.limits): deep nesting is a JSONDecodeError."""
    from knoxtui.limits import parse_json as parse

    return parse(raw, max_depth=MAX_JSON_DEPTH)


MAX_STDIN_SECRET_BYTES = 64 * 1024  # a passphrase, never a file's worth


def reads_stdin(path: Path | None) -> bool:
    return path is not None and str(path) == "-"


def check_stdin_options(args: argparse.Namespace) -> None:
    """Only one option may read stdin (`-`): two could not tell which line is whose."""
    taking = [
        "--" + name.replace("_", "-")
        for name, value in sorted(vars(args).items())
        if name.endswith("_file") and isinstance(value, Path) and reads_stdin(value)
    ]
    if len(taking) > 1:
        raise UsageError(
            f"Only one option can read stdin ('-'); {', '.join(taking)} all ask for it.",
            hint="Give the others as files, or leave a passphrase out to be asked for it.",
        )


def _read_stdin_secret(what: str) -> str:
    if stdin_is_interactive():
        # A line typed at a terminal would be echoed: ask without echo instead.
        return getpass.getpass(f"{what[:1].upper()}{what[1:].removesuffix(' file')}: ")
    raw = sys.stdin.buffer.read(MAX_STDIN_SECRET_BYTES + 1)
    if len(raw) > MAX_STDIN_SECRET_BYTES:
        raise InputFileError(
            f"The {what} on stdin is longer than {MAX_STDIN_SECRET_BYTES // 1024} KiB; "
            "a passphrase is one line.",
            hint="Send only the passphrase, e.g. printf '%s\\n' \"$PASS\" | knoxtui ...",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"The {what} on stdin is not UTF-8 text.") from None
    return text.splitlines()[0] if text.splitlines() else ""


def read_secret_file(path: Path, what: str = "passphrase file") -> str:
    """A passphrase from a file: the first line, without its line ending. `-` reads stdin (and
    asks without echo when stdin is a terminal)."""
    if reads_stdin(path):
        return _read_stdin_secret(what)
    raw = read_input_file(path, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"The {what} '{path}' is not UTF-8 text.") from None
    return text.splitlines()[0] if text.splitlines() else ""


def stdin_is_interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


PASSPHRASE_ATTEMPTS = 3
_NEEDS_PASSPHRASE = "passphrase_required"
_WRONG_PASSPHRASE = "wrong_passphrase"


class _Loaded(Protocol):
    def has_finding(self, code: str) -> bool: ...


_B = TypeVar("_B", bound=_Loaded)


def load_asking_passphrase(
    load: Callable[[str | None], _B], given: str | None, label: str
) -> tuple[_B, str | None]:
    """Load a certificate/key container; when it turns out to need a passphrase that was not
    given and stdin is a terminal, ask for it without echo (a few tries when it is wrong).
    Returns what was loaded and the passphrase that opened it (None when none was used)."""
    loaded = load(given)
    if given is not None or not loaded.has_finding(_NEEDS_PASSPHRASE):
        return loaded, given
    if not stdin_is_interactive():
        return loaded, None
    passphrase: str | None = None
    for attempt in range(1, PASSPHRASE_ATTEMPTS + 1):
        passphrase = getpass.getpass(f"{label}: ")
        loaded = load(passphrase)
        if not loaded.has_finding(_WRONG_PASSPHRASE):
            break
        if attempt < PASSPHRASE_ATTEMPTS:
            print("That passphrase does not open it; try again.", file=sys.stderr)
    return loaded, passphrase


def prompt_new_passphrase(label: str = "New vault passphrase") -> str:
    """Ask twice, without echo."""
    if not stdin_is_interactive():
        raise UsageError(
            f"{label} is needed but there is no terminal to ask on.",
            hint="Give it with a passphrase file option or the environment variable.",
        )
    first = getpass.getpass(f"{label}: ")
    if not first:
        raise UsageError("An empty passphrase is not allowed.")
    second = getpass.getpass(f"{label} (again): ")
    if first != second:
        raise UsageError("The two passphrases differ; nothing was changed.")
    return first


def vault_passphrase(args: argparse.Namespace, *, creating: bool = False) -> str:
    """The vault passphrase: a prompt when interactive, else --vault-passphrase-file, else the
    environment (DESIGN.md §4). A file given explicitly wins over the prompt."""
    file = getattr(args, "vault_passphrase_file", None)
    if file is not None:
        return read_secret_file(file, "vault passphrase file")
    env = os.environ.get(PASSPHRASE_ENV)
    if stdin_is_interactive():
        if creating:
            return prompt_new_passphrase("New vault passphrase")
        return getpass.getpass("Vault passphrase: ")
    if env:
        return env
    raise UsageError(
        "The vault passphrase is needed but there is no terminal to ask on.",
        hint=f"Use --vault-passphrase-file F or set {PASSPHRASE_ENV}.",
    )


def vault_path(args: argparse.Namespace) -> Path:
    from knoxtui import paths

    given = getattr(args, "vault", None)
    return Path(given) if given is not None else paths.default_vault_path()


def open_vault(args: argparse.Namespace, *, create: bool = False, use_agent: bool = True) -> Vault:
    """Open the vault named by the arguments; with `create`, make it when it does not exist.

    The vault's agent is asked first: its raw key opens the vault without a key derivation. A key
    that does not open it (stale after a passphrase change elsewhere) is never used to write: the
    open reads page 1 first, fails, the agent is told to lock, and the passphrase is asked for."""
    from knoxtui.vault import Vault

    path = vault_path(args)
    if not path.exists():
        if not create:
            raise UsageError(
                f"There is no vault at '{path}'.",
                hint="Add a secret to create one (knoxtui secret add ...), or pass --vault PATH.",
            )
        return Vault.create(path, vault_passphrase(args, creating=True))
    if use_agent:
        opened = open_with_agent(path)
        if opened is not None:
            warn_anchor(opened)
            return opened
    vault = Vault.open(path, vault_passphrase(args))
    warn_anchor(vault)
    return vault


def warn_anchor(vault: Vault) -> None:
    """Every open checks the audit log against its anchor; a mismatch is said on every command."""
    from knoxtui.safetext import visible

    for problem in vault.anchor_problems:
        print(f"knoxtui: warning: audit log: {visible(problem)}", file=sys.stderr)
    if vault.anchor_problems:
        print(
            "  hint: the audit log was changed outside knoxtui; see knoxtui audit --verify.",
            file=sys.stderr,
        )


def open_with_agent(path: Path) -> Vault | None:
    """The vault opened with its agent's key; None when no agent holds a key that opens it."""
    from knoxtui.agent import client

    try:
        key = client.fetch_key(path)
    except UsageError as exc:  # a foreign or broken socket: say so, then ask as without agent
        from knoxtui.safetext import visible

        print(f"knoxtui: {visible(exc.message, multiline=True)}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {visible(exc.hint, multiline=True)}", file=sys.stderr)
        return None
    if key is None:
        return None
    from knoxtui.errors import WrongVaultPassphrase
    from knoxtui.vault import Vault
    from knoxtui.vault.connection import RawKey

    raw = RawKey(key)
    key[:] = bytes(len(key))
    try:
        return Vault.open(path, raw)
    except WrongVaultPassphrase:
        client.lock(path, "stale_key")
        print(
            "knoxtui: the agent's key no longer opens this vault (was its passphrase changed?); "
            "the agent was locked.",
            file=sys.stderr,
        )
        return None
