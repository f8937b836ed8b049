"""Certificate lifecycle in the TUI (issue 6): renew (new key + CSR), attach the issued
certificate, rotate routes (with a rehearsal of OLD vs NEW), retire, export, inventory report.

Each modal calls the headless `knoxtui.lifecycle` API; key generation and network rehearsals run in
thread workers that post a message back to their own modal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.ui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

KEY_TYPES = ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")
EXPORT_FORMATS = ("pkcs12", "pem")
REPORT_FORMATS = ("csv", "json", "md")


class _LifecycleModal(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "cancel", "Close")]

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def _error(self, exc: Exception, title: str) -> None:
        message = getattr(exc, "message", None) or f"Unexpected error ({type(exc).__name__})."
        hint = getattr(exc, "hint", None)
        self.notify(f"{message}\n{hint}" if hint else message, title=title, severity="error")

    def _status(self, text: str | Text, *, ok: bool | None = None) -> None:
        widget = self.query_one(".lc-status", Static)
        widget.set_classes("lc-status" + ("" if ok is None else " lc-ok" if ok else " lc-fail"))
        widget.update(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter_presses_the_main_button(self, event: Input.Submitted) -> None:
        """Enter in a field does what the primary button does (keyboard users need no Tab dance)."""
        event.stop()
        for button in self.query(Button):
            # region.area: on screen, not in a hidden step of the dialog
            if button.variant == "primary" and not button.disabled and button.region.area:
                button.press()
                return


# ---- renew: a new key pair in the vault and its CSR -------------------------------------------


class RenewModal(_LifecycleModal):
    """Returns the pending key's name once a CSR was made (None when cancelled)."""

    class Generated(Message, bubble=False):
        def __init__(self, pending: Any, error: Exception | None = None) -> None:
            super().__init__()
            self.pending = pending
            self.error = error

    def __init__(self, like: str | None = None, environment: str | None = None) -> None:
        super().__init__()
        self.like = like
        self.like_environment = environment
        self.pending: Any = None
        self.kept_sans: tuple[str, ...] = ()

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
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Copy", id="csr-copy")
                    yield Button("Save to file", id="csr-save", variant="primary")
                    yield Button("Close", id="csr-close")

    def on_mount(self) -> None:
        self.query_one("#csr-result").display = False
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
        self.query_one("#csr-save", Button).focus()

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


# ---- attach: the CA's certificate to a pending key --------------------------------------------


class AttachModal(_LifecycleModal):
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
            yield Label("Environment (empty: default)")
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


# ---- rotate: repoint routes from OLD to NEW, rehearsed first if wanted -------------------------


class RotateModal(_LifecycleModal):
    """Returns the RotationResult (None when nothing was rotated)."""

    class Rehearsed(Message, bubble=False):
        def __init__(self, rehearsal: Any, error: Exception | None = None) -> None:
            super().__init__()
            self.rehearsal = rehearsal
            self.error = error

    def __init__(self, old: str, new: str | None = None) -> None:
        super().__init__()
        self.old = old
        self.new = new
        self.plan: Any = None
        self.rehearsal: Any = None

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with VerticalScroll(id="dialog", classes="lc-dialog lc-wide"):
            yield Label(f"Rotate routes away from {self.old}", id="dialog-title")
            yield Label("New certificate secret")
            yield Select([], id="rotate-new", prompt="(choose the new secret)")
            yield Label("Routes to move (space toggles; all by default)", id="rotate-routes-label")
            yield SelectionList[str](id="rotate-routes")
            yield Static("", id="rotate-plan")
            with Horizontal(id="rotate-rehearse-row"):
                yield Label("Rehearse in ")
                yield Select([], id="rotate-env", prompt="environment")
                yield Button("Rehearse", id="rotate-rehearse")
            yield Static("", id="rotate-rehearsal")
            with Horizontal(id="rotate-grace-row"):
                yield Label("Grace days for the old secret ")
                yield Input("30", id="rotate-grace", type="integer")
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Rotate…", id="rotate", variant="warning")

    def on_mount(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        candidates = [
            s.name
            for s in vault.list_secrets()
            if s.secret_type == "certificate" and s.name != self.old
        ]
        select = self.query_one("#rotate-new", Select)
        select.set_options([(name, name) for name in candidates])
        if self.new in candidates:
            select.value = self.new
        users = vault.routes_using(self.old)
        routes = self.query_one("#rotate-routes", SelectionList)
        routes.add_options([(name, name, True) for name in users])
        routes.display = len(users) > 1
        self.query_one("#rotate-routes-label").display = len(users) > 1
        self._refresh_plan()

    @property
    def chosen_routes(self) -> tuple[str, ...]:
        """The routes ticked, or () for all (which also moves oauth2 secrets using OLD)."""
        routes = self.query_one("#rotate-routes", SelectionList)
        chosen = tuple(str(v) for v in routes.selected)
        return () if len(chosen) == routes.option_count else chosen

    @on(SelectionList.SelectedChanged, "#rotate-routes")
    def _routes_changed(self) -> None:
        self.rehearsal = None
        self.query_one("#rotate-rehearsal", Static).update("")
        self._refresh_plan()

    @on(Select.Changed, "#rotate-new")
    def _new_changed(self, event: Select.Changed) -> None:
        self.new = None if event.value is Select.BLANK else str(event.value)
        self.rehearsal = None
        self.query_one("#rotate-rehearsal", Static).update("")
        self._refresh_plan()

    def _refresh_plan(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.rotation import plan_rotation

        vault = self.knox.vault
        widget = self.query_one("#rotate-plan", Static)
        self.plan = None
        self.query_one("#rotate", Button).disabled = True
        self.query_one("#rotate-rehearse-row").display = False
        if vault is None or not self.new:
            widget.update("Choose the new secret to see the plan.")
            return
        try:
            if self.query_one("#rotate-routes", SelectionList).option_count and not (
                self.query_one("#rotate-routes", SelectionList).selected
            ):
                widget.update("Tick at least one route.")
                return
            plan = plan_rotation(vault, self.old, self.new, routes=self.chosen_routes)
        except KnoxError as exc:
            widget.update(Text(f"✘ {exc.message}", style=self.knox.status_colour("expired")))
            return
        self.plan = plan
        text = Text()
        text.append("Routes to repoint\n", style="bold")
        for change in plan.changes:
            text.append(f"  • {change.route}: {', '.join(change.fields)}\n")
        if not plan.changes:
            text.append("  (none)\n")
        for name in plan.oauth2_changes:
            text.append(f"  • oauth2 secret {name}: certificate_secret_id\n")
        if plan.untouched:
            text.append("Untouched (keep the old secret): ", style="bold")
            text.append(", ".join(plan.untouched) + "\n")
        for note in plan.notes:
            text.append(f"⚠ {note}\n", style=self.knox.status_colour("warning"))
        widget.update(text)
        self.query_one("#rotate", Button).disabled = not (plan.changes or plan.oauth2_changes)
        environments = self._environments()
        env_select = self.query_one("#rotate-env", Select)
        env_select.set_options([(e, e) for e in environments])
        if environments and plan.changes:
            env_select.value = environments[0]
            self.query_one("#rotate-rehearse-row").display = True

    def _environments(self) -> list[str]:
        vault = self.knox.vault
        if vault is None or not self.new:
            return []
        envs = list(vault.get_secret(self.new).environments)
        return sorted(envs, key=lambda e: (e == "default", e))

    @on(Button.Pressed, "#rotate-rehearse")
    def _rehearse(self) -> None:
        env = self.query_one("#rotate-env", Select).value
        if self.plan is None or env is Select.BLANK or not self.new:
            return
        self.query_one("#rotate-rehearse", Button).disabled = True
        self.query_one("#rotate-rehearsal", Static).update(
            f"Rehearsing every route with {self.old} and with {self.new} in {env}…"
        )
        self.rehearse_in(str(env), self.chosen_routes)

    @work(thread=True, exclusive=True, group="rehearse")
    def rehearse_in(self, environment: str, routes: tuple[str, ...]) -> None:
        from knoxtui.lifecycle.rotation import rehearse

        try:
            found = rehearse(
                self.knox.vault,  # type: ignore[arg-type]
                self.old,
                self.new or "",
                environment,
                routes=routes,
            )
        except Exception as exc:
            self.post_message(self.Rehearsed(None, exc))
            return
        self.post_message(self.Rehearsed(found))

    def on_rotate_modal_rehearsed(self, message: Rehearsed) -> None:
        self.query_one("#rotate-rehearse", Button).disabled = False
        widget = self.query_one("#rotate-rehearsal", Static)
        if message.rehearsal is None:
            self._error(message.error or Exception(), "Rehearsal failed")
            widget.update("")
            return
        self.rehearsal = message.rehearsal
        widget.update(self.rehearsal_text(message.rehearsal))

    def rehearsal_text(self, rehearsal: Any) -> Any:
        from rich.table import Table

        good, bad = self.knox.status_colour("valid"), self.knox.status_colour("expired")
        table = Table(expand=True, title=f"Rehearsal in {rehearsal.environment}")
        table.add_column("route", no_wrap=True)
        table.add_column(f"OLD {rehearsal.old}", ratio=1)
        table.add_column(f"NEW {rehearsal.new}", ratio=1)
        for pair in rehearsal.runs:
            cells = []
            for run in (pair.old, pair.new):
                cell = Text()
                cell.append(
                    ("✔ " if run.ok else "✘ ") + run.code, style=f"bold {good if run.ok else bad}"
                )
                if run.status_code is not None:
                    cell.append(f"  HTTP {run.status_code}")
                diagnosis = getattr(run.result, "diagnosis", None)
                cell.append(f"\n{diagnosis.summary if diagnosis is not None else run.summary}")
                cells.append(cell)
            route = Text(pair.route + ("\nregression" if pair.regression else ""))
            if pair.regression:
                route.stylize(bad)
            table.add_row(route, *cells)
        return table

    @on(Button.Pressed, "#rotate")
    def _rotate(self) -> None:
        raw = self.query_one("#rotate-grace", Input).value.strip() or "30"
        try:
            grace = int(raw)
        except ValueError:
            grace = -1
        if grace < 0:
            self._status("Grace days must be a whole number, 0 or more.", ok=False)
            return
        if self.plan is None or not self.new:
            return
        routes = ", ".join(c.route for c in self.plan.changes) or "no route"
        warn = ""
        if self.rehearsal is not None and not self.rehearsal.ok:
            warn = "\n⚠ The rehearsal shows the new certificate failing for some routes."
        elif self.rehearsal is None:
            warn = "\n(Not rehearsed.)"
        old, new, chosen = self.old, self.new, self.chosen_routes
        keep = (
            f"'{old}' stays for the untouched routes ({', '.join(self.plan.untouched)})."
            if self.plan.untouched
            else f"'{old}' stays, marked retiring for {grace} days."
        )

        def answered(ok: bool | None) -> None:
            if ok:
                self._do_rotate(old, new, grace, chosen)

        self.app.push_screen(
            ConfirmModal(
                "Rotate?",
                f"Repoint {routes} from '{old}' to '{new}' in one transaction (audited). "
                f"{keep}{warn}",
                confirm="Rotate",
                danger=True,
            ),
            answered,
        )

    def _do_rotate(self, old: str, new: str, grace: int, routes: tuple[str, ...]) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.rotation import rotate

        vault = self.knox.vault
        if vault is None:
            return
        try:
            result = rotate(vault, old, new, routes=routes, grace_days=grace)
        except KnoxError as exc:
            self._error(exc, "Nothing rotated")
            self._status(f"✘ {exc.message} Nothing was changed.", ok=False)
            return
        self.knox.secrets_changed()
        until = f" until {result.grace_until:%Y-%m-%d}" if result.grace_until else ""
        self.notify(
            f"Rotated {len(result.plan.changes)} route(s) to '{new}'; '{old}' is retiring{until}."
        )
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


# ---- export ---------------------------------------------------------------------------------


class ExportModal(_LifecycleModal):
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


# ---- the auditors' inventory report ---------------------------------------------------------


class ReportModal(_LifecycleModal):
    """Writes the inventory report (metadata only, never values); returns the path or None."""

    def compose(self) -> ComposeResult:
        yield Footer(compact=True)  # this dialog's keys, not the screen's underneath
        with Vertical(id="dialog", classes="lc-dialog"):
            yield Label("Inventory report (certificate metadata, never values)", id="dialog-title")
            yield Label("Format")
            yield Select([(f, f) for f in REPORT_FORMATS], id="report-format", allow_blank=False)
            yield Label("Write to (mode 0600)")
            yield Input(id="report-path")
            yield Static("", classes="lc-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Write", id="report-write", variant="primary")

    def on_mount(self) -> None:
        self._suggest("csv")

    @on(Select.Changed, "#report-format")
    def _format_changed(self, event: Select.Changed) -> None:
        self._suggest(str(event.value))

    def _suggest(self, fmt: str) -> None:
        stamp = f"{self.knox.now():%Y%m%d}"
        self.query_one("#report-path", Input).value = str(
            Path.cwd() / f"knoxtui-inventory-{stamp}.{fmt}"
        )

    @on(Button.Pressed, "#report-write")  # Enter in the path field presses it too (base class)
    def _write(self) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.export import write_private_file
        from knoxtui.lifecycle.inventory import inventory_report, render

        vault = self.knox.vault
        raw = self.query_one("#report-path", Input).value.strip()
        if vault is None or not raw:
            self._status("Type the path to write.", ok=False)
            return
        fmt = str(self.query_one("#report-format", Select).value)
        path = Path(raw).expanduser()
        try:
            text = render(inventory_report(vault), fmt)
            write_private_file(path, text.encode("utf-8"))
        except KnoxError as exc:
            self._error(exc, "No report written")
            self._status(f"✘ {exc.message}", ok=False)
            return
        self.notify(f"Inventory report written to {path}.")
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


# ---- retire ---------------------------------------------------------------------------------


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
