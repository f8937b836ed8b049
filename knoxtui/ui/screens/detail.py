"""One secret: the verify view as a tree, one tab per environment, the routes using it, actions.

Revealing a value asks first, is audited by the vault (purpose "reveal"), and hides itself again
after 30 seconds; nothing revealed survives a lock (the screen is dropped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TabbedContent, TabPane, Tree

from knoxtui.safetext import visible
from knoxtui.ui.inventory_model import STATUS_LABELS
from knoxtui.ui.plain import plain
from knoxtui.ui.screens.dialogs import ConfirmModal, PromptModal
from knoxtui.ui.widgets.header import Header

if TYPE_CHECKING:
    from knoxtui.ui.app import KnoxApp

REVEAL_SECONDS = 30.0


def _tab_id(environment: str) -> str:
    return "env-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in environment)


# The footer holds 88 columns at a 100-column terminal (the palette key takes the rest): related
# keys share one label there, rare ones (rename, delete) are left to `?` and the palette.
COPY_KEYS = Binding.Group("Copy", compact=False)
VALUE_KEYS = Binding.Group("Env", compact=False)
LIFECYCLE_KEYS = Binding.Group("Lifecycle", compact=False)


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding(
            "v", "reveal", "Reveal", tooltip="reveal the value for 30 s (asked first, audited)"
        ),
        Binding(
            "k",
            "copy_revealed",
            "Copy value",
            tooltip="copy the revealed value (cleared after 30 s)",
            group=COPY_KEYS,
        ),
        Binding(
            "f",
            "copy_fingerprint",
            "Fingerprint",
            tooltip="copy the SHA-256 fingerprint",
            group=COPY_KEYS,
        ),
        Binding("s", "copy_subject", "Subject", tooltip="copy the subject DN", group=COPY_KEYS),
        Binding(
            "p",
            "copy_pem",
            "PEM",
            tooltip="copy the certificate PEM (never the key)",
            group=COPY_KEYS,
        ),
        Binding(
            "a",
            "add_value",
            "Add env",
            tooltip="add a value for another environment",
            group=VALUE_KEYS,
        ),
        Binding(
            "R",
            "replace_value",
            "Replace",
            tooltip="replace this environment's value",
            group=VALUE_KEYS,
        ),
        Binding(
            "x",
            "remove_value",
            "Remove env",
            tooltip="remove this environment's value",
            group=VALUE_KEYS,
        ),
        Binding("n", "rename", "Rename", show=False),
        Binding("d", "delete", "Delete", show=False),
        Binding("c", "renew", "Renew", group=LIFECYCLE_KEYS),
        Binding("A", "attach", "Attach", show=False),  # pending keys, not this secret
        Binding("o", "rotate", "Rotate", group=LIFECYCLE_KEYS),
        Binding("e", "export", "Export", group=LIFECYCLE_KEYS),
        Binding("r", "retire", "Retire", group=LIFECYCLE_KEYS),
    ]

    def __init__(self, secret_name: str, environment: str | None = None) -> None:
        super().__init__()
        self.secret_name = secret_name
        self.initial_environment = environment
        self.secret: Any = None
        self.revealed_text: str | None = None
        self._reveal_timer: Timer | None = None

    @property
    def knox(self) -> KnoxApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        self.sub_title = self.secret_name
        yield Header()
        yield Static(id="detail-head")
        with Horizontal(id="detail-body"):
            yield TabbedContent(id="envs")
            with VerticalScroll(id="detail-side"):
                yield Static("Used by routes", classes="side-title")
                yield Static(id="routes-using")
                yield Static("Revealed value", classes="side-title", id="revealed-title")
                yield Static(id="revealed")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self._set_revealed(None)
        await self.reload()

    async def reload(self) -> None:
        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        if vault is None:
            return
        try:
            self.secret = vault.get_secret(self.secret_name)
        except KnoxError as exc:
            self.notify(exc.message, severity="error")
            self.dismiss()
            return
        secret = self.secret
        head = Text()
        head.append(visible(secret.name), style="bold")
        head.append(f"  {secret.secret_type}")
        if secret.status:
            head.append(f"  [{visible(secret.status)}]", style="italic")
        if secret.description:
            head.append("\n" + visible(secret.description, multiline=True))
        self.query_one("#detail-head", Static).update(head)
        self.refresh_bindings()
        tabs = self.query_one("#envs", TabbedContent)
        await tabs.clear_panes()
        for value in secret.values:
            tree = self._tree_for(value)
            await tabs.add_pane(TabPane(value.environment, tree, id=_tab_id(value.environment)))
        wanted = self.initial_environment
        if wanted and wanted in secret.environments:
            tabs.active = _tab_id(wanted)
        using = vault.routes_using(secret.name)
        self.query_one("#routes-using", Static).update(
            plain(
                "\n".join(f"• {visible(name)}" for name in using) if using else "(none)",
                multiline=True,
            )
        )

    @property
    def environment(self) -> str | None:
        if self.secret is None or not self.secret.values:
            return None
        active = self.query_one("#envs", TabbedContent).active
        for value in self.secret.values:
            if _tab_id(value.environment) == active:
                return value.environment
        return self.secret.values[0].environment

    @property
    def value(self) -> Any:
        environment = self.environment
        return self.secret.value(environment) if environment else None

    def _tree_for(self, value: Any) -> Tree[None]:
        tree: Tree[None] = Tree(plain(f"{self.secret_name} · {value.environment}"))
        tree.root.expand()
        meta = value.certificate
        now = self.knox.now()
        if meta is None:
            bundle = getattr(value, "ca_bundle", None)
            if bundle is not None:
                self._bundle_nodes(tree, bundle)
            else:
                for key, item in dict(value.details).items():
                    if key == "unreadable":
                        tree.root.add_leaf("CA bundle: the certificates in it no longer read")
                        continue
                    if key == "ca_bundle" or isinstance(item, dict | list):
                        continue  # internal layout marks; lists are shown by their own views
                    if item is None or item == "":
                        continue  # an unset field says nothing ("audience: None" did)
                    if isinstance(item, bool):
                        item = "yes" if item else "no"
                    tree.root.add_leaf(plain(f"{key.replace('_', ' ')}: {item}"))
            tree.root.add_leaf(f"updated: {value.updated_at:%Y-%m-%d %H:%M} UTC")
            tree.root.add_leaf("value: •••••• (v to reveal)")
            return tree
        status = str(meta.status(now, self.knox.thresholds))
        colour = self.knox.status_colour(status)
        subject = tree.root.add("Subject", expand=True)
        subject.add_leaf(plain(meta.subject))
        if meta.organization_identifier:
            subject.add_leaf(plain(f"organizationIdentifier: {meta.organization_identifier}"))
        issuer = tree.root.add("Issuer", expand=True)
        issuer.add_leaf(plain(meta.issuer))
        above = [
            n for n in dict.fromkeys(meta.chain_issuers) if n not in (meta.subject, meta.issuer)
        ]
        for name in above:
            issuer.add_leaf(plain(f"↑ {name}"))
        validity = tree.root.add("Validity", expand=True)
        validity.add_leaf(f"from  {meta.valid_from:%Y-%m-%d %H:%M} UTC")
        validity.add_leaf(f"until {meta.valid_until:%Y-%m-%d %H:%M} UTC")
        validity.add_leaf(Text(f"days remaining: {meta.days_remaining(now)}", style=colour))
        validity.add_leaf(
            Text(f"status: {STATUS_LABELS.get(status, status)}", style=f"bold {colour}")
        )
        key = tree.root.add("Private key", expand=True)
        if meta.has_private_key:
            size = f"-{meta.key_size}" if meta.key_size else ""
            key.add_leaf(f"{(meta.key_type or 'key').upper()}{size}, stored encrypted in the vault")
            key.add_leaf(
                "encrypted key, passphrase stored"
                if meta.has_passphrase
                else (
                    "encrypted key" if meta.encrypted_key else "unencrypted key (vault-encrypted)"
                )
            )
        else:
            key.add_leaf("none (certificate only)")
        fingerprint = tree.root.add("Fingerprint SHA-256", expand=True)
        half = len(meta.fingerprint_sha256) // 2 + 1  # 16 bytes a line, so it fits the pane
        fingerprint.add_leaf(meta.fingerprint_sha256[:half])
        fingerprint.add_leaf(meta.fingerprint_sha256[half:])
        tree.root.add_leaf(plain(f"Serial: {meta.serial}"))
        sans = tree.root.add(f"SANs ({len(meta.san)})", expand=bool(meta.san))
        for san in meta.san:
            sans.add_leaf(plain(san))
        tree.root.add_leaf(
            "EKU: clientAuth allowed" if meta.client_auth_eku else "EKU: clientAuth NOT allowed"
        )
        if meta.psd2_roles:
            tree.root.add_leaf(plain(f"PSD2 roles: {', '.join(meta.psd2_roles)}"))
        if meta.warnings:
            warn = tree.root.add("Warnings at import", expand=True)
            for code in meta.warnings:
                warn.add_leaf(plain(code))
        return tree

    def _bundle_nodes(self, tree: Tree[None], bundle: Any) -> None:
        """A CA bundle: its worst status first, then every CA with its validity, coloured."""
        now, thresholds = self.knox.now(), self.knox.thresholds
        status = str(bundle.status(now, thresholds))
        colour = self.knox.status_colour(status)
        count = bundle.count
        head = Text(f"CA bundle: {count} certificate{'' if count == 1 else 's'}", style="bold")
        tree.root.add_leaf(head)
        worst = bundle.worst(now, thresholds)
        summary = Text(f"status: {STATUS_LABELS.get(status, status)}", style=f"bold {colour}")
        days = worst.days_remaining(now)
        when = f"{days} days left" if days >= 0 else f"expired {-days} days ago"
        summary.append(f"  ({visible(worst.label)}: {when})", style=colour)
        tree.root.add_leaf(summary)
        for index, cert in enumerate(bundle.certificates, 1):
            cert_status = str(cert.status(now, thresholds))
            cert_colour = self.knox.status_colour(cert_status)
            label = Text(f"{index}. ")
            label.append(visible(cert.label), style="bold")
            label.append(f"  {STATUS_LABELS.get(cert_status, cert_status)}", style=cert_colour)
            node = tree.root.add(label, expand=True)
            node.add_leaf(Text(f"subject {visible(cert.subject)}"))
            if cert.issuer != cert.subject:
                node.add_leaf(Text(f"issuer  {visible(cert.issuer)}"))
            node.add_leaf(f"from  {cert.valid_from:%Y-%m-%d %H:%M} UTC")
            node.add_leaf(
                Text(
                    f"until {cert.valid_until:%Y-%m-%d %H:%M} UTC  "
                    f"({cert.days_remaining(now)} days)",
                    style=cert_colour,
                )
            )
            node.add_leaf(f"SHA-256 {cert.fingerprint_sha256[:23]}…")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys that cannot apply to this secret are left out of the footer (a narrower footer).
        if action == "copy_revealed":
            return self.revealed_text is not None
        if action in ("renew", "export"):
            return self.secret is None or self.secret.secret_type == "certificate"
        if action == "retire":
            return self.secret is not None and self.secret.status == "retiring"
        return True

    # -- lifecycle ----------------------------------------------------------------------------
    def _certificate(self) -> bool:
        if self.secret is None or self.secret.secret_type != "certificate":
            self.notify("This is not a certificate secret.", severity="warning")
            return False
        return True

    def action_renew(self) -> None:
        if self._certificate():
            self.knox.open_renew(self.secret_name, self.environment)

    def action_attach(self) -> None:
        self.knox.open_attach()

    def action_rotate(self) -> None:
        if self.secret is not None:
            self.knox.open_rotate(self.secret_name)

    def action_export(self) -> None:
        if self._certificate():
            self.knox.open_export(self.secret_name, self.environment)

    def action_retire(self) -> None:
        if self.secret is not None:
            self.knox.open_retire(self.secret_name)

    # -- reveal -------------------------------------------------------------------------------
    def _set_revealed(self, text: str | None) -> None:
        self.revealed_text = text
        self.refresh_bindings()
        widget = self.query_one("#revealed", Static)
        # Shown as typed (never markup), controls escaped; copy still copies the exact value.
        widget.update(plain(text if text is not None else "hidden", multiline=True))
        widget.display = text is not None
        self.query_one("#revealed-title").display = text is not None
        self.query_one("#detail-side").set_class(text is not None, "revealing")

    def action_reveal(self) -> None:
        environment = self.environment
        if environment is None:
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self._reveal(environment)

        self.app.push_screen(
            ConfirmModal(
                "Reveal a secret value?",
                f"The value of '{self.secret_name}' ({environment}) is shown for "
                f"{int(REVEAL_SECONDS)} seconds. The reveal is written to the audit log.",
                confirm="Reveal",
                danger=True,
            ),
            answered,
        )

    def _reveal(self, environment: str) -> None:
        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        if vault is None:
            return
        try:
            value = vault.resolve(self.secret_name, environment, purpose="reveal")
        except KnoxError as exc:
            self.notify(exc.message, severity="error")
            return
        self._set_revealed(self._value_text(value))
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
        self._reveal_timer = self.set_timer(REVEAL_SECONDS, self.hide_revealed)
        self.notify(
            f"Revealed (audited); hidden again in {int(REVEAL_SECONDS)} s.", severity="warning"
        )

    @staticmethod
    def _value_text(value: Any) -> str:
        if isinstance(value, str):
            return value
        if hasattr(value, "chain_pem"):
            key = value.key_pem.decode("ascii", "replace") if value.key_pem else "(no key)"
            passphrase = value.key_passphrase or "(none)"
            return f"{key.strip()}\nkey passphrase: {passphrase}"
        if hasattr(value, "to_dict"):
            import json

            return json.dumps(value.to_dict(include_secret=True), indent=2)
        return str(value)

    def hide_revealed(self) -> None:
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None
        self._set_revealed(None)

    def action_copy_revealed(self) -> None:
        if self.revealed_text is None:
            self.notify("Reveal the value first (v).", severity="warning")
            return
        self.knox.clip.copy(self.revealed_text, "Secret value", secret=True)

    # -- copy ---------------------------------------------------------------------------------
    def _meta(self) -> Any:
        value = self.value
        if value is None or value.certificate is None:
            self.notify("This value is not a certificate.", severity="warning")
            return None
        return value.certificate

    def action_copy_fingerprint(self) -> None:
        meta = self._meta()
        if meta is not None:
            self.knox.clip.copy(meta.fingerprint_sha256, "Fingerprint")

    def action_copy_subject(self) -> None:
        meta = self._meta()
        if meta is not None:
            self.knox.clip.copy(meta.subject, "Subject")

    def action_copy_pem(self) -> None:
        from knoxtui.errors import KnoxError

        current = self.value
        if current is not None and getattr(current, "ca_bundle", None) is not None:
            self._copy_bundle_pem()
            return
        meta = self._meta()
        vault = self.knox.vault
        if meta is None or vault is None or self.environment is None:
            return
        try:
            value = vault.resolve(self.secret_name, self.environment, purpose="access")
        except KnoxError as exc:
            self.notify(exc.message, severity="error")
            return
        chain = getattr(value, "chain_pem", None)
        if not isinstance(chain, bytes):
            return
        # Only the certificate chain: the key never leaves unless revealed and copied explicitly.
        self.knox.clip.copy(chain.decode("ascii", "replace"), "PEM certificate")

    def _copy_bundle_pem(self) -> None:
        """A CA bundle's certificates (public): the PEM blocks only, so a key someone stored in
        the same string value never reaches the clipboard this way."""
        import re

        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        if vault is None or self.environment is None:
            return
        try:
            text = vault.resolve(self.secret_name, self.environment, purpose="access")
        except KnoxError as exc:
            self.notify(exc.message, severity="error")
            return
        if not isinstance(text, str):
            return
        blocks = re.findall(
            r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----", text
        )
        if blocks:
            self.knox.clip.copy("\n".join(blocks) + "\n", "CA bundle PEM")

    # -- edit ---------------------------------------------------------------------------------
    def _after_import(self, changed: bool | None) -> None:
        if changed:
            self.run_worker(self.reload(), exclusive=True, group="detail-reload")

    def action_add_value(self) -> None:
        from knoxtui.ui.screens.importing import ImportScreen

        if self.secret is None:
            return
        self.app.push_screen(
            ImportScreen(name=self.secret_name, secret_type=self.secret.secret_type),
            self._after_import,
        )

    def action_replace_value(self) -> None:
        from knoxtui.ui.screens.importing import ImportScreen

        if self.secret is None or self.environment is None:
            return
        self.app.push_screen(
            ImportScreen(
                name=self.secret_name,
                environment=self.environment,
                secret_type=self.secret.secret_type,
                replace=True,
            ),
            self._after_import,
        )

    def action_rename(self) -> None:
        from knoxtui.errors import KnoxError

        def renamed(new: str | None) -> None:
            vault = self.knox.vault
            if not new or new == self.secret_name or vault is None:
                return
            try:
                vault.rename_secret(self.secret_name, new)
                self.knox.secrets_changed()
            except KnoxError as exc:
                self.notify(exc.message, title="Not renamed", severity="error")
                return
            self.notify(f"Renamed to '{new}'; routes updated.")
            self.secret_name = new
            self.run_worker(self.reload(), exclusive=True, group="detail-reload")

        self.app.push_screen(PromptModal("Rename secret", value=self.secret_name), renamed)

    def action_remove_value(self) -> None:
        from knoxtui.errors import KnoxError

        environment = self.environment
        if environment is None:
            return

        def answered(ok: bool | None) -> None:
            vault = self.knox.vault
            if not ok or vault is None:
                return
            try:
                vault.remove_value(self.secret_name, environment)
                self.knox.secrets_changed()
            except KnoxError as exc:
                self.notify(exc.message, severity="error")
                return
            self.notify(f"Removed the {environment} value.")
            self.run_worker(self.reload(), exclusive=True, group="detail-reload")

        self.app.push_screen(
            ConfirmModal(
                "Remove environment value?",
                f"Remove the '{environment}' value of '{self.secret_name}'?",
                confirm="Remove",
                danger=True,
            ),
            answered,
        )

    def action_delete(self) -> None:
        from knoxtui.errors import KnoxError

        vault = self.knox.vault
        if vault is None:
            return
        using = vault.routes_using(self.secret_name)
        warning = f"\nRoutes using it will fail until fixed: {', '.join(using)}." if using else ""

        def answered(ok: bool | None) -> None:
            if not ok or self.knox.vault is None:
                return
            try:
                self.knox.vault.remove_secret(self.secret_name, force=bool(using))
                self.knox.secrets_changed()
            except KnoxError as exc:
                self.notify(exc.message, severity="error")
                return
            self.notify(f"Deleted '{self.secret_name}'.")
            self.dismiss()

        self.app.push_screen(
            ConfirmModal(
                "Delete secret?",
                f"Delete '{self.secret_name}' and every environment value?{warning}",
                confirm="Delete",
                danger=True,
            ),
            answered,
        )

    def action_back(self) -> None:
        self.hide_revealed()
        self.dismiss()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.hide_revealed()
