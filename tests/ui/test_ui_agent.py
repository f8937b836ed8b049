"""The console and the agent: a running agent opens the console without the passphrase; ctrl+l
locks both; after a lock the passphrase is asked for again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input
from ui_helpers import NOW, wait_for

from knoxtui.ui.screens.inventory import InventoryScreen
from knoxtui.ui.screens.unlock import UnlockScreen
from tests.agent.agent_helpers import KDF, PASSPHRASE, Session, session_for


def _app(session: Session) -> Any:
    from knoxtui.config import Config
    from knoxtui.ui.app import make_app

    return make_app(session.vault, kdf_iter=KDF, config=Config(), clock=NOW, remember_theme=False)


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    for made in session_for(tmp_path):
        monkeypatch.setenv("KNOXTUI_HOME", str(made.home))
        yield made


async def test_console_opens_with_the_agent_and_ctrl_l_locks_both(session: Session) -> None:
    pid = session.start()["pid"]
    app = _app(session)
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen))
        await wait_for(pilot, lambda: bool(app.screen.query("#summary")))
        await pilot.pause()
        assert app.vault is not None
        assert session.status()["keys_served"] == 1
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert app.vault is None
        assert session.wait_gone(pid), "ctrl+l did not lock the agent"
        # Locked: the passphrase is asked for (the agent is not asked again).
        session.start()
        await pilot.pause(0.3)
        assert isinstance(app.screen, UnlockScreen) and app.vault is None
        field = app.screen.query_one("#passphrase", Input)
        field.focus()
        field.value = PASSPHRASE
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen))
    assert session.status()["keys_served"] == 0


async def test_console_without_an_agent_asks_for_the_passphrase(session: Session) -> None:
    app = _app(session)
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("#passphrase")))
        await pilot.pause(0.3)
        assert isinstance(app.screen, UnlockScreen) and app.vault is None
