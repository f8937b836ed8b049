"""Team sync in the console: the remote screen (every item's state against the vault's remote) and
push/pull of the selection. Network calls run in thread workers; an absent server says
unreachable and blocks nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Select, Static

from knoxtui.errors import KnoxError
from knoxtui.safetext import visible
from knoxtui.ui.widgets.header import Header
from knoxtui.ui.widgets.record_table import Column, Record, RecordTable

if TYPE_CHECKING:
    from knoxtui.remote.sync import ItemStatus, Outcome
    from knoxtui.ui.app import KnoxApp
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteRecord

REMOTE_COLUMNS = (
    Column("kind", "Kind", 5, 6),
    Column("name", "Name", 10, 40),
    Column("state", "State", 8, 14),
    Column("local", "Based on", 8, 9, justify="right"),
    Column("upstream", "Upstream", 8, 9, justify="right"),
)
# Short words for the inventory's Remote column, and a tone per state.
BADGES = {
    "in_sync": "in sync",
    "local_ahead": "ahead",
    "upstream_ahead": "behind",
    "conflict": "conflict",
    "local_only": "local only",
    "upstream_only": "upstream",
}
TONES = {
    "in_sync": "valid",
    "local_ahead": "warning",
    "upstream_ahead": "warning",
    "conflict": "expired",
    "local_only": "muted",
    "upstream_only": "muted",
}


REMOTE_COLUMN = Column("remote", "Remote", 6, 10)


def with_remote_column(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return (*columns, REMOTE_COLUMN)


def with_remote_badges(records: list[Record], states: dict[str, str]) -> list[Record]:
    """The inventory's rows with one more cell: the sync state of their secret ('—' for none)."""
    out = []
    for record in records:
        state = states.get(record.key[0])
        badge = BADGES[state] if state else "—"
        out.append(
            Record(
                key=record.key,
                cells=(*record.cells, badge),
                sort_keys=(*record.sort_keys, (0, badge) if state else (1, "")),
                tone=record.tone,
                search=f"{record.search} {badge}",
            )
        )
    return out


def first_remote(vault: Vault, preferred: str | None = None) -> RemoteRecord | None:
    """The remote named `preferred` (the one picked on the remote screen) while it exists, else
    the first by name; None when the vault has no remote."""
    remotes = vault.remotes.all()
    chosen = [r for r in remotes if r.name == preferred] or remotes
    return chosen[0] if chosen else None


def remote_status(vault: Vault, remote: RemoteRecord) -> list[ItemStatus]:
    """Blocking: run in a thread worker."""
    from knoxtui.remote import session, sync

    with session.connect(vault, remote) as client:
        return sync.status(vault, remote, client)


def sync_items(
    vault: Vault, remote: RemoteRecord, verb: str, names: list[str], *, resolve: bool = False
) -> list[Outcome]:
    """Blocking: push or pull the named items (run in a thread worker). `resolve`: in a
    conflict, push ours (`push --ours`) or pull theirs (`pull --theirs`)."""
    from knoxtui.remote import session, sync

    with session.connect(vault, remote) as client:
        if verb == "push":
            return sync.push(vault, remote, client, names, ours=resolve)
        return sync.pull(vault, remote, client, names, theirs=resolve)


def conflict_question(verb: str, remote: str, item: ItemStatus) -> tuple[str, str, str]:
    """(title, message, button) of the confirmation before a push ours / pull theirs of an item
    in conflict, naming the versions."""
    what = f"{'Secret' if item.kind == 'secret' else 'Route'} '{item.name}'"
    base = f"version {item.local_version}" if item.local_version else "no synced version"
    up = f"version {item.upstream_version}"
    said = f"{what} changed here (based on {base}) and on remote '{remote}' (now {up}).\n\n"
    if verb == "push":
        return (
            "Push ours?",
            said + f"Write your copy over {up}: the remote keeps {up} in its history. If "
            "someone writes again meanwhile, nothing is written.\n(P instead: pull theirs.)",
            f"Push ours over v{item.upstream_version}",
        )
    return (
        "Pull theirs?",
        said + f"Replace your copy with {up} from the remote: your local change is lost.\n"
        "(p instead: push ours.)",
        f"Pull theirs (v{item.upstream_version})",
    )


def sync_with_confirmation(
    screen: Any,
    verb: str,
    remote: RemoteRecord,
    item: ItemStatus | None,
    start: Any,
) -> None:
    """`start(resolve)` at once, or — for an item in conflict — after the user confirmed
    pushing ours / pulling theirs (a cancel does nothing)."""
    if item is None or item.state != "conflict":
        start(False)
        return
    from knoxtui.ui.screens.dialogs import ConfirmModal

    title, message, button = conflict_question(verb, remote.name, item)

    def answered(yes: bool | None) -> None:
        if yes:
            start(True)

    screen.app.push_screen(
        ConfirmModal(title, visible(message, multiline=True), confirm=button, danger=True),
        answered,
    )


def tell_outcomes(app: Any, verb: str, remote: str, outcomes: list[Outcome]) -> None:
    """One notification for what went through, one error per refusal (with its hint)."""
    done = [o for o in outcomes if o.action in ("pushed", "pulled")]
    unchanged = [o for o in outcomes if o.action == "unchanged"]
    if done:
        names = ", ".join(o.name for o in done[:5]) + (" …" if len(done) > 5 else "")
        direction = "to" if verb == "push" else "from"
        app.notify(f"{done[0].action.capitalize()} {names} ({direction} remote '{remote}').")
    elif unchanged and len(unchanged) == len(outcomes):
        app.notify(f"Nothing to {verb}: already in sync with remote '{remote}'.")
    for outcome in outcomes:
        if outcome.refused:
            message = (outcome.message or "") + (f"\n{outcome.hint}" if outcome.hint else "")
            app.notify(message, title=f"Not {verb}ed", severity="error", timeout=12)


def status_records(items: list[ItemStatus]) -> list[Record]:
    return [
        Record(
            key=(item.kind, item.name),
            cells=(
                item.kind,
                item.name,
                BADGES[item.state],
                f"v{item.local_version}" if item.local_version else "—",
                f"v{item.upstream_version}" if item.upstream_version else "—",
            ),
            sort_keys=(
                item.kind,
                item.name,
                item.state,
                item.local_version or 0,
                item.upstream_version or 0,
            ),
            tone=TONES[item.state],
            search=f"{item.kind} {item.name} {item.state} {BADGES[item.state]}".lower(),
        )
        for item in items
    ]


class RemoteScreen(Screen[None]):
    """Status of every secret and route against one remote: the first by name, or the one picked
    (#remote-pick, shown when the vault has several; the inventory's push and pull follow it)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("p", "push", "Push"),
        Binding("P", "pull", "Pull"),
        Binding("f5", "refresh", "Refresh"),
        Binding("m", "pick_remote", "Remote", tooltip="pick another remote (several configured)"),
    ]
    AUTO_FOCUS = "#remote-table"

    def __init__(self) -> None:
        super().__init__()
        self.remote: RemoteRecord | None = None
        self.items: list[ItemStatus] = []
        self.state = "checking"  # checking | ready | unreachable | none

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = "Team sync"
        yield Header()
        yield Select[str]([], id="remote-pick", prompt="remote")
        yield Static("", id="remote-line")
        table = RecordTable(REMOTE_COLUMNS, id="remote-table")
        table.sort_column = 0
        yield table
        yield Footer(compact=True)

    @property
    def table(self) -> RecordTable:
        return self.query_one("#remote-table", RecordTable)

    def on_mount(self) -> None:
        self.action_refresh()

    def _line(self, text: str) -> None:
        from rich.text import Text

        # remote names, URLs and a server's error text: controls made visible, never markup
        self.query_one("#remote-line", Static).update(Text(visible(text)))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        self.remote = first_remote(vault, self.knox.remote_choice)
        self._offer_remotes(vault)
        if self.remote is None:
            self.state = "none"
            self._line(
                "This vault has no remote. Add one on the command line: "
                "knoxtui remote add NAME --url URL"
            )
            return
        self.state = "checking"
        self._line(f"Checking remote '{self.remote.name}' at {self.remote.url} …")
        remote = self.remote
        self.run_worker(
            lambda: self._fetch(vault, remote), thread=True, exclusive=True, group="remote"
        )

    def _offer_remotes(self, vault: Vault) -> None:
        pick = self.query_one("#remote-pick", Select)
        names = [r.name for r in vault.remotes.all()]
        pick.display = len(names) > 1
        self.refresh_bindings()
        if pick.display:
            with self.prevent(Select.Changed):
                pick.set_options([(visible(n), n) for n in names])
                if self.remote is not None:
                    pick.value = self.remote.name

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_remote":
            return bool(self.query("#remote-pick")) and self.query_one("#remote-pick").display
        return True

    def action_pick_remote(self) -> None:
        pick = self.query_one("#remote-pick", Select)
        pick.focus()
        pick.expanded = True

    @on(Select.Changed, "#remote-pick")
    def _picked(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or (self.remote and event.value == self.remote.name):
            return
        self.knox.remote_choice = str(event.value)
        self.knox.secrets_changed()  # the inventory's Remote column follows on return
        self.action_refresh()

    def _fetch(self, vault: Vault, remote: RemoteRecord) -> None:
        try:
            items = remote_status(vault, remote)
        except KnoxError as exc:
            self.app.call_from_thread(self._unreachable, remote, exc)
            return
        self.app.call_from_thread(self._show, remote, items)

    def _show(self, remote: RemoteRecord, items: list[ItemStatus]) -> None:
        self.state, self.items = "ready", items
        self.table.set_records(status_records(items))
        counts: dict[str, int] = {}
        for item in items:
            counts[item.state] = counts.get(item.state, 0) + 1
        summary = ", ".join(f"{BADGES[s]} {n}" for s, n in counts.items()) or "nothing yet"
        self._line(f"Remote '{remote.name}' at {remote.url}: {summary}.")

    def _unreachable(self, remote: RemoteRecord, exc: KnoxError) -> None:
        self.state = "unreachable"
        self.table.set_records([])
        self._line(f"Remote '{remote.name}' is unreachable: {exc.message}")

    def _selected(self) -> tuple[str, str] | None:
        record = self.table.current
        return record.key if record is not None else None

    def action_push(self) -> None:
        self._sync("push")

    def action_pull(self) -> None:
        self._sync("pull")

    def _sync(self, verb: str) -> None:
        vault, remote, selected = self.knox.vault, self.remote, self._selected()
        if vault is None or remote is None or selected is None:
            self.notify(f"Pick an item to {verb} first.", severity="warning")
            return
        name = selected[1]
        item = next((i for i in self.items if (i.kind, i.name) == selected), None)
        sync_with_confirmation(
            self, verb, remote, item, lambda resolve: self._start(verb, name, resolve)
        )

    def _start(self, verb: str, name: str, resolve: bool) -> None:
        vault, remote = self.knox.vault, self.remote
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
            self.app.call_from_thread(self._synced, verb, remote, outcomes)

        self.run_worker(work, thread=True, exclusive=True, group="remote-sync")

    def _synced(self, verb: str, remote: RemoteRecord, outcomes: list[Outcome]) -> None:
        tell_outcomes(self.app, verb, remote.name, outcomes)
        self.knox.secrets_changed()
        self.action_refresh()
