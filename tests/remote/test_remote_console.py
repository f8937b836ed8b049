"""The console's team sync: a Remote column per inventory row, push/pull on the selection, the
remote screen — against the real OpenBao dev server (Pilot)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from remote_helpers import VAULT_PASSPHRASE, BaoServer, free_port
from textual.pilot import Pilot

from knoxtui.config import Config
from knoxtui.ui.app import KnoxApp, make_app
from knoxtui.ui.screens.inventory import InventoryScreen
from knoxtui.ui.screens.remote import RemoteScreen
from knoxtui.ui.widgets.record_table import RecordTable
from knoxtui.vault import Vault
from knoxtui.vault.remotes import RemoteCredentials, RemoteRecord


async def _wait(pilot: Pilot, condition: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the console never reached the expected state")


def _app(path: Path) -> KnoxApp:
    return make_app(path, config=Config(), remember_theme=False)


async def _unlock(pilot: Pilot, app: KnoxApp) -> None:
    await _wait(pilot, lambda: bool(app.screen.query("#passphrase")))
    app.vault_opened(Vault.open(app.vault_path, VAULT_PASSPHRASE))
    await _wait(
        pilot,
        lambda: isinstance(app.screen, InventoryScreen) and bool(app.screen.query("#summary")),
    )
    await pilot.pause()


def _cells(app: KnoxApp) -> dict[str, tuple[str, ...]]:
    table = app.screen.query_one(RecordTable)
    return {record.key[0]: record.cells for record in table.records}


def _remote(vault: Vault, server: BaoServer, prefix: str, url: str | None = None) -> None:
    vault.remotes.add(
        RemoteRecord("team", url or server.url, prefix=prefix),
        RemoteCredentials(token=server.extra["team_token"]),
    )


async def test_inventory_badges_push_and_the_remote_screen(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault
) -> None:
    alice.add_string("api_key", "v1")
    _remote(alice, bao, prefix)
    _remote(bob, bao, prefix)
    bob.add_string("from_bob", "b")
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        table = app.screen.query_one(RecordTable)
        await _wait(pilot, lambda: table.columns[-1].label == "Remote")
        assert _cells(app)["api_key"][-1] == "local only"

        await pilot.press("p")  # push the selected row's secret
        await _wait(pilot, lambda: _cells(app).get("api_key", ("",))[-1] == "in sync")
        upstream = bao.call("GET", f"secret/data/{prefix}/secrets/api_key")["data"]
        assert upstream["metadata"]["version"] == 1

        # Bob pushes; the remote screen shows it upstream only; P pulls it here.
        from knoxtui.remote import session, sync

        remote = bob.remotes.get("team")
        with session.connect(bob, remote) as client:
            sync.push(bob, remote, client)
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, RemoteScreen))
        screen = app.screen
        assert isinstance(screen, RemoteScreen)
        await _wait(pilot, lambda: screen.state == "ready")
        rows = {r.key: r.cells[2] for r in screen.table.records}
        assert rows == {("secret", "api_key"): "in sync", ("secret", "from_bob"): "upstream"}
        line = str(screen.query_one("#remote-line").render())
        assert "Remote 'team'" in line and "upstream 1" in line
        screen.table.cursor_row = next(
            i for i, r in enumerate(screen.table.records) if r.key[1] == "from_bob"
        )
        await pilot.press("P")
        await _wait(
            pilot,
            lambda: (
                {r.key[1]: r.cells[2] for r in screen.table.records}.get("from_bob") == "in sync"
            ),
        )
        assert app.vault is not None
        assert app.vault.resolve("from_bob", "default") == "b"
        await pilot.press("escape")
        await _wait(pilot, lambda: "from_bob" in _cells(app))


async def test_offline_the_list_shows_without_badges_and_the_screen_says_unreachable(
    alice: Vault, bao: BaoServer, prefix: str
) -> None:
    alice.add_string("api_key", "v1")
    _remote(alice, bao, prefix, url=f"http://127.0.0.1:{free_port()}")
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        assert "api_key" in _cells(app)  # the list never waits for the server
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, RemoteScreen))
        screen = app.screen
        assert isinstance(screen, RemoteScreen)
        await _wait(pilot, lambda: screen.state == "unreachable")
        assert "unreachable" in str(screen.query_one("#remote-line").render())
        assert app.screen.query_one(RecordTable).columns[-1].label != "Remote"


async def test_without_a_remote_the_sync_keys_are_hidden(alice: Vault) -> None:
    alice.add_string("api_key", "v1")
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        screen = app.screen
        assert screen.check_action("push", ()) is False
        assert screen.check_action("remote", ()) is False
        assert screen.query_one(RecordTable).columns[-1].label == "Status"
