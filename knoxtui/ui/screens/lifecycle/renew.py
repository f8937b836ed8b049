"""Renew: a new key pair in the vault and its CSR (a thread worker generates the key)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TextArea,
)

from knoxtui.ui.screens.lifecycle.base import LifecycleModal
from knoxtui.ui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    pass

KEY_TYPES = ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")


class RenewModal(LifecycleModal):
    """Returns the pending key's name once a CSR was made (None when cancelled)."""

    class Generated(Message, bubble=False):
        def __init__(self, pending: Any, error: Exception | None = None) -> None:
            super().__init__()
            self.pending = pending
            self.error = error

    class Signed(Message, bubble=False):
        def __init__(self, result: Any, serial: str = "", error: Exception | None = None) -> None:
            super().__init__()
            self.result = result
            self.serial = serial
            self.error = error

    def __init__(self, like: str | None = None, environment: str | None = None) -> None:
        super().__init__()
        self.like = like
        self.like_environment = environment
        self.pending: Any = None
        self.kept_sans: tuple[str, ...] = ()
        self.issuer: Any = None  # the remote's record of signing `like` (issue 13)
        self.signed: Any = None

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="dialog", classes="lc-dialog"):
            yield Label(
                f"Renew {self.like}: new key and CSR" if self.like else "New key and CSR",
                id="dialog-title",
            )
            with Vertical(id="csr-form"):
                yield Label("Pending key name (the future secret's name)")
                yield Input(id="csr-name")
                yield Label("Subject (RFC 4514 'CN=x,O=y' or '/C=GB/O=y/CN=x')")
                yield Input(id="csr-subject")
                yield Label(
                    "Extra SANs, comma separated (DNS:host, IP:10.0.0.1)", id="csr-san-label"
                )
                yield Input(id="csr-san", placeholder="DNS:api.example.com")
                yield Label("Key type")
                yield Select([(k, k) for k in KEY_TYPES], id="csr-key-type", allow_blank=False)
                yield Label("Key passphrase (empty: a strong one is generated and stored)")
                yield Input(id="csr-passphrase", password=True)
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Cancel", id="cancel")
                    yield Button("Generate", id="generate", variant="primary")
            yield Static("", classes="lc-status")
            with Vertical(id="csr-result"):
                yield TextArea(id="csr-pem", read_only=True)
                yield Label("Save the CSR to")
                yield Input(id="csr-path", suggester=PathSuggester((".csr", ".pem")))
                with Horizontal(id="csr-sign-row"):
                    yield Label("", id="csr-sign-label")
                    yield Input(id="csr-role", placeholder="role")
                    yield Button("Sign", id="csr-sign", variant="primary")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Copy", id="csr-copy")
                    yield Button("Save to file", id="csr-save", variant="primary")
                    yield Button("Close", id="csr-close")

    def on_mount(self) -> None:
        self.query_one("#csr-result").display = False
        self._find_issuer()
        name = self.like or "client"
        self.query_one("#csr-name", Input).value = f"{name}_{self.knox.now().year + 1}"
        meta = self._like_meta()
        if meta is not None:
            self.query_one("#csr-subject", Input).value = meta.subject
            self.kept_sans = tuple(meta.san)
            if meta.san:
                self.query_one("#csr-san-label", Label).update(
                    "Extra SANs, comma separated (kept from the certificate: "
                    f"{', '.join(meta.san)})"
                )
            kept = f"{meta.key_type}-{meta.key_size}" if meta.key_type == "rsa" else None
            if meta.key_type == "ec" and meta.key_size in (256, 384):
                kept = f"ec-p{meta.key_size}"
            if kept in KEY_TYPES:
                self.query_one("#csr-key-type", Select).value = kept
        self.query_one("#csr-subject", Input).focus()

    def _find_issuer(self) -> None:
        """The remote whose PKI signed the certificate renewed here, if any: its offer to sign
        the new CSR is shown next to saving the CSR file."""
        from knoxtui.remote.pki import issuing_remote
        from knoxtui.safetext import visible

        vault = self.knox.vault
        self.issuer = (
            None if vault is None or self.like is None else issuing_remote(vault, self.like)
        )
        self.query_one("#csr-sign-row").display = self.issuer is not None
        if self.issuer is not None:
            remote = visible(self.issuer.remote_name)
            mount = visible(self.issuer.pki_mount)
            self.query_one("#csr-sign-label", Label).update(
                Text(f"Sign with remote '{remote}' ({mount}), role ")
            )
            self.query_one("#csr-sign", Button).label = Text(f"Sign with {remote}")

    def _like_meta(self) -> Any:
        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        if vault is None or self.like is None:
            return None
        try:
            secret = vault.get_secret(self.like)
        except KnoxError:
            return None
        envs = secret.environments
        env = self.like_environment if self.like_environment in envs else (envs or [None])[0]
        value = secret.value(env) if env else None
        return value.certificate if value is not None else None

    @on(Button.Pressed, "#generate")
    def _generate(self) -> None:
        name = self.query_one("#csr-name", Input).value.strip()
        subject = self.query_one("#csr-subject", Input).value.strip()
        if not name:
            self._status("Give the pending key a name.", ok=False)
            return
        if not subject and self.like is None:
            self._status("A CSR needs a subject.", ok=False)
            return
        san = [s for s in self.query_one("#csr-san", Input).value.split(",") if s.strip()]
        key_type = str(self.query_one("#csr-key-type", Select).value)
        passphrase = self.query_one("#csr-passphrase", Input).value or None
        self.query_one("#generate", Button).disabled = True
        self._status(f"Generating a {key_type} key…")
        self.generate(name, subject or None, san, key_type, passphrase)

    @work(thread=True, exclusive=True, group="csr")
    def generate(
        self, name: str, subject: str | None, san: list[str], key_type: str, passphrase: Any
    ) -> None:
        from knoxtui.lifecycle.renewal import new_signing_request

        try:
            pending = new_signing_request(
                self.knox.vault,  # type: ignore[arg-type]
                name,
                subject=subject,
                like=self.like,
                like_environment=self.like_environment,
                san=san,
                key_type=key_type,
                key_passphrase=passphrase,
            )
        except Exception as exc:
            self.post_message(self.Generated(None, exc))
            return
        self.post_message(self.Generated(pending))

    def on_renew_modal_generated(self, message: Generated) -> None:
        self.query_one("#generate", Button).disabled = False
        if message.pending is None:
            self._error(message.error or Exception(), "No CSR made")
            self._status(getattr(message.error, "message", "No CSR made."), ok=False)
            return
        pending = message.pending
        self.pending = pending
        self.query_one("#csr-passphrase", Input).value = ""
        self.query_one("#csr-form").display = False
        self.query_one("#csr-result").display = True
        self.query_one("#csr-pem", TextArea).text = pending.csr_pem.decode("ascii")
        self.query_one("#csr-path", Input).value = str(Path.cwd() / f"{pending.name}.csr")
        stored = "generated and stored" if pending.passphrase_generated else "yours"
        self._status(
            f"Pending key '{pending.name}' ({pending.key_type}) kept in the vault, encrypted "
            f"(passphrase {stored}). Send this CSR to the CA, then attach the certificate "
            "(palette: Attach certificate).",
            ok=True,
        )
        if self.issuer is not None:
            self._status(
                Text(
                    f"Pending key '{pending.name}' ({pending.key_type}) kept in the vault, "
                    f"encrypted (passphrase {stored}). '{self.like}' was signed by remote "
                    f"'{self.issuer.remote_name}': sign this CSR there (the key stays here), or "
                    "save it for another CA."
                ),
                ok=True,
            )
            self.query_one("#csr-role", Input).focus()
        else:
            self.query_one("#csr-save", Button).focus()

    @on(Button.Pressed, "#csr-sign")
    def _sign(self) -> None:
        role = self.query_one("#csr-role", Input).value.strip()
        if self.pending is None or self.issuer is None or self.signed is not None:
            return
        if not role:
            self._status("Type the PKI role to sign with (the remote's admin knows it).", ok=False)
            return
        self.query_one("#csr-sign", Button).disabled = True
        self._status(Text(f"Sending the CSR to remote '{self.issuer.remote_name}'…"))
        self.sign(self.pending.name, self.issuer.remote_name, role)

    @work(thread=True, exclusive=True, group="csr")
    def sign(self, pending: str, remote_name: str, role: str) -> None:
        from knoxtui.remote.pki import sign_and_attach

        vault = self.knox.vault
        try:
            if vault is None:
                raise RuntimeError("locked")
            remote = vault.remotes.get(remote_name)
            result, signed = sign_and_attach(vault, remote, pending, role)
        except Exception as exc:
            self.post_message(self.Signed(None, error=exc))
            return
        self.post_message(self.Signed(result, signed.serial))

    def on_renew_modal_signed(self, message: Signed) -> None:
        from knoxtui.safetext import visible

        self.query_one("#csr-sign", Button).disabled = False
        if message.result is None:
            self._error(message.error or Exception(), "Not signed")
            text = getattr(message.error, "message", None) or "Unexpected error."
            self._status(
                Text(f"Not signed: {visible(text)} The pending key stays in the vault."), ok=False
            )
            return
        result, remote = message.result, self.issuer.remote_name
        self.signed = result
        self.query_one("#csr-sign-row").display = False
        text = Text(
            f"Signed by remote '{visible(remote)}', serial {message.serial}; stored as "
            f"secret '{visible(result.secret)}' ({visible(result.environment)}), valid until "
            f"{result.valid_until:%Y-%m-%d}. Next: rotate the routes to it (o)."
        )
        for finding in result.warnings:
            if finding.code == "csr_fields_dropped":  # what the role left out, and the way
                text.append(f"\n⚠ {visible(finding.message)} {visible(finding.hint or '')}")
        self._status(text, ok=True)
        self.knox.secrets_changed()
        self.query_one("#csr-close", Button).focus()

    @on(Button.Pressed, "#csr-save")
    def _save(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.renewal import write_public_file

        raw = self.query_one("#csr-path", Input).value.strip()
        if not raw or self.pending is None:
            self._status("Type a path for the CSR file.", ok=False)
            return
        path = Path(raw).expanduser()
        try:
            write_public_file(path, self.pending.csr_pem)
        except KnoxError as exc:
            self._error(exc, "CSR not saved")
            self._status(exc.message, ok=False)
            return
        self._status(f"CSR saved to {path}.", ok=True)
        self.notify(f"CSR saved to {path}.")

    @on(Button.Pressed, "#csr-copy")
    def _copy(self) -> None:
        if self.pending is not None:
            self.knox.clip.copy(self.pending.csr_pem.decode("ascii"), "CSR")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#csr-close")
    def _close(self) -> None:
        self.dismiss(self.pending.name if self.pending is not None else None)
