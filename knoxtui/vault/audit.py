"""The hash-chained, append-only logs: `secret_audit_log` and `route_request_log`.

Each row stores SHA-256 over its id, its content and the previous row's hash. `verify` then finds
an edited row (its hash no longer matches), a deleted row (a gap in the ids, a broken link, or a
tail shorter than sqlite_sequence), and reordered rows (ids are inside the hash). Values never
enter these tables: only names, types, environments, who, when and where.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import os
import socket
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.vault.models import AuditEntry, AuditVerification, RequestLogEntry, iso, parse_iso

if TYPE_CHECKING:
    from knoxtui.vault.vault import Vault

GENESIS = "0" * 64

SECRET_AUDIT_FIELDS = (
    "operation",
    "secret_id",
    "secret_name",
    "secret_type",
    "environment_name",
    "performed_by",
    "performed_at",
    "ip_address",
    "host",
    "detail",
)
REQUEST_LOG_FIELDS = (
    "route_id",
    "route_name",
    "environment_name",
    "certificate_secret_id",
    "certificate_secret_name",
    "certificate_used",
    "certificate_fingerprint",
    "method",
    "url",
    "status_code",
    "outcome",
    "duration_ms",
    "accessed_at",
    "client_ip",
    "performed_by",
    "host",
)
TABLE_FIELDS = {"secret_audit_log": SECRET_AUDIT_FIELDS, "route_request_log": REQUEST_LOG_FIELDS}
SECRET_OPERATIONS = ("create", "update", "delete", "access", "reveal", "export")


@functools.cache
def local_identity() -> tuple[str, str, str]:
    """(OS user, host name, this machine's address) for the `who` and `where` columns."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    host = socket.gethostname() or "localhost"
    address = "127.0.0.1"
    try:
        # A UDP "connect" sends nothing; it only asks the kernel which source address it would use.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
    except OSError:
        pass
    return user, host, address


def row_hash(table: str, row_id: int, prev_hash: str, values: dict[str, Any]) -> str:
    content = {name: values.get(name) for name in TABLE_FIELDS[table]}
    payload = json.dumps(
        {"table": table, "id": row_id, "prev_hash": prev_hash, **content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AuditTrail:
    """Appends to and checks both logs; appends run inside the caller's transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.appended = False

    def _append(self, table: str, values: dict[str, Any]) -> int:
        self.appended = True  # the anchor moves after the commit (anchor.advance)
        seq = self._conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).fetchone()
        row_id = (int(seq[0]) if seq else 0) + 1
        last = self._conn.execute(
            f"SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1"
        ).fetchone()
        prev = last[0] if last else GENESIS
        fields = TABLE_FIELDS[table]
        digest = row_hash(table, row_id, prev, values)
        columns = ", ".join(("id", *fields, "prev_hash", "row_hash"))
        marks = ", ".join("?" * (len(fields) + 3))
        self._conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            (row_id, *(values.get(name) for name in fields), prev, digest),
        )
        return row_id

    def record(
        self,
        operation: str,
        *,
        secret_id: str | None = None,
        secret_name: str | None = None,
        secret_type: str | None = None,
        environment: str | None = None,
        detail: str | None = None,
    ) -> int:
        user, host, address = local_identity()
        return self._append(
            "secret_audit_log",
            {
                "operation": operation,
                "secret_id": secret_id,
                "secret_name": secret_name,
                "secret_type": secret_type,
                "environment_name": environment,
                "performed_by": user,
                "performed_at": iso(clock.now()),
                "ip_address": address,
                "host": host,
                "detail": detail,
            },
        )

    def record_request(self, values: dict[str, Any]) -> int:
        user, host, address = local_identity()
        row = {
            **values,
            "accessed_at": iso(clock.now()),
            "client_ip": address,
            "performed_by": user,
            "host": host,
        }
        return self._append("route_request_log", row)

    def entries(
        self,
        *,
        secret_ids: tuple[str, ...] = (),
        secret_name: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        where, params = "", []
        if secret_name is not None:
            marks = ", ".join("?" * len(secret_ids))
            where = "WHERE secret_name = ?" + (f" OR secret_id IN ({marks})" if secret_ids else "")
            params = [secret_name, *secret_ids]
        sql = (
            f"SELECT id, {', '.join(SECRET_AUDIT_FIELDS)} FROM secret_audit_log {where} ORDER BY id"
        )
        if limit is not None:
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY id"
        return [
            AuditEntry(
                id=row[0],
                operation=row[1],
                secret_id=row[2],
                secret_name=row[3],
                secret_type=row[4],
                environment_name=row[5],
                performed_by=row[6],
                performed_at=parse_iso(row[7]),
                ip_address=row[8],
                host=row[9],
                detail=row[10],
            )
            for row in self._conn.execute(sql, params)
        ]

    def requests(self, *, limit: int | None = None) -> list[RequestLogEntry]:
        sql = f"SELECT id, {', '.join(REQUEST_LOG_FIELDS)} FROM route_request_log ORDER BY id"
        if limit is not None:
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY id"
        out = []
        for row in self._conn.execute(sql):
            data = dict(zip(("id", *REQUEST_LOG_FIELDS), row, strict=True))
            data["certificate_used"] = bool(data["certificate_used"])
            data["accessed_at"] = parse_iso(data["accessed_at"])
            out.append(RequestLogEntry(**data))
        return out

    def verify(self) -> AuditVerification:
        problems: list[str] = []
        checked = 0
        for table, fields in TABLE_FIELDS.items():
            prev = GENESIS
            expected_id = 1
            rows = self._conn.execute(
                f"SELECT id, {', '.join(fields)}, prev_hash, row_hash FROM {table} ORDER BY id"
            )
            for row in rows:
                checked += 1
                row_id, stored_prev, stored_hash = row[0], row[-2], row[-1]
                values = dict(zip(fields, row[1:-2], strict=True))
                if row_id != expected_id:
                    gap = (
                        f"row {expected_id}"
                        if row_id == expected_id + 1
                        else f"rows {expected_id}-{row_id - 1}"
                    )
                    problems.append(f"{table}: {gap} missing (deleted).")
                if stored_prev != prev:
                    problems.append(
                        f"{table}: row {row_id} does not follow the row before it "
                        "(a row was deleted, inserted or moved)."
                    )
                if row_hash(table, row_id, stored_prev, values) != stored_hash:
                    problems.append(f"{table}: row {row_id} was changed after it was written.")
                prev = stored_hash
                expected_id = row_id + 1
            seq = self._conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
            ).fetchone()
            last_written = int(seq[0]) if seq else 0
            if last_written >= expected_id:
                problems.append(
                    f"{table}: rows {expected_id}-{last_written} at the end are missing (deleted)."
                )
        problems.extend(self._missing_guards())
        problems.extend(self._unlogged_secrets())
        return AuditVerification(ok=not problems, checked=checked, problems=problems)

    def _missing_guards(self) -> list[str]:
        """Dropped or altered append-only triggers mean someone opened the logs for editing: the
        text of each is compared, not only its name (`WHEN 0` makes a present trigger idle)."""
        from knoxtui.vault.schema import GUARD_TRIGGERS

        present = {
            str(row[0]): " ".join(str(row[1] or "").split())
            for row in self._conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            )
        }
        problems = []
        for trigger, sql in GUARD_TRIGGERS.items():
            table = trigger.rsplit("_no_", 1)[0]
            if trigger not in present:
                problems.append(
                    f"{table}: the append-only trigger {trigger} was removed (the log was opened "
                    "for edits)."
                )
            elif present[trigger] != " ".join(sql.split()):
                problems.append(
                    f"{table}: the append-only trigger {trigger} was replaced by a different one "
                    "(the log was opened for edits)."
                )
        for name, sql in present.items():
            # A trigger of our own making on the logs is one of the above; any other one on them
            # (say, one that rewrites rows as they are inserted) is not ours.
            if name not in GUARD_TRIGGERS and any(
                f" ON {table} " in f" {sql} " for table in TABLE_FIELDS
            ):
                problems.append(f"a trigger '{name}' not made by knoxtui acts on the logs.")
        return problems

    def _unlogged_secrets(self) -> list[str]:
        """A secret with no `create` row lost its log entry (a cut tail hides from the hashes).
        Only for vaults whose log starts at their creation (older ones were migrated)."""
        first = self._conn.execute(
            "SELECT operation FROM secret_audit_log ORDER BY id LIMIT 1"
        ).fetchone()
        if first is None or first[0] != "create_vault":
            return []
        rows = self._conn.execute(
            "SELECT name FROM secrets WHERE id NOT IN (SELECT secret_id FROM secret_audit_log "
            "WHERE operation = 'create' AND secret_id IS NOT NULL) ORDER BY name"
        ).fetchall()
        return [
            f"secret_audit_log: the creation of secret '{row[0]}' is not in the log (rows were "
            "deleted)."
            for row in rows
        ]


class Audit:
    """`vault.audit`: reads and checks the secrets' audit trail. Writes are not here: each part
    appends its row through `vault.trail` inside its own transaction."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def entries(self, *, secret: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Oldest first; `secret` matches the name then, and the current secret's id (renames)."""
        with self._vault.reading() as conn:
            ids: tuple[str, ...] = ()
            if secret is not None:
                row = conn.execute("SELECT id FROM secrets WHERE name = ?", (secret,)).fetchone()
                ids = (row[0],) if row else ()
            return self._vault.trail.entries(secret_ids=ids, secret_name=secret, limit=limit)

    def verify(self, *, anchor_hash: str | None = None) -> AuditVerification:
        """The chain, the guards, and the anchor kept outside the file (plus `anchor_hash`, one
        kept elsewhere, when given)."""
        from knoxtui.vault import anchor

        with self._vault.reading() as conn:
            result = self._vault.trail.verify()
            problems = list(result.problems)
            anchored = anchor.read_anchor(self._vault.path)
            if anchored is not None:
                problems += anchor.check(conn, anchored)
            if anchor_hash is not None:
                problems += anchor.check_hash(conn, anchor_hash)
            heads = anchor.current_heads(conn)
        return AuditVerification(
            ok=not problems,
            checked=result.checked,
            problems=problems,
            head=anchor.head_token(heads),
            anchored=anchored is not None and not self._vault.anchor_created,
        )

    def head(self) -> dict[str, Any]:
        """Each log's newest (sequence, hash): what to keep elsewhere for `--anchor`."""
        from knoxtui.vault import anchor

        with self._vault.reading() as conn:
            return anchor.head_token(anchor.current_heads(conn))

    def re_anchor(self) -> dict[str, Any]:
        """Accept the logs as they are now as the new anchor (an explicit, audited decision)."""
        from knoxtui.vault import anchor

        with self._vault.transaction():
            self._vault.trail.record("re_anchor", detail="audit anchor reset to the current logs")
        with self._vault.reading() as conn:
            return anchor.head_token(anchor.reset(conn, self._vault.path))
