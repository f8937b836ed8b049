"""The knoxtui application: one factory (`make_app`) used by the command line and the tests."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.segment import Segments
from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from knoxtui import clock as knox_clock
from knoxtui import config as knox_config
from knoxtui.safetext import visible
from knoxtui.ui import clipboard
from knoxtui.ui.palette import ActionCommands, RouteCommands, SecretCommands
from knoxtui.ui.themes import DEFAULT_THEME, STATUS_VARIABLES, load_themes

if TYPE_CHECKING:
    from knoxtui.vault import Vault

STYLES = Path(__file__).parent / "styles"


class KnoxApp(App[None]):
    """Owns the open vault and everything decrypted; screens ask it for both."""

    TITLE = "knoxtui"
    CSS_PATH = [
        STYLES / "app.tcss",
        STYLES / "unlock.tcss",
        STYLES / "inventory.tcss",
        STYLES / "importing.tcss",
        STYLES / "detail.tcss",
        STYLES / "routes.tcss",
        STYLES / "tester.tcss",
        STYLES / "audit.tcss",
        STYLES / "run.tcss",
        STYLES / "dialogs.tcss",
        STYLES / "expiry.tcss",
        STYLES / "lifecycle.tcss",
    ]
    COMMANDS = App.COMMANDS | {SecretCommands, RouteCommands, ActionCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+l", "lock", "Lock", priority=True),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        vault_path: Path,
        *,
        kdf_iter: int | None = None,
        clock: Callable[[], datetime] | datetime | None = None,
        config: knox_config.Config | None = None,
        theme_dirs: list[Path] | None = None,
        passphrase_hint: str | None = None,
        demo: Any = None,
        remember_theme: bool = True,
    ) -> None:
        super().__init__()
        self.vault_path = Path(vault_path)
        self.kdf_iter = kdf_iter
        self._clock = clock
        self.config = config if config is not None else knox_config.load()
        self.theme_dirs = theme_dirs
        self.passphrase_hint = passphrase_hint
        self.demo = demo
        self.remember_theme = remember_theme
        self.vault: Vault | None = None
        self.theme_problems: list[str] = []
        self.user_theme_names: set[str] = set()
        self._themes_ready = False
        self._last_activity = time.monotonic()
        self.secrets_version = 0  # bumped by every screen that changes secrets
        self.remote_choice: str | None = None  # picked on the remote screen (several remotes)
        self._data_version = 0  # the vault file's change counter seen last (other processes)
        self.vault_poll_seconds = 2.0  # how often to look (one PRAGMA, no file read)
        self.clip = clipboard.Clipboard(self)
        self._thresholds: Any = None

    @property
    def thresholds(self) -> Any:
        """Expiry thresholds from the settings (pki imported on first use: a faster first paint)."""
        if self._thresholds is None:
            from knoxtui.pki import ExpiryThresholds

            self._thresholds = ExpiryThresholds(
                warning_days=self.config.warning_days, urgent_days=self.config.urgent_days
            )
        return self._thresholds

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        if isinstance(self._clock, datetime):
            return self._clock
        if callable(self._clock):
            return self._clock()
        return knox_clock.now()

    # -- themes -------------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(STATUS_VARIABLES)

    def load_themes(self) -> None:
        loaded = load_themes(self.theme_dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
        self.user_theme_names = {theme.name for theme in loaded.themes}
        self.theme_problems = loaded.problems
        if loaded.problems:
            shown = "\n".join(loaded.problems[:3])
            more = f"\n(+{len(loaded.problems) - 3} more)" if len(loaded.problems) > 3 else ""
            self.notify(
                f"{shown}{more}", title="A theme file could not be loaded", severity="warning"
            )
        wanted = self.config.theme
        if wanted not in self.available_themes:
            if wanted != DEFAULT_THEME:
                self.notify(
                    f"Theme '{wanted}' is not installed; using {DEFAULT_THEME}.",
                    severity="warning",
                )
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        self._themes_ready = True

    def watch_theme(self, theme: str) -> None:
        if self._themes_ready and self.remember_theme:
            try:
                knox_config.save_theme(theme)
            except OSError as exc:
                self.notify(f"Could not remember the theme: {exc.strerror}", severity="warning")

    def status_colour(self, status: str) -> str:
        """The theme's colour for an expiry status (for Rich text built in code)."""
        variable = {
            "valid": "knox-valid",
            "warning": "knox-warning",
            "urgent": "knox-urgent",
            "expired": "knox-expired",
            "not_yet_valid": "knox-notyet",
        }.get(status)
        if variable is None:
            return self.theme_variables.get("foreground", "white")
        return self.theme_variables.get(variable, STATUS_VARIABLES[variable])

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (screens and widgets land here) is plain text: messages carry file
        names, subjects, server text and values typed by the user, so never markup (a `[/x]` in
        them crashed the app) and every control character made visible."""
        del markup
        super().notify(
            visible(message, multiline=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.load_themes()
        for problem in self.config.problems:
            self.notify(problem, title="Settings", severity="warning")
        from knoxtui.ui.screens.unlock import UnlockScreen

        self.push_screen(UnlockScreen())
        seconds = self.idle_seconds
        self.set_interval(max(0.5, min(15.0, seconds / 4)), self.check_idle_lock, name="idle-lock")
        self.set_interval(self.vault_poll_seconds, self.check_vault_changes, name="vault-watch")

    def on_unmount(self) -> None:
        self.clip.clear_now()
        self._close_vault()
        if self.demo is not None:
            self.demo.close()

    def vault_opened(self, vault: Vault) -> None:
        from knoxtui.ui.screens.inventory import InventoryScreen

        self.vault = vault
        self._last_activity = time.monotonic()
        self._data_version = vault.data_version()
        self.switch_screen(InventoryScreen())
        for problem in getattr(vault, "anchor_problems", ()):
            self.notify(
                f"{problem}\nThe audit log was changed outside knoxtui (a: Audit).",
                title="Audit log",
                severity="error",
                timeout=30,
            )

    def secrets_changed(self) -> None:
        """A screen changed secrets: the inventory reloads when it is shown again."""
        self.secrets_version += 1

    def check_vault_changes(self) -> None:
        """Another process (the CLI, a second console) committed to the vault file: the list on
        screen reloads now, every other one when it is shown again (no F5 needed)."""
        vault = self.vault
        if vault is None:
            return
        try:
            version = vault.data_version()
        except Exception:  # a vault closing under us (lock) is not worth a crash
            return
        if version == self._data_version:
            return
        self._data_version = version
        self.secrets_changed()
        reload = getattr(self.screen, "vault_changed_elsewhere", None)
        if callable(reload):
            reload()

    def _close_vault(self) -> None:
        vault, self.vault = self.vault, None
        # Cached TLS contexts hold decrypted keys, OAuth2 tokens too; nothing is cached unless
        # one of these was loaded (the net package loads its parts on first use).
        if any(f"knoxtui.net.{part}" in sys.modules for part in ("request", "context", "oauth2")):
            from knoxtui.net.request import forget_secrets

            forget_secrets()
        readers = sys.modules.get("knoxtui.ui.bundle_process")
        if readers is not None:
            readers.stop_all()  # a file being read in a child holds its decrypted key
        if vault is not None:
            with contextlib.suppress(Exception):  # closing must never stop the lock
                vault.close()

    async def action_lock(self) -> None:
        """Back to the unlock screen with nothing decrypted left in any screen; the vault's
        agent (if one runs) forgets its key too, so no command opens the vault without it."""
        if self.vault is None:
            return
        self.run_worker(self._lock_agent, thread=True, group="agent-lock")
        await self._lock()

    def _lock_agent(self) -> None:
        from knoxtui.agent import client

        client.lock(self.vault_path)

    async def _lock(self, reason: str | None = None) -> None:
        from knoxtui.ui.screens.unlock import UnlockScreen

        if self.vault is None:
            return
        self.clip.clear_now()
        self._close_vault()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(UnlockScreen(locked=True, reason=reason))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Nothing to lock while locked: hide the key.
        return not (action == "lock" and self.vault is None)

    @property
    def idle_seconds(self) -> float:
        return float(self.config.idle_lock_minutes) * 60.0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event,
            events.Key
            | events.MouseDown
            | events.MouseScrollDown
            | events.MouseScrollUp
            | events.Paste,
        ):
            self._last_activity = time.monotonic()
        await super().on_event(event)

    async def check_idle_lock(self) -> None:
        if self.vault is not None and time.monotonic() - self._last_activity >= self.idle_seconds:
            # The console's own idle lock; the agent keeps its own idle timer for the CLI.
            minutes = f"{self.config.idle_lock_minutes:g}"
            idle = f"{minutes} minute{'' if minutes == '1' else 's'} idle"
            await self._lock(reason=f"locked after {idle}")
            self.notify(
                f"Locked after {idle} (idle_lock_minutes in config.toml).", title="Vault locked"
            )

    # -- navigation (palette, screens) ---------------------------------------------------------
    def open_secret(self, name: str, environment: str | None = None) -> None:
        from knoxtui.ui.screens.detail import DetailScreen

        if self.vault is not None:
            self.push_screen(DetailScreen(name, environment))

    def open_route(
        self,
        name: str | None,
        *,
        focus: str | None = None,
        suggested: dict[str, Any] | None = None,
    ) -> None:
        """The route editor; `focus` a route key's field, `suggested` values filled in unsaved
        (from the tester's diagnosis: ctrl+f)."""
        from knoxtui.ui.screens.routes import RouteEditScreen

        if self.vault is not None:
            self.push_screen(RouteEditScreen(name, focus=focus, suggested=suggested))

    def open_tester(self, name: str, *, send: bool = False, environment: str | None = None) -> None:
        """The tester on route `name`; `send` fires the request at once (t, Save & test)."""
        from knoxtui.ui.screens.tester import TesterScreen

        if self.vault is not None:
            self.push_screen(TesterScreen(name, send=send, environment=environment))

    def open_run(self, request_id: int) -> None:
        """A stored run of the request history (Audit → Requests → enter)."""
        from knoxtui.ui.screens.run import RunScreen

        if self.vault is not None:
            self.push_screen(RunScreen(request_id))

    def open_import(self) -> None:
        from knoxtui.ui.screens.importing import ImportScreen

        if self.vault is not None:
            self.push_screen(ImportScreen())

    def open_routes(self) -> None:
        from knoxtui.ui.screens.routes import RoutesScreen

        if self.vault is not None:
            self.push_screen(RoutesScreen())

    def open_audit(self) -> None:
        from knoxtui.ui.screens.audit import AuditScreen

        if self.vault is not None:
            self.push_screen(AuditScreen())

    def open_expiry(self) -> None:
        from knoxtui.ui.screens.expiry import ExpiryScreen

        if self.vault is not None and not isinstance(self.screen, ExpiryScreen):
            self.push_screen(ExpiryScreen())

    # -- certificate lifecycle (issue 6) ------------------------------------------------------
    def current_secret(self) -> tuple[str | None, str | None]:
        """The certificate the user is looking at (detail, expiry panel or inventory row)."""
        from knoxtui.ui.screens.detail import DetailScreen
        from knoxtui.ui.screens.expiry import ExpiryScreen
        from knoxtui.ui.screens.inventory import InventoryScreen

        screen = self.screen
        if isinstance(screen, DetailScreen):
            return screen.secret_name, screen.environment
        if isinstance(screen, ExpiryScreen):
            current = screen.current()
            return current if current is not None else (None, None)
        if isinstance(screen, InventoryScreen):
            record = screen.table.current
            if record is not None:
                return record.key[0], record.key[1]
        return None, None

    def _with_secret(self, title: str, then: Callable[[str, str | None], Any]) -> None:
        """Run `then` on the current certificate, or ask for its name first."""
        from knoxtui.ui.screens.dialogs import PromptModal

        if self.vault is None:
            return
        name, environment = self.current_secret()
        if name is not None:
            then(name, environment)
            return

        def answered(value: str | None) -> None:
            if value:
                then(value, None)

        self.push_screen(PromptModal(title, placeholder="secret name"), answered)

    def _after_lifecycle(self, result: Any) -> None:
        from knoxtui.ui.screens.detail import DetailScreen

        if result is not None and isinstance(self.screen, DetailScreen):
            self.screen.run_worker(self.screen.reload(), exclusive=True, group="detail-reload")

    def open_renew(self, name: str | None = None, environment: str | None = None) -> None:
        from knoxtui.ui.screens.lifecycle import RenewModal

        if name is not None:
            self.push_screen(RenewModal(name, environment))
        else:
            self._with_secret(
                "Renew which certificate?",
                lambda n, e: self.push_screen(RenewModal(n, e)),
            )

    def open_attach(self) -> None:
        from knoxtui.ui.screens.lifecycle import AttachModal

        if self.vault is not None:
            self.push_screen(AttachModal(), self._after_lifecycle)

    def open_rotate(self, old: str | None = None, new: str | None = None) -> None:
        from knoxtui.ui.screens.lifecycle import RotateModal

        if old is not None:
            self.push_screen(RotateModal(old, new), self._after_lifecycle)
        else:
            self._with_secret(
                "Rotate routes away from which secret?",
                lambda n, _e: self.push_screen(RotateModal(n), self._after_lifecycle),
            )

    def open_export(self, name: str | None = None, environment: str | None = None) -> None:
        from knoxtui.ui.screens.lifecycle import ExportModal

        def export(n: str, e: str | None) -> None:
            from knoxtui.errors import KnoxError

            try:
                secret = self.vault.get_secret(n) if self.vault is not None else None
            except KnoxError as exc:
                self.notify(exc.message, severity="error")
                return
            if secret is None or secret.secret_type != "certificate":
                self.notify("Only certificate secrets can be exported.", severity="warning")
                return
            self.push_screen(ExportModal(n, e))

        if name is not None:
            export(name, environment)
        else:
            self._with_secret("Export which certificate?", export)

    def open_retire(self, name: str | None = None) -> None:
        from knoxtui.ui.screens.detail import DetailScreen
        from knoxtui.ui.screens.lifecycle import retire_flow

        def retire(n: str, _e: str | None) -> None:
            screen = self.screen
            done = screen.dismiss if isinstance(screen, DetailScreen) else None
            retire_flow(self, n, done)

        if name is not None:
            retire(name, None)
        else:
            self._with_secret("Retire which secret?", retire)

    def open_report(self) -> None:
        from knoxtui.ui.screens.lifecycle import ReportModal

        if self.vault is not None:
            self.push_screen(ReportModal())

    async def open_inventory(self) -> None:
        while len(self.screen_stack) > 2:
            await self.pop_screen()

    # -- crashes ------------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """Textual prints a traceback with local variables on a crash; ours may hold decrypted
        values, so only the exception's type is shown unless KNOXTUI_DEBUG is set."""
        if os.environ.get("KNOXTUI_DEBUG"):
            from rich.traceback import Traceback

            crash = getattr(self, "_crash", None)
            renderable: Any = (
                Traceback.from_exception(type(crash), crash, crash.__traceback__, width=None)
                if crash is not None
                else Traceback(show_locals=False, width=None)
            )
        else:
            kind = type(getattr(self, "_crash", None)).__name__
            renderable = Text(
                f"knoxtui: internal error ({kind}). This is a bug; run again with "
                "KNOXTUI_DEBUG=1 for the traceback (without local values) and report it."
            )
        self.bell()
        self._exit_renderables.append(
            Segments(self.console.render(renderable, self.console.options))
        )
        self._close_messages_no_wait()

    # -- help and palette ---------------------------------------------------------------------
    def action_help(self) -> None:
        from knoxtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Any:
        # Textual's own theme picker is left out: its themes were not made with the expiry
        # colours in mind; ours ("Theme: …", see palette.py) are.
        for command in super().get_system_commands(screen):
            if command.title != "Theme":
                yield command
        if self.vault is not None:
            yield SystemCommand(
                "Lock", "Lock the vault and drop decrypted values", self.action_lock
            )


def make_app(
    vault_path: Path,
    *,
    kdf_iter: int | None = None,
    clock: Callable[[], datetime] | datetime | None = None,
    config: knox_config.Config | None = None,
    theme_dirs: list[Path] | None = None,
    passphrase_hint: str | None = None,
    demo: Any = None,
    remember_theme: bool = True,
) -> KnoxApp:
    """The app on one vault file (created on the unlock screen when it does not exist)."""
    return KnoxApp(
        Path(vault_path),
        kdf_iter=kdf_iter,
        clock=clock,
        config=config,
        theme_dirs=theme_dirs,
        passphrase_hint=passphrase_hint,
        demo=demo,
        remember_theme=remember_theme,
    )


def make_demo_app(
    *, folder: Path | None = None, kdf_iter: int | None = None, clock: Any = None, **kwargs: Any
) -> KnoxApp:
    """A fresh demo vault (passphrase `demo`) and the local mTLS lab its routes call."""
    from knoxtui import demo as knox_demo

    session = knox_demo.start_demo(folder, kdf_iter=kdf_iter)
    return make_app(
        session.vault_path,
        kdf_iter=kdf_iter,
        clock=clock,
        passphrase_hint=f"Demo vault: the passphrase is '{knox_demo.DEMO_PASSPHRASE}'.",
        demo=session,
        **kwargs,
    )
