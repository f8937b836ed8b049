"""A text area that can draw its text as bullets: an API key pasted into the import screen is not
left on screen (or in a screenshot, or over a shoulder). Only the drawing changes: the text,
cursor, selection and paste work as in any text area."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import TextArea

BULLET = "•"
WIDE_BULLET = "＊"  # two cells, for a two-cell character, so the cursor stays where it is


def mask(line: str) -> str:
    """Each character as a bullet of the same width; whitespace stays (tabs expand as before)."""
    return "".join(
        ch if ch.isspace() else (BULLET if cell_len(ch) == 1 else WIDE_BULLET) for ch in line
    )


class MaskedTextArea(TextArea):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._masked = False

    @property
    def masked(self) -> bool:
        return self._masked

    @masked.setter
    def masked(self, value: bool) -> None:
        if value == self._masked:
            return
        self._masked = value
        # Rendered lines are cached by position, not by content: drop them to redraw.
        cache = getattr(self, "_line_cache", None)
        if cache is not None:
            cache.clear()
        self.refresh()

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if not self._masked:
            return line
        return Text(mask(line.plain), end="", no_wrap=True)
