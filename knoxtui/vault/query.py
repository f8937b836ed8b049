"""`audit --sql`: one read-only SELECT, on a connection switched to `PRAGMA query_only`, with an
authorizer that allows reading and nothing else, and never the value blobs."""

from __future__ import annotations

import re
import time
from typing import Any

import sqlcipher3

from knoxtui.errors import UsageError
from knoxtui.vault import pending
from knoxtui.vault.connection import busy_error, is_busy

# sqlite3 authorizer action codes (sqlite3.h)
_SQLITE_READ = 20
_SQLITE_SELECT = 21
_SQLITE_FUNCTION = 31
_SQLITE_RECURSIVE = 33
_ALLOWED = {_SQLITE_READ, _SQLITE_SELECT, _SQLITE_FUNCTION, _SQLITE_RECURSIVE}
_DENY = 1
_OK = 0
HIDDEN_TABLES = frozenset({"value_blobs", *pending.HIDDEN_TABLES})
# Functions with side effects (SQLCipher's export/rekey helpers, file access, extensions), and
# those that make big values out of nothing (zeroblob(2e8) is 200 MB in one step).
_DENIED_FUNCTIONS = frozenset(
    {
        "load_extension",
        "fts3_tokenizer",
        "readfile",
        "writefile",
        "edit",
        "zeroblob",
        "randomblob",
    }
)
# Caps of one --sql query (issue 11 item 10). One SQL function call cannot be interrupted by the
# wall clock (nested replace() over 200 MB ran 30 s), so no string or blob may grow past
# MAX_VALUE_BYTES (sqlite3_limit LENGTH on the vault's connection during the query), and the
# result stops at MAX_RESULT_ROWS rows or MAX_RESULT_BYTES bytes.
MAX_VALUE_BYTES = 1_000_000
MAX_RESULT_ROWS = 100_000
MAX_RESULT_BYTES = 32_000_000
_SQLITE_LIMIT_LENGTH = 0
_LEADING = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*", re.S)


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
) -> int:
    if action not in _ALLOWED:
        return _DENY
    if action == _SQLITE_FUNCTION:
        name = (arg2 or "").lower()
        return _DENY if name in _DENIED_FUNCTIONS or name.startswith("sqlcipher") else _OK
    # Any *_blobs table holds values: denied by name, so a future one is covered too.
    if action == _SQLITE_READ and (arg1 in HIDDEN_TABLES or (arg1 or "").endswith("_blobs")):
        return _DENY
    return _OK


def _native(conn: Any) -> tuple[Any, int] | None:
    """(the SQLCipher library, this connection's sqlite3*) for sqlite3_limit, which sqlcipher3
    does not expose; None when the handle cannot be confirmed (then only the other caps hold).
    The handle is the first field after the object header (pysqlite's Connection struct), and is
    confirmed by asking SQLCipher for its file name before anything is set."""
    try:
        import ctypes

        from sqlcipher3 import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
        if not handle:
            return None
        lib.sqlite3_db_filename.restype = ctypes.c_char_p
        lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.sqlite3_limit.restype = ctypes.c_int
        lib.sqlite3_limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        expected = conn.execute("PRAGMA database_list").fetchone()[2]
        name = lib.sqlite3_db_filename(handle, b"main")
        if not expected or name is None or name.decode("utf-8", "replace") != expected:
            return None
        return lib, handle
    except Exception:  # no ctypes, another driver build: the caps below still hold
        return None


def _set_length_limit(native: tuple[Any, int] | None, value: int) -> int | None:
    if native is None:
        return None
    lib, handle = native
    return int(lib.sqlite3_limit(handle, _SQLITE_LIMIT_LENGTH, value))


def _fetch_bounded(cursor: Any) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    size = 0
    while True:
        batch = cursor.fetchmany(500)
        if not batch:
            return rows
        for row in batch:
            size += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
            rows.append(tuple(row))
        if len(rows) > MAX_RESULT_ROWS or size > MAX_RESULT_BYTES:
            raise UsageError(
                f"The query returns more than {MAX_RESULT_ROWS:,} rows or "
                f"{MAX_RESULT_BYTES // 1_000_000} MB; it was stopped.",
                hint="Narrow it with WHERE or LIMIT.",
            )


def run_readonly(
    conn: Any, sql: str, time_limit_s: float
) -> tuple[list[str], list[tuple[Any, ...]]]:
    text = _LEADING.sub("", sql or "").strip()
    first = text.split(None, 1)[0].lower() if text else ""
    if first not in ("select", "with"):
        raise UsageError(
            "--sql takes exactly one SELECT query.",
            hint='For example: knoxtui audit --sql "SELECT operation, performed_by, performed_at '
            'FROM secret_audit_log"',
        )
    native = _native(conn)
    deadline = time.monotonic() + time_limit_s
    conn.execute("PRAGMA query_only = ON")
    previous_length = _set_length_limit(native, MAX_VALUE_BYTES)
    conn.set_authorizer(_authorizer)
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1_000)
    try:
        cursor = conn.execute(text)
        rows = _fetch_bounded(cursor)
        columns = [d[0] for d in cursor.description or ()]
    except (sqlcipher3.ProgrammingError, sqlcipher3.Warning) as exc:
        raise UsageError(f"--sql takes exactly one statement ({exc}).") from None
    except sqlcipher3.DatabaseError as exc:
        message = str(exc)
        if is_busy(exc):
            raise busy_error() from None
        if "interrupted" in message:
            raise UsageError(
                f"The query ran longer than {time_limit_s:.0f} s and was stopped."
            ) from None
        if "too big" in message:
            raise UsageError(
                f"A value in the query grew past {MAX_VALUE_BYTES // 1_000_000} MB; it was "
                "stopped.",
                hint="--sql is for reading the logs; build no big strings or blobs in it.",
            ) from None
        if "not authorized" in message or "prohibited" in message:
            raise UsageError(
                "The query was refused: --sql may only read the logs and the metadata tables "
                "(secret values are not readable this way; functions that write files or make "
                "big blobs, such as zeroblob, are refused).",
            ) from None
        raise UsageError(f"The query failed: {message}.") from None
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
        if previous_length is not None:
            _set_length_limit(native, previous_length)
        conn.execute("PRAGMA query_only = OFF")
    return columns, rows
