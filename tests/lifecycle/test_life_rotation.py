"""Rotation: all routes (or chosen ones) repointed from OLD to NEW in one transaction, audited,
OLD retiring with a grace date; a failure half-way changes nothing; retire after the grace."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from life_helpers import (
    IssuingCA,
    make_vault,
    route_config,
    store_certificate,
)

from knoxtui import clock
from knoxtui.errors import Conflict, NotFound, ValidationError
from knoxtui.lifecycle.expiry import expiry_report
from knoxtui.lifecycle.rotation import (
    check_retire,
    plan_rotation,
    repoint_config,
    retire,
    rotate,
)
from knoxtui.vault import Vault


@pytest.fixture
def ca(frozen_now: datetime) -> IssuingCA:
    return IssuingCA()


@pytest.fixture
def vault(tmp_path: Path, frozen_now: datetime, ca: IssuingCA) -> Any:
    with make_vault(tmp_path / "v.db") as opened:
        store_certificate(opened, "bank_2026", ca, days_left=20)
        store_certificate(opened, "bank_2027", ca, days_left=400)
        opened.add_string("api-key", "k-123")
        opened.save_route("payments", route_config("bank_2026"))
        opened.save_route(
            "accounts",
            {
                "target_url": "https://api.bank.example/accounts",
                "certificate_secret_id": "bank_2026",
                "headers": {"X-Api-Key": "{{secret:api-key}}", "X-Cert": "{{ secret:bank_2026 }}"},
            },
        )
        opened.save_route("other", route_config(None))
        yield opened


def _snapshot(vault: Vault) -> tuple[Any, ...]:
    routes = [(r.name, json.dumps(dict(r.config), sort_keys=True)) for r in vault.list_routes()]
    statuses = [(s.name, s.status) for s in vault.list_secrets()]
    return routes, statuses, len(vault.audit_entries()), vault.status_dates()


def test_life_repoint_config_names_fields() -> None:
    config = {
        "target_url": "https://x/{{secret:old}}",
        "certificate_secret_id": "old",
        "headers": {"A": "{{secret:old}}", "B": "{{secret:older}}"},
    }
    new, fields = repoint_config(config, "old", "new")
    assert new == {
        "target_url": "https://x/{{secret:new}}",
        "certificate_secret_id": "new",
        "headers": {"A": "{{secret:new}}", "B": "{{secret:older}}"},
    }
    assert fields == ["target_url", "certificate_secret_id", "headers.A"]


def test_life_rotate_all_routes(vault: Vault, frozen_now: datetime) -> None:
    result = rotate(vault, "bank_2026", "bank_2027", grace_days=14)
    assert [c.route for c in result.plan.changes] == ["accounts", "payments"]
    assert vault.routes_using("bank_2026") == []
    assert vault.routes_using("bank_2027") == ["accounts", "payments"]
    assert vault.get_route("accounts").config["headers"]["X-Cert"] == "{{ secret:bank_2027 }}"
    assert vault.get_secret("bank_2026").status == "retiring"
    assert result.grace_until == frozen_now + timedelta(days=14)
    assert vault.status_dates() == {"bank_2026": frozen_now + timedelta(days=14)}
    entries = vault.audit_entries(secret="bank_2026")
    assert any("retiring" in (e.detail or "") and "bank_2027" in (e.detail or "") for e in entries)
    assert vault.verify_audit().ok
    # the retiring, unused OLD no longer fails `check`
    report = expiry_report(vault)
    old_row = next(r for r in report.rows if r.secret == "bank_2026")
    assert old_row.secret_status == "retiring" and not old_row.due and report.ok


def test_life_rotate_chosen_routes_keeps_old_active(vault: Vault) -> None:
    result = rotate(vault, "bank_2026", "bank_2027", routes=["payments"])
    assert vault.routes_using("bank_2026") == ["accounts"]
    assert result.plan.untouched == ("accounts",)
    assert vault.get_secret("bank_2026").status is None and result.grace_until is None


def test_life_rotation_all_or_nothing_when_a_route_check_fails(vault: Vault) -> None:
    before = _snapshot(vault)
    seen: list[str] = []

    def refuse_payments(route: str, config: dict[str, Any], environments: tuple[str, ...]) -> None:
        seen.append(route)
        if route == "payments":
            raise ValidationError("payments refuses the new certificate", code="refused")

    with pytest.raises(ValidationError) as info:
        rotate(vault, "bank_2026", "bank_2027", checks=[refuse_payments])
    assert info.value.code == "refused"
    assert seen == ["accounts", "payments"]  # accounts was repointed inside the transaction first
    assert _snapshot(vault) == before
    assert vault.verify_audit().ok


def test_life_rotation_all_or_nothing_environment_used_by_a_route(
    tmp_path: Path, frozen_now: datetime, ca: IssuingCA
) -> None:
    """OLD served every environment; NEW only production. The route used in sandbox (request
    log) makes the whole rotation fail after the first route was already rewritten."""
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "old", ca, days_left=10)
        store_certificate(vault, "new", ca, days_left=400, environment="production")
        vault.save_route("a-prod", route_config("old"))
        vault.save_route("b-sandbox", route_config("old"))
        for route, env in (("a-prod", "production"), ("b-sandbox", "sandbox")):
            vault.log_request(
                route=route,
                environment=env,
                certificate_secret="old",
                certificate_fingerprint=None,
                status_code=200,
                outcome="ok",
                duration_ms=1.0,
            )
        plan = plan_rotation(vault, "old", "new")
        assert plan.notes and "only serves production" in plan.notes[0]
        before = _snapshot(vault)
        with pytest.raises(ValidationError) as info:
            rotate(vault, "old", "new")
        assert info.value.code == "environment_missing" and "b-sandbox" in info.value.message
        assert _snapshot(vault) == before
        # the route that works can still move on its own
        rotate(vault, "old", "new", routes=["a-prod"])
        assert vault.routes_using("old") == ["b-sandbox"]


def test_life_rotation_refusals(tmp_path: Path, frozen_now: datetime, ca: IssuingCA) -> None:
    with make_vault(tmp_path / "v.db") as vault:
        store_certificate(vault, "old", ca, days_left=10)
        store_certificate(vault, "expired", ca, valid_until=frozen_now - timedelta(days=1))
        store_certificate(vault, "prod-only", ca, environment="production")
        store_certificate(vault, "staged", ca, environment="production")
        store_certificate(vault, "staged", ca, environment="sandbox")
        store_certificate(vault, "fresh", ca, days_left=300)
        vault.add_string("text", "x")
        vault.save_route("r", route_config("old"))
        vault.save_route("s", route_config("staged"))
        cases = [
            (("old", "expired"), "expired"),
            (("old", "text"), "wrong_secret_type"),
            (("old", "old"), "usage"),
            (("staged", "prod-only"), "environment_missing"),
            (("fresh", "old"), "nothing_to_rotate"),
        ]
        for (old, new), code in cases:
            with pytest.raises(ValidationError) as info:
                plan_rotation(vault, old, new)
            assert info.value.code == code, (old, new)
        with pytest.raises(NotFound):
            plan_rotation(vault, "old", "missing")
        with pytest.raises(ValidationError):
            plan_rotation(vault, "old", "fresh", routes=["s"])  # s does not use old
        with pytest.raises(NotFound):
            plan_rotation(vault, "old", "fresh", routes=["nope"])


def test_life_retire_after_grace(vault: Vault, frozen_now: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        check_retire(vault, "bank_2026")
    assert info.value.code == "not_retiring"
    rotate(vault, "bank_2026", "bank_2027", grace_days=7)
    with pytest.raises(ValidationError) as info:
        retire(vault, "bank_2026")
    assert info.value.code == "grace_period"
    with clock.frozen(frozen_now + timedelta(days=7, seconds=1)):
        retire(vault, "bank_2026")
    assert "bank_2026" not in {s.name for s in vault.list_secrets()}


def test_life_retire_refused_while_a_route_uses_it(vault: Vault) -> None:
    vault.set_status("bank_2026", "retiring")
    with pytest.raises(Conflict):
        retire(vault, "bank_2026", force=True)
