"""Footers at 100x30 (issue 15 item 6): every screen's essential keys are on screen, in their
fullest state (a remote configured, a value revealed, a response focused); what gives way is in
`?`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel
from ui_helpers import KDF_ITER, app_for, unlock, wait_for

from knoxtui.demo import DemoSession, start_demo
from knoxtui.ui.screens.dialogs import ConfirmModal

SIZE = (100, 30)
APP_KEYS = {"Quit", "Lock", "Help"}


def footer_words(app) -> set[str]:
    """The labels of the footer's keys, asserting each lies fully on screen and clear of the
    command palette's key (docked right)."""
    footer = app.screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else app.size.width
    words = set()
    for key in keys:
        if key.has_class("-command-palette"):
            continue
        assert key.region.width > 0 and key.region.right <= right, (
            f"{key.key_display} {key.description!r} at {key.region} falls off the footer "
            f"(room up to column {right}) on {type(app.screen).__name__}"
        )
        words.add(key.description)
    for label in footer.query(FooterLabel):
        assert label.region.right <= right, f"group label {label.region} falls off"
        words.add(str(label.render()).strip())
    return words


async def settled_words(pilot, wanted: set[str]) -> set[str]:
    """footer_words once the footer shows `wanted` (the footer recomposes after the screen and
    the focus change, a refresh or more later under load)."""
    app = pilot.app

    def drawn() -> set[str]:
        footers = app.screen.query(Footer)
        if not footers:
            return set()
        footer = footers.first()
        keys = {k.description for k in footer.query(FooterKey) if k.region.width > 0}
        return keys | {str(label.render()).strip() for label in footer.query(FooterLabel)}

    await wait_for(pilot, lambda: wanted <= drawn())
    return footer_words(app)


def _add_remote(path: Path) -> None:
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteCredentials, RemoteRecord

    vault = Vault.open(path, "demo", kdf_iter=KDF_ITER)
    try:
        vault.remotes.add(RemoteRecord("team", "http://127.0.0.1:9"), RemoteCredentials(token="t"))
        vault.secrets.set_status("hmrc-mtd", "retiring")
    finally:
        vault.close()


async def test_footers_fit_at_100_columns(demo_vault: Path) -> None:
    from knoxtui.ui.screens.audit import AuditScreen
    from knoxtui.ui.screens.detail import DetailScreen
    from knoxtui.ui.screens.expiry import ExpiryScreen
    from knoxtui.ui.screens.routes import RoutesScreen

    _add_remote(demo_vault)  # Push, Pull and Team join the inventory's footer; Retire the detail's
    app = app_for(demo_vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        words = await settled_words(pilot, APP_KEYS | {"Filter", "Import", "Routes", "Expiry"})
        assert {"Team"} & words or {"Push"} & words

        app.open_secret("hmrc-mtd")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.secret is not None
        )
        screen = app.screen
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.revealed_text is not None)
        await settled_words(pilot, APP_KEYS | {"Back", "Reveal", "Copy", "Lifecycle"})
        await pilot.press("escape")

        for opener, kind in (
            (app.open_routes, RoutesScreen),
            (app.open_audit, AuditScreen),
            (app.open_expiry, ExpiryScreen),
        ):
            opener()
            await wait_for(pilot, lambda kind=kind: isinstance(app.screen, kind))
            assert APP_KEYS | {"Back"} <= await settled_words(pilot, APP_KEYS | {"Back"})
            await pilot.press("escape")
            await pilot.pause()


@pytest.fixture(scope="module")
def lab_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSession]:
    session = start_demo(tmp_path_factory.mktemp("footer-lab"), kdf_iter=KDF_ITER)
    try:
        yield session
    finally:
        session.close()


async def test_tester_footer_fits_at_100_columns(lab_demo: DemoSession) -> None:
    from textual.containers import VerticalScroll

    from knoxtui.ui.screens.tester import TesterScreen

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        app.open_tester("lab-ok")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TesterScreen) and bool(app.screen.query("#diagnosis")),
        )
        screen = app.screen
        assert APP_KEYS | {"Back", "Send"} <= await settled_words(pilot, APP_KEYS | {"Back"})
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.result is not None and not screen.sending, seconds=20)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: app.focused is screen.query_one("#tester-result", VerticalScroll)
        )
        await settled_words(pilot, APP_KEYS | {"Back", "Send"})
        # A diagnosis with a fix adds ctrl+f.
        await pilot.press("escape")
        await pilot.pause()
        app.open_tester("lab-no-cert")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, TesterScreen)
                and app.screen is not screen
                and bool(app.screen.query("#diagnosis"))
            ),
        )
        screen = app.screen
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.result is not None and not screen.sending, seconds=20)
        await pilot.press("ctrl+r")
        assert screen.fix is not None
        await settled_words(pilot, APP_KEYS | {"Back", "Send", "Fix"})
