"""A virtual table: renders only the visible lines (Line API), so 10,000 rows load, filter and sort
in milliseconds. Rows are plain `Record`s; a record's `tone` picks a component class (coloured from
theme variables in the stylesheet)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from knoxtui.safetext import has_controls, visible


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    min_width: int = 4
    max_width: int = 40
    justify: str = "left"
    # When the terminal is narrow, columns give way by priority (higher number first: shrunk to
    # min_width, then hidden); priority 0-2 are never hidden. `grow`: takes free width at wide
    # terminals beyond max_width (long CNs at 160 columns).
    priority: int = 5
    grow: bool = False


def _missing(key: Any) -> bool:
    """Sort keys shaped (0, value) are present; (1 or more, ...) mean "no value" (last always)."""
    return isinstance(key, tuple) and bool(key) and key[0] != 0


KEEP_PRIORITY = 2  # columns at or below this priority are never hidden


@dataclass(frozen=True)
class Record:
    key: Any  # what the app uses to find the thing again (e.g. (secret name, environment))
    cells: tuple[str, ...]
    sort_keys: tuple[Any, ...]
    tone: str = "plain"
    search: str = field(default="", compare=False)  # lowercase haystack for the filter

    def __post_init__(self) -> None:
        # Cells hold names, subjects, descriptions, log rows: drawn as segments, so a raw ESC
        # would reach the terminal. Controls are made visible once, here.
        if any(has_controls(str(cell)) for cell in self.cells):
            object.__setattr__(self, "cells", tuple(visible(cell) for cell in self.cells))


TONES = ("plain", "valid", "warning", "urgent", "expired", "not_yet_valid", "muted", "error")


class RecordTable(ScrollView, can_focus=True):
    """Fixed header, cursor row, filter and sort done on the record list, never on widgets."""

    COMPONENT_CLASSES = {
        "record-table--header",
        "record-table--header-sorted",
        "record-table--cursor",
        *(f"record-table--tone-{tone}" for tone in TONES),
    }

    DEFAULT_CSS = """
    RecordTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class RowSelected(Message):
        def __init__(self, table: RecordTable, record: Record) -> None:
            super().__init__()
            self.table = table
            self.record = record

        @property
        def control(self) -> RecordTable:
            return self.table

    class RowHighlighted(Message):
        def __init__(self, table: RecordTable, record: Record) -> None:
            super().__init__()
            self.table = table
            self.record = record

        @property
        def control(self) -> RecordTable:
            return self.table

    class SortChanged(Message):
        def __init__(self, table: RecordTable, column: int, reverse: bool) -> None:
            super().__init__()
            self.table = table
            self.column = column
            self.reverse = reverse

        @property
        def control(self) -> RecordTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self._all: list[Record] = []
        self._view: list[Record] = []
        self._widths = [c.min_width for c in self.columns]
        self._natural = [c.min_width for c in self.columns]  # what the content would like
        self.filter_text = ""
        self.filter_predicate: Callable[[Record], bool] | None = None
        self.sort_column: int | None = None
        self.sort_reverse = False

    # -- data ---------------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        """The rows shown, in order (after filter and sort)."""
        return self._view

    @property
    def all_records(self) -> list[Record]:
        return self._all

    @property
    def row_count(self) -> int:
        return len(self._view)

    @property
    def current(self) -> Record | None:
        if 0 <= self.cursor_row < len(self._view):
            return self._view[self.cursor_row]
        return None

    def set_records(self, records: Sequence[Record], *, keep_cursor: bool = True) -> None:
        previous = self.current.key if (keep_cursor and self.current) else None
        self._all = list(records)
        widths = [max(c.min_width, len(c.label) + 2) for c in self.columns]
        for record in self._all:
            for index, cell in enumerate(record.cells):
                if len(cell) > widths[index]:
                    widths[index] = len(cell)
        self._natural = widths
        self._fit()
        self._rebuild(previous)

    def _fit(self) -> None:
        """Column widths for the width on screen: natural (capped at max_width); too wide, the
        low-priority columns shrink, then hide; room to spare goes to `grow` columns."""
        columns = self.columns
        widths = [min(w, c.max_width) for w, c in zip(self._natural, columns, strict=True)]
        available = self.scrollable_content_region.width if self.is_mounted else 0
        if available <= 0:
            self._widths = widths
            return

        def total() -> int:
            shown = [w for w in widths if w > 0]
            return sum(shown) + len(shown) + 1

        by_priority = sorted(range(len(columns)), key=lambda i: -columns[i].priority)
        for index in by_priority:  # 1. shrink the less important columns to their minimum
            if total() <= available:
                break
            if columns[index].priority > KEEP_PRIORITY:
                widths[index] = max(columns[index].min_width, widths[index] - (total() - available))
        for index in by_priority:  # 2. hide them, least important first
            if total() <= available:
                break
            if columns[index].priority > KEEP_PRIORITY:
                widths[index] = 0
        for index in by_priority:  # 3. the kept ones give way last
            if total() <= available:
                break
            widths[index] = max(columns[index].min_width, widths[index] - (total() - available))
        spare = available - total()
        growers = [i for i, c in enumerate(columns) if c.grow and widths[i] > 0]
        while spare > 0 and growers:  # 4. free width to the long columns that want it
            wanting = [i for i in growers if widths[i] < self._natural[i]]
            if not wanting:
                break
            for index in wanting:
                if spare <= 0:
                    break
                widths[index] += 1
                spare -= 1
        self._widths = widths

    def on_resize(self) -> None:
        self._fit()
        self.virtual_size = Size(self._total_width, len(self._view) + 1)
        self.refresh()

    def watch_show_vertical_scrollbar(self) -> None:
        # Rows added or filtered away bring or take the scrollbar without a resize: the width
        # for the columns changed all the same.
        self.on_resize()

    @property
    def hidden_columns(self) -> list[str]:
        """Keys of the columns hidden for lack of width."""
        return [c.key for c, w in zip(self.columns, self._widths, strict=True) if w == 0]

    def set_filter(self, text: str, predicate: Callable[[Record], bool] | None = None) -> None:
        self.filter_text = text.strip().lower()
        self.filter_predicate = predicate
        self._rebuild(self.current.key if self.current else None)

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = (not self.sort_reverse) if self.sort_column == column else False
        self.sort_column = column
        self.sort_reverse = reverse
        self._rebuild(self.current.key if self.current else None)
        self.post_message(self.SortChanged(self, column, reverse))

    def _rebuild(self, keep_key: Any = None) -> None:
        rows = self._all
        needle = self.filter_text
        if needle:
            terms = needle.split()
            rows = [r for r in rows if all(t in r.search for t in terms)]
        if self.filter_predicate is not None:
            rows = [r for r in rows if self.filter_predicate(r)]
        if self.sort_column is not None:
            index = self.sort_column
            # Reversed or not, rows without a value (a string secret's Days) stay last.
            present = [r for r in rows if not _missing(r.sort_keys[index])]
            absent = [r for r in rows if _missing(r.sort_keys[index])]
            present.sort(key=lambda r: r.sort_keys[index], reverse=self.sort_reverse)
            absent.sort(key=lambda r: r.sort_keys[index])
            rows = present + absent
        elif rows is self._all:
            rows = list(rows)
        self._view = rows
        cursor = 0
        if keep_key is not None:
            for position, record in enumerate(rows):
                if record.key == keep_key:
                    cursor = position
                    break
        self.virtual_size = Size(self._total_width, len(rows) + 1)
        self.cursor_row = min(cursor, max(0, len(rows) - 1))
        self._scroll_cursor_into_view()
        self.refresh()

    @property
    def _total_width(self) -> int:
        shown = [w for w in self._widths if w > 0]
        return sum(shown) + len(shown) + 1

    # -- navigation ---------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        record = self.current
        if record is not None:
            self.post_message(self.RowHighlighted(self, record))

    def move_cursor(self, row: int) -> None:
        if not self._view:
            return
        self.cursor_row = max(0, min(row, len(self._view) - 1))
        self._scroll_cursor_into_view()

    def _scroll_cursor_into_view(self) -> None:
        body = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        body = max(1, self.scrollable_content_region.height - 1)
        self.move_cursor(self.cursor_row + direction * body)

    def action_jump(self, where: int) -> None:
        self.move_cursor(0 if where == 0 else len(self._view) - 1)

    def action_select(self) -> None:
        record = self.current
        if record is not None:
            self.post_message(self.RowSelected(self, record))

    def _column_at(self, x: int) -> int | None:
        position = 1
        for index, width in enumerate(self._widths):
            if width == 0:
                continue
            if position <= x < position + width + 1:
                return index
            position += width + 1
        return None

    def on_click(self, event: events.Click) -> None:
        x = event.x + int(self.scroll_x)
        if event.y == 0:
            column = self._column_at(x)
            if column is not None:
                self.sort_by(column)
            return
        row = int(self.scroll_y) + event.y - 1
        if 0 <= row < len(self._view):
            if row == self.cursor_row and event.chain >= 2:
                self.action_select()
            self.move_cursor(row)

    # -- rendering ----------------------------------------------------------------------------
    def _format(self, text: str, width: int, justify: str) -> str:
        if len(text) > width:
            return text[: max(0, width - 1)] + "…"
        return text.rjust(width) if justify == "right" else text.ljust(width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_x)
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("record-table--header")
            sorted_style = self.get_component_rich_style("record-table--header-sorted")
            segments = [Segment(" ", header)]
            for index, (column, col_width) in enumerate(
                zip(self.columns, self._widths, strict=True)
            ):
                if col_width == 0:
                    continue
                label = column.label
                style = header
                if index == self.sort_column:
                    label = f"{label} {'▼' if self.sort_reverse else '▲'}"
                    style = sorted_style
                segments.append(Segment(self._format(label, col_width, column.justify), style))
                segments.append(Segment(" ", header))
            strip = Strip(segments).crop(scroll_x, scroll_x + width)
            return strip.extend_cell_length(width, header)
        row_index = int(self.scroll_y) + y - 1
        if row_index >= len(self._view):
            return Strip.blank(width, base)
        record = self._view[row_index]
        style = self.get_component_rich_style(f"record-table--tone-{record.tone}")
        if row_index == self.cursor_row and self.has_focus:
            # The cursor's background and weight only: the row keeps its status colour.
            cursor = self.get_component_rich_style("record-table--cursor")
            style = style + Style(bgcolor=cursor.bgcolor, bold=cursor.bold)
        elif row_index == self.cursor_row:
            style = style + Style(reverse=True)
        segments = [Segment(" ", style)]
        for cell, column, col_width in zip(record.cells, self.columns, self._widths, strict=True):
            if col_width == 0:
                continue
            segments.append(Segment(self._format(cell, col_width, column.justify), style))
            segments.append(Segment(" ", style))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, style)

    def on_focus(self) -> None:
        self.refresh_line(self.cursor_row + 1 - int(self.scroll_y))
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def line_text(self, row: int) -> Text:
        """The plain text of one shown row (tests, copy)."""
        record = self._view[row]
        return Text("  ".join(record.cells))
