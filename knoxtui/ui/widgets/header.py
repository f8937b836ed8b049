"""The app's header: Textual's, tolerant of a title change that arrives while it is being torn down.

Textual's Header updates its title from a watcher on the app's and the screen's title; when a
screen sets its sub-title in `on_mount` just as the app switches away (ctrl+l while the inventory
is still mounting), the watcher runs after the header's children are gone and raised NoMatches,
which ended the app.
"""

from __future__ import annotations

import contextlib

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widgets import Header as TextualHeader
from textual.widgets._header import HeaderTitle


class Header(TextualHeader):
    def _on_mount(self, event: Mount) -> None:
        # Replaces the base handler (prevent_default), registering the same watchers.
        event.prevent_default()

        async def set_title() -> None:
            with contextlib.suppress(NoScreen, NoMatches):
                self.query_one(HeaderTitle).update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
