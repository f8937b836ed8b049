"""The audit chain's anchor outside the vault file (issue 11 item 6).

Someone holding the vault passphrase can rewrite the logs and recompute every hash, so the chain
alone proves nothing against them. After each write knoxtui keeps the latest (sequence, hash,
row count) of both logs in the state directory (a 0600 file per vault path); every open and
`audit --verify` check the file against the logs: the anchored row must still be there with the
same hash (its hash covers every row before it), the number of rows up to it must match, and the
sequence must not have gone back. A hash printed by `audit --head` (or `--json` after a write)
and kept elsewhere is checked with `audit --verify --anchor HASH`.

The anchor only moves forward, and only along the same chain: a log that no longer holds the
anchored row leaves the anchor as it was (the evidence) until `audit --re-anchor`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knoxtui import paths

LOGS = ("secret_audit_log", "route_request_log")
# The heads after this process's latest write (the CLI prints them in --json: keep them elsewhere).
_written: list[Heads] = []


@dataclass(frozen=True)
class Head:
    """The newest row of one log: its id (sequence), its row hash and the rows up to it."""

    sequence: int
    hash: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "hash": self.hash, "rows": self.rows}


Heads = dict[str, Head]


def anchor_file(vault_path: Path) -> Path:
    key = hashlib.sha256(str(Path(vault_path).expanduser().resolve()).encode()).hexdigest()
    return paths.state_dir() / "anchors" / f"{key[:32]}.json"


def current_heads(conn: Any, since: Heads | None = None) -> Heads:
    """The newest row of each log, as the vault holds it now (for the agent, too). With `since`
    (heads known to hold), rows are counted from there on: a write costs a short range scan, not
    a walk over the whole log."""
    heads: Heads = {}
    for table in LOGS:
        row = conn.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            heads[table] = Head(0, "", 0)
            continue
        base = since.get(table) if since is not None else None
        if base is not None and 0 <= base.sequence <= int(row[0]) and base.rows >= 0:
            count = conn.execute(
                f"SELECT count(*) FROM {table} WHERE id > ? AND id <= ?", (base.sequence, row[0])
            ).fetchone()
            rows = base.rows + int(count[0])
        else:
            total = conn.execute(
                f"SELECT count(*) FROM {table} WHERE id <= ?", (row[0],)
            ).fetchone()
            rows = int(total[0])
        heads[table] = Head(int(row[0]), str(row[1]), rows)
    return heads


def read_anchor(vault_path: Path) -> Heads | None:
    """The anchored heads, or None when this vault was never anchored on this machine."""
    try:
        data = json.loads(anchor_file(vault_path).read_text(encoding="utf-8"))
        return {
            table: Head(
                int(data[table]["sequence"]), str(data[table]["hash"]), int(data[table]["rows"])
            )
            for table in LOGS
        }
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # An unreadable anchor is itself a finding: an empty one fails every check below.
        return {table: Head(-1, "unreadable", -1) for table in LOGS}


def check(conn: Any, anchored: Heads) -> list[str]:
    """Problems of the logs against anchored heads (empty when they still hold)."""
    problems: list[str] = []
    for table in LOGS:
        head = anchored.get(table)
        if head is None or head.sequence == 0:
            continue
        if head.sequence < 0:
            problems.append(f"{table}: the anchor file is unreadable (it was edited or damaged).")
            continue
        row = conn.execute(
            f"SELECT row_hash FROM {table} WHERE id = ?", (head.sequence,)
        ).fetchone()
        if row is None:
            problems.append(
                f"{table}: row {head.sequence}, the last one anchored, is gone (the log was cut "
                "or wiped)."
            )
            continue
        if row[0] != head.hash:
            problems.append(
                f"{table}: row {head.sequence} is not the row that was anchored (the log up to it "
                "was rewritten, its hashes recomputed)."
            )
        count = conn.execute(
            f"SELECT count(*) FROM {table} WHERE id <= ?", (head.sequence,)
        ).fetchone()
        if int(count[0]) != head.rows:
            problems.append(
                f"{table}: {count[0]} rows up to row {head.sequence}, the anchor counted "
                f"{head.rows} (rows were deleted or inserted)."
            )
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        if seq is None or int(seq[0]) < head.sequence:
            problems.append(
                f"{table}: the row sequence went back below the anchor's {head.sequence} "
                "(sqlite_sequence was lowered)."
            )
    return problems


def check_hash(conn: Any, wanted: str) -> list[str]:
    """`--anchor HASH`: the row with that hash must still be in one of the logs."""
    wanted = wanted.strip().lower()
    for table in LOGS:
        if conn.execute(f"SELECT 1 FROM {table} WHERE row_hash = ?", (wanted,)).fetchone():
            return []
    return [
        f"The anchor {wanted[:16]}… is in neither log: rows up to it were rewritten or deleted "
        "(or it belongs to another vault)."
    ]


def write_anchor(vault_path: Path, heads: Heads) -> None:
    """Store `heads` (0600, replaced atomically). Never raises: a read-only state folder must
    not stop a write that is already committed."""
    target = anchor_file(vault_path)
    data = {"vault": str(Path(vault_path).expanduser().resolve())}
    data.update({table: head.to_dict() for table, head in heads.items()})  # type: ignore[misc]
    with contextlib.suppress(OSError):
        paths.ensure_private_dir(target.parent)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(scratch, target)


@contextlib.contextmanager
def _locked(vault_path: Path) -> Iterator[None]:
    """One writer of a vault's anchor at a time (the CLI, the console and the agent may write)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: last writer wins, the check stays sound
        yield
        return
    folder = anchor_file(vault_path).parent
    try:
        paths.ensure_private_dir(folder)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def on_open(conn: Any, vault_path: Path) -> tuple[list[str], bool]:
    """At every open: the logs against the anchor -> (problems, anchored just now). The first
    open on this machine anchors the logs as they are (nothing to compare with yet)."""
    with _locked(vault_path):
        anchored = read_anchor(vault_path)
        if anchored is None:
            write_anchor(vault_path, current_heads(conn))
            return [], True
    return check(conn, anchored), False


def reset(conn: Any, vault_path: Path) -> Heads:
    """`audit --re-anchor`: accept the logs as they are now (after a restore, say)."""
    heads = current_heads(conn)
    with _locked(vault_path):
        write_anchor(vault_path, heads)
    return heads


def advance(conn: Any, vault_path: Path) -> None:
    """After a commit that appended rows: move the anchor forward, if the logs still hold it."""
    with _locked(vault_path):
        _advance(conn, vault_path)


def written_heads() -> dict[str, Any] | None:
    """Each log's head after this process's latest write, or None when it wrote nothing."""
    return head_token(_written[-1]) if _written else None


def forget_written() -> None:
    _written.clear()


def _advance(conn: Any, vault_path: Path) -> None:
    anchored = read_anchor(vault_path)
    if anchored is None:
        heads = current_heads(conn)
        _written[:] = [heads]
        write_anchor(vault_path, heads)
        return
    holds = all(_still_holds(conn, table, anchored[table]) for table in LOGS)
    # Counted from the anchor when it holds (a short range scan), else from the start.
    heads = current_heads(conn, since=anchored if holds else None)
    _written[:] = [heads]
    if not holds:
        return  # not the anchored chain any more: the anchor stays as evidence
    if any(anchored[table].sequence > heads[table].sequence for table in LOGS):
        return  # another process anchored further already
    write_anchor(vault_path, heads)


def _still_holds(conn: Any, table: str, old: Head) -> bool:
    if old.sequence < 0:
        return False
    if old.sequence == 0:
        return True
    row = conn.execute(
        f"SELECT 1 FROM {table} WHERE id = ? AND row_hash = ?", (old.sequence, old.hash)
    ).fetchone()
    return row is not None


def head_token(heads: Heads) -> dict[str, Any]:
    """What `--json` prints after a write: each log's newest sequence and hash."""
    return {table: {"sequence": head.sequence, "hash": head.hash} for table, head in heads.items()}
