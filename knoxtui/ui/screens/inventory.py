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
from textual.widgets import Footer, Input, Static

from knoxtui.errors import KnoxError
from knoxtui.ui.inventory_model import (
    EXPIRY_COLUMN,
    INVENTORY_COLUMNS,
    STATUS_LABELS,
    inventory_records,
    status_counts,
)
from knoxtui.ui.widgets.header import Header
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


# The footer holds 88 columns at a 100-column terminal (the palette key takes the rest): related
# keys share one label there; `?` spells each one out.
SORT_KEYS = Binding.Group("Sort", compact=False)
TEAM_KEYS = Binding.Group("Team", compact=False)


class InventoryScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("i", "import", "Import"),
        Binding("enter", "open", "Detail"),
        Binding("s", "sort_next", "Sort", tooltip="sort by the next column", group=SORT_KEYS),
        Binding("S", "sort_reverse", "Reverse", tooltip="reverse the sort order", group=SORT_KEYS),
        Binding("r", "routes", "Routes"),
        Binding("a", "audit", "Audit"),
        Binding("e", "expiry", "Expiry"),
        Binding("f5", "reload", "Reload", show=False),  # rarely needed: changes are noticed
        # Team sync: shown only when the vault has a remote (knoxtui remote add).
        Binding("p", "push", "Push", tooltip="push this secret to the remote", group=TEAM_KEYS),
        Binding("P", "pull", "Pull", tooltip="pull this secret from the remote", group=TEAM_KEYS),
        Binding(
            "t", "remote", "Team", tooltip="the remote screen: status, push, pull", group=TEAM_KEYS
        ),
    ]
    AUTO_FOCUS = "#inventory-table"

    def __init__(self) -> None:
        super().__init__()
        self._version = -1
        self._has_remote = False
        self._remote_states: dict[str, str] | None = None  # secret name -> sync state
        self._remote_items: dict[str, Any] = {}  # secret name -> its remote.sync.ItemStatus
        self._remote_warned = False
        self._plain_records: list[Any] = []

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
        self._set_records(records)
        self._check_remote(vault)
        self._update_summary()
        self._update_warning(vault, secrets)
        empty = self.query_one("#inventory-empty", Static)
        empty.display = not records
        if not records:
            empty.update("The vault is empty. Press [b]i[/b] to import a certificate.")

    def _set_records(self, records: list[Any]) -> None:
        """The rows, with a Remote column (the sync state of each secret) once it is known."""
        from knoxtui.ui.screens.remote import with_remote_column

        self._plain_records = records
        states = self._remote_states
        columns = INVENTORY_COLUMNS if states is None else with_remote_column(INVENTORY_COLUMNS)
        if list(columns) != self.table.columns:
            self.table.columns = list(columns)
        if states is not None:
            from knoxtui.ui.screens.remote import with_remote_badges

            records = with_remote_badges(records, states)
        self.table.set_records(records)

    # -- team sync ----------------------------------------------------------------------------
    def _check_remote(self, vault: Any) -> None:
        """States from the vault's remote, in a thread worker (offline never blocks the list)."""
        from knoxtui.ui.screens.remote import first_remote

        remote = first_remote(vault, self.knox.remote_choice)
        had, self._has_remote = self._has_remote, remote is not None
        if had != self._has_remote:
            self.refresh_bindings()
        if remote is None:
            return

        def work() -> None:
            from knoxtui.ui.screens.remote import remote_status

            try:
                items = remote_status(vault, remote)
            except KnoxError as exc:
                self.app.call_from_thread(self._remote_failed, remote.name, exc)
                return
            states = {i.name: i.state for i in items if i.kind == "secret"}
            self._remote_items = {i.name: i for i in items if i.kind == "secret"}
            self.app.call_from_thread(self._remote_known, states)

        self.run_worker(work, thread=True, exclusive=True, group="remote-states")

    def _remote_known(self, states: dict[str, str]) -> None:
        self._remote_states = states
        self._set_records(self._plain_records)
        self._update_summary()

    def _remote_failed(self, name: str, exc: KnoxError) -> None:
        if self._remote_states is not None:
            self._remote_states = None
            self._set_records(self._plain_records)
        if not self._remote_warned:
            self._remote_warned = True
            self.notify(f"Remote '{name}': {exc.message}", title="Team sync", severity="warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("push", "pull", "remote"):
            return self._has_remote
        return True

    def action_remote(self) -> None:
        from knoxtui.ui.screens.remote import RemoteScreen

        self.app.push_screen(RemoteScreen())

    def action_push(self) -> None:
        self._sync("push")

    def action_pull(self) -> None:
        self._sync("pull")

    def _sync(self, verb: str) -> None:
        from knoxtui.ui.screens.remote import (
            first_remote,
            sync_with_confirmation,
        )

        vault, record = self.knox.vault, self.table.current
        remote = first_remote(vault, self.knox.remote_choice) if vault is not None else None
        if vault is None or remote is None or record is None:
            return
        name = record.key[0]
        item = self._remote_items.get(name) if self._remote_states is not None else None
        sync_with_confirmation(
            self, verb, remote, item, lambda resolve: self._start_sync(verb, name, resolve)
        )

    def _start_sync(self, verb: str, name: str, resolve: bool) -> None:
        from knoxtui.ui.screens.remote import first_remote, sync_items, tell_outcomes

        vault = self.knox.vault
        remote = first_remote(vault, self.knox.remote_choice) if vault is not None else None
        if vault is None or remote is None:
            return

        def work() -> None:
            try:
                outcomes = sync_items(vault, remote, verb, [name], resolve=resolve)
            except KnoxError as exc:
                self.app.call_from_thread(
                    self.notify, exc.message, title=f"Not {verb}ed", severity="error"
                )
                return
            self.app.call_from_thread(tell_outcomes, self.app, verb, remote.name, outcomes)
            self.app.call_from_thread(self._after_sync)

        self.run_worker(work, thread=True, exclusive=True, group="remote-sync")

    def _after_sync(self) -> None:
        self.knox.secrets_changed()
        self.reload()

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
