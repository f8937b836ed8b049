"""The lifecycle dialogs' shared modal: Escape closes, Enter presses the main button, one
status line and one way to show a KnoxError."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Input,
    Static,
)

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp


class LifecycleModal(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "cancel", "Close")]
    # The first field, not the scrolling dialog itself (which looked like nothing focused).
    AUTO_FOCUS = "#dialog Input, #dialog Select, #dialog SelectionList, #dialog Checkbox"

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def _error(self, exc: Exception, title: str) -> None:
        message = getattr(exc, "message", None) or f"Unexpected error ({type(exc).__name__})."
        hint = getattr(exc, "hint", None)
        self.notify(f"{message}\n{hint}" if hint else message, title=title, severity="error")

    def _status(self, text: str | Text, *, ok: bool | None = None) -> None:
        widget = self.query_one(".lc-status", Static)
        widget.set_classes("lc-status" + ("" if ok is None else " lc-ok" if ok else " lc-fail"))
        widget.update(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter_presses_the_main_button(self, event: Input.Submitted) -> None:
        """Enter in a field does what the primary button does (keyboard users need no Tab dance)."""
        event.stop()
        for button in self.query(Button):
            # region.area: on screen, not in a hidden step of the dialog
            if button.variant == "primary" and not button.disabled and button.region.area:
                button.press()
                return
