"""Import: live validation reaching every finding code, Create disabled on errors, files."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, TextArea
from ui_helpers import (
    KEY_PASSPHRASE,
    app_for,
    finding_cases,
    good_case,
    make_ca,
    unlock,
    wait_for,
)

from knoxtui.pki.finding import ERROR_CODES
from knoxtui.ui.screens.importing import ImportScreen
from knoxtui.ui.widgets.checklist import Checklist
from knoxtui.ui.widgets.path_suggester import complete_path


async def _import_screen(pilot, app) -> ImportScreen:
    app.open_import()
    await wait_for(
        pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
    )
    await pilot.pause()
    return app.screen


async def _check(
    pilot,
    screen: ImportScreen,
    pem: str,
    *,
    key_file: str = "",
    passphrase: str = "",
    file: str = "",
) -> Checklist:
    screen.query_one("#pem", TextArea).text = pem
    screen.query_one("#file", Input).value = file
    screen.query_one("#key-file", Input).value = key_file
    screen.query_one("#key-passphrase", Input).value = passphrase
    await pilot.pause()
    screen.validate_now()
    await wait_for(
        pilot, lambda: screen.result is not None and screen.result.generation == screen.generation
    )
    await pilot.pause()
    return screen.query_one(Checklist)


async def test_live_validation_reaches_every_finding_code(demo_vault: Path, tmp_path: Path) -> None:
    cases = finding_cases()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        screen.query_one("#name", Input).value = "some-name"
        missing = {}
        for code, case in cases.items():
            key_file = ""
            if case.key is not None:
                path = tmp_path / f"{code}.key"
                path.write_text(case.key)
                key_file = str(path)
            checklist = await _check(
                pilot, screen, case.pem, key_file=key_file, passphrase=case.passphrase or ""
            )
            if code not in checklist.codes:
                missing[code] = sorted(checklist.codes)
                continue
            create = screen.query_one("#create", Button)
            line = next(line for line in checklist.lines if code in line.codes)
            if code in ERROR_CODES:
                assert create.disabled, code
                assert line.state == "error", code
                assert screen.query(f"#check-{line.topic}.check-error"), code
            else:
                assert line.state == "warning", code
            # Hints speak of this screen's fields, not of command-line flags.
            assert "--key-passphrase-file" not in (line.hint or ""), code
        assert missing == {}


async def test_debounced_validation_as_you_paste(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        # Opened at the top: the Type field and the paste label are in view, the area focused.
        await wait_for(pilot, lambda: screen.query_one("#type").region.y >= 1)
        assert screen.query_one("#pem-label").region.y >= 1
        area = screen.query_one("#pem", TextArea)
        assert app.focused is area
        area.focus()
        area.insert("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
        checklist = screen.query_one(Checklist)
        await wait_for(pilot, lambda: "corrupt" in checklist.codes)
        assert checklist.state_of("format") == "error"


async def test_import_refused_while_an_error_stands(demo_vault: Path) -> None:
    cases = finding_cases()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        await _check(pilot, screen, cases["key_mismatch"].pem)
        screen.query_one("#name", Input).value = "mismatched"
        await pilot.pause()
        assert screen.query_one("#create", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        assert "mismatched" not in {s.name for s in app.vault.list_secrets()}
        # esc with a pasted bundle asks before dropping it; "n" keeps it.
        from knoxtui.ui.screens.dialogs import ConfirmModal

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.query_one("#pem", TextArea).text == cases["key_mismatch"].pem
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (ImportScreen, ConfirmModal)))


async def test_good_import_is_stored_with_its_key_passphrase(demo_vault: Path) -> None:
    case = good_case()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        checklist = await _check(pilot, screen, case.pem, passphrase=KEY_PASSPHRASE)
        assert checklist.state_of("passphrase") == "ok"
        assert checklist.state_of("match") == "ok"
        # The name is suggested from the subject CN.
        assert screen.query_one("#name", Input).value == "good.client.test"
        screen.query_one("#name", Input).value = "good-client"
        screen.query_one("#environment", Input).value = "production"
        await pilot.pause()
        assert not screen.query_one("#create", Button).disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        secret = app.vault.get_secret("good-client")
        meta = secret.value("production").certificate
        assert meta.has_private_key and meta.has_passphrase and meta.encrypted_key
        assert ("good-client", "production") in {r.key for r in app.screen.table.records}
        # ctrl+s straight after typing (the check still pending) waits for it, then creates.
        screen = await _import_screen(pilot, app)
        screen.query_one("#pem", TextArea).text = case.pem
        screen.query_one("#key-passphrase", Input).value = KEY_PASSPHRASE
        screen.query_one("#name", Input).value = "good-client-fast"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        assert app.vault.get_secret("good-client-fast").value("default").certificate


async def test_import_from_files_with_completion(demo_vault: Path, tmp_path: Path) -> None:
    case = good_case()
    cert_text, _, key_text = case.pem.partition("-----BEGIN ENCRYPTED")
    (tmp_path / "good-client.pem").write_text(cert_text)
    (tmp_path / "good-client.key").write_text("-----BEGIN ENCRYPTED" + key_text)
    (tmp_path / "notes.txt").write_text("not offered")
    assert complete_path(str(tmp_path / "good-c")) == str(tmp_path / "good-client.key")
    assert complete_path(str(tmp_path / "no")) is None
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        checklist = await _check(
            pilot,
            screen,
            "",
            file=str(tmp_path / "good-client.pem"),
            key_file=str(tmp_path / "good-client.key"),
            passphrase=KEY_PASSPHRASE,
        )
        assert checklist.state_of("key") == "ok"
        assert screen.result.ok
        checklist = await _check(pilot, screen, "", file=str(tmp_path / "missing.pem"))
        assert "file_error" in checklist.codes
        assert screen.query_one("#create", Button).disabled


async def test_expired_kept_only_when_asked_and_other_errors_never(demo_vault: Path) -> None:
    from textual.widgets import Checkbox

    cases = finding_cases()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _import_screen(pilot, app)
        screen.query_one("#name", Input).value = "old-partner"
        await _check(pilot, screen, cases["expired"].pem)
        create = screen.query_one("#create", Button)
        assert create.disabled
        # The refusal names the way out (the checkbox), not just "fix the red checks".
        assert "tick 'Keep it even if expired'" in screen._refusal()
        screen.query_one("#allow-expired", Checkbox).value = True
        await pilot.pause()
        assert not create.disabled
        # Ticking the box never lets another error through.
        await _check(pilot, screen, cases["key_mismatch"].pem)
        assert create.disabled
        assert screen._refusal() == "Fix the red checks first."
        await _check(pilot, screen, cases["expired"].pem)
        assert not create.disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        meta = app.vault.get_secret("old-partner").value("default").certificate
        assert meta.allowed_expired
        assert ("old-partner", "default") in {r.key for r in app.screen.table.records}


def test_hints_on_console_screens_name_the_console_way() -> None:
    from knoxtui.errors import KnoxError
    from knoxtui.net.identity import load_identity
    from knoxtui.ui.widgets.checklist import console_hint

    hints = []
    from cryptography.hazmat.primitives.serialization import Encoding

    chain_pem = make_ca("hint-ca").cert.public_bytes(Encoding.PEM)
    for chain, key in ((b"not pem", b"k"), (chain_pem, None)):
        try:
            load_identity(chain, key, secret_name="client")
        except KnoxError as exc:
            hints.append(exc.hint)
    assert len(hints) == 2
    for hint in hints:
        worded = console_hint(hint) or ""
        # the console's own way only, or (a bare key) both ways with the console's named
        assert "in the console" in worded or (
            "command line" not in worded and "--" not in worded
        ), worded
    worded = console_hint(
        "Give the key passphrase (--key-passphrase-file F, or the passphrase field)."
    )
    assert worded == "Give the key passphrase in the Key passphrase field."
    assert console_hint(None) is None
    assert console_hint("Check the clock.") == "Check the clock."  # others untouched
