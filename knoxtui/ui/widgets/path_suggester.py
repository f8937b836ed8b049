"""File path completion for inputs: folders and files with the certificate/key extensions."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

CERT_EXTENSIONS = (".pem", ".crt", ".cer", ".key", ".der", ".p12", ".pfx", ".p7b")


class PathSuggester(Suggester):
    def __init__(self, extensions: tuple[str, ...] = CERT_EXTENSIONS) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.extensions = extensions

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.extensions)


def complete_path(value: str, extensions: tuple[str, ...] = CERT_EXTENSIONS) -> str | None:
    """The first completion of `value` (folders end with '/'), or None."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, _, stem = expanded.rpartition(os.sep)
    base = Path(folder or ".") if folder or not expanded.startswith(os.sep) else Path(os.sep)
    if expanded.startswith(os.sep) and not folder:
        base = Path(os.sep)
    try:
        entries = sorted(os.scandir(base), key=lambda e: (not e.is_dir(), e.name))
    except OSError:
        return None
    for entry in entries:
        if not entry.name.startswith(stem) or entry.name == stem:
            continue
        if entry.name.startswith(".") and not stem.startswith("."):
            continue
        is_dir = entry.is_dir()
        if not is_dir and not entry.name.lower().endswith(extensions):
            continue
        completed = entry.name[len(stem) :] + (os.sep if is_dir else "")
        return value + completed
    return None
