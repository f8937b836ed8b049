"""Command palette providers (ctrl+p): jump to any secret or route, run any action, pick a theme."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


class _KnoxProvider(Provider):
    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, help_text, action in self._entries()[:12]:
            yield DiscoveryHit(title, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), action, help=help_text)


class SecretCommands(_KnoxProvider):
    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        vault = app.vault
        if vault is None:
            return []
        entries: list[tuple[str, str, Callable[[], Any]]] = []
        for secret in vault.list_secrets():
            envs = ", ".join(secret.environments)
            entries.append(
                (
                    f"Secret: {secret.name}",
                    f"{secret.secret_type} · {envs}",
                    partial(app.open_secret, secret.name),
                )
            )
        return entries


class RouteCommands(_KnoxProvider):
    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        vault = app.vault
        if vault is None:
            return []
        entries: list[tuple[str, str, Callable[[], Any]]] = []
        for route in vault.list_routes():
            url = route.config.get("target_url", "")
            entries.append(
                (f"Route: {route.name}", f"edit · {url}", partial(app.open_route, route.name))
            )
            entries.append(
                (
                    f"Test route: {route.name}",
                    f"request tester · {url}",
                    partial(app.open_tester, route.name),
                )
            )
        return entries


class ActionCommands(_KnoxProvider):
    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        entries: list[tuple[str, str, Callable[[], Any]]] = []
        if app.vault is not None:
            entries += [
                ("Import a secret", "paste PEM or choose a file; live checks", app.open_import),
                ("Inventory", "every secret and environment value", app.open_inventory),
                ("Routes", "saved targets", app.open_routes),
                ("New route", "create a route", partial(app.open_route, None)),
                ("Audit log", "audit and request logs, chain verification", app.open_audit),
                ("Check expiry", "certificates by status, the routes that break", app.open_expiry),
                (
                    "Renew certificate (new CSR)",
                    "new key in the vault and a CSR like the current certificate",
                    app.open_renew,
                ),
                (
                    "Attach certificate",
                    "pair the CA's certificate with a pending key",
                    app.open_attach,
                ),
                (
                    "Rotate routes",
                    "repoint routes from an old secret to a new one",
                    app.open_rotate,
                ),
                (
                    "Retire secret",
                    "remove a retiring secret after its grace period",
                    app.open_retire,
                ),
                ("Export certificate", "PKCS#12 or PEM, key encrypted, file 0600", app.open_export),
                ("Inventory report", "csv, json or md of certificate metadata", app.open_report),
                ("Lock vault", "drop every decrypted value now", app.action_lock),
            ]
        for name in sorted(app.available_themes):
            if name.startswith("knox-") or name in getattr(app, "user_theme_names", set()):
                entries.append(
                    (f"Theme: {name}", "switch and remember", partial(setattr, app, "theme", name))
                )
        entries.append(("Help", "keys of this screen", app.action_help))
        return entries
