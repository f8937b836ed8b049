"""Unlock and create: key derivation in a worker, a wrong passphrase refused on screen."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label
from ui_helpers import app_for, unlock, wait_for

from knoxtui.ui.screens.inventory import InventoryScreen
from knoxtui.ui.screens.unlock import UnlockScreen, passphrase_strength


async def test_unlock_opens_the_inventory(demo_vault: Path) -> None:
    app = app_for(demo_vault, passphrase_hint="Demo vault: the passphrase is 'demo'.")
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        assert "demo" in str(app.screen.query_one("#unlock-hint", Label).render())
        await unlock(pilot, typed=True)
        assert isinstance(app.screen, InventoryScreen)
        assert app.vault is not None


async def test_wrong_passphrase_is_refused_and_said(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    before = demo_vault.read_bytes()
    posted: list[object] = []
    async with app.run_test(size=(120, 40), message_hook=posted.append) as pilot:
        await pilot.press(*"not-demo", "enter")
        error = app.screen.query_one("#unlock-error", Label)
        await wait_for(pilot, lambda: "passphrase" in str(error.render()).lower())
        assert isinstance(app.screen, UnlockScreen)
        assert app.vault is None
        assert app.screen.query_one("#passphrase", Input).value == ""
    failures = [m for m in posted if isinstance(m, UnlockScreen.Failed)]
    assert len(failures) == 1 and "passphrase" in failures[0].message.lower()
    assert not [m for m in posted if isinstance(m, UnlockScreen.Opened)]
    assert "not-demo" not in failures[0].message
    # Typed here: no talk of passphrase files or environment variables.
    assert "KNOXTUI_VAULT_PASSPHRASE" not in (failures[0].hint or "")
    assert demo_vault.read_bytes() == before


async def test_create_needs_the_same_passphrase_twice(tmp_path: Path) -> None:
    target = tmp_path / "new.knox"
    app = app_for(target)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.query_one("#unlock-mode", Label).render().plain == "Create a new vault"
        await pilot.press(*"ab cd", "enter")
        await pilot.press(*"ab cE", "enter")
        await wait_for(pilot, lambda: "differ" in str(screen.query_one("#unlock-error").render()))
        assert not target.exists()
        await pilot.press(*"ab cd", "enter")
        await pilot.press(*"ab cd", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen))
        assert target.exists()
        assert "empty" in str(app.screen.query_one("#inventory-empty").render())


def test_strength_hint() -> None:
    assert passphrase_strength("abc")[0] == "weak"
    assert passphrase_strength("correct horse battery staple")[0] == "strong"
    assert passphrase_strength("")[0] == "none"


async def test_create_vault_complaint_goes_once_the_field_is_filled(tmp_path: Path) -> None:
    app = app_for(tmp_path / "new.knox")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        error = screen.query_one("#unlock-error")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Enter the vault passphrase" in str(error.render()))
        await pilot.press(*"ab cd")
        await pilot.pause()
        assert str(error.render()) == ""


async def test_lock_while_the_inventory_is_still_mounting_does_not_crash(demo_vault: Path) -> None:
    """ctrl+l right after unlocking: the inventory sets its sub-title while the app switches
    away; Textual's header then looked for its title widget after it was gone (NoMatches)."""
    from knoxtui.vault import Vault

    for turns in range(6):
        app = app_for(demo_vault)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda app=app: app.screen.query("#passphrase"))
            app.vault_opened(Vault.open(app.vault_path, "demo", kdf_iter=app.kdf_iter))
            for _ in range(turns):
                await pilot.pause(0)
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda app=app: isinstance(app.screen, UnlockScreen))
            assert app.vault is None
        assert app.return_code in (None, 0), f"crashed after {turns} turns"
