"""Routes: the editor checks references as you type, the raw JSON and the form stay in step, and
an unverified server is a red banner."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea
from ui_helpers import app_for, unlock, wait_for

from knoxtui.ui.screens import tester
from knoxtui.ui.screens.routes import RouteEditScreen, RoutesScreen


async def _editor(pilot, name: str | None) -> RouteEditScreen:
    pilot.app.open_route(name)
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, RouteEditScreen)
            and bool(pilot.app.screen.query("#route-json"))
        ),
    )
    await pilot.pause()
    return pilot.app.screen


async def test_new_route_references_checked_as_you_type(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _editor(pilot, None)
        screen.query_one("#route-name", Input).value = "partner-api"
        screen.query_one("#f-target_url", Input).value = "https://partner.example/api"
        screen.query_one("#f-certificate_secret_id", Input).value = "no-such-cert"
        await pilot.pause()
        assert any("no-such-cert" in p for p in screen.ref_problems)
        assert screen.query_one("#save", Button).disabled
        # The problem is in view beside the form, not below its fold, and named once.
        references = screen.query_one("#route-refs", Static)
        problem = screen.query_one("#route-error", Label)
        assert str(references.render()).count("no-such-cert") == 1
        assert "no-such-cert" not in str(problem.render())
        assert 0 < references.region.bottom <= screen.size.height
        # A problem the References list does not name still shows on the error line.
        screen.query_one("#f-target_url", Input).value = "ftp://partner.example/api"
        await pilot.pause()
        assert "must start with https://" in str(problem.render())
        assert 0 < problem.region.bottom <= screen.size.height
        screen.query_one("#f-target_url", Input).value = "https://partner.example/api"
        await pilot.pause()
        # Fix it in the raw JSON: the form follows.
        config = json.loads(screen.query_one("#route-json", TextArea).text)
        config["certificate_secret_id"] = "bank-client"
        config["headers"] = {"x-api-key": "{{secret:bank-api-key}}"}
        screen.query_one("#route-json", TextArea).text = json.dumps(config)
        await wait_for(
            pilot,
            lambda: screen.query_one("#f-certificate_secret_id", Input).value == "bank-client",
        )
        await pilot.pause()
        assert screen.ref_problems == []
        assert not screen.query_one("#save", Button).disabled
        # A wrong type is caught too.
        screen.query_one("#f-certificate_secret_id", Input).value = "bank-api-key"
        await pilot.pause()
        assert any("not certificate" in p for p in screen.ref_problems)
        assert str(references.render()).count("'bank-api-key' is a string") == 1
        assert "bank-api-key" not in str(problem.render())
        screen.query_one("#f-certificate_secret_id", Input).value = "bank-client"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, RouteEditScreen))
        saved = app.vault.get_route("partner-api").config
        assert saved["certificate_secret_id"] == "bank-client"
        assert saved["headers"] == {"x-api-key": "{{secret:bank-api-key}}"}


async def test_unverified_server_shows_a_red_banner(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _editor(pilot, "bank-accounts")
        banner = screen.query_one("#route-banner")
        assert not banner.display
        screen.query_one("#f-tls_reject_unauthorized", Checkbox).value = False
        await pilot.pause()
        assert banner.display
        assert (
            json.loads(screen.query_one("#route-json", TextArea).text)["tls_reject_unauthorized"]
            is False
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, RouteEditScreen))
        app.open_routes()
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, RoutesScreen) and bool(app.screen.query("#routes-banner"))
            ),
        )
        await pilot.pause()
        routes_banner = app.screen.query_one("#routes-banner")
        assert routes_banner.display
        assert "bank-accounts" in str(routes_banner.render())


async def test_t_on_a_route_opens_the_tester(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RoutesScreen))
        await pilot.pause()
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
        assert app.screen.route_name == "bank-accounts"


async def test_leaving_with_unsaved_changes_asks_first(demo_vault: Path) -> None:
    from knoxtui.ui.screens.dialogs import ConfirmModal

    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        # Nothing changed: esc leaves at once.
        await _editor(pilot, "bank-accounts")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RouteEditScreen))
        screen = await _editor(pilot, "bank-accounts")
        screen.query_one("#f-method", Select).value = "POST"
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")  # keep editing: the edit is still there
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.query_one("#f-method", Select).value == "POST"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (RouteEditScreen, ConfirmModal)))
        assert app.vault.get_route("bank-accounts").config.get("method") in (None, "GET")


async def test_editor_fields_for_every_route_key_stay_in_sync_with_the_json(
    demo_vault: Path,
) -> None:
    """Method is a Select; headers, proxy, timeouts, redirects, HTTP/2 and plaintext have fields;
    each edit shows in the raw JSON and a JSON edit shows in the fields."""
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _editor(pilot, None)
        assert screen.query_one("#route-name", Input).placeholder not in {
            r.name for r in app.vault.list_routes()
        }
        assert isinstance(screen.query_one("#f-method"), Select)
        screen.query_one("#route-name", Input).value = "partner-api"
        screen.query_one("#f-target_url", Input).value = "https://partner.example/api"
        screen.query_one("#f-method", Select).value = "POST"
        screen.query_one(
            "#f-headers", TextArea
        ).text = "X-Api-Key: {{secret:bank-api-key}}\nAccept: application/json"
        screen.query_one("#f-proxy", Input).value = "http://proxy.corp.example:8080"
        screen.query_one("#f-timeout_seconds", Input).value = "12"
        screen.query_one("#f-connect_timeout_seconds", Input).value = "2.5"
        screen.query_one("#f-follow_redirects", Checkbox).value = True
        screen.query_one("#f-http2", Checkbox).value = True
        await pilot.pause()
        config = json.loads(screen.query_one("#route-json", TextArea).text)
        assert config == {
            "target_url": "https://partner.example/api",
            "tls_reject_unauthorized": True,
            "method": "POST",
            "headers": {"X-Api-Key": "{{secret:bank-api-key}}", "Accept": "application/json"},
            "proxy": "http://proxy.corp.example:8080",
            "timeout_seconds": 12,
            "connect_timeout_seconds": 2.5,
            "follow_redirects": True,
            "http2": True,
        }
        assert screen.ref_problems == []
        # a bad number or header line is named and blocks Save, the JSON keeps the last good value
        screen.query_one("#f-timeout_seconds", Input).value = "-3"
        screen.query_one("#f-headers", TextArea).text = "no colon here"
        await pilot.pause()
        assert any("timeout_seconds must be a number" in p for p in screen.ref_problems)
        assert any("Headers line 1" in p for p in screen.ref_problems)
        assert screen.query_one("#save", Button).disabled
        # the raw JSON wins and the fields follow
        config["timeout_seconds"] = 40
        config["headers"] = {"X-Trace": "1"}
        config["http2"] = False
        config["allow_plaintext"] = True
        config["method"] = "DELETE"
        screen.query_one("#route-json", TextArea).text = json.dumps(config)
        await pilot.pause()
        assert screen.query_one("#f-timeout_seconds", Input).value == "40"
        assert screen.query_one("#f-headers", TextArea).text == "X-Trace: 1"
        assert not screen.query_one("#f-http2", Checkbox).value
        assert screen.query_one("#f-allow_plaintext", Checkbox).value
        assert screen.query_one("#f-method", Select).value == "DELETE"
        assert screen.ref_problems == []
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, RouteEditScreen))
        saved = app.vault.get_route("partner-api").config
        assert saved["timeout_seconds"] == 40 and saved["method"] == "DELETE"
        assert saved["connect_timeout_seconds"] == 2.5


async def test_secret_fields_suggest_their_type_and_tab_completes(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _editor(pilot, None)
        kinds = {s.name: s.secret_type for s in app.vault.list_secrets()}
        for key, kind in (
            ("certificate_secret_id", "certificate"),
            ("ca_bundle_secret_id", "string"),
            ("oauth2_secret_id", "oauth2"),
        ):
            offered = screen.query_one(f"#f-{key}", Input).suggester._suggestions
            assert offered and {kinds[name] for name in offered} == {kind}
        await pilot.click("#f-certificate_secret_id")
        await pilot.press(*"bank-cl")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert screen.query_one("#f-certificate_secret_id", Input).value == "bank-client"
        assert app.focused is not screen.query_one("#f-certificate_secret_id", Input)
        assert (
            json.loads(screen.query_one("#route-json", TextArea).text)["certificate_secret_id"]
            == "bank-client"
        )


async def test_plain_http_route_is_marked_red_never_verified(demo_vault: Path) -> None:
    from rich.text import Text
    from textual.widgets import DataTable

    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        app.vault.save_route("plain-status", {"target_url": "http://127.0.0.1:9/status"})
        app.open_routes()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RoutesScreen) and bool(app.screen.query(DataTable)),
        )
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        check = table.get_row("plain-status")[1]  # the Server check column
        assert isinstance(check, Text) and check.plain == "plain http ⚠"
        assert check.style == f"bold {app.status_colour('expired')}"  # the theme's red
        assert table.get_row("bank-accounts")[1] == "verified"


async def test_routes_list_at_100_columns_keeps_the_check_and_oauth2(demo_vault: Path) -> None:
    """At 100×30 the server check marker and the OAuth2 column stay on screen; the long URL is
    the one cut (with …)."""
    from textual.widgets import DataTable
    from ui_helpers import screen_text

    app = app_for(demo_vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        app.vault.save_route(
            "partner-oauth",
            {
                "target_url": "https://api.partner.example/" + "very-long-path/" * 8,
                "oauth2_secret_id": "bank-oauth",
                "tls_reject_unauthorized": False,
            },
        )
        app.open_routes()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RoutesScreen) and bool(app.screen.query(DataTable)),
        )
        await pilot.pause()
        text = screen_text(app)
        assert "OAuth2" in text and "bank-oauth" in text and "OFF ⚠" in text
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= 100
        assert str(table.get_row("partner-oauth")[4]).endswith("…")


async def test_home_and_end_move_the_cursor_in_every_table(demo_vault: Path) -> None:
    """End goes to the last row and Home to the first: the routes table (a DataTable, where they
    only scrolled sideways), the inventory and the audit log."""
    from textual.widgets import DataTable

    from knoxtui.ui.screens.audit import AuditScreen
    from knoxtui.ui.widgets.record_table import RecordTable

    app = app_for(demo_vault)
    async with app.run_test(size=(140, 30)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        assert len(table.records) > 2 and table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == len(table.records) - 1
        await pilot.press("home")
        assert table.cursor_row == 0

        config = dict(app.vault.get_route("bank-accounts").config)
        for name in ("copy-1", "copy-2", "copy-3"):
            app.vault.save_route(name, config)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RoutesScreen))
        await pilot.pause()
        routes = app.screen.query_one("#routes-table", DataTable)
        assert app.focused is routes and routes.row_count > 2 and routes.cursor_row == 0
        await pilot.press("end")
        await pilot.pause()
        assert routes.cursor_row == routes.row_count - 1
        await pilot.press("home")
        await pilot.pause()
        assert routes.cursor_row == 0
        await pilot.press("escape")
        await pilot.pause()

        app.open_audit()
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.pause(0.2)
        log = app.screen.query_one("#audit-table", RecordTable)
        assert app.focused is log and len(log.records) > 2
        await pilot.press("end")
        assert log.cursor_row == len(log.records) - 1
        await pilot.press("home")
        assert log.cursor_row == 0
        await pilot.press("escape")
        await pilot.pause()

        from textual.widgets import Tree

        from knoxtui.ui.screens.expiry import ExpiryScreen

        app.open_expiry()
        await wait_for(
            pilot, lambda: isinstance(app.screen, ExpiryScreen) and app.screen.report is not None
        )
        await pilot.pause()
        tree = app.screen.query_one("#expiry-tree", Tree)
        tree.focus()
        await pilot.press("end")
        assert tree.cursor_line == tree.last_line > 0
        await pilot.press("home")
        assert tree.cursor_line == 0
