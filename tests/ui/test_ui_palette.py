"""The command palette (jump to secrets and routes, actions, themes), help, audit log, and the
other kinds of import (string, OAuth2) and secret edits (rename, delete)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Button, Input, Select, TextArea
from ui_helpers import app_for, unlock, wait_for

from knoxtui.ui.screens import tester
from knoxtui.ui.screens.audit import AuditScreen
from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.screens.dialogs import ConfirmModal, PromptModal
from knoxtui.ui.screens.help import HelpScreen
from knoxtui.ui.screens.importing import ImportScreen
from knoxtui.ui.widgets.checklist import Checklist
from knoxtui.ui.widgets.record_table import RecordTable


async def _palette(pilot, query: str) -> None:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*query)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def test_palette_jumps_to_a_secret_and_a_route_tester(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot)
        await _palette(pilot, "psd2")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.secret_name == "psd2-qwac"
        await pilot.press("escape")
        await _palette(pilot, "test route bank")
        await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
        assert app.screen.route_name == "bank-accounts"


async def test_textual_theme_picker_is_not_offered(demo_vault: Path) -> None:
    """Only our themes (with the expiry colours) are in the palette, not Textual's picker."""
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Quit" in titles


async def test_palette_switches_theme_and_help_lists_keys(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot)
        await _palette(pilot, "theme knox-light")
        await wait_for(pilot, lambda: app.theme == "knox-light")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert ("/", "Filter") in app.screen.rows
        assert ("i", "Import") in app.screen.rows
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_audit_screen_lists_filters_and_verifies(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, AuditScreen) and bool(app.screen.query("#audit-table")),
        )
        await pilot.pause()
        table = app.screen.query_one("#audit-table", RecordTable)
        assert table.row_count > 10
        assert table.records[0].key > table.records[-1].key  # newest first
        assert "intact" in str(app.screen.query_one("#audit-verify").render())
        app.screen.query_one("#audit-filter", Input).value = "psd2-qwac"
        await pilot.pause()
        assert table.row_count >= 1
        assert all("psd2-qwac" in r.search for r in table.records)
        # enter shows the whole entry (the Detail column is cut at the screen's edge).
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        shown = [n for n in app._notifications if n.title == "Entry"]
        assert shown and "Secret: psd2-qwac" in shown[-1].message
        assert table.records[table.cursor_row].cells[-1] in shown[-1].message


@pytest.mark.parametrize("size", [(160, 45), (100, 30)])
async def test_audit_operation_column_gives_way_last(
    demo_vault: Path, size: tuple[int, int]
) -> None:
    """The long Detail column gives way first: the operation is never cut ('route_cr…' at 160
    columns, where Detail ran to the screen's edge anyway)."""
    app = app_for(demo_vault)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, AuditScreen) and bool(app.screen.query("#audit-table")),
        )
        table = app.screen.query_one("#audit-table", RecordTable)
        app.screen.query_one("#audit-filter", Input).value = "route_create"
        await wait_for(pilot, lambda: 0 < table.row_count < len(table.all_records))
        await pilot.pause()
        header = table.render_line(0).text
        row = table.render_line(1).text
        assert "Operation" in header and "Detail" in header, header
        assert "route_create " in row, row


async def _import(pilot, kind: str, text: str) -> ImportScreen:
    app = pilot.app
    app.open_import()
    await wait_for(
        pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
    )
    screen = app.screen
    screen.query_one("#type", Select).value = kind
    screen.query_one("#pem", TextArea).text = text
    await pilot.pause()
    screen.validate_now()
    await wait_for(
        pilot, lambda: screen.result is not None and screen.result.generation == screen.generation
    )
    await pilot.pause()
    return screen


async def test_string_and_oauth2_imports(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot)
        screen = await _import(pilot, "oauth2", '{"token_url": "https://auth.example/token"')
        assert "invalid_json" in screen.query_one(Checklist).codes
        assert screen.query_one("#create", Button).disabled
        screen = app.screen
        screen.query_one("#pem", TextArea).text = json.dumps({"client_id": "x"})
        screen.validate_now()
        await wait_for(
            pilot,
            lambda: (
                screen.result.generation == screen.generation
                and screen.query_one(Checklist).state_of("oauth2") == "error"
            ),
        )
        screen.query_one("#pem", TextArea).text = json.dumps(
            {
                "token_url": "https://auth.example/token",
                "client_id": "partner",
                "client_secret": "s3cr3t-value",
            }
        )
        screen.validate_now()
        await wait_for(pilot, lambda: screen.query_one(Checklist).state_of("oauth2") == "ok")
        screen.query_one("#name", Input).value = "partner-oauth"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        assert app.vault.get_secret("partner-oauth").secret_type == "oauth2"
        screen = await _import(pilot, "string", "sk_live_not_really")
        screen.query_one("#name", Input).value = "partner-key"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        assert app.vault.resolve("partner-key", "default") == "sk_live_not_really"


async def test_rename_and_delete_from_detail(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot)
        app.open_secret("bank-client")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.secret is not None
        )
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        app.screen.query_one(Input).value = "bank-mtls"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DetailScreen) and app.screen.secret_name == "bank-mtls",
        )
        # Routes follow the rename.
        assert app.vault.get_route("bank-accounts").config["certificate_secret_id"] == "bank-mtls"
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "bank-accounts" in str(app.screen.query_one("#dialog-message").render())
        await pilot.press("n")  # declined: still there
        await pilot.pause()
        assert "bank-mtls" in {s.name for s in app.vault.list_secrets()}
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (DetailScreen, ConfirmModal)))
        assert "bank-mtls" not in {s.name for s in app.vault.list_secrets()}
        assert ("bank-mtls", "production") not in {r.key for r in app.screen.table.records}
