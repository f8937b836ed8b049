"""The expiry watch: every certificate value in the vault, its days left and status, and what
breaks when it expires (routes, environments). Drives `knoxtui check`, the report and the TUI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.pki.expiry import ExpiryStatus, ExpiryThresholds, days_remaining, expiry_status

if TYPE_CHECKING:
    from knoxtui.vault import SecretInfo, Vault

DEFAULT_ENV = "default"
RETIRING = "retiring"
# Worst first: the order of the expiry panel and of `check` output.
STATUS_ORDER = (
    ExpiryStatus.EXPIRED,
    ExpiryStatus.URGENT,
    ExpiryStatus.WARNING,
    ExpiryStatus.NOT_YET_VALID,
    ExpiryStatus.VALID,
)
# The one vocabulary people read, in the console and in text output alike (JSON keeps the codes).
STATUS_WORDS = {
    "valid": "valid",
    "warning": "expiring",
    "urgent": "urgent",
    "expired": "expired",
    "not_yet_valid": "not yet valid",
}


def status_word(status: object) -> str:
    return STATUS_WORDS.get(str(status), str(status))


def elide_names(names: Sequence[str], width: int) -> str:
    """`a, b, +3` — as many names as fit in `width`, then how many more."""
    if not names:
        return "-"
    best = ""
    for count in range(1, len(names) + 1):
        rest = len(names) - count
        text = ", ".join(names[:count]) + (f", +{rest}" if rest else "")
        if len(text) > width:
            break
        best = text
    if best:
        return best
    more = f" +{len(names) - 1}" if len(names) > 1 else ""
    keep = max(1, width - len(more) - 1)
    return names[0][:keep] + "…" + more


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ExpiryRow:
    """One certificate value (secret x environment)."""

    secret: str
    secret_id: str
    environment: str
    subject: str
    subject_cn: str | None
    issuer: str
    issuer_cn: str | None
    serial: str
    fingerprint_sha256: str
    valid_from: datetime
    valid_until: datetime
    days_remaining: int
    status: ExpiryStatus
    routes: tuple[str, ...]  # routes that use this secret directly or through an oauth2 secret
    breaks_environments: tuple[str, ...]  # environments whose requests fail when it expires
    secret_status: str | None = None  # "retiring" after a rotation
    grace_until: datetime | None = None
    due: bool = False  # counts for `check`'s exit code
    # "certificate", or "ca_bundle": a string secret of CA certificates, where the row speaks of
    # its worst certificate (the first to expire) and `certificates` counts them all.
    kind: str = "certificate"
    certificates: int = 1
    # Remotes (team sync servers) that log in with this certificate or trust this CA bundle.
    remotes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What the row watches, in words: the secret, and for a CA bundle its size."""
        if self.kind == "ca_bundle":
            return f"{self.secret} (CA bundle of {self.certificates})"
        return self.secret

    @property
    def environments_label(self) -> str:
        """How to say `breaks_environments` for this status: a valid certificate is only
        "used in" them; an urgent one "breaks" them soon; an expired one has "broken" them.
        A CA bundle is only "trusted in" them: offline, which CA a server's chain needs is
        unknown, so an expiring CA may break them or not."""
        if self.kind == "ca_bundle":
            return "trusted in"
        if self.status == ExpiryStatus.EXPIRED:
            return "broken in"
        if self.status == ExpiryStatus.URGENT or self.due:
            return "breaks"
        return "used in"

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "secret_id": self.secret_id,
            "environment": self.environment,
            "subject": self.subject,
            "subject_cn": self.subject_cn,
            "issuer": self.issuer,
            "issuer_cn": self.issuer_cn,
            "serial": self.serial,
            "fingerprint_sha256": self.fingerprint_sha256,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "days_remaining": self.days_remaining,
            "status": str(self.status),
            "routes": list(self.routes),
            "breaks_environments": list(self.breaks_environments),
            "secret_status": self.secret_status,
            "grace_until": _iso(self.grace_until),
            "due": self.due,
            "kind": self.kind,
            "certificates": self.certificates,
            "remotes": list(self.remotes),
        }


@dataclass(frozen=True)
class ExpiryReport:
    now: datetime
    thresholds: ExpiryThresholds
    within_days: int | None
    rows: tuple[ExpiryRow, ...] = field(default=())

    @property
    def due(self) -> tuple[ExpiryRow, ...]:
        return tuple(row for row in self.rows if row.due)

    @property
    def ok(self) -> bool:
        return not self.due

    def counts(self) -> dict[str, int]:
        out = {str(status): 0 for status in STATUS_ORDER}
        for row in self.rows:
            out[str(row.status)] += 1
        return out

    def by_status(self) -> dict[ExpiryStatus, tuple[ExpiryRow, ...]]:
        """Rows grouped for the expiry panel, worst group first, empty groups left out."""
        groups: dict[ExpiryStatus, tuple[ExpiryRow, ...]] = {}
        for status in STATUS_ORDER:
            rows = tuple(row for row in self.rows if row.status == status)
            if rows:
                groups[status] = rows
        return groups

    def warning_line(self) -> str | None:
        """The one-line notice for the inventory on start, or None when nothing needs action."""
        counts = self.counts()
        expired, urgent = counts["expired"], counts["urgent"]
        if not expired and not urgent:
            return None
        parts = []
        if expired:
            parts.append(f"{expired} expired")
        if urgent:
            parts.append(f"{urgent} urgent ({self.thresholds.urgent_days} days or fewer left)")
        bad = [r for r in self.rows if r.status in (ExpiryStatus.EXPIRED, ExpiryStatus.URGENT)]
        soonest = min(bad, key=lambda r: r.days_remaining)
        kinds = {r.kind for r in bad}
        what = (
            "Certificates and CA bundles"
            if len(kinds) > 1
            else ("CA bundles" if kinds == {"ca_bundle"} else "Certificates")
        )
        where = soonest.environment + (", CA bundle" if soonest.kind == "ca_bundle" else "")
        return (
            f"{what}: {', '.join(parts)} — first: {soonest.secret} ({where}). "
            "Run `knoxtui check` for details."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": _iso(self.now),
            "warning_days": self.thresholds.warning_days,
            "urgent_days": self.thresholds.urgent_days,
            "within_days": self.within_days,
            "ok": self.ok,
            "counts": self.counts(),
            "due": len(self.due),
            "certificates": [row.to_dict() for row in self.rows],
        }


def thresholds_from_config() -> ExpiryThresholds:
    from knoxtui import config

    loaded = config.load()
    return ExpiryThresholds(warning_days=loaded.warning_days, urgent_days=loaded.urgent_days)


def known_environments(secrets: Iterable[SecretInfo]) -> tuple[str, ...]:
    """Every named environment any secret holds a value for."""
    names = {env for secret in secrets for env in secret.environments if env != DEFAULT_ENV}
    return tuple(sorted(names))


def breaks_environments(
    secret: SecretInfo, environment: str, environments: Sequence[str]
) -> tuple[str, ...]:
    """A named value breaks its environment; a "default" value breaks every environment the
    secret has no value of its own for (all of them when none are known yet: "default")."""
    if environment != DEFAULT_ENV:
        return (environment,)
    own = set(secret.environments)
    rest = tuple(env for env in environments if env not in own)
    return rest or (DEFAULT_ENV,)


def _oauth2_users(secrets: Iterable[SecretInfo]) -> dict[str, list[str]]:
    """certificate or CA-bundle secret name -> oauth2 secrets that use it at their token
    endpoint (presenting the certificate, trusting the bundle)."""
    users: dict[str, list[str]] = {}
    for secret in secrets:
        if secret.secret_type != "oauth2":
            continue
        for value in secret.values:
            details = getattr(value, "details", None) or {}
            for field_name in ("certificate_secret_id", "ca_bundle_secret_id"):
                name = details.get(field_name)
                if isinstance(name, str) and secret.name not in users.get(name, []):
                    users.setdefault(name, []).append(secret.name)
    return users


def remote_users(vault: Vault) -> dict[str, tuple[str, ...]]:
    """Secret name -> remotes that log in with it (cert_secret) or trust it (ca_bundle_secret)."""
    users: dict[str, list[str]] = {}
    remotes = getattr(vault, "remotes", None)
    for remote in remotes.all() if remotes is not None else ():
        for name in (remote.cert_secret, remote.ca_bundle_secret):
            if name:
                users.setdefault(name, []).append(remote.name)
    return {name: tuple(sorted(found)) for name, found in users.items()}


def route_users(vault: Vault) -> dict[str, list[str]]:
    """Secret name -> routes naming it, from one read of the routes table."""
    users: dict[str, list[str]] = {}
    for route in vault.list_routes():
        for name in route.references:
            users.setdefault(name, []).append(route.name)
    return users


def routes_affected(
    name: str, route_map: dict[str, list[str]], oauth2_users: dict[str, list[str]]
) -> tuple[str, ...]:
    found = dict.fromkeys(route_map.get(name, []))
    for oauth2 in oauth2_users.get(name, []):
        found.update(dict.fromkeys(route_map.get(oauth2, [])))
    return tuple(sorted(found))


def is_due(status: ExpiryStatus, days: int, within_days: int | None, retiring_unused: bool) -> bool:
    """What makes `check` exit 1: expired, urgent, or within --days N. A retiring secret that no
    route uses any more is waiting for removal, not a risk, so it does not count."""
    if retiring_unused or status == ExpiryStatus.NOT_YET_VALID:
        return False
    if status in (ExpiryStatus.EXPIRED, ExpiryStatus.URGENT):
        return True
    return within_days is not None and days <= within_days


def expiry_report(
    vault: Vault,
    *,
    now: datetime | None = None,
    thresholds: ExpiryThresholds | None = None,
    within_days: int | None = None,
    secrets: Sequence[SecretInfo] | None = None,
) -> ExpiryReport:
    """Every certificate value and CA bundle, worst first (then soonest, then name). `secrets`
    saves a second listing when the caller already has one."""
    moment = now or clock.now()
    limits = thresholds or thresholds_from_config()
    if secrets is None:
        secrets = vault.list_secrets()
    environments = known_environments(secrets)
    oauth2_users = _oauth2_users(secrets)
    route_map = route_users(vault)
    grace = _grace_dates(vault)
    rows: list[ExpiryRow] = []
    for secret in secrets:
        if secret.secret_type == "string":
            rows.extend(
                _bundle_rows(
                    secret, moment, limits, within_days, environments, route_map, oauth2_users
                )
            )
            continue
        if secret.secret_type != "certificate":
            continue
        routes = routes_affected(secret.name, route_map, oauth2_users)
        for value in secret.values:
            meta = value.certificate
            if meta is None:
                continue
            status = expiry_status(meta.valid_from, meta.valid_until, moment, limits)
            days = days_remaining(meta.valid_until, moment)
            retiring_unused = secret.status == RETIRING and not routes
            rows.append(
                ExpiryRow(
                    secret=secret.name,
                    secret_id=secret.id,
                    environment=value.environment,
                    subject=meta.subject,
                    subject_cn=meta.subject_cn,
                    issuer=meta.issuer,
                    issuer_cn=meta.issuer_cn,
                    serial=meta.serial,
                    fingerprint_sha256=meta.fingerprint_sha256,
                    valid_from=meta.valid_from,
                    valid_until=meta.valid_until,
                    days_remaining=days,
                    status=status,
                    routes=routes,
                    # a certificate no route or oauth2 client uses breaks nothing when it expires
                    breaks_environments=(
                        breaks_environments(secret, value.environment, environments)
                        if routes
                        else ()
                    ),
                    secret_status=secret.status,
                    grace_until=grace.get(secret.name),
                    due=is_due(status, days, within_days, retiring_unused),
                )
            )
    remotes = remote_users(vault)
    if remotes:
        rows = [
            replace(row, remotes=remotes[row.secret]) if row.secret in remotes else row
            for row in rows
        ]
    rows.sort(
        key=lambda r: (STATUS_ORDER.index(r.status), r.days_remaining, r.secret, r.environment)
    )
    return ExpiryReport(now=moment, thresholds=limits, within_days=within_days, rows=tuple(rows))


def _bundle_rows(
    secret: SecretInfo,
    moment: datetime,
    limits: ExpiryThresholds,
    within_days: int | None,
    environments: Sequence[str],
    route_map: dict[str, list[str]],
    oauth2_users: dict[str, list[str]],
) -> list[ExpiryRow]:
    """The CA-bundle values of a string secret, from their stored metadata (nothing decrypted).
    A CA that expires breaks every route that trusts the bundle."""
    rows: list[ExpiryRow] = []
    routes: tuple[str, ...] | None = None
    for value in secret.values:
        bundle = getattr(value, "ca_bundle", None)
        if bundle is None:
            continue
        if routes is None:
            routes = routes_affected(secret.name, route_map, oauth2_users)
        worst = bundle.worst(moment, limits)
        status = worst.status(moment, limits)
        days = worst.days_remaining(moment)
        rows.append(
            ExpiryRow(
                secret=secret.name,
                secret_id=secret.id,
                environment=value.environment,
                subject=worst.subject,
                subject_cn=worst.subject_cn,
                issuer=worst.issuer,
                issuer_cn=worst.issuer_cn,
                serial=worst.serial,
                fingerprint_sha256=worst.fingerprint_sha256,
                valid_from=worst.valid_from,
                valid_until=worst.valid_until,
                days_remaining=days,
                status=status,
                routes=routes,
                breaks_environments=(
                    breaks_environments(secret, value.environment, environments) if routes else ()
                ),
                secret_status=secret.status,
                due=is_due(status, days, within_days, secret.status == RETIRING and not routes),
                kind="ca_bundle",
                certificates=bundle.count,
            )
        )
    return rows


def _grace_dates(vault: Vault) -> dict[str, datetime]:
    """Grace-period ends of retiring secrets."""
    return vault.status_dates()
