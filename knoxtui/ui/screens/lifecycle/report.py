"""The auditors' inventory report (certificate metadata, never values)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Select,
    Static,
)

from knoxtui.ui.screens.lifecycle.base import LifecycleModal

if TYPE_CHECKING:
    pass

REPORT_FORMATS = ("csv", "json", "md")


class ReportModal(LifecycleModal):
    """Writes the inventory report (metadata only, never values); returns the path or None."""

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with Vertical(id="dialog", classes="lc-dialog"):
            yield Label("Inventory report (certificate metadata, never values)", id="dialog-title")
            yield Label("Format")
            yield Select([(f, f) for f in REPORT_FORMATS], id="report-format", allow_blank=False)
            yield Label("Write to (mode 0600)")
            yield Input(id="report-path")
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Write", id="report-write", variant="primary")

    def on_mount(self) -> None:
        self._suggest("csv")

    @on(Select.Changed, "#report-format")
    def _format_changed(self, event: Select.Changed) -> None:
        self._suggest(str(event.value))

    def _suggest(self, fmt: str) -> None:
        stamp = f"{self.knox.now():%Y%m%d}"
        self.query_one("#report-path", Input).value = str(
            Path.cwd() / f"knoxtui-inventory-{stamp}.{fmt}"
        )

    @on(Button.Pressed, "#report-write")  # Enter in the path field presses it too (base class)
    def _write(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.export import write_private_file
        from knoxtui.lifecycle.inventory import inventory_report, render

        vault = self.knox.vault
        raw = self.query_one("#report-path", Input).value.strip()
        if vault is None or not raw:
            self._status("Type the path to write.", ok=False)
            return
        fmt = str(self.query_one("#report-format", Select).value)
        path = Path(raw).expanduser()
        try:
            text = render(inventory_report(vault), fmt)
            write_private_file(path, text.encode("utf-8"))
        except KnoxError as exc:
            self._error(exc, "No report written")
            self._status(f"✘ {exc.message}", ok=False)
            return
        self.notify(f"Inventory report written to {path}.")
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
