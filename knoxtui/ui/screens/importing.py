"""Import a secret: PEM pasted or typed (or a file), validated live in a worker, with a checklist.

The Create button stays disabled while any error finding stands."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TextArea,
)

from knoxtui import refs
from knoxtui.limits import parse_json
from knoxtui.safetext import visible
from knoxtui.ui.plain import plain
from knoxtui.ui.widgets.checklist import CheckLine, Checklist, console_hint, lines_for_bundle
from knoxtui.ui.widgets.header import Header
from knoxtui.ui.widgets.masked_text_area import MaskedTextArea
from knoxtui.ui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

DEBOUNCE_SECONDS = 0.25
EXPIRY_ERRORS = frozenset({"expired", "not_yet_valid"})
TRUSTSTORE_FINDINGS = EXPIRY_ERRORS | {"missing_private_key"}
TYPES = (
    ("certificate", "certificate"),
    ("string (API key, CA bundle, text)", "string"),
    ("oauth2 (client credentials JSON)", "oauth2"),
)


def is_secret_text(text: str) -> bool:
    """A string value to keep off the screen: anything but PEM CA certificates (which are
    public), and always a private key."""
    from knoxtui.vault import cabundle

    return "PRIVATE KEY" in text or not cabundle.looks_like_bundle(text)


def is_truststore(bundle: Any) -> bool:
    """A Java keystore of trusted-certificate entries only (no private key), read cleanly but
    for the missing key (and the dates, which the CA-bundle checks say)."""
    return (
        bundle.format in ("jks", "jceks")
        and not bundle.has_private_key
        and bool(bundle.certificates)
        and all(f.code in TRUSTSTORE_FINDINGS for f in bundle.errors)
    )


def suggest_name(text: str | None) -> str:
    """A secret name from a subject CN: lowercase, allowed characters only."""
    if not text:
        return ""
    name = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-.")
    return name[:48]


@dataclass
class Validation:
    generation: int
    lines: list[CheckLine]
    ok: bool
    bundle: Any = field(default=None, repr=False)
    value: Any = field(default=None, repr=False)  # string / oauth2 config to store
    suggested_name: str = ""
    as_string: bool = False  # a Java truststore: its PEM certificates stored as a string secret


class ImportScreen(Screen[bool]):
    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+s", "create", "Create"),
    ]
    AUTO_FOCUS = "#pem"

    class Validated(Message, bubble=False):
        def __init__(self, result: Validation) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        *,
        name: str | None = None,
        environment: str | None = None,
        secret_type: str = "certificate",
        replace: bool = False,
    ) -> None:
        super().__init__()
        self.preset_name = name
        self.preset_environment = environment
        self.preset_type = secret_type
        self.replace = replace
        self.generation = 0
        self.result: Validation | None = None
        self._debounce: Timer | None = None
        self._name_touched = bool(name)
        self._known_names: set[str] = set()
        self._suggested_name = ""
        self._create_when_checked = False
        self._aliases: tuple[str, ...] = ()  # the keystore entries the alias list offers

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    @property
    def adding_environment(self) -> bool:
        """ "Add env" on a secret: the environment is the one thing to decide, so it comes first
        and is required (typed into Description by mistake, a `default` value went in)."""
        return bool(self.preset_name) and not self.replace

    def _environment_fields(self) -> ComposeResult:
        if self.adding_environment:
            yield Label("Environment (required: the new value's environment)")
        else:
            yield Label("Environment (empty: one value for every environment)")
        yield Input(value=self.preset_environment or "", placeholder="production", id="environment")

    def compose(self) -> ComposeResult:
        self.sub_title = "Import" if not self.preset_name else f"New value for {self.preset_name}"
        yield Header()
        with Horizontal(id="import-body"):
            with VerticalScroll(id="import-form"):
                if self.adding_environment:
                    yield from self._environment_fields()
                yield Label("Type")
                yield Select(TYPES, value=self.preset_type, allow_blank=False, id="type")
                yield Label(
                    "Paste PEM here (certificate, chain and key), or name a file below",
                    id="pem-label",
                )
                yield MaskedTextArea(id="pem", soft_wrap=False, show_line_numbers=False)
                with Vertical(id="file-fields"):
                    yield Label("File (.pem .crt .cer .der .p12 .pfx .p7b .jks .jceks)")
                    yield Input(
                        placeholder="path/to/client.pem", id="file", suggester=PathSuggester()
                    )
                    yield Label("Separate key file (optional)")
                    yield Input(
                        placeholder="path/to/client.key", id="key-file", suggester=PathSuggester()
                    )
                    yield Label("Key passphrase (when the key or .p12 is encrypted)")
                    yield Input(placeholder="key passphrase", password=True, id="key-passphrase")
                    with Vertical(id="keystore-fields"):
                        # shown for a Java keystore: which private-key entry, and its password
                        with Vertical(id="keystore-alias-fields"):
                            yield Label("Keystore entry (it holds several private keys)")
                            yield Select[str]([], prompt="choose the entry", id="keystore-alias")
                        yield Label(
                            "Entry password (when the key entry's differs from the store's)"
                        )
                        yield Input(
                            placeholder="key entry password", password=True, id="entry-passphrase"
                        )
                    yield Checkbox(
                        "Keep it even if expired or not yet valid (marked in the inventory)",
                        id="allow-expired",
                    )
                yield Label("Name")
                yield Input(
                    value=self.preset_name or "",
                    placeholder="e.g. bank-prod-client",
                    id="name",
                    disabled=bool(self.preset_name),
                )
                if not self.adding_environment:
                    yield from self._environment_fields()
                yield Label("Description")
                yield Input(placeholder="optional", id="description")
                yield Label("", id="import-error")
                with Horizontal(id="import-buttons"):
                    yield Button("Create", id="create", variant="success", disabled=True)
                    yield Button("Cancel", id="cancel")
            with Vertical(id="import-side"):
                yield Static("Checks", id="checks-title")
                yield Checklist(id="checklist")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._apply_type(self.preset_type)
        self.query_one("#keystore-fields").display = False
        # Focusing the text area scrolls the form past the Type field and the paste label.
        self.call_after_refresh(self._show_form_top)

    def _show_form_top(self) -> None:
        if self.adding_environment:
            self.query_one("#environment", Input).focus(scroll_visible=False)
        self.query_one("#import-form", VerticalScroll).scroll_home(animate=False)

    @property
    def secret_type(self) -> str:
        return str(self.query_one("#type", Select).value)

    def _apply_type(self, kind: str) -> None:
        self.query_one("#file-fields").display = kind == "certificate"
        label = self.query_one("#pem-label", Label)
        label.update(
            {
                "certificate": "Paste PEM here (certificate, chain and key), or name a file below",
                "string": "The value (API key, token, CA bundle PEM, any text)",
                "oauth2": 'OAuth2 client credentials (JSON): {"token_url": ..., "client_id": ...}',
            }[kind]
        )

    # -- live validation ----------------------------------------------------------------------
    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        self._apply_type(str(event.value))
        self._update_mask()
        self.schedule_validation()

    @on(TextArea.Changed, "#pem")
    @on(Input.Changed, "#file, #key-file, #key-passphrase, #entry-passphrase")
    @on(Select.Changed, "#keystore-alias")
    def _input_changed(self) -> None:
        self._update_mask()
        self.schedule_validation()

    def _update_mask(self) -> None:
        """A string value that is not a CA bundle (an API key, a token) is drawn as bullets."""
        area = self.query_one("#pem", MaskedTextArea)
        area.masked = self.secret_type == "string" and is_secret_text(area.text)

    @on(Input.Changed, "#name, #environment")
    def _name_changed(self, event: Input.Changed) -> None:
        if event.input.id == "name" and event.value != self._suggested_name:
            self._name_touched = True  # typed (or set) by the user: never overwrite it
        self._update_create()

    def schedule_validation(self) -> None:
        self.generation += 1
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self.validate_now)

    def validate_now(self) -> None:
        """Start the check of the current input (the debounce timer calls this)."""
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = None
        pem = self.query_one("#pem", TextArea).text
        file = self.query_one("#file", Input).value.strip()
        key_file = self.query_one("#key-file", Input).value.strip()
        passphrase = self.query_one("#key-passphrase", Input).value
        keystore = self._keystore_choice()
        vault = self.knox.vault
        # Read on this thread: the vault connection belongs to the UI thread.
        self._known_names = (
            {s.name for s in vault.list_secrets()}
            if vault is not None and self.secret_type == "oauth2"
            else set()
        )
        self.run_validation(
            self.generation, self.secret_type, pem, file, key_file, passphrase, keystore
        )

    def _keystore_choice(self) -> dict[str, str | None]:
        """The Java keystore entry chosen in the list and its own password (when shown)."""
        if not self.query_one("#keystore-fields").display:
            return {}
        alias = self.query_one("#keystore-alias", Select).value
        entry = self.query_one("#entry-passphrase", Input).value
        return {
            "alias": alias if isinstance(alias, str) else None,
            "entry_passphrase": entry or None,
        }

    @work(thread=True, exclusive=True, group="import-validate")
    def run_validation(
        self,
        generation: int,
        kind: str,
        pem: str,
        file: str,
        key_file: str,
        passphrase: str,
        keystore: dict[str, str | None] | None = None,
    ) -> None:
        self.post_message(
            self.Validated(
                self._validate(generation, kind, pem, file, key_file, passphrase, keystore)
            )
        )

    def _validate(
        self,
        generation: int,
        kind: str,
        pem: str,
        file: str,
        key_file: str,
        passphrase: str,
        keystore: dict[str, str | None] | None = None,
    ) -> Validation:
        if kind == "string":
            if not pem.strip():
                return Validation(
                    generation, [CheckLine("value", "pending", "Value", "empty")], False
                )
            if not is_secret_text(pem):
                return self._validate_ca_bundle(generation, pem)
            return Validation(
                generation,
                [
                    CheckLine(
                        "value",
                        "ok",
                        "Value",
                        f"{len(pem)} characters, masked on screen (kept encrypted)",
                    )
                ],
                True,
                value=pem,
            )
        if kind == "oauth2":
            return self._validate_oauth2(generation, pem)
        from knoxtui.pki import load_bundle

        if not pem.strip() and not file:
            return Validation(generation, [], False)
        lines: list[CheckLine] = []
        source = "<pasted>"
        data: bytes
        if file:
            path = Path(file).expanduser()
            try:
                data = path.read_bytes()
                source = str(path)
            except OSError as exc:
                reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
                return Validation(
                    generation,
                    [
                        CheckLine(
                            "file",
                            "error",
                            "File",
                            f"{path}: {reason}",
                            "Check the path (→ completes it).",
                            ("file_error",),
                        )
                    ],
                    False,
                )
            if pem.strip():
                lines.append(
                    CheckLine("file", "info", "File", "reading the file; pasted text ignored")
                )
        else:
            data = pem.encode("utf-8", "replace")
        key_data = None
        if key_file:
            key_path = Path(key_file).expanduser()
            try:
                key_data = key_path.read_bytes()
            except OSError as exc:
                reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
                return Validation(
                    generation,
                    [
                        CheckLine(
                            "key_file",
                            "error",
                            "Key file",
                            f"{key_path}: {reason}",
                            "Check the path, or leave it empty.",
                            ("file_error",),
                        )
                    ],
                    False,
                )
        from knoxtui.ui import bundle_process

        options: dict[str, Any] = {
            "key_data": key_data,
            "passphrase": passphrase or None,
            "source": source,
            "now": self.knox.now(),
            "thresholds": self.knox.thresholds,
            "require_key": True,  # a client certificate for mTLS is useless without its key
            **(keystore or {}),
        }
        if bundle_process.needs_process(data, key_data):
            # A key derivation holds the GIL: in a child, killed at the time limit, so the
            # console (ctrl+l, the idle lock) never freezes on a hostile file.
            try:
                bundle = bundle_process.load_bundle_bounded(data, **options)
            except bundle_process.BundleTimeout:
                limit = int(bundle_process.TIME_LIMIT_SECONDS)
                return Validation(generation, [_too_slow_line(limit)], False)
            except bundle_process.BundleReaderFailed:
                return Validation(generation, [_reader_failed_line()], False)
            except bundle_process.BundleNotPortable:
                bundle = load_bundle(data, **options)  # it finished in time in the child
        else:
            bundle = load_bundle(data, **options)
        if is_truststore(bundle):
            return self._validate_truststore(generation, bundle, lines)
        lines.extend(lines_for_bundle(bundle))
        leaf = bundle.leaf
        return Validation(
            generation,
            lines,
            bundle.valid,
            bundle=bundle,
            suggested_name=suggest_name(leaf.subject_cn if leaf is not None else None),
        )

    def _validate_truststore(
        self, generation: int, bundle: Any, lines: list[CheckLine]
    ) -> Validation:
        """A Java truststore (trusted-certificate entries, no key) is no client certificate: its
        certificates are stored as PEM in a string secret, the CA bundle a route trusts (as
        `secret add --type string --value-file` does)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        certificates = bundle.certificates
        count = len(certificates)
        what = "CA certificate" if all(c.is_ca for c in certificates) else "trusted certificate"
        text = "".join(c.certificate.public_bytes(Encoding.PEM).decode() for c in certificates)
        checked = self._validate_ca_bundle(generation, text)
        head = CheckLine(
            "truststore",
            "ok",
            "Truststore",
            f"{count} {what}{'' if count == 1 else 's'} — stored as a CA bundle (string secret)",
        )
        first = certificates[0]
        return Validation(
            generation,
            [*lines, head, *checked.lines],
            checked.ok,
            value=checked.value,
            suggested_name=suggest_name(first.subject_cn),
            as_string=checked.ok,
        )

    def _validate_ca_bundle(self, generation: int, text: str) -> Validation:
        """PEM CA certificates as a string value: read them as the vault will, and say how many
        and when the first one expires (a CA that expires breaks every route trusting it)."""
        from knoxtui.errors import KnoxError
        from knoxtui.safetext import visible
        from knoxtui.vault import cabundle

        try:
            bundle = cabundle.from_details(cabundle.details_for(text, "the pasted value"))
        except KnoxError as exc:
            line = CheckLine(
                "ca_bundle", "error", "CA bundle", exc.message, console_hint(exc.hint), (exc.code,)
            )
            return Validation(generation, [line], False)
        if bundle is None:  # cannot happen: details_for refuses a bundle without certificates
            return Validation(generation, [], False)
        now, thresholds = self.knox.now(), self.knox.thresholds
        count = bundle.count
        lines = [
            CheckLine(
                "ca_bundle",
                "ok",
                "CA bundle",
                f"{count} certificate{'' if count == 1 else 's'}: "
                + ", ".join(visible(c.label) for c in bundle.certificates[:3])
                + (f" and {count - 3} more" if count > 3 else ""),
            )
        ]
        worst = bundle.worst(now, thresholds)
        status = str(worst.status(now, thresholds))
        days = worst.days_remaining(now)
        when = (
            f"not valid before {worst.valid_from:%Y-%m-%d}"
            if status == "not_yet_valid"
            else (f"{days} days left" if days >= 0 else f"expired {-days} days ago")
        )
        lines.append(
            CheckLine(
                "expiry",
                "ok" if status == "valid" else "warning",
                "Expiry",
                f"{visible(worst.label)}: {when} (until {worst.valid_until:%Y-%m-%d})",
                None
                if status == "valid"
                else "Routes trusting this bundle fail once it expires: ask the server's "
                "operator for the new CA certificate.",
                () if status == "valid" else (f"ca_{status}",),
            )
        )
        return Validation(generation, lines, True, value=text)

    def _validate_oauth2(self, generation: int, text: str) -> Validation:
        from knoxtui.errors import KnoxError
        from knoxtui.vault import OAuth2Config

        if not text.strip():
            return Validation(generation, [], False)
        try:
            data = parse_json(text)  # depth-limited: deep nesting is a clear error line
        except json.JSONDecodeError as exc:
            return Validation(
                generation,
                [
                    CheckLine(
                        "json",
                        "error",
                        "JSON",
                        f"line {exc.lineno}: {exc.msg}",
                        "Fix the JSON syntax.",
                        ("invalid_json",),
                    )
                ],
                False,
            )
        if not isinstance(data, dict):
            return Validation(
                generation, [CheckLine("json", "error", "JSON", "expected an object {...}")], False
            )
        try:
            config = OAuth2Config.from_dict(data)
        except KnoxError as exc:
            return Validation(
                generation,
                [
                    CheckLine("json", "ok", "JSON", "parsed"),
                    CheckLine(
                        "oauth2",
                        "error",
                        "OAuth2 configuration",
                        exc.message,
                        exc.hint,
                        (exc.code,),
                    ),
                ],
                False,
            )
        lines = [
            CheckLine("json", "ok", "JSON", "parsed"),
            CheckLine(
                "oauth2",
                "ok",
                "OAuth2 configuration",
                f"{config.auth_method} at {config.token_url}",
            ),
        ]
        names = self._known_names
        for ref in (config.certificate_secret_id, config.ca_bundle_secret_id):
            if ref and ref not in names:
                lines.append(
                    CheckLine(
                        "ref",
                        "warning",
                        "Reference",
                        f"no secret named '{ref}'",
                        "Import it first or fix the name.",
                    )
                )
        return Validation(generation, lines, True, value=config)

    async def on_import_screen_validated(self, message: Validated) -> None:
        result = message.result
        if result.generation != self.generation:
            return  # stale: the input changed since this check started
        self.result = result
        checklist = self.query_one(Checklist)
        if not result.lines:
            await checklist.show_message(
                "Paste a PEM block or choose a file; checks run as you type."
            )
        else:
            await checklist.show(result.lines)
        self._show_keystore_fields(result.bundle)
        name = self.query_one("#name", Input)
        if result.suggested_name and not self._name_touched and not self.preset_name:
            self._suggested_name = result.suggested_name
            name.value = result.suggested_name
        self._update_create()
        if self._create_when_checked:
            self._create_when_checked = False
            self.action_create()

    def _show_keystore_fields(self, bundle: Any) -> None:
        """A Java keystore shows its entry password field, and with several private-key
        entries the list of their aliases (a choice kept while it is still in the file)."""
        is_keystore = bundle is not None and bundle.format in ("jks", "jceks")
        aliases = tuple(bundle.key_aliases) if is_keystore else ()
        fields = self.query_one("#keystore-fields")
        if not aliases:
            # another file, or a truststore (no key entry): no choice applies
            fields.display = False
            return
        fields.display = True
        self.query_one("#keystore-alias-fields").display = len(aliases) > 1
        select = self.query_one("#keystore-alias", Select)
        if aliases != self._aliases:
            self._aliases = aliases
            chosen = select.value
            with select.prevent(Select.Changed):
                select.set_options((visible(a), a) for a in aliases)
                if isinstance(chosen, str) and chosen in aliases:
                    select.value = chosen

    # -- create -------------------------------------------------------------------------------
    def _name_problem(self) -> str | None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            return "Give the secret a name."
        if not refs.is_valid_name(name):
            return "Names use a-z, 0-9, '_', '.', '-' and start with a letter or digit."
        environment = self.query_one("#environment", Input).value.strip()
        if not environment and self.adding_environment:
            return "Type the environment of the new value (production, sandbox...) first."
        if environment and not refs.is_valid_name(environment):
            return "Environment names use a-z, 0-9, '_', '.', '-'."
        return None

    @property
    def allow_expired(self) -> bool:
        return self.query_one("#allow-expired", Checkbox).value

    def _acceptable(self) -> bool:
        """No error stands; with "keep expired" ticked, only expiry errors may stand."""
        result = self.result
        if result is None or result.generation != self.generation:
            return False
        if result.ok:
            return True
        if not self.allow_expired or result.bundle is None:
            return False
        return {f.code for f in result.bundle.errors} <= EXPIRY_ERRORS

    @on(Checkbox.Changed, "#allow-expired")
    def _allow_changed(self) -> None:
        self._update_create()

    def _update_create(self) -> None:
        ok = self._acceptable()
        problem = self._name_problem() if ok else None
        self.query_one("#create", Button).disabled = not ok or problem is not None
        self.query_one("#import-error", Label).update(plain(problem or "", multiline=True))

    def _refusal(self) -> str:
        """Why Create is refused, naming what to do (the checks, the checkbox or the name)."""
        result = self.result
        if result is None or not result.lines:
            return "Paste a certificate or choose a file first."
        if self._acceptable():
            return self._name_problem() or "Fix the red checks first."
        bundle = result.bundle
        codes = {f.code for f in bundle.errors} if bundle is not None else set()
        if codes and codes <= EXPIRY_ERRORS:
            return (
                "The certificate is expired or not yet valid: tick 'Keep it even if expired'"
                " to store it anyway."
            )
        return "Fix the red checks first."

    @property
    def can_create(self) -> bool:
        return not self.query_one("#create", Button).disabled

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        from knoxtui.errors import KnoxError

        pending = self.result is None or self.result.generation != self.generation
        if pending and (self._debounce is not None or self.result is not None):
            # ctrl+s right after typing: finish the check first, then create (or say why not).
            self._create_when_checked = True
            self.validate_now()
            return
        if not self.can_create or self.result is None:
            self.notify(self._refusal(), severity="error")
            return
        vault = self.knox.vault
        if vault is None:
            return
        from knoxtui.vault import DEFAULT_ENV

        name = self.query_one("#name", Input).value.strip()
        environment = self.query_one("#environment", Input).value.strip() or DEFAULT_ENV
        description = self.query_one("#description", Input).value.strip() or None
        kind = self.secret_type
        try:
            if kind == "certificate" and self.result.as_string:
                # a Java truststore: its CA certificates as a CA bundle (string secret)
                vault.add_string(
                    name,
                    self.result.value,
                    environment=environment,
                    description=description,
                    replace=self.replace,
                )
            elif kind == "certificate":
                passphrase = self.query_one("#key-passphrase", Input).value or None
                vault.add_certificate(
                    name,
                    self.result.bundle,
                    environment=environment,
                    description=description,
                    key_passphrase=passphrase if self.result.bundle.encrypted_key else None,
                    allow_expired=self.allow_expired,
                    replace=self.replace,
                )
            elif kind == "string":
                vault.add_string(
                    name,
                    self.result.value,
                    environment=environment,
                    description=description,
                    replace=self.replace,
                )
            else:
                vault.add_oauth2(
                    name,
                    self.result.value,
                    environment=environment,
                    description=description,
                    replace=self.replace,
                )
        except KnoxError as exc:
            hint = exc.hint
            if hint and "--replace" in hint:
                # The vault's hint names command-line flags; say what to do on this screen.
                hint = (
                    "Type another environment above, or open the secret (enter) and press R"
                    " to replace that value."
                )
            text = exc.message + (f"\n{hint}" if hint else "")
            self.query_one("#import-error", Label).update(plain(text, multiline=True))
            self.notify(exc.message, title="Not imported", severity="error")
            return
        self.knox.secrets_changed()
        self.notify(f"Secret '{name}' ({environment}) saved.", title="Imported")
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        typed = (
            self.query_one("#pem", TextArea).text.strip()
            or self.query_one("#file", Input).value.strip()
        )
        if not typed:
            self.dismiss(False)
            return
        from knoxtui.ui.screens.dialogs import ConfirmModal

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        # A pasted bundle (and its passphrase) is lost on leaving: ask, as an editor would.
        self.app.push_screen(
            ConfirmModal(
                "Discard this import?",
                "Nothing has been saved yet. Leave and drop what was pasted or chosen?",
                confirm="Discard",
                danger=True,
            ),
            answered,
        )


def _too_slow_line(limit: int) -> CheckLine:
    return CheckLine(
        "file",
        "error",
        "File",
        f"Reading it took longer than {limit} s and was stopped: its key derivation asks for "
        "far more work than any real file.",
        "Export the certificate and key again from their source.",
        ("corrupt",),
    )


def _reader_failed_line() -> CheckLine:
    return CheckLine(
        "file",
        "error",
        "File",
        "It could not be read (the reader stopped).",
        "Check the file with knoxtui inspect on the command line.",
        ("corrupt",),
    )
