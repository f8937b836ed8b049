"""Rotate: repoint routes from OLD to NEW, rehearsed first if wanted (in a thread worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)
from textual.worker import get_current_worker

from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.ui.screens.lifecycle.base import LifecycleModal

if TYPE_CHECKING:
    pass


class RotateModal(LifecycleModal):
    """Returns the RotationResult (None when nothing was rotated)."""

    class Rehearsed(Message, bubble=False):
        def __init__(self, rehearsal: Any, error: Exception | None = None) -> None:
            super().__init__()
            self.rehearsal = rehearsal
            self.error = error

    class Progress(Message, bubble=False):
        def __init__(self, environment: str, done: int, total: int) -> None:
            super().__init__()
            self.environment, self.done, self.total = environment, done, total

    def __init__(self, old: str, new: str | None = None) -> None:
        super().__init__()
        self.old = old
        self.new = new
        self.plan: Any = None
        self.rehearsal: Any = None

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="dialog", classes="lc-dialog lc-wide"):
            yield Label(f"Rotate routes away from {self.old}", id="dialog-title")
            yield Label("New certificate secret")
            yield Select([], id="rotate-new", prompt="(choose the new secret)")
            yield Label("Routes to move (space toggles; all by default)", id="rotate-routes-label")
            yield SelectionList[str](id="rotate-routes")
            yield Static("", id="rotate-plan")
            with Horizontal(id="rotate-rehearse-row"):
                yield Label("Rehearse in ")
                yield Select([], id="rotate-env", prompt="environment")
                yield Button("Rehearse", id="rotate-rehearse")
            yield Static("", id="rotate-rehearsal")
            with Horizontal(id="rotate-grace-row"):
                yield Label("Grace days for the old secret ")
                yield Input("30", id="rotate-grace", type="integer")
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Rotate…", id="rotate", variant="warning")

    def on_mount(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        candidates = [
            s.name
            for s in vault.list_secrets()
            if s.secret_type == "certificate" and s.name != self.old
        ]
        select = self.query_one("#rotate-new", Select)
        select.set_options([(name, name) for name in candidates])
        if self.new in candidates:
            select.value = self.new
        users = vault.routes_using(self.old)
        routes = self.query_one("#rotate-routes", SelectionList)
        routes.add_options([(name, name, True) for name in users])
        routes.display = len(users) > 1
        self.query_one("#rotate-routes-label").display = len(users) > 1
        self._refresh_plan()

    @property
    def chosen_routes(self) -> tuple[str, ...]:
        """The routes ticked, or () for all (which also moves oauth2 secrets using OLD)."""
        routes = self.query_one("#rotate-routes", SelectionList)
        chosen = tuple(str(v) for v in routes.selected)
        return () if len(chosen) == routes.option_count else chosen

    @on(SelectionList.SelectedChanged, "#rotate-routes")
    def _routes_changed(self) -> None:
        self.rehearsal = None
        self.query_one("#rotate-rehearsal", Static).update("")
        self._refresh_plan()

    @on(Select.Changed, "#rotate-new")
    def _new_changed(self, event: Select.Changed) -> None:
        self.new = None if event.value is Select.BLANK else str(event.value)
        self.rehearsal = None
        self.query_one("#rotate-rehearsal", Static).update("")
        self._refresh_plan()

    def _refresh_plan(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.rotation import plan_rotation

        vault = self.knox.vault
        widget = self.query_one("#rotate-plan", Static)
        self.plan = None
        self.query_one("#rotate", Button).disabled = True
        self.query_one("#rotate-rehearse-row").display = False
        if vault is None or not self.new:
            widget.update("Choose the new secret to see the plan.")
            return
        try:
            if self.query_one("#rotate-routes", SelectionList).option_count and not (
                self.query_one("#rotate-routes", SelectionList).selected
            ):
                widget.update("Tick at least one route.")
                return
            plan = plan_rotation(vault, self.old, self.new, routes=self.chosen_routes)
        except KnoxError as exc:
            widget.update(Text(f"✘ {exc.message}", style=self.knox.status_colour("expired")))
            return
        self.plan = plan
        text = Text()
        text.append("Routes to repoint\n", style="bold")
        for change in plan.changes:
            text.append(f"  • {change.route}: {', '.join(change.fields)}\n")
        if not plan.changes:
            text.append("  (none)\n")
        for name in plan.oauth2_changes:
            text.append(f"  • oauth2 secret {name}: certificate_secret_id\n")
        if plan.untouched:
            text.append("Untouched (keep the old secret): ", style="bold")
            text.append(", ".join(plan.untouched) + "\n")
        for note in plan.notes:
            text.append(f"⚠ {note}\n", style=self.knox.status_colour("warning"))
        widget.update(text)
        self.query_one("#rotate", Button).disabled = not (plan.changes or plan.oauth2_changes)
        environments = self._environments()
        env_select = self.query_one("#rotate-env", Select)
        env_select.set_options([(label, env) for env, label in environments])
        if environments and plan.changes:
            usable = [env for env, label in environments if label == env]
            env_select.value = (usable or [environments[0][0]])[0]
            self.query_one("#rotate-rehearse-row").display = True

    def _environments(self) -> list[tuple[str, str]]:
        """(environment, label) to rehearse in: OLD's environments first (where the routes run
        today), then NEW's; one NEW has no value for says so (the run would fail for NEW)."""
        vault = self.knox.vault
        if vault is None or not self.new:
            return []
        old_envs = list(vault.get_secret(self.old).environments)
        new_envs = list(vault.get_secret(self.new).environments)
        named = [e for e in sorted(old_envs) if e != "default"]
        named += [e for e in sorted(new_envs) if e != "default" and e not in named]
        envs = named or ["default"]
        covers_all = "default" in new_envs
        return [
            (env, env if covers_all or env in new_envs else f"{env} ({self.new} has no value)")
            for env in envs
        ]

    @on(Button.Pressed, "#rotate-rehearse")
    def _rehearse(self) -> None:
        env = self.query_one("#rotate-env", Select).value
        if self.plan is None or env is Select.BLANK or not self.new:
            return
        self.query_one("#rotate-rehearse", Button).disabled = True
        self.query_one("#rotate-rehearsal", Static).update(
            f"Rehearsing every route with {self.old} and with {self.new} in {env}…"
        )
        self.rehearse_in(str(env), self.chosen_routes)

    def on_rotate_modal_progress(self, message: Progress) -> None:
        """'k of N' while the rehearsal runs (on the app's thread; the dialog may be closed)."""
        if not self.is_attached or self.rehearsal is not None:
            return
        environment, done, total = message.environment, message.done, message.total
        try:
            widget = self.query_one("#rotate-rehearsal", Static)
        except NoMatches:
            return
        widget.update(
            f"Rehearsing with {self.old} and with {self.new} in {environment}: "
            f"{done} of {total} runs ({total // 2} route(s), each with OLD and with NEW)…"
            "  Esc closes; runs under way finish in the background."
        )

    @work(thread=True, exclusive=True, group="rehearse")
    def rehearse_in(self, environment: str, routes: tuple[str, ...]) -> None:
        from knoxtui.lifecycle.rotation import rehearse

        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            # post_message is thread-safe and never waits for the app: a busy or closing app
            # does not hold the rehearsal up (call_from_thread would block this thread).
            if not worker.is_cancelled:
                self.post_message(self.Progress(environment, done, total))

        try:
            found = rehearse(
                self.knox.vault,  # type: ignore[arg-type]
                self.old,
                self.new or "",
                environment,
                routes=routes,
                progress=progress,
            )
        except Exception as exc:
            self.post_message(self.Rehearsed(None, exc))
            return
        self.post_message(self.Rehearsed(found))

    def on_rotate_modal_rehearsed(self, message: Rehearsed) -> None:
        self.query_one("#rotate-rehearse", Button).disabled = False
        widget = self.query_one("#rotate-rehearsal", Static)
        if message.rehearsal is None:
            self._error(message.error or Exception(), "Rehearsal failed")
            widget.update("")
            return
        self.rehearsal = message.rehearsal
        widget.update(self.rehearsal_text(message.rehearsal))
        self._status(message.rehearsal.verdict_sentence, ok=message.rehearsal.ok)

    def rehearsal_text(self, rehearsal: Any) -> Any:
        from rich.table import Table

        good, bad = self.knox.status_colour("valid"), self.knox.status_colour("expired")
        table = Table(expand=True, title=f"Rehearsal in {rehearsal.environment}")
        table.add_column("route", no_wrap=True)
        table.add_column(f"OLD {rehearsal.old}", ratio=1)
        table.add_column(f"NEW {rehearsal.new}", ratio=1)
        for pair in rehearsal.runs:
            cells = []
            for run in (pair.old, pair.new):
                cell = Text()
                cell.append(
                    ("✔ " if run.ok else "✘ ") + run.code, style=f"bold {good if run.ok else bad}"
                )
                if run.status_code is not None:
                    cell.append(f"  HTTP {run.status_code}")
                diagnosis = getattr(run.result, "diagnosis", None)
                cell.append(f"\n{diagnosis.summary if diagnosis is not None else run.summary}")
                cells.append(cell)
            route = Text(pair.route + ("\nregression" if pair.regression else ""))
            if pair.regression:
                route.stylize(bad)
            table.add_row(route, *cells)
        return table

    @on(Button.Pressed, "#rotate")
    def _rotate(self) -> None:
        raw = self.query_one("#rotate-grace", Input).value.strip() or "30"
        try:
            grace = int(raw)
        except ValueError:
            grace = -1
        if grace < 0:
            self._status("Grace days must be a whole number, 0 or more.", ok=False)
            return
        if self.plan is None or not self.new:
            return
        routes = ", ".join(c.route for c in self.plan.changes) or "no route"
        warn = ""
        if self.rehearsal is not None and not self.rehearsal.ok:
            warn = f"\n⚠ {self.rehearsal.verdict_sentence}"
        elif self.rehearsal is None:
            warn = "\n(Not rehearsed.)"
        old, new, chosen = self.old, self.new, self.chosen_routes
        keep = (
            f"'{old}' stays for the untouched routes ({', '.join(self.plan.untouched)})."
            if self.plan.untouched
            else f"'{old}' stays, marked retiring for {grace} days."
        )

        def answered(ok: bool | None) -> None:
            if ok:
                self._do_rotate(old, new, grace, chosen)

        self.app.push_screen(
            ConfirmModal(
                "Rotate?",
                f"Repoint {routes} from '{old}' to '{new}' in one transaction (audited). "
                f"{keep}{warn}",
                confirm="Rotate",
                danger=True,
            ),
            answered,
        )

    def _do_rotate(self, old: str, new: str, grace: int, routes: tuple[str, ...]) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.rotation import rotate

        vault = self.knox.vault
        if vault is None:
            return
        try:
            result = rotate(vault, old, new, routes=routes, grace_days=grace)
        except KnoxError as exc:
            self._error(exc, "Nothing rotated")
            self._status(f"✘ {exc.message} Nothing was changed.", ok=False)
            return
        self.knox.secrets_changed()
        until = f" until {result.grace_until:%Y-%m-%d}" if result.grace_until else ""
        self.notify(
            f"Rotated {len(result.plan.changes)} route(s) to '{new}'; '{old}' is retiring{until}."
        )
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        # Closed while rehearsing: no more progress; the runs under way end by their timeouts.
        self.workers.cancel_group(self, "rehearse")
