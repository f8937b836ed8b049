"""config.toml: thresholds, idle lock, theme; a broken file falls back to defaults."""

from __future__ import annotations

from pathlib import Path

from knoxtui import config


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = config.load(tmp_path / "none.toml")
    assert (loaded.warning_days, loaded.urgent_days) == (90, 30)
    assert loaded.problems == ()


def test_thresholds_and_idle_lock_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[expiry]\nwarning_days = 60\nurgent_days = 14\n[ui]\nidle_lock_minutes = 2\n")
    loaded = config.load(path)
    assert (loaded.warning_days, loaded.urgent_days, loaded.idle_lock_minutes) == (60, 14, 2.0)


def test_broken_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[expiry\nwarning_days = ")
    loaded = config.load(path)
    assert loaded.warning_days == 90
    assert loaded.problems and "using defaults" in loaded.problems[0]


def test_bad_values_are_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[expiry]\nwarning_days = "soon"\nurgent_days = 120\n')
    loaded = config.load(path)
    assert any("warning_days" in p for p in loaded.problems)
    assert any("urgent_days is larger" in p for p in loaded.problems)
    assert (loaded.warning_days, loaded.urgent_days) == (90, 30)


def test_theme_choice_is_remembered_keeping_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    path.parent.mkdir()
    path.write_text("[expiry]\nwarning_days = 45\nurgent_days = 10\n[ui]\nidle_lock_minutes = 5\n")
    config.save_theme("knox-light", path)
    loaded = config.load(path)
    assert loaded.theme == "knox-light"
    assert (loaded.warning_days, loaded.urgent_days) == (45, 10)
    # integers stay integers in the file the user wrote
    assert "idle_lock_minutes = 5\n" in path.read_text()
