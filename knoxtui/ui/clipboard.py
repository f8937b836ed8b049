"""Copying: pyperclip where the desktop has a clipboard, else OSC 52 through the terminal
(`App.copy_to_clipboard`, works over SSH and in tmux). A copied secret value is cleared after
30 seconds; no clipboard at all is a notice, never a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

SECRET_CLEAR_SECONDS = 30.0


class Clipboard:
    def __init__(self, app: App) -> None:
        self.app = app
        self.last_method: str | None = None
        self.holds_secret = False
        self._timer: Timer | None = None
        self._secret_value: str | None = None

    def _system_copy(self, text: str) -> bool:
        try:
            import pyperclip

            pyperclip.copy(text)
        except Exception:
            return False
        return True

    def _system_paste(self) -> str | None:
        try:
            import pyperclip

            return str(pyperclip.paste())
        except Exception:
            return None

    def copy(self, text: str, what: str, *, secret: bool = False) -> str:
        """Copy `text`; returns the method used ("system" or "terminal")."""
        if self._system_copy(text):
            method = "system"
        else:
            self.app.copy_to_clipboard(text)
            method = "terminal"
        self.last_method = method
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.holds_secret = secret
        self._secret_value = text if secret else None
        if secret:
            self._timer = self.app.set_timer(SECRET_CLEAR_SECONDS, self.clear_now, name="clip")
            self.app.notify(
                f"{what} copied; the clipboard is cleared in {int(SECRET_CLEAR_SECONDS)} s.",
                severity="warning",
            )
        else:
            where = "clipboard" if method == "system" else "terminal clipboard (OSC 52)"
            self.app.notify(f"{what} copied to the {where}.")
        return method

    def clear_now(self) -> None:
        """Wipe a secret we put on the clipboard (only if it is still ours on the system one)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.holds_secret:
            return
        if self.last_method == "system":
            if self._system_paste() == self._secret_value:
                self._system_copy("")
        else:
            self.app.copy_to_clipboard("")
        self.holds_secret = False
        self._secret_value = None
