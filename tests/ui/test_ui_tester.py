"""The request tester against real local mTLS servers (the lab, 127.0.0.1): the right diagnosis on
screen for a success and for each failure, the request logged, curl copied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Select, Static
from ui_helpers import KDF_ITER, app_for, screen_text, unlock, wait_for

from knoxtui.demo import DemoSession, start_demo
from knoxtui.ui.clipboard import Clipboard
from knoxtui.ui.screens import tester


@pytest.fixture(scope="module")
def lab_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSession]:
    session = start_demo(tmp_path_factory.mktemp("lab-demo"), kdf_iter=KDF_ITER)
    try:
        yield session
    finally:
        session.close()


async def _run(pilot, route: str, environment: str | None = None) -> tester.TesterScreen:
    pilot.app.open_tester(route)
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, tester.TesterScreen)
            and bool(pilot.app.screen.query("#diagnosis"))
        ),
    )
    await pilot.pause()
    screen = pilot.app.screen
    if environment:
        screen.query_one("#environment", Select).value = environment
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen.result is not None and not screen.sending, seconds=20)
    await pilot.pause()
    return screen


@pytest.mark.parametrize(
    ("route", "environment", "code"),
    [
        ("lab-ok", None, "ok"),
        ("lab-oauth2", None, "ok"),
        ("lab-wrong-ca", "production", "client_cert_rejected_unknown_ca"),
        ("lab-no-cert", None, "client_cert_required"),
        ("lab-untrusted", None, "server_cert_untrusted"),
        ("lab-expired-server", None, "server_cert_expired"),
    ],
)
async def test_diagnosis_on_screen(
    lab_demo: DemoSession,
    route: str,
    environment: str | None,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: False)
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, route, environment)
        assert screen.result.diagnosis.code == code
        diagnosis = screen.query_one("#diagnosis", Static)
        assert code in str(diagnosis.render())
        assert diagnosis.has_class("diag-ok" if code == "ok" else "diag-fail")
        handshake = str(screen.query_one("#handshake", Static).render())
        if route == "lab-oauth2":
            assert "OAuth2 token" in handshake and "HTTP 200" in handshake
            assert lab_demo.labs["oauth2"].client_secret not in handshake
        if code == "ok":
            assert "200" in str(screen.query_one("#response-head", Static).render())
            assert "◀ ours" in handshake  # the lab's client CA, marked as the issuer of ours
        if code == "client_cert_rejected_unknown_ca":
            assert "accepted client CAs" in handshake and "◀ ours" not in handshake
        newest = app.vault.request_entries()[-1]  # oldest first
        assert newest.route_name == route and newest.outcome == code
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("curl")
        assert "PRIVATE KEY" not in app.clipboard


async def test_environment_missing_stops_before_connecting(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: False)
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        app.open_tester("lab-wrong-ca")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, tester.TesterScreen) and bool(app.screen.query("#diagnosis"))
            ),
        )
        screen = app.screen
        options = [value for _label, value in screen.query_one("#environment", Select)._options]
        assert "production" in options and "sandbox" in options
        # The curl reproduction is there before anything is sent, with the key as a placeholder.
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("curl") and "PRIVATE KEY" not in app.clipboard
        screen.query_one("#environment", Select).value = "default"
        await pilot.press("ctrl+s")
        diagnosis = screen.query_one("#diagnosis", Static)
        await wait_for(pilot, lambda: "environment_missing" in str(diagnosis.render()))
        assert screen.result is None
        assert app.vault.request_entries()[-1].outcome == "environment_missing"


async def test_lock_drops_cached_tls_contexts_and_tokens(lab_demo: DemoSession) -> None:
    from knoxtui.net import context, oauth2

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, "lab-oauth2")
        assert screen.result.diagnosis.code == "ok"
        assert context._cache and oauth2._cache
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: app.vault is None)
        assert not context._cache and not oauth2._cache


def test_lab_demo_routes_cover_success_and_failures(lab_demo: DemoSession) -> None:
    assert {
        "lab-ok",
        "lab-wrong-ca",
        "lab-no-cert",
        "lab-untrusted",
        "lab-insecure",
        "lab-expired-server",
        "lab-expired-client",
        "lab-oauth2",
    } <= set(lab_demo.routes)
    assert Path(lab_demo.vault_path).exists()


async def test_certificates_that_fit_after_a_run(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: False)
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, "lab-wrong-ca", "production")
        fitting = screen.query_one("#fitting", Static)
        assert fitting.display
        text = str(fitting.render())
        assert "Certificates that fit" in text
        fits = {(fit.secret, fit.environment) for fit in screen.fits}
        assert ("lab-client", "default") in fits
        assert "lab-client (default)" in text
        # the certificate the route sent (another CA) does not fit
        assert not any(secret == "lab-wrong-ca-client" for secret, _env in fits)
        assert all(fit.secret not in ("bank-client", "psd2-qwac") for fit in screen.fits)
        # One that chains right but has expired says so beside its name.
        assert ("lab-client-expired", "default") in fits
        assert "lab-client-expired (default) expired" in text


async def test_rehearsal_shows_old_and_new_side_by_side(lab_demo: DemoSession) -> None:
    from textual.widgets import Button, SelectionList

    from knoxtui.ui.screens.lifecycle import RotateModal

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        app.open_rotate("lab-client", "lab-client-2")
        await wait_for(pilot, lambda: isinstance(app.screen, RotateModal))
        await pilot.pause()
        modal = app.screen
        routes = modal.query_one("#rotate-routes", SelectionList)
        assert set(routes.selected) == {"lab-ok", "lab-untrusted", "lab-insecure"}
        routes.deselect("lab-untrusted")
        routes.deselect("lab-insecure")

        def plan_text() -> str:
            return str(modal.query_one("#rotate-plan", Static).render())

        # the plan follows the SelectedChanged messages, handled after deselect returns
        await wait_for(pilot, lambda: "lab-insecure" in plan_text().partition("Untouched")[2])
        plan = plan_text()
        assert "lab-ok: certificate_secret_id" in plan and "Untouched" in plan
        assert modal.query_one("#rotate-rehearse-row").display
        modal.query_one("#rotate-rehearse", Button).press()
        await wait_for(pilot, lambda: modal.rehearsal is not None, seconds=30)
        pairs = {pair.route: pair for pair in modal.rehearsal.runs}
        assert set(pairs) == {"lab-ok"}
        assert pairs["lab-ok"].old.code == "ok"
        assert pairs["lab-ok"].new.code != "ok" and pairs["lab-ok"].regression
        # the table is drawn on a later refresh than the one that set `rehearsal`
        await wait_for(pilot, lambda: "NEW lab-client-2" in screen_text(app))
        rendered = screen_text(app)
        assert "OLD lab-client" in rendered and "NEW lab-client-2" in rendered
        assert "regression" in rendered
        # the verdict sentence agrees with the CLI and the JSON
        assert "Regression: NEW fails where OLD worked (route 'lab-ok')" in rendered
        # nothing was rotated by the rehearsal
        assert app.vault.get_route("lab-ok").config["certificate_secret_id"] == "lab-client"


async def test_rehearsal_shows_progress_and_the_dialog_closes_while_it_runs(
    lab_demo: DemoSession, tmp_path: Path
) -> None:
    """'k of N' while rehearsing: lab-ok's two runs end, a route whose server holds the TLS
    handshake keeps the rehearsal going; Esc closes the dialog then, and the runs still under
    way end without troubling the app once the server lets go."""
    import shutil
    import socket
    import threading

    from textual.widgets import Button, SelectionList

    from knoxtui.ui.screens.lifecycle import RotateModal

    held: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def hold() -> None:  # accepts and says nothing: the handshake waits
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    copy = tmp_path / "lab.knox"
    shutil.copy2(lab_demo.vault_path, copy)
    app = app_for(copy, clock=None)
    try:
        async with app.run_test(size=(150, 50)) as pilot:
            await unlock(pilot)
            config = dict(app.vault.get_route("lab-ok").config)
            config["target_url"] = f"https://127.0.0.1:{listener.getsockname()[1]}/hello"
            app.vault.save_route("lab-hang", config)
            app.open_rotate("lab-client", "lab-client-2")
            await wait_for(pilot, lambda: isinstance(app.screen, RotateModal))
            await pilot.pause()
            modal = app.screen
            routes = modal.query_one("#rotate-routes", SelectionList)
            routes.deselect("lab-untrusted")
            routes.deselect("lab-insecure")
            await wait_for(
                pilot,
                lambda: (
                    "lab-insecure"
                    in str(modal.query_one("#rotate-plan", Static).render()).partition("Untouched")[
                        2
                    ]
                ),
            )
            modal.query_one("#rotate-rehearse", Button).press()

            def progress() -> str:
                return str(modal.query_one("#rotate-rehearsal", Static).render())

            await wait_for(pilot, lambda: "2 of 4 runs (2 route(s)" in progress(), seconds=20)
            assert modal.rehearsal is None and len(held) >= 1
            workers = [w for w in modal.workers if w.group == "rehearse"]
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, RotateModal))
            stop.set()
            for connection in held:
                connection.close()
            await wait_for(pilot, lambda: all(w.is_finished for w in workers), seconds=30)
            await pilot.pause()
            assert app.is_running and app.vault is not None
            assert app.vault.get_route("lab-ok").config["certificate_secret_id"] == "lab-client"
    finally:
        stop.set()
        holder.join(timeout=5)
        listener.close()
        for connection in held:
            connection.close()


async def test_t_sends_at_once_and_back_keeps_the_route(lab_demo: DemoSession) -> None:
    """`t` on a route fires the request without ctrl+s; esc comes back to that same row."""
    from textual.widgets import DataTable

    from knoxtui.ui.screens.routes import RouteEditScreen, RoutesScreen

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        app.open_routes()
        await wait_for(pilot, lambda: isinstance(app.screen, RoutesScreen))
        await pilot.pause()
        routes = app.screen
        table = routes.query_one(DataTable)
        names = [str(key.value) for key in table.rows]
        row = names.index("lab-ok")
        assert row > 0, "the test needs a route below the first row"
        table.move_cursor(row=row)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None and not screen.sending, seconds=20)
        assert screen.result.diagnosis.code == "ok"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is routes)
        await pilot.pause()
        assert routes.current == "lab-ok"
        # Save & test from the editor sends at once too
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RouteEditScreen))
        await pilot.pause()
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None and not screen.sending, seconds=20)
        assert screen.route_name == "lab-ok" and screen.result.diagnosis.code == "ok"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is routes)
        await pilot.pause()
        assert routes.current == "lab-ok"


async def test_running_clock_and_cancel_with_esc_or_ctrl_c(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts and never answers: the tester shows a running clock, esc (and
    ctrl+c) cancels at once, the worker ends, the request log records `cancelled`, and a second
    esc leaves the screen."""
    import threading

    from tests.net.proxies import SilentListener

    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: False)
    with SilentListener() as silent:
        before = {t.ident for t in threading.enumerate()}
        app = app_for(lab_demo.vault_path, clock=None)
        async with app.run_test(size=(150, 50)) as pilot:
            await unlock(pilot)
            app.vault.save_route(
                "hangs",
                {"target_url": f"https://127.0.0.1:{silent.port}/", "timeout_seconds": 120},
                replace=True,
            )
            app.open_tester("hangs")
            await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
            screen = app.screen
            await wait_for(pilot, lambda: bool(screen.query("#diagnosis")))
            diagnosis = screen.query_one("#diagnosis", Static)
            for key in ("escape", "ctrl+c"):
                await pilot.press("ctrl+s")
                await wait_for(
                    pilot, lambda d=diagnosis: " s  (esc or ctrl+c cancels)" in str(d.render())
                )
                assert silent.accepted >= 1 and screen.sending
                await pilot.press(key)
                await wait_for(pilot, lambda: not screen.sending, seconds=10)
                await pilot.pause()
                assert screen.result.diagnosis.code == "cancelled"
                assert "cancelled" in str(diagnosis.render())
                assert isinstance(app.screen, tester.TesterScreen)  # esc cancelled, did not leave
                assert app.vault.request_entries()[-1].outcome == "cancelled"
            assert all(worker.is_finished for worker in screen.workers)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, tester.TesterScreen))
            # no thread is left inside the request (the loop's idle executor thread may stay)
            import sys
            import traceback

            frames = sys._current_frames()
            busy = [
                t.name
                for t in threading.enumerate()
                if t.ident not in before
                and t.ident in frames
                and any(
                    "knoxtui/net/request.py" in f.filename or "httpcore" in f.filename
                    for f in traceback.extract_stack(frames[t.ident])
                )
            ]
            assert busy == []


async def test_request_history_opens_the_stored_run(lab_demo: DemoSession) -> None:
    """Audit → Requests → enter opens what the run found (diagnosis, handshake, timings — never
    the OAuth2 client secret or token), compares with the route's run before, and re-runs."""
    import json as _json

    from knoxtui.ui.screens.audit import AuditScreen
    from knoxtui.ui.screens.run import RunScreen
    from knoxtui.ui.widgets.record_table import RecordTable

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        for _ in range(2):
            screen = await _run(pilot, "lab-oauth2")
            assert screen.result.diagnosis.code == "ok"
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, tester.TesterScreen))
        newest = app.vault.request_entries()[-1]
        stored = _json.dumps(app.vault.request_details(newest.id))
        values = _secret_values(app.vault)
        assert any("client_secret" in kind for kind, _ in values)
        for _kind, value in values:
            assert value not in stored
        app.open_audit()
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.pause()
        await pilot.press("t")  # the Requests log, by key
        await pilot.pause()
        table = app.screen.query_one("#request-table", RecordTable)
        assert app.screen.query_one("#audit-tabs").active == "tab-requests"
        assert app.focused is table
        assert table.records[0].key == newest.id  # newest first
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.pause()
        run = app.screen

        def shown(selector: str) -> str:
            return str(run.query_one(selector, Static).render())

        assert "✔ ok" in shown("#run-diagnosis")
        assert "Server certificate: verified" in shown("#run-handshake")
        assert "TLS handshake" in shown("#run-timings") and "total" in shown("#run-timings")
        await pilot.press("c")
        await pilot.pause()
        assert "Compared with the previous run of this route" in screen_text(app)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
        rerun = app.screen
        await wait_for(pilot, lambda: rerun.result is not None and not rerun.sending, seconds=20)
        assert rerun.route_name == "lab-oauth2" and rerun.result.diagnosis.code == "ok"


def _secret_values(vault) -> list[tuple[str, str]]:
    """Every stored string and oauth2 client secret (to prove none reached the history)."""
    found = []
    for info in vault.list_secrets():
        if info.secret_type == "certificate":
            continue
        for env in info.environments:
            resolved = vault.resolve(info.name, env)
            value = getattr(resolved, "value", resolved)
            if isinstance(value, str):
                found.append(("string", value))
            secret = getattr(value, "client_secret", None)
            if secret:
                found.append(("client_secret", secret))
    return [(kind, v) for kind, v in found if len(v) >= 8]


async def test_response_pane_keys_raw_pretty_search_copy_save(
    lab_demo: DemoSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+r focuses the response; v raw/pretty, / search (n next), c copy, w save (0600);
    a binary body is counted, never drawn; the reproductions are shown; a refused connection
    says 'not reached' instead of 'NOT verified / sent: no'."""
    import dataclasses
    import os
    import socket

    from textual.containers import VerticalScroll

    from knoxtui.ui.screens.dialogs import PromptModal

    copied: list[str] = []
    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: copied.append(text) or True)
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, "lab-ok")
        body = screen.query_one("#response-body", Static)
        pretty = str(body.render())
        assert pretty.startswith("{\n") and screen.result.body.startswith(b"{")
        reproduce = str(screen.query_one("#reproduce", Static).render())
        assert "curl -v" in reproduce and "openssl s_client" in reproduce
        assert "ctrl+y copies" in reproduce
        await pilot.press("v")  # focus is on the form: no effect there
        assert screen.pretty
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.focused is screen.query_one("#tester-result", VerticalScroll)
        await pilot.press("v")
        await pilot.pause()
        assert not screen.pretty and str(body.render()) == screen.result.body.decode()
        await pilot.press("v")
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"method")
        await pilot.press("enter")
        await pilot.pause()
        assert screen._matches and app.focused is screen.query_one("#tester-result")
        await pilot.press("c")
        assert copied and copied[-1] == str(body.render())
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        target = tmp_path / "saved-response.json"
        app.screen.query_one("#prompt").value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        assert target.read_bytes() == screen.result.body
        assert os.stat(target).st_mode & 0o777 == 0o600
        # a binary body: counted, never drawn
        binary = dataclasses.replace(screen.result, body=bytes(range(256)) * 4, size=1024)
        screen.result = binary
        screen.show_result(binary, screen.last_plan)
        await pilot.pause()
        assert str(body.render()).startswith("binary, 1024 bytes")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, tester.TesterScreen))
        # nothing listening: the handshake was never reached
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        app.vault.save_route("down", {"target_url": f"https://127.0.0.1:{port}/"})
        screen = await _run(pilot, "down")
        assert screen.result.diagnosis.code == "connection_refused"
        handshake = str(screen.query_one("#handshake", Static).render())
        assert "Server certificate: not reached" in handshake
        assert "NOT verified" not in handshake and "sent: no" not in handshake


@pytest.mark.parametrize(
    ("route", "environment", "code", "field", "value"),
    [
        ("lab-untrusted", None, "server_cert_untrusted", "ca_bundle_secret_id", "lab-ca"),
        (
            "lab-wrong-ca",
            "production",
            "client_cert_rejected_unknown_ca",
            "certificate_secret_id",
            "lab-client",
        ),
    ],
)
async def test_from_diagnosis_to_fix_in_one_key(
    lab_demo: DemoSession, route: str, environment: str | None, code: str, field: str, value: str
) -> None:
    """ctrl+f opens the route editor on the field the diagnosis names, the value the run
    supports filled in (not saved); ctrl+t saves and re-tests: now ok."""
    from textual.widgets import Input

    from knoxtui.ui.screens.routes import RouteEditScreen

    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        before = dict(app.vault.get_route(route).config)
        try:
            screen = await _run(pilot, route, environment)
            assert screen.result.diagnosis.code == code
            assert screen.fix is not None and (screen.fix.field, screen.fix.value) == (field, value)
            assert f"ctrl+f opens the route editor with {field} = {value}" in str(
                screen.query_one("#diagnosis", Static).render()
            )
            await pilot.press("ctrl+f")
            await wait_for(pilot, lambda: isinstance(app.screen, RouteEditScreen))
            editor = app.screen
            await pilot.pause()
            box = editor.query_one(f"#f-{field}", Input)
            assert box.value == value and app.focused is box
            assert app.vault.get_route(route).config == before  # nothing saved yet
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, tester.TesterScreen))
            again = app.screen
            await wait_for(
                pilot, lambda: again.result is not None and not again.sending, seconds=20
            )
            assert again.result.diagnosis.code == "ok"
            assert app.vault.get_route(route).config[field] == value
        finally:
            app.vault.save_route(route, before, replace=True)  # the lab is shared by the module


async def test_the_proxy_used_is_shown(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.net.proxies import TINYPROXY, tinyproxy

    if TINYPROXY is None:
        pytest.skip("tinyproxy is not installed")
    monkeypatch.setattr(Clipboard, "_system_copy", lambda self, text: False)
    with tinyproxy(tmp_path) as tp:
        monkeypatch.setenv("HTTPS_PROXY", tp.url)
        app = app_for(lab_demo.vault_path, clock=None)
        async with app.run_test(size=(150, 50)) as pilot:
            await unlock(pilot)
            screen = await _run(pilot, "lab-ok")
            assert screen.result.diagnosis.code == "ok"
            head = str(screen.query_one("#response-head", Static).render())
            assert f"Proxy {tp.url} (env: HTTPS_PROXY is set)" in head
        assert len(tp.connects()) == 1


async def test_a_proxy_diagnosis_names_the_consoles_ways_only(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The domain's fix names every way (route key, environment, command-line flag); the
    tester shows the ones this screen has, never --proxy / --no-proxy / --timeout."""
    from knoxtui.ui.widgets.checklist import console_hint

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")  # nothing listens on port 1
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 50)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, "lab-ok")
        assert screen.result.diagnosis.code == "proxy_unreachable"
        assert "--no-proxy" in (screen.result.diagnosis.fix or "")  # the CLI's words, kept
        shown = str(screen.query_one("#diagnosis", Static).render())
        assert "NO_PROXY" in shown and 'proxy "none"' in shown
        assert "--no-proxy" not in shown and "--proxy" not in shown
    for domain, console in {
        "Check the proxy address (the route's proxy key, --proxy, or HTTPS_PROXY) and that it "
        "is reachable from here; --no-proxy goes direct.": "Check the proxy address (the "
        "route's proxy key, or HTTPS_PROXY) and that it is reachable from here.",
        "or go direct where a direct path exists (NO_PROXY, --no-proxy).": "or go direct where "
        "a direct path exists (NO_PROXY).",
        "retry with a longer --timeout, and tell the API provider if it persists.": "retry with "
        "a longer timeout_seconds, and tell the API provider if it persists.",
        "raise timeout_seconds / connect_timeout_seconds (or --timeout) for a slow link.": "raise "
        "timeout_seconds / connect_timeout_seconds for a slow link.",
    }.items():
        assert console_hint(domain) == console


async def test_a_stored_runs_fix_names_the_consoles_ways_only(
    lab_demo: DemoSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request history shows the stored fix in the console's words, as the tester does."""
    from knoxtui.ui.screens.audit import AuditScreen
    from knoxtui.ui.screens.run import RunScreen

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")  # nothing listens on port 1
    app = app_for(lab_demo.vault_path, clock=None)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        screen = await _run(pilot, "lab-ok")
        assert screen.result.diagnosis.code == "proxy_unreachable"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, tester.TesterScreen))
        app.open_audit()
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.pause()
        shown = str(app.screen.query_one("#run-diagnosis", Static).render())
        assert "proxy_unreachable" in shown and "NO_PROXY" in shown
        assert "--no-proxy" not in shown and "--proxy" not in shown
