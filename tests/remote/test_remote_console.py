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


async def test_renew_dialog_signs_with_the_remote_that_issued_the_certificate(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path
) -> None:
    """Issue 13: a certificate the team's PKI signed is renewed there from the renew dialog: the
    new key stays in this vault, only the CSR goes out; a wrong role says so and keeps the key."""
    from test_remote_pki import _csr_new
    from test_remote_sync import _add_remote
    from textual.widgets import Button, Input

    from knoxtui.remote.pki import vault_serial
    from knoxtui.ui.screens.lifecycle import RenewModal

    _add_remote(knox_a, bao, prefix)
    _csr_new(knox_a, "team_cert", tmp_path, "--subject", "CN=knox-team-client,O=Knox Team")
    assert knox_a("csr", "sign", "team_cert", "--remote", "team", "--role", "client")[0] == 0
    old_serial = alice.get_secret("team_cert").values[0].certificate.serial
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(140, 45)) as pilot:
        await _unlock(pilot, app)
        app.open_renew("team_cert")
        await _wait(pilot, lambda: isinstance(app.screen, RenewModal))
        modal = app.screen
        await pilot.pause()
        # asks for O= again (the role dropped it from the first one)
        modal.query_one("#csr-subject", Input).value = "CN=knox-team-client,O=Knox Team"
        modal.query_one("#generate", Button).press()
        await _wait(pilot, lambda: modal.pending is not None)
        await pilot.pause()
        sign = modal.query_one("#csr-sign", Button)
        assert sign.display and "team" in str(sign.label)
        assert "Sign with remote 'team'" in str(modal.query_one("#csr-sign-label").render())

        # Failure twin: a role the PKI does not have is named; the pending key stays.
        modal.query_one("#csr-role", Input).value = "no-such-role"
        sign.press()
        await _wait(pilot, lambda: "not signed" in _status(modal).lower())
        assert [p.name for p in app.vault.list_pending_keys()] == [modal.pending.name]

        modal.query_one("#csr-role", Input).value = "client"
        sign.press()
        await _wait(pilot, lambda: "Signed by remote 'team'" in _status(modal), seconds=30)
        # the role dropped O= from the subject the CSR asked for: said, with the way to keep it
        assert "O=Knox Team" in _status(modal) and "sign-verbatim" in _status(modal)
        new_name = modal.pending.name
        assert app.vault.list_pending_keys() == []
        meta = app.vault.get_secret(new_name).values[0].certificate
        assert meta.issuer_cn == "Knox Team Test Root" and meta.has_private_key
        assert meta.serial != old_serial
        issued = app.vault.remotes.issued([meta.serial])
        assert [(r.remote_name, r.secret_name) for r in issued] == [("team", new_name)]
        upstream = bao.call("GET", f"pki/cert/{vault_serial(meta.serial)}")
        assert "BEGIN CERTIFICATE" in upstream["data"]["certificate"]
        await pilot.press("escape")
        await _wait(pilot, lambda: not isinstance(app.screen, RenewModal))

        # A new key that renews nothing the remote signed: the CSR file only, no remote offer.
        app.push_screen(RenewModal())
        await _wait(pilot, lambda: isinstance(app.screen, RenewModal))
        modal = app.screen
        await pilot.pause()
        modal.query_one("#csr-subject", Input).value = "CN=elsewhere"
        modal.query_one("#generate", Button).press()
        await _wait(pilot, lambda: modal.pending is not None)
        await pilot.pause()
        assert not modal.query_one("#csr-sign-row").display


def _status(modal) -> str:
    return str(modal.query_one(".lc-status").render())


async def test_remote_screen_picks_the_remote_when_there_are_several(
    bao: BaoServer, prefix: str, alice: Vault
) -> None:
    """Two remotes: the remote screen offers both, shows the one picked, and push from the
    inventory then goes to that one (it used the first, by name, whatever was picked)."""
    from textual.widgets import Select

    from knoxtui.remote import session, sync

    alice.add_string("api_key", "v1")
    alice.remotes.add(
        RemoteRecord("alpha", bao.url, prefix=prefix + "-a"),
        RemoteCredentials(token=bao.extra["team_token"]),
    )
    alice.remotes.add(
        RemoteRecord("beta", bao.url, prefix=prefix + "-b"),
        RemoteCredentials(token=bao.extra["team_token"]),
    )
    beta = alice.remotes.get("beta")
    with session.connect(alice, beta) as client:
        sync.push(alice, beta, client)  # in sync on beta, local only on alpha
    alice.add_string("second", "v2")
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, RemoteScreen))
        screen = app.screen
        assert isinstance(screen, RemoteScreen)
        await _wait(pilot, lambda: screen.state == "ready")
        pick = screen.query_one("#remote-pick", Select)
        assert pick.display and pick.value == "alpha"
        assert "Remote 'alpha'" in str(screen.query_one("#remote-line").render())
        rows = {r.key[1]: r.cells[2] for r in screen.table.records}
        assert rows["api_key"] == "local only"

        await pilot.press("m")  # the picker opens; pick by value below
        await pilot.pause()
        assert pick.expanded and pick.has_focus_within
        await pilot.press("escape")
        pick.value = "beta"
        await _wait(
            pilot,
            lambda: (
                screen.state == "ready"
                and "Remote 'beta'" in str(screen.query_one("#remote-line").render())
            ),
        )
        rows = {r.key[1]: r.cells[2] for r in screen.table.records}
        assert rows["api_key"] == "in sync" and rows["second"] == "local only"

        # The inventory's push goes to the remote picked.
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, InventoryScreen))
        table = app.screen.query_one(RecordTable)
        table.cursor_row = next(i for i, r in enumerate(table.records) if r.key[0] == "second")
        await pilot.press("p")
        await _wait(pilot, lambda: _cells(app).get("second", ("",))[-1] == "in sync")
        upstream = bao.call("GET", f"secret/data/{prefix}-b/secrets/second")["data"]
        assert upstream["metadata"]["version"] == 1


async def test_remote_screen_with_one_remote_shows_no_picker(
    bao: BaoServer, prefix: str, alice: Vault
) -> None:
    _remote(alice, bao, prefix)
    alice.close()
    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, RemoteScreen))
        screen = app.screen
        await _wait(pilot, lambda: screen.state == "ready")
        assert not screen.query_one("#remote-pick").display


async def test_a_conflict_offers_push_ours_and_pull_theirs_with_a_confirmation(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault
) -> None:
    from knoxtui.remote import session, sync
    from knoxtui.ui.screens.dialogs import ConfirmModal

    for vault in (alice, bob):
        _remote(vault, bao, prefix)
    alice.add_string("shared", "first")
    alice.add_string("other", "first")
    with session.connect(alice, alice.remotes.get("team")) as client:
        sync.push(alice, alice.remotes.get("team"), client)
    with session.connect(bob, bob.remotes.get("team")) as client:
        sync.pull(bob, bob.remotes.get("team"), client)
        bob.add_string("shared", "bob's", replace=True)
        bob.add_string("other", "bob's", replace=True)
        sync.push(bob, bob.remotes.get("team"), client)  # both at version 2 upstream
    alice.add_string("shared", "alice's", replace=True)
    alice.add_string("other", "alice's", replace=True)
    alice.close()

    app = _app(Path(alice.path))
    async with app.run_test(size=(160, 40)) as pilot:
        await _unlock(pilot, app)
        await _wait(pilot, lambda: _cells(app).get("other", ("",))[-1] == "conflict")
        # the inventory: P on a conflict asks first, naming the versions; cancel does nothing
        inventory = app.screen
        inventory.query_one(RecordTable).cursor_row = next(
            i for i, r in enumerate(inventory.query_one(RecordTable).records) if r.key[0] == "other"
        )
        await pilot.press("P")
        await _wait(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "version 1" in modal.message and "version 2" in modal.message
        assert "Pull theirs" in modal.confirm and "push ours" in modal.message
        await pilot.press("n")
        await _wait(pilot, lambda: app.screen is inventory)
        assert app.vault is not None and app.vault.resolve("other", "default") == "alice's"
        await pilot.press("P")
        await _wait(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await _wait(pilot, lambda: _cells(app).get("other", ("",))[-1] == "in sync")
        assert app.vault is not None and app.vault.resolve("other", "default") == "bob's"

        # the remote screen: p on a conflict → push ours over version 2
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, RemoteScreen))
        screen = app.screen
        assert isinstance(screen, RemoteScreen)
        await _wait(pilot, lambda: screen.state == "ready")
        screen.table.cursor_row = next(
            i for i, r in enumerate(screen.table.records) if r.key[1] == "shared"
        )
        assert screen.table.records[screen.table.cursor_row].cells[2] == "conflict"
        await pilot.press("p")
        await _wait(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "over v2" in modal.confirm and "version 1" in modal.message
        await pilot.press("y")
        await _wait(
            pilot,
            lambda: {r.key[1]: r.cells[2] for r in screen.table.records}.get("shared") == "in sync",
        )
        upstream = bao.call("GET", f"secret/data/{prefix}/secrets/shared")["data"]
        assert upstream["metadata"]["version"] == 3
        assert upstream["data"]["environments"]["default"]["value"] == "alice's"
