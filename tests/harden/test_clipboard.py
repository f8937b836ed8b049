"""Issue 11 item 9: a copied value never reaches a command line (`ps` shows argv to every local
user). Real helper programs on PATH record their argv and stdin; the app is a real Textual app."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.app import App

from knoxtui.ui import clipboard
from knoxtui.ui.clipboard import Clipboard

VALUE = "sk_live_Pelican_0042"

# Records its arguments; with -o/--output prints what it stored, else stores its stdin.
HELPER = """#!/bin/sh
echo "$0 $*" >> "{rec}/argv"
case "$*" in
  *-out*|*--output*) /bin/cat "{rec}/store" 2>/dev/null ;;
  *) /bin/cat > "{rec}/store" ;;
esac
"""


def _install(folder: Path, names: list[str], rec: Path) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text(HELPER.format(rec=rec))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An X11 session (DISPLAY set) whose PATH holds only our helpers."""
    bin_dir, rec = tmp_path / "bin", tmp_path / "rec"
    rec.mkdir()
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":97")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return bin_dir, rec


async def test_klipper_only_desktop_uses_osc52_never_argv(desktop: tuple[Path, Path]) -> None:
    """With only qdbus/klipper (pyperclip's fallback) the value goes by OSC 52, and qdbus never
    runs."""
    bin_dir, rec = desktop
    _install(bin_dir, ["qdbus", "klipper"], rec)
    app: App[None] = App()
    async with app.run_test():
        clip = Clipboard(app)
        method = clip.copy(VALUE, "Secret value", secret=True)
        assert method == "terminal"
        assert app.clipboard == VALUE
        clip.clear_now()
        assert app.clipboard == ""
    assert not (rec / "argv").exists()


async def test_xclip_gets_the_value_on_stdin_and_clear_wipes_it(
    desktop: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, rec = desktop
    _install(bin_dir, ["xclip", "qdbus", "klipper"], rec)
    monkeypatch.setattr(clipboard, "SECRET_CLEAR_SECONDS", 30.0)
    app: App[None] = App()
    async with app.run_test():
        clip = Clipboard(app)
        assert clip.copy(VALUE, "Secret value", secret=True) == "system"
        assert (rec / "store").read_text() == VALUE
        clip.clear_now()
        assert (rec / "store").read_text() == ""
    calls = (rec / "argv").read_text()
    assert VALUE not in calls
    assert "qdbus" not in calls
    assert "xclip -selection clipboard -in" in calls


async def test_someone_elses_copy_is_left_alone(desktop: tuple[Path, Path]) -> None:
    bin_dir, rec = desktop
    _install(bin_dir, ["xsel"], rec)
    app: App[None] = App()
    async with app.run_test():
        clip = Clipboard(app)
        assert clip.copy(VALUE, "Secret value", secret=True) == "system"
        (rec / "store").write_text("the user's own text")
        clip.clear_now()
        assert (rec / "store").read_text() == "the user's own text"
    assert VALUE not in (rec / "argv").read_text()


def test_wayland_first_then_x11(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _install(tmp_path, ["wl-copy", "xclip"], tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DISPLAY", ":1")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    names = [pair[0][0] for pair in clipboard.clipboard_helpers()]
    assert names == ["wl-copy", "xclip"]
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert clipboard.clipboard_helpers() == []
