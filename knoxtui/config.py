"""User settings from `config.toml` (see `knoxtui locate`). Missing or broken files fall back to
defaults; a broken file is reported through `Config.problems`, never raised."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from knoxtui import paths

DEFAULT_WARNING_DAYS = 90
DEFAULT_URGENT_DAYS = 30
DEFAULT_IDLE_LOCK_MINUTES = 10


@dataclass(frozen=True)
class Config:
    warning_days: int = DEFAULT_WARNING_DAYS
    urgent_days: int = DEFAULT_URGENT_DAYS
    idle_lock_minutes: float = DEFAULT_IDLE_LOCK_MINUTES
    theme: str = "knox-dark"
    problems: tuple[str, ...] = field(default=(), compare=False)


def load(path: Path | None = None) -> Config:
    target = path or paths.config_file()
    try:
        raw = tomllib.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Config(problems=(f"{target}: {exc}; using defaults",))
    config = Config()
    problems: list[str] = []
    expiry = raw.get("expiry", {})
    for key in ("warning_days", "urgent_days"):
        value = expiry.get(key, raw.get(key))
        if value is None:
            continue
        if isinstance(value, int) and value >= 0:
            if key == "warning_days":
                config = replace(config, warning_days=value)
            else:
                config = replace(config, urgent_days=value)
        else:
            problems.append(f"{target}: {key} must be a whole number of days, got {value!r}")
    idle = raw.get("ui", {}).get("idle_lock_minutes", raw.get("idle_lock_minutes"))
    if idle is not None:
        if isinstance(idle, int | float) and idle > 0:
            config = replace(config, idle_lock_minutes=float(idle))
        else:
            problems.append(f"{target}: idle_lock_minutes must be a positive number")
    theme = raw.get("ui", {}).get("theme", raw.get("theme"))
    if isinstance(theme, str) and theme:
        config = replace(config, theme=theme)
    if config.urgent_days > config.warning_days:
        problems.append(f"{target}: urgent_days is larger than warning_days; using defaults")
        config = replace(config, warning_days=DEFAULT_WARNING_DAYS, urgent_days=DEFAULT_URGENT_DAYS)
    return replace(config, problems=tuple(problems))


def _number(value: float) -> str:
    """5.0 is written 5: a file the user wrote with integers keeps them."""
    return str(int(value)) if float(value).is_integer() else str(value)


def save_theme(theme: str, path: Path | None = None) -> None:
    """Remember the chosen theme, keeping the rest of the file's settings."""
    target = path or paths.config_file()
    current = load(target)
    paths.ensure_private_dir(target.parent)
    text = (
        "[expiry]\n"
        f"warning_days = {current.warning_days}\n"
        f"urgent_days = {current.urgent_days}\n\n"
        "[ui]\n"
        f"idle_lock_minutes = {_number(current.idle_lock_minutes)}\n"
        f'theme = "{theme}"\n'
    )
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
