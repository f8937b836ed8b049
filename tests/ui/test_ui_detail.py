"""Secret detail: the verify tree, reveal (confirmed, audited, hidden again), copy, auto-lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Tree
from ui_helpers import app_for, screen_text, unlock, wait_for

from knoxtui.demo import DEMO_KEY_PASSPHRASE
from knoxtui.ui import clipboard
from knoxtui.ui.screens import detail
from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.ui.screens.unlock import UnlockScreen


def _tree_text(screen: DetailScreen) -> str:
    lines = []

    def walk(node: object) -> None:
        lines.append(str(node.label))  # type: ignore[attr-defined]
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    for tree in screen.query(Tree):
        walk(tree.root)
    return "\n".join(lines)


async def _open(pilot, name: str) -> DetailScreen:
    pilot.app.open_secret(name)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    await pilot.pause()
    return pilot.app.screen


async def test_tree_shows_the_verify_view(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "psd2-qwac")
        text = _tree_text(screen)
        assert "organizationIdentifier: PSDGB-FCA-123456" in text
        assert "PSD2 roles: PSP_AI, PSP_PI" in text
        assert "Fingerprint SHA-256" in text
        assert "EKU: clientAuth allowed" in text
        # Every key fits the 140-column footer (grouped labels), down to "? Help".
        # The footer is drawn after the tree: on a busy machine it can still be empty here.
        await wait_for(pilot, lambda: "Back" in screen_text(app))
        footer = screen_text(app).splitlines()
        footer_line = next(line for line in reversed(footer) if "Back" in line)
        assert "Help" in footer_line and "Lifecycle" in footer_line and "Copy" in footer_line
        screen = await _open(pilot, "bank-client")
        assert {tab for tab in ("production", "sandbox")} <= set(screen.secret.environments)
        assert "bank-accounts" in str(screen.query_one("#routes-using").render())


async def test_reveal_is_confirmed_audited_and_hidden_again(
    demo_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # long enough that a busy machine still sees the value before it hides again
    monkeypatch.setattr(detail, "REVEAL_SECONDS", 1.5)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "hmrc-mtd")
        # Declined: nothing shown, nothing audited.
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await pilot.pause()
        assert screen.revealed_text is None
        assert not [e for e in app.vault.audit_entries() if e.operation == "reveal"]
        # Confirmed: shown and audited.
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.revealed_text is not None)
        assert "ENCRYPTED PRIVATE KEY" in screen.revealed_text
        assert DEMO_KEY_PASSPHRASE in screen.revealed_text
        # The side widens so a 64-character PEM line is not wrapped.
        assert screen.query_one("#revealed").content_region.width >= 64
        reveals = [e for e in app.vault.audit_entries() if e.operation == "reveal"]
        assert [(e.secret_name, e.environment_name) for e in reveals] == [
            ("hmrc-mtd", "production")
        ]
        # And hidden again by itself.
        await wait_for(pilot, lambda: screen.revealed_text is None)
        assert not screen.query_one("#revealed").display
        assert not screen.query_one("#detail-side").has_class("revealing")


async def test_copy_certificate_never_the_key_and_secret_clipboard_cleared(
    demo_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clipboard, "SECRET_CLEAR_SECONDS", 0.3)
    monkeypatch.setattr(clipboard.Clipboard, "_system_copy", lambda self, text: False)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "hmrc-mtd")
        await pilot.press("p")
        assert app.clipboard.startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" not in app.clipboard
        await pilot.press("f")
        assert app.clipboard == screen.secret.values[0].certificate.fingerprint_sha256
        # The key only after a reveal, and wiped after the delay.
        await pilot.press("k")
        assert "PRIVATE KEY" not in app.clipboard
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.revealed_text is not None)
        await pilot.press("k")
        assert "PRIVATE KEY" in app.clipboard
        await wait_for(pilot, lambda: app.clipboard == "")


async def test_idle_lock_drops_everything_decrypted(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "hmrc-mtd")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.revealed_text is not None)
        # Recent activity: nothing happens.
        await app.check_idle_lock()
        assert app.vault is not None
        # Idle longer than the setting: locked, back to the unlock screen, no screen left holding
        # the revealed value.
        app._last_activity -= app.idle_seconds + 1
        await app.check_idle_lock()
        await pilot.pause()
        assert app.vault is None
        assert isinstance(app.screen, UnlockScreen)
        assert not any(isinstance(s, DetailScreen) for s in app.screen_stack)
        assert len(app.screen_stack) == 2
        # it says why: idle, and for how long
        minutes = f"{app.config.idle_lock_minutes:g}"
        locked = str(app.screen.query_one("#locked").render())
        assert f"locked after {minutes} minute" in locked and "idle" in locked


async def test_ctrl_l_locks(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert app.vault is None
        assert app.screen.locked


async def test_add_and_replace_an_environment_value(demo_vault: Path) -> None:
    from textual.widgets import Input, TextArea
    from ui_helpers import KEY_PASSPHRASE, good_case

    from knoxtui.ui.screens.importing import ImportScreen

    case = good_case()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "hmrc-mtd")
        for key, environment in (("a", "staging"), ("R", "production")):
            await pilot.press(key)
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#pem")),
            )
            form = app.screen
            name = form.query_one("#name", Input)
            assert name.value == "hmrc-mtd" and name.disabled
            form.query_one("#pem", TextArea).text = case.pem
            form.query_one("#key-passphrase", Input).value = KEY_PASSPHRASE
            form.query_one("#environment", Input).value = environment
            form.validate_now()
            await wait_for(pilot, lambda f=form: f.result is not None and f.result.ok)
            await pilot.pause()
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: app.screen is screen)
            await wait_for(pilot, lambda e=environment: e in screen.secret.environments)
        production = app.vault.get_secret("hmrc-mtd").value("production").certificate
        assert production.subject_cn == "good.client.test"  # replaced
        assert set(screen.secret.environments) == {"production", "staging"}
        # Failure twin: "add" onto an environment that has a value is refused, in UI words.
        await pilot.press("a")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#pem"))
        )
        form = app.screen
        form.query_one("#pem", TextArea).text = case.pem
        form.query_one("#key-passphrase", Input).value = KEY_PASSPHRASE
        form.query_one("#environment", Input).value = "production"
        form.validate_now()
        await wait_for(pilot, lambda: form.result is not None and form.result.ok)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        error = str(form.query_one("#import-error").render())
        assert "already has a value" in error and "press R" in error and "--" not in error


async def test_add_env_asks_the_environment_first_and_requires_it(demo_vault: Path) -> None:
    """ "Add env": Environment is the first field, focused, and a value without one is refused
    (a user typed the environment into Description and a `default` value went in silently)."""
    from textual.widgets import Input, TextArea
    from ui_helpers import KEY_PASSPHRASE, good_case

    from knoxtui.ui.screens.importing import ImportScreen

    case = good_case()
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        await _open(pilot, "hmrc-mtd")
        await pilot.press("a")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#pem"))
        )
        await pilot.pause()
        form = app.screen
        assert app.focused is form.query_one("#environment", Input)
        inputs = [w.id for w in form.query("#import-form Input, #import-form Select")]
        assert inputs[0] == "environment"
        form.query_one("#pem", TextArea).text = case.pem
        form.query_one("#key-passphrase", Input).value = KEY_PASSPHRASE
        form.query_one("#description", Input).value = "staging"
        form.validate_now()
        await wait_for(pilot, lambda: form.result is not None and form.result.ok)
        await pilot.pause()
        assert not form.can_create
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "default" not in app.vault.get_secret("hmrc-mtd").environments
        assert "Type the environment" in str(form.query_one("#import-error").render())
        await pilot.click("#environment")
        await pilot.press(*"staging")
        await pilot.pause()
        assert form.can_create


async def test_dialogs_open_with_the_first_field_focused(demo_vault: Path) -> None:
    from knoxtui.ui.screens.lifecycle import ExportModal, RotateModal

    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        for open_dialog, kind, first in (
            (lambda: app.open_export("bank-client"), ExportModal, "export-env"),
            (lambda: app.open_rotate("bank-client"), RotateModal, "rotate-new"),
        ):
            open_dialog()
            await wait_for(pilot, lambda k=kind: isinstance(app.screen, k))
            await pilot.pause()
            assert app.focused is not None and app.focused.id == first
            await pilot.press("escape")
            await wait_for(pilot, lambda k=kind: not isinstance(app.screen, k))


@pytest.mark.parametrize("debug", [False, True])
async def test_a_crash_prints_no_local_values(
    demo_vault: Path, debug: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knoxtui.demo import DEMO_KEY_PASSPHRASE

    if debug:
        monkeypatch.setenv("KNOXTUI_DEBUG", "1")
    app = app_for(demo_vault)
    shown: list[object] = []
    fatal = app._fatal_error

    def spy() -> None:
        fatal()
        shown.extend(app._exit_renderables)

    app._fatal_error = spy  # type: ignore[method-assign]

    def broken() -> None:
        revealed = f"key passphrase: {DEMO_KEY_PASSPHRASE}"  # a local a traceback would show
        raise RuntimeError("boom" if revealed else "")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(140, 40)) as pilot:
            await unlock(pilot)
            app.set_timer(0.01, broken)
            await pilot.pause(0.2)
    printed = "".join(
        segment.text
        for renderable in shown
        for segment in renderable.segments  # type: ignore[attr-defined]
    )
    if debug:
        assert "RuntimeError" in printed and "boom" in printed  # the traceback, without locals
    else:
        assert "internal error (RuntimeError)" in printed
    assert DEMO_KEY_PASSPHRASE not in printed


async def test_oauth2_detail_reads_as_words_not_python(demo_vault: Path) -> None:
    """No `None`, no `{'…': …}`: unset fields are left out, names read as words."""
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        screen = await _open(pilot, "bank-oauth")
        text = _tree_text(screen)
        assert "token url: https://" in text
        assert "None" not in text and "{'" not in text and "['" not in text
