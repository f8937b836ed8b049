"""`make screenshots`: SVGs of the real app on the demo vault, with a frozen clock.

    python -m knoxtui.ui.screenshots OUT_DIR [--theme NAME]

Inventory, import with live validation, detail and routes come from the deterministic demo vault;
the request tester runs real requests against the local lab (after a success and after a failure).
No secret value is ever on screen in these pictures (tests/ui checks the files).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from knoxtui import clock
from knoxtui.config import Config

FROZEN_NOW = "2026-06-01T12:00:00Z"
SIZE = (140, 42)
KDF_ITER = 4000  # the pictures need no real key-derivation cost


def _steady(app: Any) -> None:
    from textual.widgets import Input, TextArea

    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


async def _until(pilot: Any, condition: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise RuntimeError("the app did not reach the state to photograph")


async def _unlock(pilot: Any) -> None:
    from knoxtui.ui.screens.inventory import InventoryScreen

    await pilot.press(*"demo", "enter")
    await _until(pilot, lambda: isinstance(pilot.app.screen, InventoryScreen))
    await pilot.pause(0.2)


async def _shoot(app: Any, pilot: Any, out: Path, name: str) -> Path:
    _steady(app)
    await pilot.pause(0.3)
    target = out / f"{name}.svg"
    app.save_screenshot(filename=target.name, path=str(out))
    print(f"  {target}")
    return target


Scene = Callable[[Any, Any, Path], Awaitable[None]]


def import_material(folder: Path) -> tuple[str, Path]:
    """A certificate chain to paste (public) and a key file that does not match it (on disk only,
    so no key text is ever on screen): the checklist shows red and amber lines."""
    from datetime import timedelta

    from cryptography.hazmat.primitives import serialization

    from knoxtui import demo

    now = clock.now()
    issuing = demo._ca("Knox Demo Issuing CA 1", now, 2, demo._ca("Knox Demo Root CA", now, 1))
    leaf = demo._leaf(
        issuing,
        "partner.knox-demo.example",
        serial=301,
        not_before=now - timedelta(days=340),
        not_after=now + timedelta(days=21),
        client_auth=False,
    )
    other = demo._ec_key("a key from another CSR")
    key_path = folder / "partner.key"
    key_path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return leaf.chain_pem.decode(), key_path


async def _detail_import_route(app: Any, pilot: Any, out: Path, pem: str) -> None:
    from textual.widgets import Input, TextArea

    from knoxtui.ui.screens.detail import DetailScreen
    from knoxtui.ui.screens.importing import ImportScreen
    from knoxtui.ui.screens.routes import RouteEditScreen

    app.open_secret("psd2-qwac")
    await _until(
        pilot,
        lambda: isinstance(app.screen, DetailScreen) and app.screen.secret is not None,
    )
    await _shoot(app, pilot, out, "detail")
    await pilot.press("escape")
    app.open_import()
    await _until(
        pilot,
        lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#pem")),
    )
    screen = app.screen
    screen.query_one("#pem", TextArea).text = pem
    screen.query_one("#key-file", Input).value = "partner.key"
    screen.query_one("#environment", Input).value = "production"
    screen.validate_now()
    await _until(
        pilot,
        lambda: screen.result is not None and screen.result.generation == screen.generation,
    )
    await _shoot(app, pilot, out, "import")
    await pilot.press("escape")
    app.open_route("bank-accounts")
    await _until(
        pilot,
        lambda: isinstance(app.screen, RouteEditScreen) and bool(app.screen.query("#route-json")),
    )
    await _shoot(app, pilot, out, "route-editor")
    await pilot.press("escape")
    from knoxtui.ui.screens.expiry import ExpiryScreen

    app.open_expiry()
    await _until(
        pilot,
        lambda: isinstance(app.screen, ExpiryScreen) and app.screen.report is not None,
    )
    await _shoot(app, pilot, out, "expiry")


async def _static_scenes(out: Path, folder: Path, themes: list[str]) -> None:
    from knoxtui.demo import start_demo

    # The data set `make run` shows (the demo and its lab's secrets and routes), on the frozen
    # clock; no request is sent in these scenes.
    session = start_demo(folder / "demo", kdf_iter=KDF_ITER)
    try:
        await _static_pictures(out, folder, themes, session.vault_path.relative_to(folder))
    finally:
        session.close()


async def _static_pictures(out: Path, folder: Path, themes: list[str], vault: Path) -> None:
    from knoxtui.demo import DEMO_PASSPHRASE
    from knoxtui.ui.app import make_app

    pem, key_path = import_material(folder)
    for index, theme in enumerate(themes):
        suffix = "" if index == 0 else f"-{theme}"
        app = make_app(
            vault,
            kdf_iter=KDF_ITER,
            config=Config(theme=theme),
            passphrase_hint=f"Demo vault: the passphrase is '{DEMO_PASSPHRASE}'.",
            remember_theme=False,
            theme_dirs=None,
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            if index == 0:
                await _shoot(app, pilot, out, "unlock")
            await _unlock(pilot)
            await _shoot(app, pilot, out, f"inventory{suffix}")
            if index:
                continue
            await _detail_import_route(app, pilot, out, pem)
    key_path.unlink()


def _request_done(screen: Any) -> bool:
    return screen.result is not None and not screen.sending


async def _tester_scenes(out: Path, folder: Path) -> None:
    from textual.widgets import Select

    from knoxtui.demo import DEMO_PASSPHRASE, start_demo
    from knoxtui.ui.app import make_app
    from knoxtui.ui.screens.tester import TesterScreen

    # Real requests: TLS checks the lab's certificates on the real clock, so this part runs on it.
    session = start_demo(folder, kdf_iter=KDF_ITER)
    try:
        app = make_app(
            Path(session.vault_path.name),
            kdf_iter=KDF_ITER,
            config=Config(),
            passphrase_hint=f"Demo vault: the passphrase is '{DEMO_PASSPHRASE}'.",
            remember_theme=False,
        )
        os.chdir(folder)
        async with app.run_test(size=SIZE) as pilot:
            await _unlock(pilot)
            for route, environment, name in (
                ("lab-ok", None, "tester-success"),
                ("lab-wrong-ca", "production", "tester-failure"),
            ):
                app.open_tester(route)
                await _until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, TesterScreen)
                        and bool(app.screen.query("#diagnosis"))
                    ),
                )
                screen = app.screen
                if environment:
                    screen.query_one("#environment", Select).value = environment
                await pilot.pause(0.1)
                await pilot.press("ctrl+s")
                await _until(pilot, partial(_request_done, screen))
                await _shoot(app, pilot, out, name)
                await pilot.press("escape")
                await pilot.pause(0.1)
    finally:
        session.close()


THEMES = ("knox-dark", "knox-light", "knox-high-contrast")


async def render(out: Path, *, themes: tuple[str, ...] = THEMES) -> list[Path]:
    """Every picture in the first theme, plus the inventory in each other one."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cwd = Path.cwd()
    home = os.environ.get("KNOXTUI_HOME")
    with tempfile.TemporaryDirectory(prefix="knoxtui-shots-") as scratch:
        # A private home: no user config, themes or vault leak into the pictures.
        os.environ["KNOXTUI_HOME"] = str(Path(scratch) / "home")
        try:
            static = Path(scratch) / "static"
            static.mkdir()
            os.chdir(static)
            with clock.frozen(FROZEN_NOW):
                await _static_scenes(out, static, list(themes))
            await _tester_scenes(out, Path(scratch) / "lab")
        finally:
            os.chdir(cwd)
            if home is None:
                os.environ.pop("KNOXTUI_HOME", None)
            else:
                os.environ["KNOXTUI_HOME"] = home
    return sorted(out.glob("*.svg"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knoxtui.ui.screenshots")
    parser.add_argument("out", type=Path, help="folder for the SVG files")
    parser.add_argument(
        "--theme", choices=THEMES, help="only this theme (default: all, the inventory in each)"
    )
    args = parser.parse_args(argv)
    print(f"Rendering screenshots into {args.out}/")
    files = asyncio.run(render(args.out, themes=(args.theme,) if args.theme else THEMES))
    print(f"{len(files)} SVG files.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
