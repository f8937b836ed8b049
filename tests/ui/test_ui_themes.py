"""Themes: the builtin files load (also as packaged), a broken file is one notification, the
choice is remembered, and expiry colours come from the theme's variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from ui_helpers import app_for, unlock

from knoxtui import config, paths
from knoxtui.ui.themes import STATUS_VARIABLES, load_theme_file, load_themes
from knoxtui.ui.widgets.record_table import RecordTable

BUILTIN = ("knox-dark", "knox-light", "knox-high-contrast")


def test_builtin_themes_load_with_status_colours() -> None:
    loaded = load_themes([paths.builtin_themes_dir()])
    assert loaded.problems == []
    names = {theme.name for theme in loaded.themes}
    assert set(BUILTIN) <= names
    for theme in loaded.themes:
        assert set(STATUS_VARIABLES) <= set(theme.variables), theme.name


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('name = "x"\nprimary = "#123456"\nbackground = "not-a-colour"\n', "not a colour"),
        ('primary = "#123456"\n', "'name' is missing"),
        ('name = "x"\nprimary = "#123456"\nflavour = "mint"\n', "unknown key"),
        ("name = = broken", "not valid TOML"),
    ],
)
def test_a_broken_theme_file_is_a_readable_problem(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=words):
        load_theme_file(path)
    loaded = load_themes([tmp_path])
    assert loaded.themes == [] and len(loaded.problems) == 1 and "mine.toml" in loaded.problems[0]


async def test_broken_user_theme_notifies_once_and_good_one_is_offered(demo_vault: Path) -> None:
    folder = paths.user_themes_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("name = = broken")
    (folder / "mine.toml").write_text(
        'name = "mine"\nprimary = "#336699"\n[variables]\nknox-expired = "#ff00ff"\n'
    )
    app = app_for(demo_vault, theme_dirs=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        problems = [n for n in app._notifications if "broken.toml" in n.message]
        assert len(problems) == 1
        assert "mine" in app.available_themes
        assert app.theme == "knox-dark"


async def test_theme_choice_is_remembered(demo_vault: Path) -> None:
    app = app_for(demo_vault, remember_theme=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.theme = "knox-light"
        await pilot.pause()
    assert config.load().theme == "knox-light"
    again = app_for(demo_vault, config=config.load())
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert again.theme == "knox-light"


async def test_expiry_colours_come_from_theme_variables(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        for name in BUILTIN:
            app.theme = name
            await pilot.pause()
            theme = app.get_theme(name)
            for tone, variable in (
                ("expired", "knox-expired"),
                ("valid", "knox-valid"),
                ("urgent", "knox-urgent"),
            ):
                style = table.get_component_rich_style(f"record-table--tone-{tone}")
                expected = Color.parse(theme.variables[variable])
                assert style.color is not None
                assert style.color.triplet == expected.rich_color.triplet, (name, tone)
            # The summary bar's dots follow the theme too (Rich text built in code).
            summary = app.screen.query_one("#summary").text
            dot_colours = {str(span.style) for span in summary.spans}
            assert theme.variables["knox-expired"] in dot_colours, name
