"""The Vault: one SQLCipher file holding secrets with per-environment values, routes, pending
CSR keys and the hash-chained audit and request logs.

`Vault` is the façade: it opens the connection, owns transactions (`batch()` and the write helper
every part uses) and hands out the parts that own the rows — `vault.secrets` (secrets.py),
`vault.routes` (routes.py), `vault.pending` (pending.py), `vault.audit` (audit.py),
`vault.requests` (requests.py) and `vault.remotes` (remotes.py). Every write runs in one
transaction (or one savepoint inside `batch()`), is validated before the first row is touched,
and appends its audit row in the same transaction. The method names from before the split
(`vault.add_certificate`, `vault.get_route`, ...) delegate to the parts."""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from knoxtui.errors import Conflict, NotAVault
from knoxtui.safetext import visible
from knoxtui.vault import anchor, cabundle, changes, connection, schema
from knoxtui.vault.audit import Audit, AuditTrail
from knoxtui.vault.columns import list_secrets_on
from knoxtui.vault.pending import PendingKeys
from knoxtui.vault.remotes import RemoteStore
from knoxtui.vault.requests import Requests
from knoxtui.vault.routes import ROUTE_SECRET_TYPES, Routes
from knoxtui.vault.secrets import ALLOWABLE_WITH_EXPIRED, RESOLVE_PURPOSES, Secrets

__all__ = [
    "ALLOWABLE_WITH_EXPIRED",
    "QUERY_TIME_LIMIT_S",
    "RESOLVE_PURPOSES",
    "ROUTE_SECRET_TYPES",
    "Vault",
    "list_secrets_on",
]

QUERY_TIME_LIMIT_S = 10.0

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Part = TypeVar("_Part")


def _delegate(
    part: str, method: Callable[Concatenate[_Part, _P], _R]
) -> Callable[Concatenate[Vault, _P], _R]:
    """A Vault method that calls `method` on the part `vault.<part>` (same signature for mypy)."""

    def call(vault: Vault, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(getattr(vault, part), *args, **kwargs)

    functools.update_wrapper(call, method)  # help() and inspect.signature show the part's
    call.__doc__ = f"`vault.{part}.{method.__name__}`: {method.__doc__ or ''}".strip()
    return call


def _backfill(conn: Any) -> None:
    """What an older knoxtui did not store, filled once in one transaction: the CA-bundle
    metadata of string values, and the digest of each secret and route."""
    ca_bundles, digests = cabundle.needs_backfill(conn), changes.needs_backfill(conn)
    if not (ca_bundles or digests):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if ca_bundles:
            cabundle.backfill(conn)
        if digests:
            changes.backfill(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class Vault:
    """One open vault. Thread-safe (one lock around the one connection). It opens and closes the
    file, owns the transactions and hands out the parts, each owning its own rows:
    `secrets`, `routes`, `pending`, `audit`, `requests`, `remotes`."""

    def __init__(self, path: Path, conn: Any, *, kdf_iter: int | None = None) -> None:
        self.path = path
        self.kdf_iter = kdf_iter
        self._conn = conn
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._savepoints = itertools.count(1)
        self._audit = AuditTrail(conn)
        # What the open found against the audit anchor kept outside the file (anchor.py).
        self.anchor_problems: list[str] = []
        self.anchor_created = False  # no anchor for this path on this machine before this open
        self.secrets = Secrets(self)
        self.routes = Routes(self)
        self.pending = PendingKeys(self)
        self.audit = Audit(self)
        self.requests = Requests(self)
        self.remotes = RemoteStore(self)  # team sync (issue 13)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: str | Path, passphrase: str, *, kdf_iter: int | None = None) -> Vault:
        """A new vault at `path` (folder 0700, file 0600); refuses to overwrite any file."""
        target = Path(path).expanduser()
        conn, scratch = connection.create_new(target, passphrase, kdf_iter)
        try:
            conn.execute("BEGIN IMMEDIATE")
            schema.apply(conn, 0, schema.CURRENT_VERSION)
            AuditTrail(conn).record("create_vault", detail="vault created")
            conn.execute("COMMIT")
            anchor.reset(conn, target)  # a new vault at this path: a new anchor
        except BaseException:
            conn.close()
            connection.discard(scratch)
            raise
        conn.close()
        connection.publish(scratch, target)
        return cls.open(target, passphrase, kdf_iter=kdf_iter)

    @classmethod
    def open(
        cls, path: str | Path, passphrase: connection.VaultKey, *, kdf_iter: int | None = None
    ) -> Vault:
        """WrongVaultPassphrase / NotAVault / VaultBusy; a failed open changes no byte. With a
        `connection.RawKey` (from the agent) no key is derived; a wrong one fails the same way."""
        target = Path(path).expanduser()
        if target.exists() and not target.is_dir() and not target.is_file():
            # A FIFO or a device: opening it would block forever or read without end.
            raise NotAVault(
                f"'{visible(target)}' is not a regular file (a pipe, device or socket), so not a "
                "knoxtui vault.",
                hint="Pass the path of the vault file with --vault PATH.",
            )
        conn = connection.open_existing(target, passphrase, kdf_iter)
        try:
            with connection.translated_errors():
                schema.migrate(conn, str(target))
                _backfill(conn)
                problems, first_anchor = anchor.on_open(conn, target)
        except BaseException:
            conn.close()
            raise
        vault = cls(target, conn, kdf_iter=kdf_iter)
        vault.anchor_problems = problems
        vault.anchor_created = first_anchor
        return vault

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vault(path={str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        return schema.user_version(self._conn)

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version`: changes when another connection (the CLI, a second
        console) commits to this file; our own writes leave it alone. Cheap enough to poll."""
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def change_passphrase(self, new: str) -> None:
        """PRAGMA rekey: every page re-encrypted in one transaction, so all old or all new."""
        with self._lock:
            if self._batch_depth:
                raise Conflict("The passphrase cannot change in the middle of a batch.")
            if not new:
                connection.rekey(self._conn, new)  # its own message for an empty passphrase
            # The row first (issue 11 item 11): a rekey is never missing from the log. Should
            # the rekey then fail, a second row says so.
            with self.transaction():
                self._audit.record("rekey", detail="vault passphrase changed")
            try:
                connection.rekey(self._conn, new)
            except BaseException:
                with contextlib.suppress(Exception), self.transaction():
                    self._audit.record(
                        "rekey_failed", detail="the vault passphrase was not changed"
                    )
                raise

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def batch(self) -> Iterator[Vault]:
        """Many writes in one transaction: all committed at the end, or none on an exception.
        A failed operation inside only rolls back its own savepoint if the caller catches it."""
        with self._lock:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield self
                finally:
                    self._batch_depth -= 1
                return
            with connection.translated_errors():
                self._conn.execute("BEGIN IMMEDIATE")
            self._batch_depth = 1
            try:
                yield self
            except BaseException:
                self._batch_depth = 0
                self._conn.execute("ROLLBACK")
                self._audit.appended = False
                raise
            self._batch_depth = 0
            try:
                with connection.translated_errors():
                    self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._audit.appended = False
                raise
            self._committed()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """The write helper of every part: one transaction, or one savepoint inside `batch()` (or
        inside another write); yields the connection. The part appends its audit row in it."""
        with self._lock, connection.translated_errors():
            conn = self._conn
            if self._batch_depth or conn.in_transaction:
                name = f"op{next(self._savepoints)}"
                conn.execute(f"SAVEPOINT {name}")
                try:
                    yield conn
                except BaseException:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    raise
                conn.execute(f"RELEASE {name}")
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._audit.appended = False
                raise
            self._committed()

    def _committed(self) -> None:
        """After a commit that appended log rows: the anchor outside the file moves forward."""
        if self._audit.appended:
            self._audit.appended = False
            anchor.advance(self._conn, self.path)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Any]:
        """The connection under the lock, for reads (driver errors become VaultErrors)."""
        with self._lock, connection.translated_errors():
            yield self._conn

    def fetch(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        with self.reading() as conn:
            return list(conn.execute(sql, params).fetchall())

    @property
    def trail(self) -> AuditTrail:
        """Appends audit and request-log rows inside the caller's transaction."""
        return self._audit

    # The names of the parts' helpers before the split (kept for callers written against them).
    _write = transaction
    _read = fetch

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One read-only SELECT (the KnoxCall compliance queries) over the logs and the metadata
        tables; value_blobs is out of reach, and nothing can be written."""
        from knoxtui.vault.query import run_readonly

        with self._lock:
            if self._batch_depth:
                raise Conflict("A query cannot run in the middle of a batch.")
            return run_readonly(self._conn, sql, QUERY_TIME_LIMIT_S)

    # ------------------------------------------------------------------ the names before the split
    # Every caller of `vault.add_certificate(...)` and friends keeps working (same signature).

    add_certificate = _delegate("secrets", Secrets.add_certificate)
    add_string = _delegate("secrets", Secrets.add_string)
    add_oauth2 = _delegate("secrets", Secrets.add_oauth2)
    list_secrets = _delegate("secrets", Secrets.all)
    get_secret = _delegate("secrets", Secrets.get)
    set_status = _delegate("secrets", Secrets.set_status)
    status_dates = _delegate("secrets", Secrets.status_dates)
    resolve = _delegate("secrets", Secrets.resolve)
    remove_value = _delegate("secrets", Secrets.remove_value)
    remove_secret = _delegate("secrets", Secrets.remove)
    rename_secret = _delegate("secrets", Secrets.rename)
    add_pending_key = _delegate("pending", PendingKeys.add)
    get_pending_key = _delegate("pending", PendingKeys.get)
    list_pending_keys = _delegate("pending", PendingKeys.all)
    remove_pending_key = _delegate("pending", PendingKeys.remove)
    routes_using = _delegate("routes", Routes.using)
    save_route = _delegate("routes", Routes.save)
    get_route = _delegate("routes", Routes.get)
    list_routes = _delegate("routes", Routes.all)
    remove_route = _delegate("routes", Routes.remove)
    audit_entries = _delegate("audit", Audit.entries)
    verify_audit = _delegate("audit", Audit.verify)
    log_request = _delegate("requests", Requests.log)
    request_entries = _delegate("requests", Requests.entries)
    request_details = _delegate("requests", Requests.details)
    previous_request = _delegate("requests", Requests.previous)
