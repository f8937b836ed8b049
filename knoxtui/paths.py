"""Every path knoxtui uses, in one place (`knoxtui locate` prints them).

KNOXTUI_HOME puts config, data and state under one folder (tests, portable use); otherwise the
platform's directories from platformdirs. Folders we create are 0700.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

APP_NAME = "knoxtui"


def _home() -> Path | None:
    value = os.environ.get("KNOXTUI_HOME")
    return Path(value).expanduser() if value else None


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and every missing parent as 0700 (whatever the umask: `mkdir -p` would make
    the parents 0777 under umask 000); tighten `path` itself if it exists. Existing parents are
    left as they are (they are the user's: /home, a project folder)."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another knoxtui process
            folder.mkdir(mode=0o700)
        with contextlib.suppress(OSError):  # mkdir's mode is masked by the umask: be explicit
            folder.chmod(0o700)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:
        pass
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)  # the usual error for a file there
    return path


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "config"
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "data"
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def state_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "state"
    from platformdirs import user_state_path

    return user_state_path(APP_NAME)


def config_file() -> Path:
    return config_dir() / "config.toml"


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def builtin_themes_dir() -> Path:
    """Themes shipped with knoxtui: `themes/` in a checkout, `knoxtui/_themes` in a wheel."""
    packaged = Path(__file__).parent / "_themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "themes"


def default_vault_path() -> Path:
    env = os.environ.get("KNOXTUI_VAULT")
    if env:
        return Path(env).expanduser()
    return data_dir() / "vault.knox"


def demo_dir() -> Path:
    return state_dir() / "demo"


def lab_dir() -> Path:
    return state_dir() / "lab"


def locations(vault: Path | None = None) -> dict[str, Path]:
    """What `knoxtui locate` prints."""
    return {
        "vault": vault if vault is not None else default_vault_path(),
        "config": config_file(),
        "config_dir": config_dir(),
        "data_dir": data_dir(),
        "state_dir": state_dir(),
        "themes_builtin": builtin_themes_dir(),
        "themes_user": user_themes_dir(),
        "demo": demo_dir(),
        "lab": lab_dir(),
    }
