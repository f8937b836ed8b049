"""Export a secret's certificate (and key) to PKCS#12 or PEM."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    Select,
    Static,
)

from knoxtui.ui.screens.lifecycle.base import LifecycleModal
from knoxtui.ui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    pass

EXPORT_FORMATS = ("pkcs12", "pem")


class ExportModal(LifecycleModal):
    """Returns the ExportResult (None when cancelled). Passphrases are asked only for a key."""

    def __init__(self, secret: str, environment: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.environment = environment
        self.has_key = False

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="dialog", classes="lc-dialog"):
            yield Label(f"Export {self.secret}", id="dialog-title")
            yield Label("Environment")
            yield Select([], id="export-env", prompt="environment")
            yield Label("Format")
            yield Select([(f, f) for f in EXPORT_FORMATS], id="export-format", allow_blank=False)
            yield Checkbox("Legacy PKCS#12 (3DES, for old Java/Windows stores)", id="export-legacy")
            yield Label("Write to (created with mode 0600)")
            yield Input(id="export-path", suggester=PathSuggester((".p12", ".pfx", ".pem")))
            with Vertical(id="export-passphrases"):
                yield Label("Export passphrase (protects the key in the file)")
                yield Input(id="export-pass1", password=True)
                yield Label("Again")
                yield Input(id="export-pass2", password=True)
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="export", variant="primary")

    def on_mount(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        secret = vault.get_secret(self.secret)
        envs = list(secret.environments)
        select = self.query_one("#export-env", Select)
        select.set_options([(e, e) for e in envs])
        if envs:
            select.value = self.environment if self.environment in envs else envs[0]
        self._update()

    @on(Select.Changed)
    def _changed(self) -> None:
        self._update()

    def _update(self) -> None:
        vault = self.knox.vault
        env = self.query_one("#export-env", Select).value
        fmt = str(self.query_one("#export-format", Select).value)
        if vault is None or env is Select.BLANK:
            return
        value = vault.get_secret(self.secret).value(str(env))
        meta = value.certificate if value is not None else None
        self.has_key = bool(meta and meta.has_private_key)
        self.query_one("#export-passphrases").display = self.has_key
        self.query_one("#export-legacy", Checkbox).display = fmt == "pkcs12"
        path = self.query_one("#export-path", Input)
        suffix = ".p12" if fmt == "pkcs12" else ".pem"
        if not path.value or Path(path.value).suffix in (".p12", ".pem"):
            path.value = str(Path.cwd() / f"{self.secret}-{env}{suffix}")

    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.export import export_secret

        vault = self.knox.vault
        if vault is None:
            return
        fmt = str(self.query_one("#export-format", Select).value)
        env = str(self.query_one("#export-env", Select).value)
        legacy = fmt == "pkcs12" and self.query_one("#export-legacy", Checkbox).value
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self._status("Type the path to write.", ok=False)
            return
        passphrase: str | None = None
        if self.has_key:
            first = self.query_one("#export-pass1", Input).value
            second = self.query_one("#export-pass2", Input).value
            if not first:
                self._status("The key needs an export passphrase.", ok=False)
                return
            if first != second:
                self._status("The two passphrases differ; type them again.", ok=False)
                return
            passphrase = first
        try:
            result = export_secret(
                vault,
                self.secret,
                Path(raw).expanduser(),
                export_format=fmt,
                passphrase=passphrase,
                environment=env,
                legacy=legacy,
            )
        except KnoxError as exc:
            self._error(exc, "Not exported")
            self._status(f"✘ {exc.message}", ok=False)
            return
        finally:
            for field_id in ("#export-pass1", "#export-pass2"):
                self.query_one(field_id, Input).value = ""
        self.notify(f"Exported '{self.secret}' ({result.environment}) to {result.path} (0600).")
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
