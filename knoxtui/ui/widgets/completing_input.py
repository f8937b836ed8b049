"""An Input whose Tab takes the suggestion shown before moving on (a half-typed secret name was
left behind when Tab only moved the focus)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class CompletingInput(Input):
    BINDINGS = [Binding("tab", "complete_and_next", "Complete", show=False)]

    def action_complete_and_next(self) -> None:
        suggestion = self._suggestion
        if suggestion and suggestion != self.value and suggestion.startswith(self.value):
            self.value = suggestion
            self.cursor_position = len(suggestion)
        self.screen.focus_next()
