"""`?`: every key of the screen below, and the app-wide ones."""

from __future__ import annotations

import re

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

GENERAL = (
    ("ctrl+p", "command palette: jump to any secret or route, run any action, switch theme"),
    ("ctrl+l", "lock now (also after idle): decrypted values dropped; ctrl+l locks the agent too"),
    ("ctrl+q", "quit"),
    ("?", "this help"),
    ("tab / shift+tab", "next / previous field"),
)


def _key_name(key: str) -> str:
    return {"slash": "/", "question_mark": "?", "escape": "esc"}.get(key, key)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, below: Screen) -> None:
        super().__init__()
        self.below = below
        self.rows: list[tuple[str, str]] = []
        self.texts: dict[str, str] = {}
        seen = set()
        for binding in getattr(below, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description and binding.key not in seen:
                seen.add(binding.key)
                keys = ", ".join(_key_name(k) for k in binding.key.split(","))
                self.rows.append((keys, binding.description))
                if binding.tooltip:  # short footer labels get their full meaning here
                    self.texts[keys] = f"{binding.description}: {binding.tooltip}"

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        title = re.sub(
            r"(?<=[a-z])(?=[A-Z])", " ", type(self.below).__name__.removesuffix("Screen")
        )
        table.add_row(f"[b]{title}[/b]", "")
        for keys, text in self.rows:
            table.add_row(keys, self.texts.get(keys, text))
        table.add_row("", "")
        table.add_row("[b]Everywhere[/b]", "")
        for key, text in GENERAL:
            table.add_row(key, text)
        table.add_row("", "")
        table.add_row("esc, q, ?", "close this help")
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="help"):
            yield Static(table)

    async def action_dismiss(self, result: object = None) -> None:
        self.dismiss(None)
