"""Copying: a clipboard helper that reads the value on stdin (wl-copy, xclip, xsel, pbcopy), else
OSC 52 through the terminal (`App.copy_to_clipboard`, works over SSH and in tmux). A copied secret
value is cleared after 30 seconds; no clipboard at all is a notice, never a crash.

Never a helper that takes the value as an argument: a command line is readable by every local
user (`ps`), which is how pyperclip's qdbus/klipper fallback leaked values.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

SECRET_CLEAR_SECONDS = 30.0
HELPER_TIMEOUT_SECONDS = 3.0

# (copy command, paste command): copy reads the value on stdin; paste writes it to stdout.
Helper = tuple[tuple[str, ...], tuple[str, ...]]
_WAYLAND: Helper = (("wl-copy",), ("wl-paste", "--no-newline"))
_XCLIP: Helper = (
    ("xclip", "-selection", "clipboard", "-in"),
    ("xclip", "-selection", "clipboard", "-out"),
)
_XSEL: Helper = (("xsel", "--clipboard", "--input"), ("xsel", "--clipboard", "--output"))
_MACOS: Helper = (("pbcopy",), ("pbpaste",))


def clipboard_helpers() -> list[Helper]:
    """The stdin-fed helpers worth trying here, best first (only those on PATH)."""
    if sys.platform == "darwin":
        candidates: list[Helper] = [_MACOS]
    else:
        candidates = []
        if os.environ.get("WAYLAND_DISPLAY"):
            candidates.append(_WAYLAND)
        if os.environ.get("DISPLAY"):
            candidates += [_XCLIP, _XSEL]
    return [pair for pair in candidates if shutil.which(pair[0][0]) is not None]


class Clipboard:
    def __init__(self, app: App) -> None:
        self.app = app
        self.last_method: str | None = None
        self.holds_secret = False
        self._timer: Timer | None = None
        self._secret_value: str | None = None
        self._helper: Helper | None = None

    def _system_copy(self, text: str) -> bool:
        for helper in clipboard_helpers():
            try:
                done = subprocess.run(
                    list(helper[0]),
                    input=text.encode("utf-8"),
                    # The helper may stay in the background owning the selection: no pipes to
                    # wait on, or run() would block until it exits.
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=HELPER_TIMEOUT_SECONDS,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0:
                self._helper = helper
                return True
        return False

    def _system_paste(self) -> str | None:
        if self._helper is None:
            return None
        try:
            done = subprocess.run(
                list(self._helper[1]),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=HELPER_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", "replace")

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
                markup=False,
            )
        else:
            where = "clipboard" if method == "system" else "terminal clipboard (OSC 52)"
            self.app.notify(f"{what} copied to the {where}.", markup=False)
        return method

    def clear_now(self) -> None:
        """Wipe a secret we put on the clipboard (only if it is still ours on the system one)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.holds_secret:
            return
        if self.last_method == "system":
            current = self._system_paste()
            # Unknown content (no paste helper) is cleared too: better an empty clipboard than a
            # secret left on it.
            if current is None or current == self._secret_value:
                self._system_copy("")
        else:
            self.app.copy_to_clipboard("")
        self.holds_secret = False
        self._secret_value = None
