"""One run of a saved route: plan it for an environment, execute it, write the request log.

The command line (`knoxtui test`), the rotation rehearsal and the TUI's request tester share this,
so a run is planned, diagnosed and logged the same way everywhere. The vault is duck-typed (it needs
`resolve` and `log_request`): routes never import the vault."""

from __future__ import annotations

from typing import Any

from knoxtui.net.plan import RequestPlan
from knoxtui.routes.resolution import prepare
from knoxtui.routes.route import Route


def run_saved_route(
    vault: Any,
    route: Route,
    environment: str,
    *,
    log: bool = True,
    cancel: Any = None,
    **overrides: Any,
) -> tuple[RequestPlan | None, Any]:
    """(plan or None when it could not start, the `RequestResult`); never raises for user problems
    (a missing environment value, a wrong key passphrase, a refused handshake are results).
    `cancel` (a net.cancel.Cancellation) stops the request from another thread."""
    from knoxtui.net.request import execute

    plan, failed = prepare(route, environment, vault.resolve, **overrides)
    result = execute(plan, cancel) if plan is not None else failed
    if log:
        log_run(vault, route, environment, plan, result)
    return plan, result


def log_run(
    vault: Any, route: Route, environment: str, plan: RequestPlan | None, result: Any
) -> None:
    """The request log row of one run (outcome = the diagnosis code; never a secret value)."""
    identity = plan.identity if plan is not None else None
    vault.log_request(
        route=route.name,
        environment=environment,
        certificate_secret=identity.secret_name
        if identity is not None and identity.secret_name
        else route.certificate_secret_id,
        certificate_fingerprint=identity.fingerprint_sha256 if identity is not None else None,
        status_code=result.status_code,
        outcome=result.diagnosis.code,
        duration_ms=result.timings.total_ms,
        method=result.method,
        url=result.url,
        details=run_details(result),
    )


# What the request history keeps of a run: the report without the response (headers and body
# are the server's data, may be large, and could echo what was sent) and without the OAuth2 token
# preview. Everything else in `test --json` already holds no secret.
_HISTORY_DROPS = ("response",)


def run_details(result: Any) -> dict[str, Any]:
    """The secret-free facts of one run for the request history (see `_HISTORY_DROPS`)."""
    try:
        found = dict(result.to_dict())
    except Exception:  # a result that cannot describe itself still gets its log row
        return {"diagnosis": result.diagnosis.to_dict()}
    for key in _HISTORY_DROPS:
        found.pop(key, None)
    if isinstance(found.get("oauth2"), dict):
        found["oauth2"] = {k: v for k, v in found["oauth2"].items() if k != "token"}
    found["response_size"] = getattr(result, "size", None)
    found["http_version"] = getattr(result, "http_version", None)
    return found
