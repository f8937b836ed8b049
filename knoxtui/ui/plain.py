"""Untrusted text for the console: never markup, every control character visible.

Textual parses a `str` given to Static, Label, Tree nodes and notifications as markup (`[/x]`
raises MarkupError, `[red]` is eaten) and passes ESC through to the terminal. Text from a file, a
server, a secrets server or the user goes to widgets as `plain(text)` instead.
"""

from __future__ import annotations

from rich.text import Text

from knoxtui.safetext import visible


def plain(text: object, *, multiline: bool = False, style: str = "") -> Text:
    """A Rich Text that shows `text` as typed, with controls escaped (`\\x1b`)."""
    return Text(visible("" if text is None else text, multiline=multiline), style=style)
