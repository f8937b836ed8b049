"""Opening, creating and keying the SQLCipher file, and turning driver errors into KnoxErrors.

A wrong passphrase must change no byte: the first thing a connection does after keying is to
decrypt page 1, which fails before SQLite writes anything. The one case where SQLite would write
first (replaying a hot journal left by a crashed writer) is checked on a read-only connection,
or on a private copy, before the real file is opened for writing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlcipher3

from knoxtui import paths
from knoxtui.errors import NotAVault, UsageError, VaultBusy, VaultError, WrongVaultPassphrase

# SQLCipher 4's own PBKDF2 default. Tests pass a cheap `kdf_iter` explicitly (or lower
# DEFAULT_KDF_ITER in-process); the product always uses SQLCipher's default.
SQLCIPHER_KDF_ITER = 256_000
DEFAULT_KDF_ITER = SQLCIPHER_KDF_ITER
BUSY_TIMEOUT_MS = 5_000
SQLITE_HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-journal", "-wal", "-shm")

SALT_SIZE = 16  # SQLCipher 4 keeps the KDF salt in the file's first 16 bytes
RAW_KEY_SIZE = 32  # AES-256: PBKDF2-HMAC-SHA512 output truncated to 32 bytes

Connection = Any  # sqlcipher3.Connection has no type stubs


class RawKey:
    """The vault's derived SQLCipher key (what the agent hands out): opening with it skips the
    key derivation. Its repr never shows the bytes."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes | bytearray) -> None:
        if len(key) != RAW_KEY_SIZE:
            raise ValueError("a raw vault key is 32 bytes")
        self._key = bytes(key)

    def pragma_value(self) -> str:
        # The raw-key form: SQLCipher uses these bytes as the key and derives no key from them.
        return "\"x'" + self._key.hex() + "'\""

    def __repr__(self) -> str:
        return "RawKey(<hidden>)"


VaultKey = str | RawKey  # a passphrase, or the raw key derived from it


def _quote(text: str) -> str:
    if "\x00" in text:
        raise UsageError("A vault passphrase cannot contain a NUL character.")
    return "'" + text.replace("'", "''") + "'"


def _key(conn: Connection, passphrase: VaultKey, kdf_iter: int | None) -> None:
    # SQLCipher logs failed HMAC checks to stderr by default; our error message says it better.
    conn.execute("PRAGMA cipher_log_level = NONE")
    if isinstance(passphrase, RawKey):
        conn.execute(f"PRAGMA key = {passphrase.pragma_value()}")
        return
    conn.execute(f"PRAGMA key = {_quote(passphrase)}")
    iterations = DEFAULT_KDF_ITER if kdf_iter is None else int(kdf_iter)
    if iterations != SQLCIPHER_KDF_ITER:
        conn.execute(f"PRAGMA kdf_iter = {iterations}")


def derive_raw_key(path: Path, passphrase: str, kdf_iter: int | None = None) -> bytearray:
    """The key SQLCipher derives from `passphrase` for the vault at `path` (its salt, its
    PBKDF2-HMAC-SHA512 settings). The caller checks it with `check_key(path, RawKey(key))`."""
    _quote(passphrase)  # the same NUL rule as a typed passphrase
    try:
        with path.open("rb") as handle:
            salt = handle.read(SALT_SIZE)
    except FileNotFoundError:
        raise UsageError(f"There is no vault at '{path}'.") from None
    except IsADirectoryError:
        raise NotAVault(f"'{path}' is a folder, not a knoxtui vault.") from None
    if len(salt) < SALT_SIZE:
        raise _classify_unreadable(path)
    iterations = DEFAULT_KDF_ITER if kdf_iter is None else int(kdf_iter)
    return bytearray(
        hashlib.pbkdf2_hmac(
            "sha512", passphrase.encode("utf-8"), salt, iterations, dklen=RAW_KEY_SIZE
        )
    )


def _configure(conn: Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Rollback journal: its pages are SQLCipher-encrypted like the file, it is deleted at commit,
    # and a read-only key check never creates a -wal/-shm beside the vault.
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = ON")


def _connect(target: str, *, uri: bool = False) -> Connection:
    return sqlcipher3.connect(
        target,
        uri=uri,
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )


def is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def busy_error() -> VaultBusy:
    return VaultBusy(
        "The vault is in use by another knoxtui process and stayed locked for "
        f"{BUSY_TIMEOUT_MS // 1000} seconds.",
        hint="Wait for the other command (or the TUI's import) to finish, then try again.",
    )


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Driver errors as the user sees them: busy, not a vault, disk problems."""
    try:
        yield
    except sqlcipher3.OperationalError as exc:
        if is_busy(exc):
            raise busy_error() from None
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            raise VaultError(
                "The vault file is read-only, so nothing could be changed.",
                hint="Check the file's permissions and the disk.",
            ) from None
        if "disk" in text or "full" in text:
            raise VaultError(f"The vault could not be written: {text}.") from None
        raise
    except sqlcipher3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise VaultError(
                "The vault file is damaged.",
                hint="Restore it from a backup; knoxtui will not write to a damaged vault.",
            ) from None
        raise


def _classify_unreadable(path: Path) -> VaultError:
    """NOTADB means a wrong passphrase or a file that never was a vault; tell which we can."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4096)
    if size == 0:
        return NotAVault(f"'{path}' is an empty file, not a knoxtui vault.")
    if head.startswith(SQLITE_HEADER):
        return NotAVault(
            f"'{path}' is a plain (unencrypted) SQLite database, not a knoxtui vault.",
            hint="Point --vault at your vault file (knoxtui locate prints the default).",
        )
    # SQLCipher files are whole pages of random-looking bytes; text or small files are not vaults.
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if size % 512 or size < 1024 or printable > 0.9 * len(head):
        return NotAVault(
            f"'{path}' is not a knoxtui vault.",
            hint="Point --vault at your vault file (knoxtui locate prints the default).",
        )
    return WrongVaultPassphrase(
        f"Wrong vault passphrase for '{path}' (nothing was changed).",
        hint="Try again; the passphrase file or KNOXTUI_VAULT_PASSPHRASE may hold an old one.",
    )


def _probe(target: str, passphrase: VaultKey, kdf_iter: int | None, *, uri: bool) -> None:
    """Decrypt page 1 on a connection that cannot write; raises the driver's error."""
    conn = _connect(target, uri=uri)
    try:
        _key(conn, passphrase, kdf_iter)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def _probe_copy(path: Path, passphrase: VaultKey, kdf_iter: int | None) -> None:
    """A crashed writer left a hot journal that read-only connections cannot replay: check the
    key on a private copy, so a wrong passphrase still leaves the original untouched."""
    scratch = Path(tempfile.mkdtemp(prefix="knoxtui-probe-"))
    try:
        copy = scratch / "vault"
        shutil.copyfile(path, copy)
        for suffix in SIDE_FILES:
            side = Path(str(path) + suffix)
            if side.exists():
                shutil.copyfile(side, Path(str(copy) + suffix))
        _probe(str(copy), passphrase, kdf_iter, uri=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_key(path: Path, passphrase: VaultKey, kdf_iter: int | None = None) -> None:
    """Raise WrongVaultPassphrase / NotAVault / VaultBusy without writing to `path`."""
    target = "file:" + quote(str(path.resolve())) + "?mode=ro"
    try:
        _probe(target, passphrase, kdf_iter, uri=True)
    except sqlcipher3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code == 26 or "not a database" in str(exc):  # SQLITE_NOTADB
            raise _classify_unreadable(path) from None
        if is_busy(exc):
            raise busy_error() from None
        if any(Path(str(path) + s).exists() for s in SIDE_FILES):
            try:
                _probe_copy(path, passphrase, kdf_iter)
            except sqlcipher3.DatabaseError as inner:
                if getattr(inner, "sqlite_errorcode", None) == 26:
                    raise _classify_unreadable(path) from None
                raise VaultError(f"The vault could not be opened: {inner}.") from None
            return
        raise VaultError(f"The vault could not be opened: {exc}.") from None


def open_existing(path: Path, passphrase: VaultKey, kdf_iter: int | None) -> Connection:
    if not path.exists():
        raise UsageError(
            f"There is no vault at '{path}'.",
            hint="Add a secret to create one (knoxtui secret add ...), or pass --vault PATH.",
        )
    if path.is_dir():
        raise NotAVault(f"'{path}' is a folder, not a knoxtui vault.")
    if path.stat().st_size == 0:
        # SQLite would happily treat it as a new database and we would write a vault into it.
        raise _classify_unreadable(path)
    if any(Path(str(path) + s).exists() for s in SIDE_FILES):
        # A journal beside the file may be hot (a crashed writer): a read-write connection would
        # replay it before checking the key, so check the key where nothing can be written.
        check_key(path, passphrase, kdf_iter)
    conn = _connect(str(path))
    try:
        _key(conn, passphrase, kdf_iter)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            # Reading page 1 is the first touch of the file; it fails before any write.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == 26 or "not a database" in str(exc):
                raise _classify_unreadable(path) from None
            if is_busy(exc):
                raise busy_error() from None
            raise VaultError(f"The vault could not be opened: {exc}.") from None
        with translated_errors():
            _configure(conn)
    except BaseException:
        conn.close()
        raise
    tighten_mode(path)
    return conn


def tighten_mode(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def create_new(path: Path, passphrase: str, kdf_iter: int | None) -> tuple[Connection, Path]:
    """A new, empty, keyed database in a 0600 scratch file beside `path`; the caller builds the
    schema and then `publish`es it, so a half-made vault never sits at `path`."""
    if not passphrase:
        raise UsageError("An empty vault passphrase is not allowed.")
    if path.exists():
        raise UsageError(
            f"A file already exists at '{path}'; a new vault was not created.",
            hint="Open it with its passphrase, or choose another --vault PATH.",
        )
    # Our own folders are made (or kept) 0700; a folder the user already had (their home, /tmp)
    # keeps its mode: the vault file itself is 0600 either way.
    if not path.parent.exists() or path.parent == paths.data_dir():
        paths.ensure_private_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)  # mkstemp made it 0600; SQLite gives its journal the same mode
    scratch = Path(name)
    conn = _connect(str(scratch))
    try:
        _key(conn, passphrase, kdf_iter)
        _configure(conn)
    except BaseException:
        conn.close()
        scratch.unlink(missing_ok=True)
        raise
    return conn, scratch


def publish(scratch: Path, path: Path) -> None:
    """Move the finished scratch vault to `path`, refusing to replace a file that appeared."""
    try:
        os.link(scratch, path)  # atomic and never overwrites
    except FileExistsError:
        raise UsageError(
            f"A file appeared at '{path}' while the vault was being created; it was left alone."
        ) from None
    except OSError:
        # Filesystems without hard links: a rename, after checking the name is still free.
        if path.exists():
            raise UsageError(
                f"A file appeared at '{path}' while the vault was being created; it was left alone."
            ) from None
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the new name survives a power cut
        finally:
            os.close(folder)


def discard(scratch: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        Path(str(scratch) + suffix).unlink(missing_ok=True)


def rekey(conn: Connection, new_passphrase: str) -> None:
    """PRAGMA rekey rewrites every page in one journaled transaction: all old or all new."""
    if not new_passphrase:
        raise UsageError("An empty vault passphrase is not allowed.")
    with translated_errors():
        conn.execute(f"PRAGMA rekey = {_quote(new_passphrase)}")
