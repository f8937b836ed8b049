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
# Functions with side effects (SQLCipher's export/rekey helpers, file access, extensions).
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"})
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
    deadline = time.monotonic() + time_limit_s
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        cursor = conn.execute(text)
        rows = [tuple(row) for row in cursor.fetchall()]
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
        if "not authorized" in message or "prohibited" in message:
            raise UsageError(
                "The query was refused: --sql may only read the logs and the metadata tables "
                "(secret values are not readable this way).",
            ) from None
        raise UsageError(f"The query failed: {message}.") from None
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
        conn.execute("PRAGMA query_only = OFF")
    return columns, rows
