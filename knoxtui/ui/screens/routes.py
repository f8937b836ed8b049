"""Routes: the list, and the editor (form fields plus the raw JSON, references checked as you type).

`tls_reject_unauthorized: false` is a red banner wherever a route appears (DESIGN.md §5)."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TextArea,
)

from knoxtui import refs
from knoxtui.limits import parse_json
from knoxtui.routes.route import plaintext_config
from knoxtui.ui.plain import plain
from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.ui.widgets.completing_input import CompletingInput
from knoxtui.ui.widgets.header import Header

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

FORM_FIELDS = (
    ("target_url", "Target URL", "https://api.bank.example/v1"),
    ("certificate_secret_id", "Client certificate secret", "a certificate secret"),
    ("ca_bundle_secret_id", "CA bundle secret for server trust", "optional: a string secret"),
    ("oauth2_secret_id", "OAuth2 secret", "optional: an oauth2 secret"),
    ("tls_servername", "TLS server name (SNI) override", "optional"),
    ("proxy", "Proxy", "empty: HTTPS_PROXY/NO_PROXY as curl reads them; none: direct"),
)
# The secret each *_secret_id field takes: suggestions offer only that type.
SECRET_FIELD_TYPES = {
    "certificate_secret_id": "certificate",
    "ca_bundle_secret_id": "string",
    "oauth2_secret_id": "oauth2",
}
NUMBER_FIELDS = (
    ("timeout_seconds", "whole request (default 30)"),
    ("connect_timeout_seconds", "connect (default 10)"),
)
FLAG_FIELDS = (
    ("follow_redirects", "Follow redirects (same origin only get the secrets)"),
    ("http2", "Offer HTTP/2"),
    ("allow_plaintext", "Allow plain http:// for a route that carries secrets (unsafe)"),
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
VERSIONS = (("default", ""), ("TLS 1.2", "1.2"), ("TLS 1.3", "1.3"))


def headers_text(headers: Any) -> str:
    """A headers object as the field shows it: `Name: value`, one per line."""
    if not isinstance(headers, dict):
        return ""
    return "\n".join(f"{key}: {value}" for key, value in headers.items())


def parse_header_lines(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"Headers line {number}: write it as 'Name: value'.")
        headers[key.strip()] = value.strip()
    return headers


def _number(text: str) -> int | float:
    value = float(text)
    if value <= 0 or value != value or value == float("inf"):
        raise ValueError
    return int(value) if value.is_integer() else value


INSECURE_BANNER = "⚠ tls_reject_unauthorized is false: the server's certificate is NOT verified."


def insecure(config: Any) -> bool:
    return isinstance(config, dict) and config.get("tls_reject_unauthorized") is False


class RouteTable(DataTable[Any]):
    """The routes list: Home and End go to the first and last route, as in the other tables
    (DataTable's own Home/End only scroll sideways; ctrl+Home/End stay as they were)."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]


class RoutesScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter,e", "edit", "Edit"),
        Binding("n", "new", "New"),
        Binding("t", "test", "Test"),
        Binding("d", "delete", "Delete"),
    ]
    AUTO_FOCUS = "#routes-table"

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = "Routes"
        yield Header()
        yield Static("", id="routes-banner", classes="banner-danger")
        yield Static("enter edit · t test · n new · d delete", id="routes-help")
        yield RouteTable(id="routes-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # The URL last: at a narrow terminal it is the one cut (with …), never the server check.
        table.add_columns("Name", "Server check", "Certificate", "OAuth2", "Target URL")
        self.reload()

    def on_resize(self) -> None:
        if self.is_mounted:
            self.reload()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()

    def vault_changed_elsewhere(self) -> None:
        self.reload()

    def reload(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        table = self.query_one(DataTable)
        keep = self.current  # back from the tester or editor: stay on the route just used
        table.clear()
        unsafe = []
        routes = [(route.name, dict(route.config)) for route in vault.list_routes()]
        widths = [
            max([len(name) for name, _ in routes] + [4]),
            12,
            max([len(str(c.get("certificate_secret_id") or "")) for _, c in routes] + [11]),
            max([len(str(c.get("oauth2_secret_id") or "")) for _, c in routes] + [6]),
        ]
        # The URL gets what is left (2 cells of padding per column) and is cut with "…".
        room = max(16, self.size.width - sum(widths) - 2 * 5 - 2)
        bad = f"bold {self.knox.status_colour('expired')}"
        for name, config in routes:
            check: str | Text = "verified"
            if insecure(config):
                check = Text("OFF ⚠", style=bad)
                unsafe.append(name)
            if plaintext_config(config):
                # plain http://: nothing is verified or encrypted, whatever the TLS settings say
                check = Text("plain http ⚠", style=bad)
            url = str(config.get("target_url", ""))
            table.add_row(
                plain(name),
                check,
                plain(str(config.get("certificate_secret_id") or "")),
                plain(str(config.get("oauth2_secret_id") or "")),
                plain(url if len(url) <= room else url[: room - 1] + "…"),
                key=name,
            )
        if keep is not None:
            from textual.widgets.data_table import RowDoesNotExist

            # deleted meanwhile: the first row is as good as any
            with contextlib.suppress(RowDoesNotExist):
                table.move_cursor(row=table.get_row_index(keep))
        banner = self.query_one("#routes-banner", Static)
        banner.display = bool(unsafe)
        banner.update(f"{INSECURE_BANNER} Routes: {', '.join(unsafe)}")
        if not table.row_count:
            self.query_one("#routes-help", Static).update("No routes yet: press n to add one.")

    @property
    def current(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(DataTable.RowSelected)
    def action_edit(self) -> None:
        if self.current:
            self.knox.open_route(self.current)

    def action_new(self) -> None:
        self.knox.open_route(None)

    def action_test(self) -> None:
        if self.current:
            self.knox.open_tester(self.current, send=True)

    def action_delete(self) -> None:
        from knoxtui.errors import KnoxError

        name = self.current
        if name is None:
            return

        def answered(ok: bool | None) -> None:
            if not ok or self.knox.vault is None:
                return
            try:
                self.knox.vault.remove_route(name)
            except KnoxError as exc:
                self.notify(exc.message, severity="error")
                return
            self.reload()

        self.app.push_screen(
            ConfirmModal(
                "Delete route?", f"Delete the route '{name}'?", confirm="Delete", danger=True
            ),
            answered,
        )

    def action_back(self) -> None:
        self.dismiss()


class RouteEditScreen(Screen[bool]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+t", "test", "Save & test"),
    ]

    def __init__(
        self,
        route_name: str | None,
        *,
        focus: str | None = None,
        suggested: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.route_name = route_name
        self.focus_key = focus
        self.suggested = dict(suggested or {})
        self.config: dict[str, Any] = {}
        self.json_error: str | None = None
        self.field_errors: dict[str, str] = {}  # fields whose text is not a value yet
        self.ref_problems: list[str] = []
        self._secrets: dict[str, Any] = {}

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = f"Route {self.route_name}" if self.route_name else "New route"
        yield Header()
        yield Static(INSECURE_BANNER, id="route-banner", classes="banner-danger")
        with Horizontal(id="route-body"):
            with VerticalScroll(id="route-form"):
                yield Label("Name")
                yield Input(
                    value=self.route_name or "",
                    id="route-name",
                    disabled=self.route_name is not None,
                    placeholder="a-z 0-9 _ . - (e.g. partner-api)",
                )
                for key, label, placeholder in FORM_FIELDS:
                    # the key beside the words: diagnoses and the raw JSON name the key
                    yield Label(f"{label} ({key})")
                    kind = CompletingInput if key in SECRET_FIELD_TYPES else Input
                    yield kind(id=f"f-{key}", placeholder=placeholder)
                yield Label("Method (method)")
                yield Select(
                    [(m, m) for m in METHODS], id="f-method", allow_blank=False, value="GET"
                )
                yield Label("Headers (headers: Name: value per line; {{secret:NAME}} allowed)")
                yield TextArea(id="f-headers", soft_wrap=True)
                yield Label("Timeouts in seconds (timeout_seconds, connect_timeout_seconds)")
                with Horizontal(id="timeouts"):
                    for key, placeholder in NUMBER_FIELDS:
                        yield Input(id=f"f-{key}", placeholder=placeholder, type="number")
                for key, label in FLAG_FIELDS:
                    yield Checkbox(f"{label} ({key})", id=f"f-{key}")
                yield Label("TLS versions (tls_min_version, tls_max_version)")
                with Horizontal(id="versions"):
                    yield Select(
                        VERSIONS,
                        id="f-tls_min_version",
                        prompt="min TLS",
                        allow_blank=False,
                        value="",
                    )
                    yield Select(
                        VERSIONS,
                        id="f-tls_max_version",
                        prompt="max TLS",
                        allow_blank=False,
                        value="",
                    )
                yield Checkbox(
                    "Verify the server certificate (tls_reject_unauthorized)",
                    value=True,
                    id="f-tls_reject_unauthorized",
                )
                with Horizontal(id="route-buttons"):
                    yield Button("Save", id="save", variant="success")
                    yield Button("Save & test", id="save-test")
                    yield Button("Cancel", id="cancel")
            with Vertical(id="route-json-side"):
                yield Label("Raw JSON (edits here update the form)")
                yield TextArea(id="route-json", language="json", soft_wrap=True)
                # Beside the form, not under it: problems stay in view while typing any field.
                yield Static(id="route-refs")
                yield Label("", id="route-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        self._secrets = {s.name: s for s in vault.list_secrets()} if vault else {}
        for key, kind in SECRET_FIELD_TYPES.items():
            names = sorted(n for n, s in self._secrets.items() if s.secret_type == kind)
            self.query_one(f"#f-{key}", Input).suggester = SuggestFromList(names)
        if self.route_name and vault is not None:
            try:
                self.config = dict(vault.get_route(self.route_name).config)
            except KnoxError as exc:
                self.notify(exc.message, severity="error")
        else:
            self.config = {"target_url": "", "tls_reject_unauthorized": True}
        self._config_to_form()
        self._config_to_json()
        self._pristine = self._snapshot()
        if self.suggested:
            # From the tester's diagnosis: filled in, not saved (leaving asks to discard).
            self.config.update(self.suggested)
            self._config_to_form()
            self._config_to_json()
            shown = ", ".join(f"{k} = {v}" for k, v in self.suggested.items())
            self.notify(f"Suggested from the diagnosis: {shown}. ctrl+t saves and tests again.")
        self.check()
        target = f"#f-{self.focus_key}" if self.focus_key else None
        if target and self.query(target):
            self.call_after_refresh(self._focus_field, target)
        else:
            self.query_one("#f-target_url" if self.route_name else "#route-name", Input).focus()

    def _focus_field(self, selector: str) -> None:
        widget = self.query_one(selector)
        widget.focus()
        self.query_one("#route-form", VerticalScroll).scroll_to_widget(widget, animate=False)

    # -- form <-> JSON ------------------------------------------------------------------------
    # Each side only writes when the value differs, so the echo of our own update is a no-op.
    def _config_to_form(self) -> None:
        for key, _label, _placeholder in FORM_FIELDS:
            value = self.config.get(key)
            field = self.query_one(f"#f-{key}", Input)
            text = "" if value is None else str(value)
            if field.value != text:
                field.value = text
        method = self.query_one("#f-method", Select)
        wanted_method = str(self.config.get("method") or "GET").upper()
        wanted_method = wanted_method if wanted_method in METHODS else "GET"
        if method.value != wanted_method:
            method.value = wanted_method
        area = self.query_one("#f-headers", TextArea)
        try:
            shown = parse_header_lines(area.text)
        except ValueError:
            shown = None
        if shown != (self.config.get("headers") or {}):
            area.text = headers_text(self.config.get("headers"))
        for key, _placeholder in NUMBER_FIELDS:
            field = self.query_one(f"#f-{key}", Input)
            value = self.config.get(key)
            text = "" if value is None else str(value)
            if field.value != text:
                try:
                    same = value is not None and _number(field.value) == value
                except ValueError:
                    same = False
                if not same:
                    field.value = text
        for key, _label in FLAG_FIELDS:
            box = self.query_one(f"#f-{key}", Checkbox)
            if box.value != (self.config.get(key) is True):
                box.value = self.config.get(key) is True
        for key in ("tls_min_version", "tls_max_version"):
            value = str(self.config.get(key) or "")
            select = self.query_one(f"#f-{key}", Select)
            wanted = value if value in ("1.2", "1.3") else ""
            if select.value != wanted:
                select.value = wanted
        box = self.query_one("#f-tls_reject_unauthorized", Checkbox)
        if box.value != (not insecure(self.config)):
            box.value = not insecure(self.config)

    def _config_to_json(self) -> None:
        area = self.query_one("#route-json", TextArea)
        try:
            if parse_json(area.text or "null") == self.config:
                return
        except json.JSONDecodeError:
            pass
        area.text = json.dumps(self.config, indent=2)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _form_changed(self, event: Any) -> None:
        widget = event.control
        if widget.id == "route-name":
            self.check()
            return
        if not (widget.id or "").startswith("f-"):
            return
        key = widget.id.removeprefix("f-")
        value: Any = event.value
        if key == "tls_reject_unauthorized":
            if bool(value) == (not insecure(self.config)):
                return
            self.config[key] = bool(value)
        elif key in dict(FLAG_FIELDS):
            if bool(value) == (self.config.get(key) is True):
                return
            if value:
                self.config[key] = True
            else:
                self.config.pop(key, None)  # false is the default: the JSON stays short
        elif key in dict(NUMBER_FIELDS):
            text = str(value).strip()
            self.field_errors.pop(key, None)
            if not text:
                if key not in self.config:
                    self.check()
                    return
                self.config.pop(key)
            else:
                try:
                    number = _number(text)
                except ValueError:
                    self.field_errors[key] = f"{key} must be a number of seconds above 0"
                    self.check()
                    return
                if self.config.get(key) == number:
                    self.check()
                    return
                self.config[key] = number
        elif key == "method":
            if value == str(self.config.get("method") or "GET").upper():
                return
            self.config["method"] = value
        else:
            value = value.strip() if isinstance(value, str) else value
            if value in ("", None, Select.BLANK):
                if key not in self.config:
                    return
                self.config.pop(key)
            elif self.config.get(key) == value:
                return
            else:
                self.config[key] = value
        self._config_to_json()
        self.check()

    @on(TextArea.Changed, "#f-headers")
    def _headers_changed(self, event: TextArea.Changed) -> None:
        self.field_errors.pop("headers", None)
        try:
            headers = parse_header_lines(event.text_area.text)
        except ValueError as exc:
            self.field_errors["headers"] = str(exc)
            self.check()
            return
        if headers == (self.config.get("headers") or {}):
            self.check()
            return
        if headers:
            self.config["headers"] = headers
        else:
            self.config.pop("headers", None)
        self._config_to_json()
        self.check()

    @on(TextArea.Changed, "#route-json")
    def _json_changed(self, event: TextArea.Changed) -> None:
        try:
            data = parse_json(event.text_area.text or "{}")  # depth-limited
        except json.JSONDecodeError as exc:
            self.json_error = f"JSON: line {exc.lineno}: {exc.msg}"
            self.check()
            return
        if not isinstance(data, dict):
            self.json_error = "JSON: the route configuration must be an object {...}"
            self.check()
            return
        self.json_error = None
        if data != self.config:
            self.field_errors.clear()  # the JSON now says what those fields hold
            self.config = data
            self._config_to_form()
        self.check()

    # -- checks -------------------------------------------------------------------------------
    def check(self) -> bool:
        """References and fields, as you type; returns True when the route can be saved."""
        from knoxtui.vault.models import route_references

        secrets = self._secrets
        lines: list[tuple[str, str]] = []
        problems: list[str] = []
        listed: list[str] = []  # problems the References list already names: not said twice
        for name in route_references(self.config):
            secret = secrets.get(name)
            if secret is None:
                problems.append(f"no secret named '{name}'")
                listed.append(problems[-1])
                lines.append(("ref-bad", f"✘ {name}: no such secret"))
            else:
                envs = ", ".join(secret.environments)
                lines.append(("ref-ok", f"✔ {name} ({secret.secret_type}; {envs})"))
        expected = {
            "certificate_secret_id": "certificate",
            "oauth2_secret_id": "oauth2",
            "ca_bundle_secret_id": "string",
        }
        for key, kind in expected.items():
            named = self.config.get(key)
            if isinstance(named, str) and named in secrets and secrets[named].secret_type != kind:
                actual = secrets[named].secret_type
                problems.append(f"{key} names a {actual} secret, not {kind}")
                listed.append(problems[-1])
                lines.append(("ref-bad", f"✘ {key}: '{named}' is a {actual}"))
        for match in refs.SECRET_REF.finditer(json.dumps(self.config)):
            if not refs.is_valid_name(match.group(1)):
                problems.append(f"'{match.group(0)}' is not a valid reference")
        problems.extend(self.field_errors.values())
        if self.json_error:
            problems.insert(0, self.json_error)
        url = self.config.get("target_url")
        if not url:
            problems.append("target_url is required")
        elif isinstance(url, str) and not url.startswith(("https://", "http://")):
            problems.append("target_url must start with https://")
        name = self.query_one("#route-name", Input).value.strip()
        if not refs.is_valid_name(name):
            problems.append("the route needs a name (a-z, 0-9, '_', '.', '-')")
        if not problems and not self.json_error:
            try:
                from knoxtui.routes import Route

                Route.from_config(name, dict(self.config))
            except ImportError:
                pass
            except Exception as exc:
                problems.append(getattr(exc, "message", None) or str(exc))
        self.ref_problems = problems
        refs_widget = self.query_one("#route-refs", Static)
        from rich.text import Text

        text = Text()
        text.append("References\n", style="bold")
        if not lines:
            text.append("(none)\n")
        for style, line in lines:
            colour = self.knox.status_colour("valid" if style == "ref-ok" else "expired")
            text.append(line + "\n", style=colour)
        refs_widget.update(text)
        unlisted = [problem for problem in problems if problem not in listed]
        self.query_one("#route-error", Label).update("\n".join(unlisted))
        self.query_one("#route-banner").display = insecure(self.config)
        self.query_one("#save", Button).disabled = bool(problems)
        self.query_one("#save-test", Button).disabled = bool(problems)
        return not problems

    # -- actions ------------------------------------------------------------------------------
    def _save(self) -> str | None:
        from knoxtui.errors import KnoxError

        if not self.check() or self.knox.vault is None:
            self.notify("Fix the problems shown first.", severity="error")
            return None
        name = self.query_one("#route-name", Input).value.strip()
        try:
            self.knox.vault.save_route(name, dict(self.config), replace=self.route_name is not None)
        except KnoxError as exc:
            self.query_one("#route-error", Label).update(
                exc.message + (f"\n{exc.hint}" if exc.hint else "")
            )
            self.notify(exc.message, title="Route not saved", severity="error")
            return None
        self.notify(f"Route '{name}' saved.")
        return name

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._save():
            self.dismiss(True)

    @on(Button.Pressed, "#save-test")
    def action_test(self) -> None:
        name = self._save()
        if name:
            self.dismiss(True)
            self.knox.open_tester(name, send=True)

    def _snapshot(self) -> tuple[str, str]:
        # The raw JSON follows every form edit, so it and the name tell whether anything changed.
        return (
            self.query_one("#route-name", Input).value,
            self.query_one("#route-json", TextArea).text,
        )

    @on(Button.Pressed, "#cancel")
    def action_back(self) -> None:
        if self._snapshot() == getattr(self, "_pristine", None):
            self.dismiss(False)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        self.app.push_screen(
            ConfirmModal(
                "Discard changes?",
                "This route has unsaved changes. Leave without saving them?",
                confirm="Discard",
                danger=True,
            ),
            answered,
        )
