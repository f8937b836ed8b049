"""`knoxtui audit [--secret NAME] [--verify] [--sql QUERY] [--requests] [--limit N] [--json]`."""

from __future__ import annotations

import argparse
import sys

from knoxtui.cli import add_vault_options


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser(
        "audit",
        help="show, verify or query the audit and request logs",
        description="Without options: the secret audit log. --verify checks the hash chain "
        "(exit 1 when it is broken). --sql runs one read-only SELECT over secret_audit_log, "
        "route_request_log and the metadata tables (KnoxCall column names).",
    )
    audit.add_argument("--secret", metavar="NAME", help="only this secret's entries")
    audit.add_argument(
        "--verify",
        action="store_true",
        help="check the hash chain, the guard triggers and the anchor kept outside the file",
    )
    audit.add_argument(
        "--anchor",
        metavar="HASH",
        help="with --verify: also check a head hash kept elsewhere (from --head or --json)",
    )
    audit.add_argument(
        "--head",
        action="store_true",
        help="print each log's newest sequence and hash (keep it elsewhere for --anchor)",
    )
    audit.add_argument(
        "--re-anchor",
        action="store_true",
        help="accept the logs as they are now as the new anchor (after a restore; audited)",
    )
    audit.add_argument("--sql", metavar="QUERY", help="one read-only SELECT")
    audit.add_argument("--requests", action="store_true", help="show route_request_log instead")
    audit.add_argument("--limit", type=int, metavar="N", help="only the last N entries")
    audit.add_argument("--json", action="store_true")
    add_vault_options(audit)
    audit.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.errors import UsageError
    from knoxtui.safetext import visible

    chosen = [
        name for name in ("verify", "sql", "requests", "head", "re_anchor") if getattr(args, name)
    ]
    if len(chosen) > 1:
        raise UsageError(
            "Use one of --verify, --sql, --requests, --head and --re-anchor at a time."
        )
    if args.anchor is not None and not args.verify:
        raise UsageError("--anchor HASH goes with --verify.")
    if args.anchor is not None and not _is_hash(args.anchor):
        raise UsageError(
            "--anchor takes a 64-character hex hash (from knoxtui audit --head).",
        )
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be a positive number.")
    with open_vault(args) as vault:
        if args.head or args.re_anchor:
            head = vault.audit.head() if args.head else vault.audit.re_anchor()
            if args.json:
                emit_json(head)
            else:
                for table, item in head.items():
                    print(f"{table}  {item['sequence']}  {item['hash'] or '-'}")
                if args.re_anchor:
                    print("The audit anchor now holds the logs as they are.", file=sys.stderr)
            return 0
        if args.verify:
            result = vault.audit.verify(anchor_hash=args.anchor)
            if args.json:
                emit_json(result.to_dict())
            elif result.ok:
                anchored = "" if result.anchored else "; no anchor on this machine yet"
                print(f"Audit chain OK ({result.checked} rows checked{anchored}).")
            else:
                print(f"Audit chain BROKEN ({len(result.problems)} problem(s)):")
                for problem in result.problems:
                    print(f"  {visible(problem)}")
            return 0 if result.ok else 1
        if args.sql:
            columns, rows = vault.query(args.sql)
            if args.json:
                emit_json([dict(zip(columns, row, strict=True)) for row in rows])
            else:
                _table(
                    [tuple(columns), *[tuple("" if v is None else str(v) for v in r) for r in rows]]
                )
            return 0
        if args.requests:
            entries = vault.request_entries(limit=args.limit)
            if args.json:
                emit_json([entry.to_dict() for entry in entries])
                return 0
            rows = [("ID", "WHEN (UTC)", "ROUTE", "ENV", "CERT", "STATUS", "OUTCOME", "MS")]
            for request in entries:
                rows.append(
                    (
                        str(request.id),
                        f"{request.accessed_at:%Y-%m-%d %H:%M:%S}",
                        request.route_name,
                        request.environment_name,
                        request.certificate_secret_name or "-",
                        str(request.status_code or "-"),
                        request.outcome,
                        f"{request.duration_ms:.0f}" if request.duration_ms is not None else "",
                    )
                )
            _table(rows)
            return 0
        audit_rows = vault.audit_entries(secret=args.secret, limit=args.limit)
        if args.secret and not audit_rows:
            vault.get_secret(args.secret)  # a name never seen: NotFound, not an empty table
    if args.json:
        emit_json([entry.to_dict() for entry in audit_rows])
        return 0
    rows = [("ID", "WHEN (UTC)", "OPERATION", "SECRET", "TYPE", "ENV", "BY", "DETAIL")]
    for entry in audit_rows:
        rows.append(
            (
                str(entry.id),
                f"{entry.performed_at:%Y-%m-%d %H:%M:%S}",
                entry.operation,
                entry.secret_name or "-",
                entry.secret_type or "-",
                entry.environment_name or "-",
                f"{entry.performed_by}@{entry.host}",
                entry.detail or "",
            )
        )
    _table(rows)
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    if len(rows) <= 1:
        print("(no rows)", file=sys.stderr)
        return
    from knoxtui.safetext import visible

    # Names, descriptions and --sql results come from files and users: controls made visible.
    rows = [tuple(visible(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        print("  ".join([*cells, row[-1]]).rstrip())


def _is_hash(text: str) -> bool:
    value = text.strip().lower()
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
