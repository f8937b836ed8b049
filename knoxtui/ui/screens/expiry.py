"""The expiry panel (`e`): every certificate value grouped by status, worst group first, with the
days left, the routes and environments that break, and the retiring state of rotated secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from knoxtui.safetext import visible
from knoxtui.ui.inventory_model import STATUS_LABELS
from knoxtui.ui.widgets.header import Header

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp


class ExpiryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Detail"),
        Binding("c", "renew", "Renew"),
        Binding("o", "rotate", "Rotate"),
        Binding("x", "export", "Export"),
        Binding("f5", "reload", "Reload"),
    ]
    AUTO_FOCUS = "#expiry-tree"

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None
        self._version = -1
        self._widths = (0, 0)

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = "Certificate expiry"
        yield Header()
        yield Static(id="expiry-head")
        tree: Tree[tuple[str, str] | None] = Tree("Certificates", id="expiry-tree")
        tree.show_root = False
        yield tree
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if self.knox.vault is not None and self._version != self.knox.secrets_version:
            self.reload()

    def reload(self) -> None:
        from knoxtui.lifecycle.expiry import expiry_report

        vault = self.knox.vault
        if vault is None:
            return
        self._version = self.knox.secrets_version
        now = self.knox.now()
        report = expiry_report(vault, now=now, thresholds=self.knox.thresholds)
        self.report = report
        thresholds = report.thresholds
        head = Text()
        bundles = sum(1 for r in report.rows if r.kind == "ca_bundle")
        head.append(f" {len(report.rows) - bundles} certificate values", style="bold")
        if bundles:
            head.append(f", {bundles} CA bundle{'' if bundles == 1 else 's'}", style="bold")
        head.append(
            f"   expiring ≤ {thresholds.warning_days} days, urgent ≤ {thresholds.urgent_days} days"
            f"   as of {now:%Y-%m-%d %H:%M} UTC"
        )
        line = report.warning_line()
        if line:
            head.append("\n ⚠ ", style=self.knox.status_colour("expired"))
            head.append(
                line.replace(" Run `knoxtui check` for details.", ""),
                style=self.knox.status_colour("expired"),
            )
        self.query_one("#expiry-head", Static).update(head)
        tree = self.query_one("#expiry-tree", Tree)
        tree.clear()
        self._widths = (
            max((len(f"{r.secret} · {r.environment}") for r in report.rows), default=0),
            max((len(self._when(r)) for r in report.rows), default=0),
        )
        for status, rows in report.by_status().items():
            colour = self.knox.status_colour(str(status))
            label = Text(f"● {STATUS_LABELS.get(str(status), str(status))}  ({len(rows)})")
            label.stylize(f"bold {colour}")
            group = tree.root.add(label, expand=True)
            for row in rows:
                group.add_leaf(self._row_label(row, colour), data=(row.secret, row.environment))
        if not report.rows:
            tree.root.add_leaf("No certificates or CA bundles in the vault.")
        tree.cursor_line = 1 if report.rows else 0

    def _row_label(self, row: Any, colour: str) -> Text:
        """One line (tree labels are single-line): name, days, routes, what breaks, retiring."""
        from knoxtui.lifecycle.expiry import elide_names

        name_width, when_width = self._widths
        # At a narrow terminal the lists shrink to "a, +3" so the CN and status stay in view.
        room = max(16, self.size.width - name_width - when_width - 30) if self.size.width else 200
        text = Text()
        text.append(f"{row.secret}", style="bold")
        text.append(f" · {row.environment}".ljust(name_width - len(row.secret) + 2))
        text.append(self._when(row).ljust(when_width), style=colour)

        def fitted(names: Any, width: int) -> str:
            shown = elide_names(names, width)
            return str(len(names)) if "…" in shown else shown  # a count beats a stump

        route_room = room * 3 // 5
        # a bundle's routes trust it; whether they break depends on which CA their server needs
        routes_word = "trusted by" if row.kind == "ca_bundle" else "routes"
        shown = fitted(row.routes, route_room) if row.routes else "none"
        text.append(f"  {routes_word}: {shown}")
        if row.breaks_environments:
            text.append(f"  {row.environments_label}: ")
            text.append(fitted(row.breaks_environments, room - route_room), style=colour)
        if row.secret_status:
            grace = f", grace until {row.grace_until:%Y-%m-%d}" if row.grace_until else ""
            text.append(f"  [{row.secret_status}{grace}]", style="italic")
        if row.kind == "ca_bundle":
            more = f" +{row.certificates - 1}" if row.certificates > 1 else ""
            text.append(f"  CA bundle: {visible(row.subject_cn or row.subject)}{more}", style="dim")
        else:
            text.append(f"  CN {visible(row.subject_cn or row.subject)}", style="dim")
        return text

    @staticmethod
    def _when(row: Any) -> str:
        days = row.days_remaining
        n = abs(days)
        unit = "day" if n == 1 else "days"
        left = f"{n} {unit} left" if days >= 0 else f"expired {n} {unit} ago"
        return f"{left} (until {row.valid_until:%Y-%m-%d})"

    # -- navigation ---------------------------------------------------------------------------
    def current(self) -> tuple[str, str] | None:
        node = self.query_one("#expiry-tree", Tree).cursor_node
        return node.data if node is not None else None

    def _chosen(self) -> tuple[str, str] | None:
        """The certificate under the cursor; on a status line, say so instead of doing nothing."""
        current = self.current()
        if current is None:
            self.notify("Move to a certificate line first (↑ ↓), then press the key again.")
        return current

    def action_open(self) -> None:
        current = self._chosen()
        if current is not None:
            self.knox.open_secret(*current)

    @on(Tree.NodeSelected, "#expiry-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data is not None:
            event.stop()
            self.knox.open_secret(*event.node.data)

    def _certificate_chosen(self) -> tuple[str, str] | None:
        """As _chosen, for actions on client certificates: a CA bundle is renewed by replacing
        its value with the new CA certificates, so say that instead."""
        current = self._chosen()
        rows = self.report.rows if self.report is not None else ()
        if current is not None and any(
            (r.secret, r.environment) == current and r.kind == "ca_bundle" for r in rows
        ):
            self.notify(
                f"'{current[0]}' is a CA bundle: get the new CA certificates from the server's "
                "operator, then open it (enter) and replace the value (R).",
                severity="warning",
            )
            return None
        return current

    def action_renew(self) -> None:
        current = self._certificate_chosen()
        if current is not None:
            self.knox.open_renew(*current)

    def action_rotate(self) -> None:
        current = self._chosen()
        if current is not None:
            self.knox.open_rotate(current[0])

    def action_export(self) -> None:
        current = self._certificate_chosen()
        if current is not None:
            self.knox.open_export(*current)

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss()
