"""Unlock an existing vault or create a new one; key derivation runs in a thread worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, LoadingIndicator, Static

from knoxtui.ui.plain import plain

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp


def passphrase_strength(passphrase: str) -> tuple[str, str]:
    """A rough hint (level, words) — length and variety, the things that matter for a passphrase."""
    if not passphrase:
        return "none", ""
    kinds = sum(
        [
            any(c.islower() for c in passphrase),
            any(c.isupper() for c in passphrase),
            any(c.isdigit() for c in passphrase),
            any(not c.isalnum() for c in passphrase),
        ]
    )
    words = len(passphrase.split())
    score = len(passphrase) + 3 * kinds + 4 * max(0, words - 1)
    if score < 14:
        return "weak", "weak: use a longer passphrase (four or more words)"
    if score < 24:
        return "fair", "fair: longer is stronger"
    return "strong", "strong"


class UnlockScreen(Screen[None]):
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", priority=True)]
    AUTO_FOCUS = "#passphrase"

    class Opened(Message, bubble=False):
        def __init__(self, vault: object) -> None:
            super().__init__()
            self.vault = vault

    class Failed(Message, bubble=False):
        def __init__(self, message: str, hint: str | None) -> None:
            super().__init__()
            self.message = message
            self.hint = hint

    def __init__(self, *, locked: bool = False, reason: str | None = None) -> None:
        super().__init__()
        self.locked = locked
        self.reason = reason  # "locked after 5 minutes idle"; None: ctrl+l

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    @property
    def creating(self) -> bool:
        return not self.knox.vault_path.exists()

    def compose(self) -> ComposeResult:
        app = self.knox
        with Center(), Vertical(id="unlock-box"):
            yield Static("🔐 knoxtui", id="unlock-title")
            if self.creating:
                yield Label("Create a new vault", id="unlock-mode")
            else:
                yield Label("Unlock the vault", id="unlock-mode")
            yield Label(plain(app.vault_path), id="unlock-path")
            if self.locked:
                why = f"The vault was {self.reason}" if self.reason else "The vault was locked"
                yield Label(f"{why}; decrypted values were dropped.", id="locked")
            yield Input(placeholder="vault passphrase", password=True, id="passphrase")
            if self.creating:
                yield Input(placeholder="the same passphrase again", password=True, id="confirm")
                yield Label("", id="strength")
            yield Label("", id="unlock-error")
            yield LoadingIndicator(id="unlock-spinner")
            yield Button(
                "Create vault" if self.creating else "Unlock", id="unlock-go", variant="primary"
            )
            if app.passphrase_hint:
                yield Label(app.passphrase_hint, id="unlock-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#unlock-spinner").display = False
        if not self.locked and not self.creating:
            self.open_with_agent()

    @work(thread=True, exclusive=True, group="agent")
    def open_with_agent(self) -> None:
        """The vault's agent (`knoxtui agent start`) holds its key: open without the passphrase.
        After a lock (ctrl+l, idle) the passphrase is asked for again."""
        from knoxtui.agent import client
        from knoxtui.errors import KnoxError, WrongVaultPassphrase

        path = self.knox.vault_path
        try:
            key = client.fetch_key(path)
        except KnoxError as exc:  # a foreign socket: say so, and ask for the passphrase
            self.app.call_from_thread(
                self.app.notify, exc.message, title="Agent ignored", severity="warning"
            )
            return
        if key is None:
            return  # no agent: nothing more is loaded while the screen paints
        from knoxtui.vault import Vault
        from knoxtui.vault.connection import RawKey

        raw = RawKey(key)
        key[:] = bytes(len(key))
        try:
            vault = Vault.open(path, raw, kdf_iter=self.knox.kdf_iter)
        except WrongVaultPassphrase:
            client.lock(path, "stale_key")
            self.app.call_from_thread(
                self.app.notify,
                "The agent's key no longer opens this vault (was its passphrase changed?); "
                "the agent was locked.",
                title="Agent locked",
                severity="warning",
            )
            return
        except KnoxError:
            return  # the passphrase path shows the error when the user tries
        self.post_message(self.Opened(vault))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Typing answers the last complaint ("Enter the vault passphrase." stayed under a field
        already filled); the fields emptied by a failure leave it in place."""
        if event.value:
            self.query_one("#unlock-error", Label).update("")

    @on(Input.Changed, "#passphrase")
    def _strength(self, event: Input.Changed) -> None:
        if not self.creating:
            return
        level, words = passphrase_strength(event.value)
        label = self.query_one("#strength", Label)
        label.update(f"Strength: {words}" if words else "")
        label.set_classes(f"strength-{level}")

    @on(Input.Submitted)
    @on(Button.Pressed, "#unlock-go")
    def submit(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        if not passphrase:
            self._fail("Enter the vault passphrase.", None, shake=False)
            return
        if self.creating:
            confirm = self.query_one("#confirm", Input)
            if not confirm.value and self.focused is not confirm:
                confirm.focus()
                return
            if confirm.value != passphrase:
                self._fail("The two passphrases differ.", "Type the same passphrase twice.")
                return
        self._busy(True)
        self.open_vault(passphrase, self.creating)

    def _busy(self, busy: bool) -> None:
        self.query_one("#unlock-spinner").display = busy
        self.query_one("#unlock-go", Button).disabled = busy
        for field in self.query(Input):
            field.disabled = busy

    @work(thread=True, exclusive=True, group="unlock")
    def open_vault(self, passphrase: str, create: bool) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.vault import Vault

        app = self.knox
        try:
            if create:
                vault = Vault.create(app.vault_path, passphrase, kdf_iter=app.kdf_iter)
            else:
                vault = Vault.open(app.vault_path, passphrase, kdf_iter=app.kdf_iter)
        except KnoxError as exc:
            hint = exc.hint
            if exc.code == "wrong_vault_passphrase":
                # The vault's hint speaks of passphrase files; here the passphrase was typed.
                hint = "Try again (check Caps Lock and the keyboard layout)."
            self.post_message(self.Failed(exc.message, hint))
            return
        except Exception as exc:
            self.post_message(
                self.Failed(f"Could not open the vault ({type(exc).__name__}).", None)
            )
            return
        self.post_message(self.Opened(vault))

    def on_unlock_screen_opened(self, message: Opened) -> None:
        if self.knox.vault is not None:  # the agent and a typed passphrase both opened it
            message.vault.close()  # type: ignore[attr-defined]
            return
        self.knox.vault_opened(message.vault)  # type: ignore[arg-type]

    def on_unlock_screen_failed(self, message: Failed) -> None:
        self._busy(False)
        self._fail(message.message, message.hint)

    def _fail(self, message: str, hint: str | None, *, shake: bool = True) -> None:
        text = message if not hint else f"{message}\n{hint}"
        self.query_one("#unlock-error", Label).update(plain(text, multiline=True))
        for other in self.query(Input):
            other.value = ""
        field = self.query_one("#passphrase", Input)
        field.focus()
        if shake:
            self.shake()

    def shake(self) -> None:
        box = self.query_one("#unlock-box")
        box.add_class("shake")
        offsets = [2, -2, 1, -1, 0]

        def step(index: int = 0) -> None:
            if index >= len(offsets):
                box.remove_class("shake")
                box.styles.offset = (0, 0)
                return
            box.styles.offset = (offsets[index], 0)
            self.set_timer(0.05, lambda: step(index + 1))

        step()
