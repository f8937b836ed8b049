"""Every secret and environment value in one virtual table, coloured by expiry status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Static

from knoxtui.ui.inventory_model import (
    EXPIRY_COLUMN,
    INVENTORY_COLUMNS,
    STATUS_LABELS,
    inventory_records,
    status_counts,
)
from knoxtui.ui.widgets.record_table import RecordTable

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

SUMMARY_ORDER = ("valid", "warning", "urgent", "expired", "not_yet_valid")


class SummaryBar(Widget):
    """One line of counts per status; a repaint, never a relayout, on each filter keystroke."""

    DEFAULT_CSS = "SummaryBar { height: 1; }"
    text: reactive[Text] = reactive(Text, layout=False)

    def render(self) -> Text:
        return self.text


class InventoryScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("i", "import", "Import"),
        Binding("enter", "open", "Detail"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse"),
        Binding("r", "routes", "Routes"),
        Binding("a", "audit", "Audit"),
        Binding("e", "expiry", "Expiry"),
        Binding("f5", "reload", "Reload", show=False),  # rarely needed: changes are noticed
    ]
    AUTO_FOCUS = "#inventory-table"

    def __init__(self) -> None:
        super().__init__()
        self._version = -1

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = str(self.knox.vault_path)
        yield Header()
        yield SummaryBar(id="summary")
        yield Static(id="expiry-warning")
        yield Input(
            placeholder="filter: type to narrow (name, CN, environment, status)", id="filter"
        )
        yield RecordTable(INVENTORY_COLUMNS, id="inventory-table")
        yield Static(id="inventory-empty")
        yield Footer(compact=True)

    @property
    def table(self) -> RecordTable:
        return self.query_one("#inventory-table", RecordTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.sort_column = EXPIRY_COLUMN
        self.reload()
        # The summary's dots are Rich text coloured in code: repaint them with a new theme.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._update_summary())

    def on_screen_resume(self) -> None:
        # Back from another screen: reload only if secrets changed there (10,000 rows take a
        # noticeable fraction of a second to read again).
        if self.knox.vault is not None and self._version != self.knox.secrets_version:
            self.reload()

    def vault_changed_elsewhere(self) -> None:
        self.reload()
        self.notify("The vault changed outside this console; the list is up to date.")

    def reload(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        self._version = self.knox.secrets_version
        secrets = vault.list_secrets()
        records = inventory_records(secrets, self.knox.now(), self.knox.thresholds)
        self.table.set_records(records)
        self._update_summary()
        self._update_warning(vault, secrets)
        empty = self.query_one("#inventory-empty", Static)
        empty.display = not records
        if not records:
            empty.update("The vault is empty. Press [b]i[/b] to import a certificate.")

    def _update_summary(self) -> None:
        table = self.table
        counts = status_counts(table.all_records)
        text = Text()
        total = len(table.all_records)
        text.append(f" {total} value{'' if total == 1 else 's'} ", style="bold")
        for status in SUMMARY_ORDER:
            text.append("  ● ", style=self.knox.status_colour(status))
            text.append(f"{STATUS_LABELS[status]} {counts.get(status, 0)}")
        other = counts.get("plain", 0)
        if other:
            text.append(f"   other {other}")
        if table.filter_text:
            text.append(
                f"   │ filter '{table.filter_text}': {table.row_count} shown", style="italic"
            )
        self.query_one("#summary", SummaryBar).text = text

    def _update_warning(self, vault: Any, secrets: Any) -> None:
        """The one line that stays while something is urgent or expired (a toast would vanish).
        The report covers only the secrets with such a value: the same line, a fraction of the
        work at 10,000 rows."""
        from knoxtui.lifecycle.expiry import expiry_report

        due = {r.key[0] for r in self.table.all_records if r.tone in ("expired", "urgent")}
        widget = self.query_one("#expiry-warning", Static)
        report = (
            expiry_report(
                vault,
                now=self.knox.now(),
                thresholds=self.knox.thresholds,
                secrets=[s for s in secrets if s.name in due],
            )
            if due
            else None
        )
        line = report.warning_line() if report is not None else None
        widget.display = line is not None
        if report is None or line is None:
            return
        worst = "expired" if report.counts()["expired"] else "urgent"
        widget.set_classes(f"expiry-{worst}")
        line = line.replace("Run `knoxtui check` for details.", "Press e for the expiry panel.")
        widget.update(Text(f"⚠ {line}"))

    # -- filter and sort ----------------------------------------------------------------------
    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._update_summary()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_sort_next(self) -> None:
        table = self.table
        current = table.sort_column if table.sort_column is not None else -1
        table.sort_by((current + 1) % len(INVENTORY_COLUMNS), reverse=False)

    def action_sort_reverse(self) -> None:
        table = self.table
        table.sort_by(table.sort_column or 0, reverse=not table.sort_reverse)

    # -- navigation ---------------------------------------------------------------------------
    def action_open(self) -> None:
        record = self.table.current
        if record is not None:
            self.open_secret(record.key[0], record.key[1])

    @on(RecordTable.RowSelected, "#inventory-table")
    def _row_selected(self, event: RecordTable.RowSelected) -> None:
        self.open_secret(event.record.key[0], event.record.key[1])

    def open_secret(self, name: str, environment: str | None = None) -> None:
        self.knox.open_secret(name, environment)

    def action_import(self) -> None:
        self.knox.open_import()

    def action_routes(self) -> None:
        self.knox.open_routes()

    def action_audit(self) -> None:
        self.knox.open_audit()

    def action_expiry(self) -> None:
        self.knox.open_expiry()

    def action_reload(self) -> None:
        self.reload()
