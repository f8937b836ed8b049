"""One stored run of the request history: what the diagnosis said and what to fix, the handshake
in short, the status and timings — never a secret — with re-run and "compare with the previous
run of this route"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from knoxtui.ui.plain import plain
from knoxtui.ui.widgets.checklist import console_hint
from knoxtui.ui.widgets.header import Header
from knoxtui.ui.widgets.timing import timing_bars, timing_phases

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp


class RunScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "rerun", "Re-run"),
        Binding("c", "compare", "Compare with previous"),
    ]
    AUTO_FOCUS = "#run-body"

    def __init__(self, request_id: int) -> None:
        super().__init__()
        self.request_id = request_id
        self.entry: Any = None
        self.details: dict[str, Any] | None = None
        self.previous: Any = None
        self.comparing = False

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = "Request"
        yield Header()
        with VerticalScroll(id="run-body"):
            yield Static(id="run-head")
            yield Static(id="run-diagnosis")
            yield Static(id="run-handshake")
            yield Static(id="run-timings")
            yield Static(id="run-compare")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        vault = self.knox.vault
        if vault is None:
            return
        entries = {entry.id: entry for entry in vault.request_entries()}
        self.entry = entries.get(self.request_id)
        if self.entry is None:
            self.notify("That request is no longer in the log.", severity="error")
            self.dismiss()
            return
        self.details = vault.request_details(self.request_id)
        self.previous = vault.previous_request(self.request_id)
        self.sub_title = f"Request to {self.entry.route_name}"
        self.query_one("#run-compare", Static).display = False
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "compare":
            return self.previous is not None
        return True

    # -- rendering ----------------------------------------------------------------------------
    def _colour(self, ok: bool) -> str:
        return self.knox.status_colour("valid" if ok else "expired")

    def _show(self) -> None:
        entry, details = self.entry, self.details or {}
        head = Text()
        head.append(entry.route_name, style="bold")
        head.append(f"  in {entry.environment_name}  ")
        head.append(f"{entry.accessed_at:%Y-%m-%d %H:%M:%S} UTC", style="dim")
        head.append("\n")
        head.append_text(plain(f"{entry.method or ''} {entry.url or ''}".strip()))
        if entry.certificate_secret_name:
            head.append(f"\ncertificate: {entry.certificate_secret_name}")
        if entry.status_code is not None:
            head.append("\nstatus: ")
            head.append(
                f"HTTP {entry.status_code} {details.get('reason') or ''}".rstrip(),
                style=f"bold {self._colour(entry.status_code < 400)}",
            )
        self.query_one("#run-head", Static).update(head)
        self.query_one("#run-diagnosis", Static).update(self._diagnosis(entry, details))
        self.query_one("#run-handshake", Static).update(self._handshake(details))
        accent = self.knox.theme_variables.get("accent", "yellow")
        timings = details.get("timings") or {"total_ms": entry.duration_ms}
        self.query_one("#run-timings", Static).update(timing_bars(timings, accent))

    def _diagnosis(self, entry: Any, details: dict[str, Any]) -> Text:
        diagnosis = details.get("diagnosis") or {"code": entry.outcome}
        ok = diagnosis.get("code") == "ok"
        text = Text("\n")
        text.append(("✔ " if ok else "✘ ") + str(diagnosis.get("code")), style=self._colour(ok))
        side = diagnosis.get("side")
        if side and side != "none":
            text.append(f" ({side} side)")
        if diagnosis.get("summary"):
            text.append(": ")
            text.append_text(plain(diagnosis["summary"]))
        if diagnosis.get("fix"):
            text.append("\n→ ")
            text.append_text(plain(console_hint(diagnosis["fix"]) or ""))
        if not details:
            text.append(
                "\n(only the log row was kept for this run: it was made before the request "
                "history kept details)",
                style="italic",
            )
        for warning in details.get("warnings") or ():
            text.append("\n⚠ ", style=self.knox.status_colour("warning"))
            text.append_text(plain(warning))
        return text

    def _handshake(self, details: dict[str, Any]) -> Text:
        text = Text()
        if not details:
            return text
        tls = details.get("tls") or {}
        client = details.get("client_certificate") or {}
        text.append("\nHandshake\n", style="bold")
        if tls.get("version"):
            text.append_text(
                plain(f"{tls['version']}  {tls.get('cipher') or ''}  ALPN {tls.get('alpn') or '-'}")
            )
            text.append("\n")
        if not tls.get("handshake_completed") and not details.get("server_chain"):
            text.append("Server certificate: not reached\n")
            text.append("Client certificate: not reached\n")
        else:
            verified = bool(tls.get("server_verified"))
            text.append("Server certificate: ")
            text.append("verified" if verified else "NOT verified", style=self._colour(verified))
            if tls.get("verify_error"):
                text.append(" — ")
                text.append_text(plain(tls["verify_error"]))
            text.append("\n")
            for depth, cert in enumerate(details.get("server_chain") or ()):
                text.append(f"  {depth}: ")
                text.append_text(plain(cert.get("subject"), style="bold"))
                text.append("  issued by ")
                text.append_text(plain(cert.get("issuer")))
                text.append(f"  until {str(cert.get('valid_until') or '')[:10]}\n")
            requested = "yes" if client.get("requested") else "no"
            sent = "yes" if client.get("sent") else "no"
            text.append(f"Client certificate: requested {requested}, sent {sent}\n")
        proxy = details.get("proxy")
        if isinstance(proxy, dict) and proxy.get("url"):
            text.append("Proxy: ")
            text.append_text(plain(f"{proxy.get('url')} ({proxy.get('source')})"))
            text.append("\n")
        return text

    def _compare(self) -> Any:
        """This run beside the route's run before it: what changed is in bold."""
        vault = self.knox.vault
        before = self.previous
        if vault is None or before is None:
            return Text("No earlier run of this route.")
        old = vault.request_details(before.id) or {}
        new = self.details or {}

        def facts(entry: Any, details: dict[str, Any]) -> dict[str, str]:
            tls = details.get("tls") or {}
            diagnosis = details.get("diagnosis") or {"code": entry.outcome}
            out = {
                "when": f"{entry.accessed_at:%Y-%m-%d %H:%M:%S}",
                "environment": entry.environment_name,
                "certificate": entry.certificate_secret_name or "-",
                "outcome": str(diagnosis.get("code")),
                "status": "-" if entry.status_code is None else str(entry.status_code),
                "TLS": " ".join(str(tls.get(k) or "") for k in ("version", "alpn")).strip() or "-",
                "server verified": "yes" if tls.get("server_verified") else "no",
            }
            timings = details.get("timings") or {"total_ms": entry.duration_ms}
            for label, ms in timing_phases(timings):
                out[label] = f"{ms:.1f} ms"
            return out

        before_facts, now_facts = facts(before, old), facts(self.entry, new)
        table = Table(title="Compared with the previous run of this route", expand=True)
        table.add_column("", no_wrap=True)
        table.add_column("previous", ratio=1)
        table.add_column("this run", ratio=1)
        for key in dict.fromkeys([*before_facts, *now_facts]):
            a, b = before_facts.get(key, "-"), now_facts.get(key, "-")
            timing = key.endswith(("connect", "handshake", "byte", "rest", "token", "total"))
            style = "bold" if a != b and key != "when" and not timing else ""
            table.add_row(key, plain(a), plain(b, style=style))
        return table

    # -- actions ------------------------------------------------------------------------------
    def action_compare(self) -> None:
        widget = self.query_one("#run-compare", Static)
        self.comparing = not self.comparing
        widget.display = self.comparing
        if self.comparing:
            widget.update(self._compare())
            self.query_one("#run-body", VerticalScroll).scroll_end(animate=False)

    def action_rerun(self) -> None:
        vault = self.knox.vault
        if self.entry is None or vault is None:
            return
        if self.entry.route_name not in {route.name for route in vault.list_routes()}:
            self.notify(f"Route '{self.entry.route_name}' no longer exists.", severity="error")
            return
        self.knox.open_tester(
            self.entry.route_name, send=True, environment=self.entry.environment_name
        )

    def action_back(self) -> None:
        self.dismiss()
