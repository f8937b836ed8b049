"""Attach: the CA's certificate to a pending key, then offer to rotate to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Select,
    Static,
)

from knoxtui.ui.screens.lifecycle.base import LifecycleModal
from knoxtui.ui.screens.lifecycle.rotate import RotateModal
from knoxtui.ui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    pass


class AttachModal(LifecycleModal):
    """Returns the AttachResult (None when cancelled); offers to rotate to it afterwards."""

    def __init__(self, pending: str | None = None) -> None:
        super().__init__()
        self.initial = pending
        self.result: Any = None

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="dialog", classes="lc-dialog"):
            yield Label("Attach the issued certificate", id="dialog-title")
            yield Label("Pending key")
            yield Select([], id="attach-pending", prompt="(no pending key)")
            yield Label("Certificate file from the CA (PEM or DER, chain optional)")
            yield Input(id="attach-cert", suggester=PathSuggester())
            yield Label("Secret name (a new secret, or an existing one for a new environment)")
            yield Input(id="attach-secret")
            yield Label("Environment (empty: default)", id="attach-env-label")
            yield Input(id="attach-env", placeholder="default")
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="cancel")
                yield Button("Rotate routes to it", id="attach-rotate")
                yield Button("Attach", id="attach", variant="primary")

    def on_mount(self) -> None:
        vault = self.knox.vault
        pending = vault.list_pending_keys() if vault is not None else []
        select = self.query_one("#attach-pending", Select)
        select.set_options([(f"{p.name}  {p.subject}", p.name) for p in pending])
        names = [p.name for p in pending]
        if names:
            select.value = self.initial if self.initial in names else names[0]
        else:
            self._status("No pending key: renew a certificate first (new CSR).", ok=False)
        self.query_one("#attach-rotate", Button).display = False
        self.query_one("#attach-cert", Input).focus()

    @on(Select.Changed, "#attach-pending")
    def _pending_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self.query_one("#attach-secret", Input).value = str(event.value)
            self._suggest_environment(str(event.value))

    def _suggest_environment(self, pending: str) -> None:
        """A renewal belongs where the certificate it renews is used: name those environments,
        suggest them as typed, and fill in the only one."""
        from textual.suggester import SuggestFromList

        vault = self.knox.vault
        label = self.query_one("#attach-env-label", Label)
        field = self.query_one("#attach-env", Input)
        if vault is None:
            return
        like = next((p.like_secret for p in vault.list_pending_keys() if p.name == pending), None)
        envs: list[str] = []
        if like and like in {s.name for s in vault.list_secrets()}:
            envs = [e for e in vault.get_secret(like).environments if e != "default"]
        if not envs:
            label.update("Environment (empty: default, used in every environment)")
            field.suggester = None
            return
        label.update(
            f"Environment ('{like}' has {', '.join(envs)}; empty: default, used everywhere)"
        )
        field.suggester = SuggestFromList([*envs, "default"], case_sensitive=True)
        if len(envs) == 1 and not field.value:
            field.value = envs[0]

    @on(Button.Pressed, "#attach")
    def _attach_pressed(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.renewal import attach_certificate

        vault = self.knox.vault
        pending = self.query_one("#attach-pending", Select).value
        raw = self.query_one("#attach-cert", Input).value.strip()
        if vault is None or pending is Select.BLANK:
            self._status("Choose a pending key.", ok=False)
            return
        if not raw:
            self._status("Type the path of the certificate file.", ok=False)
            return
        path = Path(raw).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._status(f"Cannot read '{path}': {exc.strerror}.", ok=False)
            return
        secret = self.query_one("#attach-secret", Input).value.strip() or None
        env = self.query_one("#attach-env", Input).value.strip() or None
        try:
            result = attach_certificate(
                vault, str(pending), data, secret_name=secret, environment=env
            )
        except KnoxError as exc:
            self._error(exc, "Not attached")
            self._status(f"✘ {exc.code}: {exc.message}", ok=False)
            return
        self.result = result
        self.knox.secrets_changed()
        text = Text()
        text.append(f"✔ Attached: secret '{result.secret}' ({result.environment})\n", style="bold")
        text.append(f"{result.subject}, issued by {result.issuer}, ")
        text.append(f"until {result.valid_until:%Y-%m-%d}\n")
        if result.subject_changed:
            text.append("⚠ the CA issued another subject than the CSR asked for\n")
        for finding in result.warnings:
            text.append(f"⚠ {finding.code}: {finding.message}\n")
        if result.replaces:
            text.append(f"It renews '{result.replaces}': rotate its routes to the new one next.")
        self._status(text, ok=True)
        self.query_one("#attach", Button).disabled = True
        self.query_one("#attach-rotate", Button).display = bool(result.replaces)
        self.notify(f"Certificate attached as '{result.secret}'.")

    @on(Button.Pressed, "#attach-rotate")
    def _rotate(self) -> None:
        if self.result is not None and self.result.replaces:
            old, new = self.result.replaces, self.result.secret
            self.dismiss(self.result)
            self.knox.push_screen(RotateModal(old, new))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(self.result)

    def action_cancel(self) -> None:
        self.dismiss(self.result)
