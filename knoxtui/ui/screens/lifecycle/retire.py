"""Retire: check, confirm, then remove the old secret (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knoxtui.ui.screens.dialogs import ConfirmModal

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp


def retire_flow(app: KnoxApp, secret: str, done: Any = None) -> None:
    """check_retire, then a confirmation, then retire (the secret is removed, audited)."""
    from knoxtui.errors import KnoxError
    from knoxtui.lifecycle.rotation import check_retire, retire

    vault = app.vault
    if vault is None:
        return
    try:
        check_retire(vault, secret)
    except KnoxError as exc:
        hint = f"\n{exc.hint}" if exc.hint else ""
        app.notify(f"{exc.message}{hint}", title="Not retired", severity="error")
        return

    def answered(ok: bool | None) -> None:
        if not ok or app.vault is None:
            return
        try:
            retire(app.vault, secret)
        except KnoxError as exc:
            app.notify(exc.message, title="Not retired", severity="error")
            return
        app.secrets_changed()
        app.notify(f"Retired '{secret}': removed from the vault (audited).")
        if done is not None:
            done()

    app.push_screen(
        ConfirmModal(
            "Retire the old certificate?",
            f"'{secret}' is retiring, unused by any route and past its grace period. "
            "Remove it and every environment value from the vault?",
            confirm="Retire",
            danger=True,
        ),
        answered,
    )
