"""Issue 11 items 1 and 2 in the console: a hostile certificate, description and value (terminal
sequences, Rich markup) are shown escaped and literal — the rendered strips hold no ESC, BEL or CR,
revealing `[/…]` does not crash, `[red]x[/red]` is shown as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import HOSTILE_TEXT, hostile_client, raw_controls
from textual.widgets import Tree

from knoxtui import clock
from knoxtui.pki import load_bundle
from knoxtui.ui.screens.audit import AuditScreen
from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.vault import Vault

PASSPHRASE = "demo"
KDF = 1000
MARKUP_VALUE = "sk_[/bold] [red]x[/red] \x1b]52;c;cm0=\x07 end"


def rendered(app) -> str:
    """What the compositor hands to the terminal, as text (every widget, toasts included)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


@pytest.fixture
def hostile_vault(tmp_path: Path) -> Path:
    from ui_helpers import NOW

    material = hostile_client()
    path = tmp_path / "hostile.knox"
    with clock.frozen(NOW), Vault.create(path, PASSPHRASE, kdf_iter=KDF) as vault:
        bundle = load_bundle(material.cert_pem + material.ca_pem, key_data=material.key_pem)
        vault.add_certificate("hostile", bundle, description=HOSTILE_TEXT)
        vault.add_string("markup", MARKUP_VALUE, description="[/link] \x1b[2J desc")
    return path


async def _detail(pilot, name: str) -> DetailScreen:
    from ui_helpers import wait_for

    pilot.app.open_secret(name)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    await pilot.pause()
    return pilot.app.screen


def _tree_labels(screen: DetailScreen) -> str:
    out: list[str] = []

    def walk(node) -> None:
        out.append(str(node.label))
        for child in node.children:
            walk(child)

    for tree in screen.query(Tree):
        walk(tree.root)
    return "\n".join(out)


async def test_inventory_and_detail_show_hostile_names_escaped(
    hostile_vault: Path, frozen_now
) -> None:
    from ui_helpers import app_for, unlock

    app = app_for(hostile_vault)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await unlock(pilot)
        screen_text = rendered(app)
        assert raw_controls(screen_text) == []
        assert "\\x1b" in screen_text  # the inventory's subject column, escaped
        detail = await _detail(pilot, "hostile")
        labels = _tree_labels(detail)
        assert raw_controls(labels) == []
        assert "evil\\x1b]52" in labels and "\\x07\\rserver verified" in labels
        assert "[red]x[/red]" in str(detail.query_one("#detail-head").render())
        assert raw_controls(rendered(app)) == []


async def test_reveal_of_markup_value_shows_it_literally(hostile_vault: Path, frozen_now) -> None:
    from ui_helpers import app_for, unlock, wait_for

    app = app_for(hostile_vault)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await unlock(pilot)
        detail = await _detail(pilot, "markup")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.click("#yes")
        await wait_for(pilot, lambda: detail.revealed_text is not None)
        await pilot.pause()
        assert detail.revealed_text == MARKUP_VALUE  # copied exactly
        shown = str(detail.query_one("#revealed").render())
        assert "sk_[/bold] [red]x[/red] \\x1b]52;c;cm0=\\x07 end" in shown
        assert raw_controls(rendered(app)) == []
        assert app.is_running


async def test_notifications_take_no_markup_and_no_controls(
    hostile_vault: Path, frozen_now
) -> None:
    from ui_helpers import app_for, unlock

    app = app_for(hostile_vault)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await unlock(pilot)
        app.notify(f"Could not read '{HOSTILE_TEXT}'", title="[/b]", severity="error")
        await pilot.pause(0.3)
        text = rendered(app)
        assert raw_controls(text) == []
        assert "[red]x[/red]" in text
        assert app.is_running


async def test_audit_screen_escapes_what_the_log_holds(hostile_vault: Path, frozen_now) -> None:
    from ui_helpers import app_for, unlock, wait_for

    app = app_for(hostile_vault)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await unlock(pilot)
        with app.vault.batch():  # a rename's detail carries the user's words into the log
            app.vault._audit.record("update", secret_name="markup", detail=HOSTILE_TEXT)
        app.open_audit()
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.pause()
        assert raw_controls(rendered(app)) == []
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert raw_controls(rendered(app)) == []
        assert app.is_running


async def test_tester_escapes_a_hostile_servers_names(tmp_path: Path, frozen_now) -> None:
    """A real TLS server on 127.0.0.1 whose certificate and accepted-CA names carry OSC 52, CR
    and CSI 2J: the tester's handshake view shows them escaped."""
    from ui_helpers import NOW, app_for, unlock, wait_for

    from knoxtui.net.tls_server import ServerRequest, ServerResponse, TlsServer
    from knoxtui.ui.screens import tester

    material = hostile_client()

    def handler(_request: ServerRequest) -> ServerResponse:
        return ServerResponse(200, b'{"ok": true}')

    path = tmp_path / "tester.knox"
    with TlsServer(
        handler,
        cert_chain_pem=material.cert_pem + material.ca_pem,
        key_pem=material.key_pem,
        trusted_client_cas_pem=(material.ca_pem,),
        verify="inspect",
    ) as server:
        with clock.frozen(NOW), Vault.create(path, PASSPHRASE, kdf_iter=KDF) as vault:
            bundle = load_bundle(material.cert_pem + material.ca_pem, key_data=material.key_pem)
            vault.add_certificate("hostile", bundle)
            vault.save_route(
                "evil",
                {
                    "target_url": server.url + "/x",
                    "certificate_secret_id": "hostile",
                    "tls_reject_unauthorized": False,
                },
            )
        app = app_for(path)
        async with app.run_test(size=(160, 50), notifications=True) as pilot:
            await unlock(pilot)
            app.open_tester("evil")
            await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
            await pilot.pause()
            screen = app.screen
            await pilot.press("ctrl+s")
            await wait_for(
                pilot, lambda: screen.result is not None and not screen.sending, seconds=20
            )
            await pilot.pause()
            handshake = str(screen.query_one("#handshake").render())
            assert raw_controls(handshake) == []
            assert "evil\\x1b]52" in handshake  # the server certificate's name, escaped
            assert "CA \\x1b]52" in handshake  # the accepted client CA, escaped
            assert raw_controls(rendered(app)) == []
