"""Rotation: repoint routes (and the oauth2 secrets that present a certificate at their token
endpoint) from secret OLD to NEW in one vault transaction, audited; OLD is marked "retiring" with
a grace-period date and removed later with `retire`. A failure at any route changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.pki.expiry import ExpiryStatus

if TYPE_CHECKING:
    from knoxtui.vault import SecretInfo, Vault

DEFAULT_ENV = "default"
RETIRING = "retiring"
ROUTE_SECRET_FIELDS = ("certificate_secret_id", "oauth2_secret_id", "ca_bundle_secret_id")

# A check gets (route name, repointed config, environments the route has been used in) and
# raises a KnoxError to stop the whole rotation.
RouteCheck = Callable[[str, dict[str, Any], tuple[str, ...]], None]


@dataclass(frozen=True)
class RouteChange:
    route: str
    fields: tuple[str, ...]  # where OLD was named: "certificate_secret_id", "headers.X-Key"...

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "fields": list(self.fields)}


@dataclass(frozen=True)
class RotationPlan:
    old: str
    new: str
    secret_type: str
    changes: tuple[RouteChange, ...]
    oauth2_changes: tuple[str, ...]  # oauth2 secrets whose certificate_secret_id moves too
    untouched: tuple[str, ...]  # routes that keep using OLD (not chosen with --route)
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "secret_type": self.secret_type,
            "routes": [change.to_dict() for change in self.changes],
            "oauth2_secrets": list(self.oauth2_changes),
            "untouched_routes": list(self.untouched),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RotationResult:
    plan: RotationPlan
    grace_until: datetime | None
    old_status: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan.to_dict(),
            "old_status": self.old_status,
            "grace_until": None
            if self.grace_until is None
            else self.grace_until.isoformat().replace("+00:00", "Z"),
        }


def _ref_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(\{\{\s*secret:)" + re.escape(name) + r"(\s*\}\})")


def repoint_config(config: Any, old: str, new: str, path: str = "") -> tuple[Any, list[str]]:
    """A copy of a route config naming `new` wherever it named `old` (*_secret_id fields and
    {{secret:OLD}} references), and the dotted paths of what changed."""
    changed: list[str] = []
    if isinstance(config, str):
        pattern = _ref_pattern(old)
        if pattern.search(config):
            return pattern.sub(lambda m: m.group(1) + new + m.group(2), config), [path or "."]
        return config, []
    if isinstance(config, list):
        out_list = []
        for index, item in enumerate(config):
            value, where = repoint_config(item, old, new, f"{path}[{index}]")
            out_list.append(value)
            changed += where
        return out_list, changed
    if isinstance(config, Mapping):
        out: dict[str, Any] = {}
        for key, item in config.items():
            here = f"{path}.{key}" if path else str(key)
            if key in ROUTE_SECRET_FIELDS and item == old:
                out[key] = new
                changed.append(here)
            else:
                out[key], where = repoint_config(item, old, new, here)
                changed += where
        return out, changed
    return config, []


def _secret(vault: Vault, name: str, role: str) -> SecretInfo:
    try:
        return vault.get_secret(name)
    except NotFound:
        raise NotFound(
            f"There is no secret named '{name}' ({role} of the rotation).",
            hint="knoxtui secret list shows the names; attach a renewed certificate with "
            "knoxtui csr attach.",
        ) from None


def _covers(new: SecretInfo, environment: str) -> bool:
    """Would `new` serve `environment`? (a default-only secret serves every environment)"""
    return environment in new.environments or new.environments == (DEFAULT_ENV,)


def _check_new_certificate(old: SecretInfo, new: SecretInfo, now: datetime) -> list[str]:
    notes: list[str] = []
    for value in new.values:
        meta = value.certificate
        if meta is None:
            continue
        status = meta.status(now)
        if status in (ExpiryStatus.EXPIRED, ExpiryStatus.NOT_YET_VALID):
            raise ValidationError(
                f"'{new.name}' ({value.environment}) is {status.value.replace('_', ' ')}; routes "
                "were not repointed to it.",
                hint="Attach a currently valid certificate first.",
                code=status.value,
            )
        if not meta.has_private_key:
            raise ValidationError(
                f"'{new.name}' ({value.environment}) has no private key, so it cannot "
                "authenticate; routes were not repointed to it.",
                code="missing_private_key",
            )
    for env in old.environments:
        if env != DEFAULT_ENV and not _covers(new, env):
            raise ValidationError(
                f"'{new.name}' has no value for environment '{env}', which '{old.name}' serves; "
                "routes were not repointed.",
                hint=f"Attach or add the '{env}' certificate to '{new.name}' first "
                f"(knoxtui csr attach ... --as {new.name} --env {env}).",
                code="environment_missing",
            )
    if DEFAULT_ENV in old.environments and not _covers(new, DEFAULT_ENV):
        notes.append(
            f"'{old.name}' served every environment; '{new.name}' only serves "
            f"{', '.join(new.environments)}. Routes used in other environments are refused."
        )
    return notes


def plan_rotation(vault: Vault, old: str, new: str, *, routes: Sequence[str] = ()) -> RotationPlan:
    """What `rotate` would change; raises when NEW cannot replace OLD. Changes nothing."""
    if old == new:
        raise ValidationError("OLD and NEW are the same secret.", code="usage")
    old_info, new_info = _secret(vault, old, "OLD"), _secret(vault, new, "NEW")
    if old_info.secret_type != new_info.secret_type:
        raise ValidationError(
            f"'{old}' is a {old_info.secret_type} secret and '{new}' a {new_info.secret_type} "
            "secret; a route cannot switch between them.",
            code="wrong_secret_type",
        )
    if new_info.status == RETIRING:
        raise ValidationError(f"'{new}' is itself retiring; choose the current secret.")
    notes = (
        _check_new_certificate(old_info, new_info, clock.now())
        if old_info.secret_type == "certificate"
        else []
    )
    users = vault.routes_using(old)
    chosen = list(dict.fromkeys(routes)) or users
    for name in chosen:
        vault.get_route(name)  # NotFound names the route
        if name not in users:
            raise ValidationError(
                f"Route '{name}' does not use '{old}'; nothing was changed.",
                hint=f"Routes using '{old}': {', '.join(users) or 'none'}.",
                code="usage",
            )
    changes = []
    for name in chosen:
        _, fields = repoint_config(dict(vault.get_route(name).config), old, new)
        changes.append(RouteChange(name, tuple(fields)))
    oauth2 = _oauth2_users(vault, old) if not routes else ()
    if not changes and not oauth2:
        raise ValidationError(
            f"No route or oauth2 secret uses '{old}'; there is nothing to repoint.",
            hint=f"Remove it when you are sure: knoxtui secret rm {old}",
            code="nothing_to_rotate",
        )
    return RotationPlan(
        old=old,
        new=new,
        secret_type=old_info.secret_type,
        changes=tuple(changes),
        oauth2_changes=oauth2,
        untouched=tuple(u for u in users if u not in chosen),
        notes=tuple(notes),
    )


def _oauth2_users(vault: Vault, name: str) -> tuple[str, ...]:
    users = []
    for secret in vault.list_secrets():
        if secret.secret_type != "oauth2":
            continue
        if any(
            (getattr(value, "details", None) or {}).get("certificate_secret_id") == name
            for value in secret.values
        ):
            users.append(secret.name)
    return tuple(users)


def route_environments(vault: Vault) -> dict[str, tuple[str, ...]]:
    """Route name -> environments it has been run in (from route_request_log)."""
    seen: dict[str, dict[str, None]] = {}
    for entry in vault.request_entries():
        seen.setdefault(entry.route_name, {})[entry.environment_name] = None
    return {route: tuple(envs) for route, envs in seen.items()}


def environment_check(new: SecretInfo) -> RouteCheck:
    """NEW must serve every environment the route has been used in."""

    def check(route: str, config: dict[str, Any], environments: tuple[str, ...]) -> None:
        missing = [env for env in environments if not _covers(new, env)]
        if missing:
            raise ValidationError(
                f"Route '{route}' has been used in {', '.join(missing)}, where '{new.name}' has "
                "no value; no route was repointed.",
                hint=f"Add the {', '.join(missing)} value to '{new.name}' first, or leave this "
                "route out (--route R for the others).",
                code="environment_missing",
            )

    return check


def model_check(route: str, config: dict[str, Any], environments: tuple[str, ...]) -> None:
    """The repointed config must still be a valid route (knoxtui.routes)."""
    from knoxtui.routes.route import Route

    Route.from_config(route, config)


def rotate(
    vault: Vault,
    old: str,
    new: str,
    *,
    routes: Sequence[str] = (),
    grace_days: int = 30,
    checks: Iterable[RouteCheck] | None = None,
) -> RotationResult:
    """Repoint in one transaction; any failure (a check, the vault refusing a route) leaves
    every route, oauth2 secret and status as it was."""
    if grace_days < 0:
        raise ValidationError("--grace-days must be 0 or more.", code="usage")
    plan = plan_rotation(vault, old, new, routes=routes)
    new_info = vault.get_secret(new)
    all_checks = [model_check, environment_check(new_info), *(checks or ())]
    used_in = route_environments(vault)
    grace_until = clock.now() + timedelta(days=grace_days)
    retire_old = not plan.untouched
    with vault.batch():
        for change in plan.changes:
            record = vault.get_route(change.route)
            config, _ = repoint_config(dict(record.config), old, new)
            for check in all_checks:
                check(change.route, config, used_in.get(change.route, ()))
            vault.save_route(change.route, config, replace=True)
        for secret in plan.oauth2_changes:
            _repoint_oauth2(vault, secret, old, new)
        summary = (
            f"rotated to '{new}': routes {', '.join(c.route for c in plan.changes) or 'none'}"
            + (f"; oauth2 {', '.join(plan.oauth2_changes)}" if plan.oauth2_changes else "")
        )
        if retire_old:
            vault.set_status(old, RETIRING, until=grace_until, detail=summary)
        else:
            # Some routes still use OLD: it is not retiring yet, but the move is audited on it.
            vault.set_status(
                old,
                vault.get_secret(old).status,
                until=vault.status_dates().get(old),
                detail=summary + f"; still used by {', '.join(plan.untouched)}",
            )
    return RotationResult(
        plan=plan,
        grace_until=grace_until if retire_old else None,
        old_status=RETIRING if retire_old else vault.get_secret(old).status,
    )


def _repoint_oauth2(vault: Vault, name: str, old: str, new: str) -> None:
    from knoxtui.vault import OAuth2Config

    for env in vault.get_secret(name).environments:
        config = vault.resolve(name, env, purpose="access")
        if isinstance(config, OAuth2Config) and config.certificate_secret_id == old:
            data = config.to_dict(include_secret=True)
            data["certificate_secret_id"] = new
            vault.add_oauth2(name, OAuth2Config.from_dict(data), environment=env, replace=True)


def check_retire(vault: Vault, old: str, *, force: bool = False) -> SecretInfo:
    """Refuse to remove a secret that is not retiring, still used, or within its grace period."""
    info = _secret(vault, old, "the secret to retire")
    if info.status != RETIRING:
        raise ValidationError(
            f"Secret '{old}' is not retiring (no rotation moved its routes away).",
            hint=f"Rotate first (knoxtui rotate {old} NEW), or remove it with knoxtui secret rm.",
            code="not_retiring",
        )
    users = vault.routes_using(old)
    if users:
        raise Conflict(
            f"Secret '{old}' is still used by route(s) {', '.join(users)}; nothing was removed.",
            hint=f"Repoint them: knoxtui rotate {old} NEW --route R",
        )
    until = vault.status_dates().get(old)
    if until is not None and clock.now() < until and not force:
        raise ValidationError(
            f"The grace period of '{old}' runs until {until:%Y-%m-%d %H:%M} UTC; it was kept.",
            hint="Wait, or remove it now from the command line (--force).",
            code="grace_period",
        )
    return info


def retire(vault: Vault, old: str, *, force: bool = False) -> None:
    check_retire(vault, old, force=force)
    vault.remove_secret(old)


# ---- rehearsal: the same request with OLD and with NEW, side by side ----------------------


@dataclass(frozen=True)
class RehearsalRun:
    secret: str
    ok: bool
    code: str  # the diagnosis code ("ok", "unknown_ca", "environment_missing"...)
    summary: str
    status_code: int | None
    result: Any = field(repr=False, compare=False)  # the net RequestResult, for the TUI

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "ok": self.ok,
            "code": self.code,
            "summary": self.summary,
            "status_code": self.status_code,
            "result": self.result.to_dict() if hasattr(self.result, "to_dict") else None,
        }


@dataclass(frozen=True)
class RehearsalPair:
    route: str
    old: RehearsalRun
    new: RehearsalRun

    @property
    def regression(self) -> bool:
        return self.old.ok and not self.new.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "regression": self.regression,
        }


@dataclass(frozen=True)
class Rehearsal:
    old: str
    new: str
    environment: str
    runs: tuple[RehearsalPair, ...]

    @property
    def ok(self) -> bool:
        """NEW works for every route rehearsed."""
        return all(pair.new.ok for pair in self.runs)

    @property
    def regression(self) -> bool:
        """NEW fails on some route where OLD passed (both failing is no regression)."""
        return any(pair.regression for pair in self.runs)

    @property
    def verdict(self) -> str:
        """`ok` (NEW works everywhere), `regression` (NEW fails where OLD passed) or
        `inconclusive` (NEW fails only where OLD fails too: the rehearsal proves nothing there)."""
        if self.ok:
            return "ok"
        return "regression" if self.regression else "inconclusive"

    @property
    def verdict_sentence(self) -> str:
        """One sentence for people, agreeing with `verdict` and the JSON."""
        if self.verdict == "ok":
            return f"NEW works everywhere: '{self.new}' passed on every route rehearsed."
        if self.verdict == "regression":
            names = ", ".join(f"'{pair.route}'" for pair in self.runs if pair.regression)
            return f"Regression: NEW fails where OLD worked (route {names})."
        names = ", ".join(f"'{pair.route}'" for pair in self.runs if not pair.new.ok)
        return (
            f"Inconclusive: OLD fails too on route {names}, so the rehearsal proves nothing "
            "there (no regression). Fix what fails for both, then rehearse again."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "environment": self.environment,
            "ok": self.ok,
            "regression": self.regression,
            "verdict": self.verdict,
            "routes": [pair.to_dict() for pair in self.runs],
        }


def _summarised(result: Any, secret: str) -> RehearsalRun:
    summary = result.diagnosis.summary
    if result.status_code is not None and f"HTTP {result.status_code}" not in summary:
        summary = f"HTTP {result.status_code} — {summary}"
    return RehearsalRun(
        secret=secret,
        ok=result.ok,
        code=result.diagnosis.code,
        summary=summary,
        status_code=result.status_code,
        result=result,
    )


REHEARSAL_CONCURRENCY = 8


def rehearse(
    vault: Vault,
    old: str,
    new: str,
    environment: str,
    *,
    routes: Sequence[str] = (),
    log: bool = True,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = REHEARSAL_CONCURRENCY,
) -> Rehearsal:
    """Run each route (all that use OLD, or `routes`) once as stored and once repointed to NEW,
    in `environment`; nothing is saved except the two request-log rows per route.

    Secrets are resolved here, on the caller's thread (the vault is used from one thread); the
    requests then run `concurrency` at a time, so one hanging route costs its own timeout only.
    `progress(done, total)` is called after each request, from this thread."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from knoxtui.net.request import execute
    from knoxtui.routes import Route, prepare
    from knoxtui.routes.runner import log_run

    plan = plan_rotation(vault, old, new, routes=routes)
    jobs: list[tuple[Any, Any, Any, str]] = []  # (route, plan or None, result if failed, secret)
    for change in plan.changes:
        config = dict(vault.get_route(change.route).config)
        repointed, _ = repoint_config(config, old, new)
        for route_config, secret in ((config, old), (repointed, new)):
            route = Route.from_config(change.route, route_config)
            request_plan, failed = prepare(route, environment, vault.resolve)
            jobs.append((route, request_plan, failed, secret))
    results: list[Any] = [failed for _route, _plan, failed, _secret in jobs]
    total, done = len(jobs), sum(1 for result in results if result is not None)
    if progress is not None:
        progress(done, total)
    pending = [i for i, job in enumerate(jobs) if job[1] is not None]
    if pending:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pending)))) as pool:
            futures = {pool.submit(execute, jobs[i][1]): i for i in pending}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if progress is not None:
                    progress(done, total)
    if log:
        for (route, request_plan, _failed, _secret), result in zip(jobs, results, strict=True):
            log_run(vault, route, environment, request_plan, result)
    pairs = [
        RehearsalPair(
            route=jobs[i][0].name,
            old=_summarised(results[i], jobs[i][3]),
            new=_summarised(results[i + 1], jobs[i + 1][3]),
        )
        for i in range(0, len(jobs), 2)
    ]
    return Rehearsal(old=old, new=new, environment=environment, runs=tuple(pairs))
