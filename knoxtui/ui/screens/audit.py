"""The audit and request logs, newest first, filterable, with the hash chain's verification
state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from knoxtui.ui.plain import plain
from knoxtui.ui.widgets.header import Header
from knoxtui.ui.widgets.record_table import Column, Record, RecordTable

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

# Narrow, columns give way by priority (higher first; Column.priority): the long Detail and
# Outcome tails first (enter shows the whole entry), the time and what happened never.
AUDIT_COLUMNS = (
    Column("at", "When (UTC)", 19, 19, priority=0),
    Column("operation", "Operation", 12, 20, priority=1),
    Column("secret", "Secret", 8, 30, priority=3),
    Column("type", "Type", 6, 11, priority=6),
    Column("environment", "Environment", 8, 14, priority=5),
    Column("by", "By", 4, 16, priority=7),
    Column("host", "Host", 4, 18, priority=8),
    Column("detail", "Detail", 20, 80, priority=9),
)
REQUEST_COLUMNS = (
    Column("at", "When (UTC)", 19, 19, priority=0),
    Column("route", "Route", 6, 24, priority=1),
    Column("environment", "Environment", 8, 14, priority=5),
    Column("method", "Method", 6, 7, priority=6),
    Column("status", "Status", 6, 6, justify="right", priority=2),
    Column("outcome", "Outcome", 7, 32, priority=3),
    Column("certificate", "Certificate", 8, 26, priority=7),
    Column("ms", "ms", 5, 9, justify="right", priority=4),
)
_TONE = {"reveal": "warning", "export": "warning", "delete": "expired", "access": "plain"}


class AuditScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("f5", "reload", "Reload"),
        Binding("enter", "show", "Open"),
        Binding("t", "switch_log", "Audit/Requests"),
    ]

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = "Audit"
        yield Header()
        yield Static("", id="audit-verify")
        yield Input(
            placeholder="filter (operation, secret, route, user, outcome…)", id="audit-filter"
        )
        with TabbedContent(id="audit-tabs"):
            with TabPane("Audit log", id="tab-audit"):
                yield RecordTable(AUDIT_COLUMNS, id="audit-table")
            with TabPane("Requests", id="tab-requests"):
                yield RecordTable(REQUEST_COLUMNS, id="request-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#audit-table", RecordTable).focus()

    def reload(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        audit = []
        for entry in vault.audit_entries():
            cells: tuple[str, ...] = (
                f"{entry.performed_at:%Y-%m-%d %H:%M:%S}",
                entry.operation,
                entry.secret_name or entry.secret_id or "",
                entry.secret_type or "",
                entry.environment_name or "",
                entry.performed_by,
                entry.host or "",
                entry.detail or "",
            )
            audit.append(
                Record(
                    entry.id,
                    cells,
                    (entry.id,) * len(cells),
                    _TONE.get(entry.operation, "plain"),
                    " ".join(cells).lower(),
                )
            )
        requests = []
        for item in vault.request_entries():
            row = (
                f"{item.accessed_at:%Y-%m-%d %H:%M:%S}",
                item.route_name,
                item.environment_name,
                item.method or "",
                "" if item.status_code is None else str(item.status_code),
                item.outcome,
                item.certificate_secret_name or "",
                "" if item.duration_ms is None else f"{item.duration_ms:.0f}",
            )
            tone = "valid" if item.outcome == "ok" else "expired"
            cells = row
            requests.append(
                Record(item.id, cells, (item.id,) * len(cells), tone, " ".join(cells).lower())
            )
        audit_table = self.query_one("#audit-table", RecordTable)
        audit_table.sort_column, audit_table.sort_reverse = 0, True  # newest first
        audit_table.set_records(audit)
        request_table = self.query_one("#request-table", RecordTable)
        request_table.sort_column, request_table.sort_reverse = 0, True
        request_table.set_records(requests)
        verification = vault.verify_audit()
        label = self.query_one("#audit-verify", Static)
        if verification.ok:
            label.update(f"✔ Audit chain intact: {verification.checked} entries verified.")
            label.set_classes("verify-ok")
        else:
            label.update(plain(f"✘ Audit chain BROKEN: {'; '.join(verification.problems[:3])}"))
            label.set_classes("verify-bad")

    @on(Input.Changed, "#audit-filter")
    def _filter(self, event: Input.Changed) -> None:
        for table in self.query(RecordTable):
            table.set_filter(event.value)

    @on(Input.Submitted, "#audit-filter")
    def _filter_done(self) -> None:
        self.query_one("#audit-table", RecordTable).focus()

    def action_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_show(self) -> None:
        table = self.focused
        if isinstance(table, RecordTable):
            table.action_select()

    def action_switch_log(self) -> None:
        """t: the other log, its table focused (the tabs were only reachable by mouse)."""
        tabs = self.query_one("#audit-tabs", TabbedContent)
        tabs.active = "tab-requests" if tabs.active == "tab-audit" else "tab-audit"
        table = "#request-table" if tabs.active == "tab-requests" else "#audit-table"
        self.query_one(table, RecordTable).focus()

    def action_reload(self) -> None:
        self.reload()

    @on(RecordTable.RowSelected)
    def _show_entry(self, event: RecordTable.RowSelected) -> None:
        """enter (or a click) shows the whole entry: the Detail column is cut at the edge. A
        request opens its stored run (diagnosis, fix, handshake, timings; re-run, compare)."""
        if event.table.id == "request-table":
            self.knox.open_run(int(event.record.key))
            return
        lines = [
            f"{column.label}: {cell}"
            for column, cell in zip(event.table.columns, event.record.cells, strict=False)
            if cell
        ]
        self.notify("\n".join(lines), title="Entry", timeout=15)

    def action_back(self) -> None:
        self.dismiss()
