"""Theme files (TOML) turned into Textual `Theme` objects: the builtin folder and the user's own.

A file holds the keys of `textual.theme.Theme` plus a `[variables]` table; knoxtui's expiry colours
are variables (`knox-valid` ... `knox-notyet`) so a theme may override them. A broken file is
reported as a problem string (one notification in the app), never raised.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from knoxtui import paths

DEFAULT_THEME = "knox-dark"

# Fallbacks for themes (Textual's own or a user's) that do not set knoxtui's variables.
STATUS_VARIABLES: dict[str, str] = {
    "knox-valid": "#7EC16E",
    "knox-warning": "#E5C07B",
    "knox-urgent": "#F0883E",
    "knox-expired": "#E06C75",
    "knox-notyet": "#6CA6D9",
}

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN_KEYS = {f.name for f in fields(Theme)}


@dataclass
class ThemeLoad:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _check_colour(where: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: '{key}' must be a colour string, got {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{where}: '{key}' = {value!r} is not a colour") from None
    return value


def theme_from_mapping(data: dict, where: str) -> Theme:
    """One theme from a parsed TOML table; ValueError with a readable message when unusable."""
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: 'name' is missing")
    if "primary" not in data:
        raise ValueError(f"{where}: 'primary' colour is missing")
    kwargs: dict = {"name": name.strip()}
    for key in _COLOUR_KEYS:
        if key in data:
            kwargs[key] = _check_colour(where, key, data[key])
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise ValueError(f"{where}: 'dark' must be true or false")
        kwargs["dark"] = data["dark"]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], int | float):
                raise ValueError(f"{where}: '{key}' must be a number")
            kwargs[key] = float(data[key])
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError(f"{where}: [variables] must be a table")
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ValueError(f"{where}: variable '{key}' must be a string")
        if key in STATUS_VARIABLES:
            _check_colour(where, key, value)
        checked[key] = value
    kwargs["variables"] = checked
    return Theme(**kwargs)


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    return theme_from_mapping(data, str(path))


def load_themes(folders: list[Path] | None = None) -> ThemeLoad:
    """Every `*.toml` theme in the builtin folder then the user's; later names override earlier."""
    if folders is None:
        folders = [paths.builtin_themes_dir(), paths.user_themes_dir()]
    result = ThemeLoad()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                result.themes.append(load_theme_file(path))
            except ValueError as exc:
                result.problems.append(str(exc))
    return result
