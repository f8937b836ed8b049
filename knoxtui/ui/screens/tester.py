"""The request tester: fire a saved route in an environment and read the handshake like a doctor.

Secrets are resolved on the UI thread (the vault connection is used from one thread at a time);
the network part (`knoxtui.net.execute`) runs in a thread worker and posts its result."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from knoxtui.limits import parse_json
from knoxtui.safetext import visible
from knoxtui.ui.plain import plain
from knoxtui.ui.screens.routes import INSECURE_BANNER, insecure
from knoxtui.ui.widgets.checklist import console_hint
from knoxtui.ui.widgets.header import Header

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RESPONSE_ACTIONS = frozenset({"toggle_raw", "search", "next_match", "copy_body", "save_body"})
BODY_LIMIT = 20_000  # characters shown; the whole body is copied and saved


def parse_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"Header line '{line.strip()}' has no 'Name: value' form.")
        headers[key.strip()] = value.strip()
    return headers


def pretty_body(body: bytes, content_type: str) -> str:
    text = body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            # Depth-limited: a server's deeply nested JSON crashed the console (RecursionError).
            return json.dumps(parse_json(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


# The footer holds 88 columns at a 100-column terminal (the palette key takes the rest): related
# keys share one label there; `?` spells each one out.
COPY_AS_KEYS = Binding.Group("Copy as", compact=False)
BODY_KEYS = Binding.Group("Body", compact=False)


class TesterScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "send", "Send", priority=True),
        Binding("ctrl+enter", "send", "Send", show=False, priority=True),
        Binding(
            "ctrl+y",
            "copy_curl",
            "curl",
            tooltip="copy the request as a curl command",
            priority=True,
            group=COPY_AS_KEYS,
        ),
        Binding(
            "ctrl+o",
            "copy_openssl",
            "openssl",
            tooltip="copy the handshake as an openssl s_client command",
            priority=True,
            group=COPY_AS_KEYS,
        ),
        Binding("ctrl+c", "cancel_request", "Cancel", show=False, priority=True),
        Binding("ctrl+r", "focus_response", "Response", priority=True),
        Binding(
            "ctrl+f",
            "fix_in_route",
            "Fix",
            tooltip="fix the route as the diagnosis says (opens the route editor)",
            priority=True,
        ),
        # Keys of the response pane (only while it has the focus: the form has text fields).
        Binding("v", "toggle_raw", "Raw/pretty", tooltip="raw or pretty body", group=BODY_KEYS),
        Binding("slash", "search", "Search", tooltip="search the body", group=BODY_KEYS),
        Binding("n", "next_match", "Next match", show=False),
        Binding("c", "copy_body", "Copy body", tooltip="copy the body", group=BODY_KEYS),
        Binding("w", "save_body", "Save body", tooltip="save the body to a file", group=BODY_KEYS),
    ]

    class Finished(Message, bubble=False):
        def __init__(
            self,
            result: Any,
            plan: Any,
            error: Any = None,
            *,
            route: Any = None,
            environment: str = "",
        ) -> None:
            super().__init__()
            self.result = result
            self.plan = plan
            self.error = error
            self.route = route
            self.environment = environment

    def __init__(
        self, route_name: str, *, send: bool = False, environment: str | None = None
    ) -> None:
        super().__init__()
        self.route_name = route_name
        self.send_on_open = send
        self.preset_environment = environment
        self.fix: Any = None  # the route field the diagnosis names (ctrl+f), see route_fix
        self.pretty = True  # the body as pretty JSON (v shows it raw)
        self._search = ""
        self._matches: list[int] = []  # line numbers of the body that match the search
        self._match_index = -1
        self.config: dict[str, Any] = {}
        self.result: Any = None
        self.last_plan: Any = None
        self.sending = False
        self.fits: list[Any] = []
        self.cancel: Any = None  # the running request's Cancellation
        self._clock: Any = None
        self._sent_at = 0.0
        self._sending_text = ""

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = f"Test {self.route_name}"
        yield Header()
        yield Static(INSECURE_BANNER, id="tester-banner", classes="banner-danger")
        with Horizontal(id="tester-body"):
            with VerticalScroll(id="tester-form"):
                yield Static(id="tester-route")
                yield Label("Environment")
                yield Select([("default", "default")], id="environment", allow_blank=False)
                yield Label("Method")
                yield Select([(m, m) for m in METHODS], id="method", allow_blank=False, value="GET")
                yield Label("Path (appended to the target URL)")
                yield Input(id="path", placeholder="/accounts")
                yield Label("Extra headers (Name: value, one per line)")
                yield TextArea(id="headers")
                yield Label("Body")
                yield TextArea(id="body")
                yield Button("Send  (ctrl+s)", id="send", variant="primary")
            with VerticalScroll(id="tester-result"):
                yield Static(
                    "Press ctrl+s to send the request.", id="diagnosis", classes="diag-pending"
                )
                yield Static("", id="timings")
                yield Static("", id="handshake")
                yield Static("", id="fitting")
                yield Static("", id="response-head")
                yield Input(
                    placeholder="search the body (enter: first match, n: next)",
                    id="response-search",
                )
                yield Static("", id="response-body")
                yield Static("", id="reproduce")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from knoxtui.errors import KnoxError

        self.query_one("#response-search", Input).display = False

        vault = self.knox.vault
        if vault is None:
            return
        try:
            record = vault.get_route(self.route_name)
        except KnoxError as exc:
            self.notify(exc.message, severity="error")
            self.dismiss()
            return
        self.config = dict(record.config)
        self.query_one("#tester-banner").display = insecure(self.config)
        self.query_one("#tester-route", Static).update(
            Text.assemble((self.route_name, "bold"), "\n", str(self.config.get("target_url", "")))
        )
        environments = self._environments(vault, record)
        select = self.query_one("#environment", Select)
        if self.preset_environment and self.preset_environment not in environments:
            environments.append(self.preset_environment)  # a re-run of a stored run, as it was
        select.set_options([(env, env) for env in environments])
        select.value = (
            self.preset_environment if self.preset_environment in environments else environments[0]
        )
        method = str(self.config.get("method") or "GET").upper()
        if method in METHODS:
            self.query_one("#method", Select).value = method
        if self.config.get("body"):
            self.query_one("#body", TextArea).text = str(self.config["body"])
        self.query_one("#send", Button).focus()
        # The report is Rich text coloured in code: draw it again with a new theme's colours.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._retint())
        if self.send_on_open:
            self.call_after_refresh(self.action_send)

    def _retint(self) -> None:
        if self.result is not None and self.last_plan is not None:
            self.show_result(self.result, self.last_plan)
            self.show_fitting(self.result)

    @staticmethod
    def _environments(vault: Any, record: Any) -> list[str]:
        """Environments the route's secrets know, named ones first; 'default' when none."""
        from knoxtui.errors import KnoxError

        found: list[str] = []
        for name in record.references:
            try:
                secret = vault.get_secret(name)
            except KnoxError:
                continue
            for env in secret.environments:
                if env not in found:
                    found.append(env)
        named = sorted(e for e in found if e != "default")
        return [*named, "default"] if "default" in found or not named else named

    # -- sending ------------------------------------------------------------------------------
    def _plan(self) -> Any:
        """The request as the form stands (secrets resolved, nothing sent), or None."""
        from knoxtui.errors import KnoxError

        if self.knox.vault is None:
            return None
        environment = str(self.query_one("#environment", Select).value)
        method = str(self.query_one("#method", Select).value)
        path = self.query_one("#path", Input).value.strip() or None
        body = self.query_one("#body", TextArea).text or None
        try:
            headers = parse_headers(self.query_one("#headers", TextArea).text)
            from knoxtui.routes import Route, plan_request

            route = Route.from_config(self.route_name, dict(self.config))
            return plan_request(
                route,
                environment,
                self.knox.vault.resolve,
                method=method,
                path=path,
                headers=headers or None,
                body=body,
            )
        except (KnoxError, ValueError) as exc:
            self.notify(getattr(exc, "message", str(exc)), severity="error")
            return None

    def action_send(self) -> None:
        if self.sending or self.knox.vault is None:
            return
        environment = str(self.query_one("#environment", Select).value)
        method = str(self.query_one("#method", Select).value)
        path = self.query_one("#path", Input).value.strip() or None
        body = self.query_one("#body", TextArea).text or None
        try:
            headers = parse_headers(self.query_one("#headers", TextArea).text)
        except ValueError as exc:
            self._show_diagnosis("invalid_headers", "config", str(exc), None)
            return
        from knoxtui.errors import KnoxError
        from knoxtui.routes import Route

        try:
            route = Route.from_config(self.route_name, dict(self.config))
        except KnoxError as exc:
            self._show_diagnosis(exc.code, "config", exc.message, console_hint(exc.hint))
            return
        self.sending = True
        self.query_one("#send", Button).disabled = True
        diagnosis = self.query_one("#diagnosis", Static)
        diagnosis.set_classes("diag-pending")
        from knoxtui.net.cancel import Cancellation

        self.cancel = Cancellation()
        self._sending_text = f"Sending {method} in {environment}…"
        self._sent_at = time.monotonic()
        diagnosis.update(self._sending_text)
        # A running clock while the request is out; esc or ctrl+c cancels it.
        self._clock = self.set_interval(0.1, self._tick)
        self.run_request(
            route,
            environment,
            cancel=self.cancel,
            method=method,
            path=path,
            headers=headers or None,
            body=body,
        )

    def _tick(self) -> None:
        if self.sending:
            elapsed = time.monotonic() - self._sent_at
            self.query_one("#diagnosis", Static).update(
                f"{self._sending_text} {elapsed:.1f} s  (esc or ctrl+c cancels)"
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_request":
            return self.sending  # otherwise ctrl+c stays the app's
        if action == "fix_in_route":
            return self.fix is not None and not self.sending
        if action in RESPONSE_ACTIONS:
            pane = self.query_one("#tester-result", VerticalScroll)
            if self.focused is not pane or self.result is None:
                return False
            if action == "next_match":
                return bool(self._matches)
            return bool(self.result.body) or action == "search"
        return True

    def action_cancel_request(self) -> None:
        if self.sending and self.cancel is not None:
            self.cancel.cancel()
            self._sending_text = "Cancelling…"

    def on_unmount(self) -> None:
        # Leaving the screen stops a request still out: no worker left behind.
        if self.cancel is not None:
            self.cancel.cancel()

    @work(thread=True, exclusive=True, group="request")
    def run_request(self, route: Any, environment: str, **overrides: Any) -> None:
        from knoxtui.routes.runner import run_saved_route

        vault = self.knox.vault
        try:
            plan, result = run_saved_route(vault, route, environment, log=False, **overrides)
        except Exception as exc:
            self.post_message(self.Finished(None, None, exc, route=route, environment=environment))
            return
        self.post_message(self.Finished(result, plan, route=route, environment=environment))

    def on_tester_screen_finished(self, message: Finished) -> None:
        self.sending = False
        self.cancel = None
        if self._clock is not None:
            self._clock.stop()
            self._clock = None
        self.query_one("#send", Button).disabled = False
        if message.result is None:
            self._show_diagnosis(
                "internal_error",
                "client",
                f"The request failed unexpectedly ({type(message.error).__name__}).",
                None,
            )
            return
        # `result` is a response (or a failed connection); a run that never started leaves it None.
        self.result = message.result if message.plan is not None else None
        if message.plan is not None:
            self.last_plan = message.plan
        self.fix = None
        self.show_result(message.result, message.plan)
        self._log(message.route, message.environment, message.plan, message.result)
        self.show_fitting(message.result)
        self._offer_fix(message.result)

    def _log(self, route: Any, environment: str, plan: Any, result: Any) -> None:
        from knoxtui.errors import KnoxError
        from knoxtui.routes.runner import log_run

        vault = self.knox.vault
        if vault is None:
            return
        try:
            log_run(vault, route, environment, plan, result)
        except KnoxError as exc:
            self.notify(f"Request not logged: {exc.message}", severity="warning")

    def show_fitting(self, result: Any) -> None:
        """Stored certificates whose chain leads to a CA the server accepts (issue 6)."""
        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.fit import fitting_stored_certificates

        widget = self.query_one("#fitting", Static)
        accepted = tuple(getattr(result.report, "acceptable_client_cas", ()) or ())
        vault = self.knox.vault
        if not accepted or vault is None:
            widget.update("")
            widget.display = False
            return
        try:
            fits = fitting_stored_certificates(vault, accepted)
        except KnoxError as exc:
            fits = []
            self.notify(exc.message, severity="warning")
        self.fits = list(fits)
        text = Text()
        text.append("Certificates that fit\n", style="bold")
        if not fits:
            text.append("  none stored: no certificate's chain leads to an accepted CA\n")
        tones = self._tones(vault)
        for fit in fits:
            tone = tones.get((fit.secret, fit.environment), "valid")
            text.append(f"  {fit.secret}", style=f"bold {self.knox.status_colour(tone)}")
            text.append(f" ({fit.environment})")
            if tone in ("expired", "not_yet_valid"):
                # It chains to the right CA but cannot be used now: say so beside the name.
                label = "expired" if tone == "expired" else "not yet valid"
                text.append(f" {label}", style=f"bold {self.knox.status_colour(tone)}")
            text.append(f"  via {visible(fit.matched_ca)}")
            text.append("\n" if fit.direct else "  (intermediate)\n")
        widget.update(text)
        widget.display = True

    def _tones(self, vault: Any) -> dict[tuple[str, str], str]:
        from knoxtui.ui.inventory_model import inventory_records

        records = inventory_records(vault.list_secrets(), self.knox.now(), self.knox.thresholds)
        return {record.key: record.tone for record in records}

    # -- rendering ----------------------------------------------------------------------------
    def _show_diagnosis(self, code: str, side: str, summary: str, fix: str | None) -> None:
        widget = self.query_one("#diagnosis", Static)
        ok = code == "ok"
        widget.set_classes("diag-ok" if ok else "diag-fail")
        text = Text()
        text.append("✔ " if ok else "✘ ", style="bold")
        text.append(f"{code}", style="bold")
        if side and side != "none":
            text.append(f" ({side} side)")
        text.append(f": {visible(summary, multiline=True)}")
        fix = console_hint(fix)
        if fix:
            text.append(f"\n→ {visible(fix, multiline=True)}", style="not bold")
        if code != "ok" and self.fix is not None:
            text.append(f"\n⚙ {visible(self.fix.sentence)}", style="not bold")
        widget.update(text)

    def show_result(self, result: Any, plan: Any) -> None:
        diagnosis = result.diagnosis
        self._show_diagnosis(diagnosis.code, diagnosis.side, diagnosis.summary, diagnosis.fix)
        self.query_one("#timings", Static).update(self._timings(result.timings))
        head = Text()
        head.append("\nResponse\n", style="bold")
        if result.status_code is not None:
            colour = self.knox.status_colour("valid" if result.status_code < 400 else "expired")
            head.append(
                f"{result.http_version or 'HTTP'} {result.status_code} {result.reason or ''}",
                style=f"bold {colour}",
            )
            head.append(f"   {result.size} bytes")
            head.append("   ctrl+r: v raw/pretty · / search · c copy · w save\n", style="dim")
            for key, value in result.headers:
                head.append(f"{visible(key)}: ", style="bold")
                head.append(f"{visible(value)}\n")
        else:
            head.append("no HTTP response\n")
        for warning in result.warnings:
            head.append(f"⚠ {visible(warning)}\n", style=self.knox.status_colour("warning"))
        via = getattr(result, "proxy", None)
        if via is not None:
            head.append(f"Proxy {visible(via.shown_url)} ({via.source}: {visible(via.reason)})\n")
        self.query_one("#response-head", Static).update(head)
        self._show_body(result)
        self._show_reproduction(plan)
        handshake = self._handshake(result.report, plan)
        if result.oauth2_step is not None:
            handshake = Text.assemble(self._oauth2(result.oauth2_step), handshake)
        self.query_one("#handshake", Static).update(handshake)

    @staticmethod
    def _reached(report: Any) -> bool:
        return bool(
            getattr(report, "handshake_completed", False)
            or report.tls_version
            or report.server_chain
            or report.alert is not None
            or report.client_cert_requested
            or getattr(report, "probed", False)
        )

    # -- the response body: pretty or raw, search, copy, save -----------------------------------
    def _body_text(self, result: Any) -> tuple[str, bool]:
        """(text shown, binary?) — binary bodies are never drawn, only counted."""
        from knoxtui.safetext import body_text

        if not result.body:
            return "", False
        text, binary = body_text(result.body)
        if binary:
            return "", True
        if self.pretty:
            content_type = dict((k.lower(), v) for k, v in result.headers).get("content-type", "")
            pretty = pretty_body(result.body, content_type)
            if pretty != result.body.decode("utf-8", "replace"):
                text = visible(pretty, multiline=True)
        return text, False

    def _show_body(self, result: Any) -> None:
        widget = self.query_one("#response-body", Static)
        text, binary = self._body_text(result)
        if binary:
            widget.update(
                Text(f"binary, {len(result.body)} bytes (w saves it to a file)", style="italic")
            )
            self._matches = []
            return
        shown = text[:BODY_LIMIT]
        body = Text(
            shown
            + ("\n… (truncated; c copies and w saves it all)" if len(text) > BODY_LIMIT else "")
        )
        self._matches = []
        if self._search:
            needle = self._search.lower()
            lowered = shown.lower()
            start = lowered.find(needle)
            accent = self.knox.theme_variables.get("accent", "yellow")
            while start != -1:
                body.stylize(f"reverse {accent}", start, start + len(needle))
                self._matches.append(shown.count("\n", 0, start))
                start = lowered.find(needle, start + len(needle))
        widget.update(body)

    def _show_reproduction(self, plan: Any) -> None:
        """The curl and openssl commands, shown (ctrl+y / ctrl+o copy them)."""
        from knoxtui.net import reproduction_commands

        widget = self.query_one("#reproduce", Static)
        commands = reproduction_commands(plan) if plan is not None else {}
        if not commands:
            widget.update("")
            return
        text = Text()
        text.append("\nReproduce\n", style="bold")
        for which, key in (("curl", "ctrl+y"), ("openssl", "ctrl+o")):
            command = commands.get(which)
            if command:
                text.append(f"{which} ({key} copies)\n", style="italic")
                text.append_text(plain(command, multiline=True))
                text.append("\n")
        widget.update(text)

    def _offer_fix(self, result: Any) -> None:
        """After a run: the route field the diagnosis names, said under the diagnosis."""
        from knoxtui.ui.route_fix import suggest_fix

        vault = self.knox.vault
        secrets = vault.list_secrets() if vault is not None else []
        fits = [fit for fit in self.fits if self._usable_fit(fit)]
        self.fix = suggest_fix(result, self.config, secrets=secrets, fits=fits)
        self.refresh_bindings()
        if self.fix is not None:
            diagnosis = result.diagnosis
            self._show_diagnosis(diagnosis.code, diagnosis.side, diagnosis.summary, diagnosis.fix)

    def _usable_fit(self, fit: Any) -> bool:
        vault = self.knox.vault
        if vault is None:
            return False
        tone = self._tones(vault).get((fit.secret, fit.environment), "valid")
        return tone not in ("expired", "not_yet_valid")

    def action_fix_in_route(self) -> None:
        if self.fix is None:
            return
        self.knox.open_route(
            self.route_name,
            focus=self.fix.field,
            suggested={self.fix.field: self.fix.value} if self.fix.value is not None else None,
        )

    def action_focus_response(self) -> None:
        self.query_one("#tester-result", VerticalScroll).focus()

    def action_toggle_raw(self) -> None:
        self.pretty = not self.pretty
        if self.result is not None:
            self._show_body(self.result)
            self.notify("Body shown " + ("pretty" if self.pretty else "raw") + ".")

    def action_search(self) -> None:
        field = self.query_one("#response-search", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#response-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._search = event.value.strip()
        self._match_index = -1
        if self.result is not None:
            self._show_body(self.result)

    @on(Input.Submitted, "#response-search")
    def _search_done(self) -> None:
        self.query_one("#tester-result", VerticalScroll).focus()
        if not self._matches:
            if self._search:
                self.notify(f"'{self._search}' is not in the body.", severity="warning")
            return
        self.action_next_match()

    def action_next_match(self) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + 1) % len(self._matches)
        line = self._matches[self._match_index]
        body = self.query_one("#response-body", Static)
        pane = self.query_one("#tester-result", VerticalScroll)
        pane.scroll_to(y=body.virtual_region.y + line, animate=False)
        self.notify(f"Match {self._match_index + 1} of {len(self._matches)} (line {line + 1}).")

    def action_copy_body(self) -> None:
        if self.result is None or not self.result.body:
            return
        text, binary = self._body_text(self.result)
        if binary:
            self.notify("The body is binary: w saves it to a file.", severity="warning")
            return
        self.knox.clip.copy(text, "response body")

    def action_save_body(self) -> None:
        from pathlib import Path

        from knoxtui.errors import KnoxError
        from knoxtui.lifecycle.export import write_private_file
        from knoxtui.ui.screens.dialogs import PromptModal

        result = self.result
        if result is None or not result.body:
            return
        data = bytes(result.body)

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                write_private_file(target, data)
            except KnoxError as exc:
                self.notify(exc.message, title="Not saved", severity="error")
                return
            self.notify(f"Saved {len(data)} bytes to '{target}' (mode 0600).")

        self.app.push_screen(
            PromptModal("Save the response body to (a new file)", placeholder="response.json"),
            chosen,
        )

    def _timings(self, timings: Any) -> Text:
        from knoxtui.ui.widgets.timing import timing_bars

        return timing_bars(timings.to_dict(), self.knox.theme_variables.get("accent", "yellow"))

    def _handshake(self, report: Any, plan: Any) -> Text:
        text = Text()
        text.append("Handshake", style="bold")
        if getattr(report, "probed", False):
            text.append("  (details from a second, diagnostic handshake)", style="italic")
        text.append("\n")
        if report.tls_version:
            text.append(f"{report.tls_version}  {report.cipher or ''}  ALPN {report.alpn or '-'}\n")
        if not self._reached(report):
            # DNS, connect or proxy failure: no TLS was spoken, so nothing was verified or sent.
            text.append("Server certificate: not reached\n")
            text.append("Client certificate: not reached\n")
            return text
        verified = (
            "verified"
            if report.server_verified
            else (
                "NOT verified (verification off)" if not report.verify_enabled else "NOT verified"
            )
        )
        colour = self.knox.status_colour("valid" if report.server_verified else "expired")
        text.append("Server certificate: ")
        text.append(verified, style=colour)
        if report.verify_error:
            text.append(f" — {visible(report.verify_error)}")
        text.append("\n")
        if report.alert is not None:
            alert = report.alert
            who = "server sent" if alert.direction == "received" else "we sent"
            text.append(
                f"Alert ({who}): {visible(alert.name)}", style=self.knox.status_colour("expired")
            )
            text.append(f"{' (fatal)' if alert.fatal else ''}\n")
        text.append("\nServer chain\n", style="bold")
        if not report.server_chain:
            text.append("  (none received)\n")
        now = self.knox.now()
        for depth, cert in enumerate(report.server_chain):
            status = str(cert.status(now, self.knox.thresholds))
            text.append(f"  {depth}: {visible(cert.subject_cn or cert.subject)}", style="bold")
            text.append(f"  issued by {visible(cert.issuer_cn or cert.issuer)}  ")
            text.append(
                f"until {cert.valid_until:%Y-%m-%d}\n", style=self.knox.status_colour(status)
            )
        text.append("\nClient certificate\n", style="bold")
        text.append(
            f"  requested by the server: {'yes' if report.client_cert_requested else 'no'}\n"
        )
        text.append(f"  sent: {'yes' if report.client_cert_sent else 'no'}")
        if report.client_cert_fingerprint:
            text.append(f"  ({report.client_cert_fingerprint[:23]}…)")
        text.append("\n")
        ours = self._our_issuers(plan)
        if report.acceptable_client_cas:
            text.append("  accepted client CAs:\n")
            for name in report.acceptable_client_cas:
                mine = name in ours
                style = self.knox.status_colour("valid") if mine else ""
                text.append(f"   {'◀ ours ' if mine else '       '}{visible(name)}\n", style=style)
            if ours and report.client_issuer_accepted is False:
                text.append(
                    "   our certificate's issuer is not in this list\n",
                    style=self.knox.status_colour("expired"),
                )
        return text

    def _oauth2(self, step: Any) -> Text:
        text = Text()
        text.append("OAuth2 token\n", style="bold")
        ok = step.error is None and step.token_preview is not None
        colour = self.knox.status_colour("valid" if ok else "expired")
        text.append(f"{step.auth_method} → {visible(step.token_url)}\n")
        status = "cached" if step.cached else f"HTTP {step.status_code}"
        text.append(f"{status}", style=colour)
        if step.duration_ms is not None:
            text.append(f"  {step.duration_ms:.1f} ms")
        if ok:
            # token_preview is a few characters and a length, never the token
            text.append(f"  {step.token_type or 'token'} {step.token_preview}")
            if step.expires_in:
                text.append(f", expires in {int(step.expires_in)} s")
        if step.error:
            text.append(f"  {visible(step.error)}", style=colour)
        text.append("\n\n")
        return text

    @staticmethod
    def _our_issuers(plan: Any) -> set[str]:
        """Issuer and subject names up our client chain (to mark the CA the server accepts)."""
        identity = getattr(plan, "identity", None)
        if identity is None:
            return set()
        from knoxtui.pki import load_bundle

        bundle = load_bundle(identity.chain_pem, source="<client chain>")
        names = set()
        for cert in bundle.certificates:
            names.add(cert.issuer)
            if cert is not bundle.leaf:
                names.add(cert.subject)
        return names

    # -- copy ---------------------------------------------------------------------------------
    def _reproduction(self, which: str) -> None:
        from knoxtui.net import reproduction_commands

        plan = self.last_plan or self._plan()
        if plan is None:
            return
        command = reproduction_commands(plan).get(which)
        if command:
            self.knox.clip.copy(command, f"{which} command")

    def action_copy_curl(self) -> None:
        self._reproduction("curl")

    def action_copy_openssl(self) -> None:
        self._reproduction("openssl")

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    def action_back(self) -> None:
        if self.sending:
            self.action_cancel_request()  # esc while a request is out cancels it first
            return
        self.dismiss()
