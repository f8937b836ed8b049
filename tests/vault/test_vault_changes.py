"""What changed since (issue 14): each secret and route carries a digest of its content, stored
when written, and `changes_since(moment)` lists the items written after a moment. Team sync
compares these digests with what it saw at its last push or pull."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from test_vault_schema import _old_vault
from vault_material import CHEAP_KDF, VAULT_PASSPHRASE, bundle_of, make_client

from knoxtui import clock
from knoxtui.errors import NotFound, UsageError
from knoxtui.vault import DEFAULT_ENV, OAuth2Config, Vault, changes

ROUTE = {"target_url": "https://a.example/v1", "headers": {"X-Key": "{{secret:token}}"}}


def _recomputed(vault: Vault) -> tuple[dict[str, str], dict[str, str]]:
    """Digests computed now from the rows (blobs included), to compare with the stored ones."""
    with vault.reading() as conn:
        secrets = {
            name: changes.secret_digest(conn, secret_id)
            for secret_id, name in conn.execute("SELECT id, name FROM secrets").fetchall()
        }
        routes = {
            name: changes.route_digest(conn, config)
            for name, config in conn.execute("SELECT name, config FROM routes").fetchall()
        }
    return secrets, routes


def _assert_fresh(vault: Vault) -> None:
    secrets, routes = _recomputed(vault)
    assert vault.secrets.digests() == secrets
    assert vault.routes.digests() == routes


def test_equal_content_has_equal_digest_and_any_change_moves_it(vault: Vault) -> None:
    vault.add_string("token", "tok-A", description="api key")
    first = vault.secrets.digest("token")
    vault.add_string("copy", "tok-A", description="api key")
    assert vault.secrets.digest("copy") == first  # the name is not content

    vault.add_string("token", "tok-B", replace=True)
    assert vault.secrets.digest("token") != first
    vault.add_string("token", "tok-A", replace=True)
    assert vault.secrets.digest("token") == first  # same content again, same digest

    vault.add_string("token", "tok-A", environment="staging")
    with_staging = vault.secrets.digest("token")
    assert with_staging != first
    vault.remove_value("token", "staging")
    assert vault.secrets.digest("token") == first

    vault.add_string("token", "tok-A", replace=True, description="other words")
    described = vault.secrets.digest("token")
    assert described != first

    vault.set_status("token", "retiring")  # a lifecycle mark is not content
    assert vault.secrets.digest("token") == described
    _assert_fresh(vault)


def test_certificates_and_routes_have_fresh_digests(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()))
    vault.add_string("token", "tok-A")
    vault.save_route("accounts", ROUTE)
    before = vault.routes.digest("accounts")
    vault.save_route("accounts", {**ROUTE, "target_url": "https://b.example/v1"}, replace=True)
    assert vault.routes.digest("accounts") != before
    vault.save_route("accounts", ROUTE, replace=True)
    assert vault.routes.digest("accounts") == before
    vault.save_route("copy", dict(reversed(list(ROUTE.items()))))  # key order is not content
    assert vault.routes.digest("copy") == before
    _assert_fresh(vault)


def test_rename_moves_the_digests_of_what_refers_to_it(vault: Vault) -> None:
    vault.add_certificate("bank", bundle_of(make_client()))
    vault.add_oauth2(
        "auth",
        OAuth2Config(
            token_url="https://auth.bank.example/token",
            client_id="c",
            auth_method="tls_client_auth",
            certificate_secret_id="bank",
        ),
    )
    vault.save_route("r", {"target_url": "https://a.example", "certificate_secret_id": "bank"})
    vault.save_route("other", {"target_url": "https://o.example"})
    bank, auth, route = (
        vault.secrets.digest("bank"),
        vault.secrets.digest("auth"),
        vault.routes.digest("r"),
    )
    start = clock.now()
    later = start + timedelta(minutes=5)
    with clock.frozen(later):
        vault.rename_secret("bank", "bank-2027")
    assert vault.secrets.digest("bank-2027") == bank  # renamed, content unchanged
    assert vault.secrets.digest("auth") != auth  # its reference now names bank-2027
    assert vault.routes.digest("r") != route
    assert [c.name for c in vault.secrets.changes_since(start)] == ["auth", "bank-2027"]
    assert [c.name for c in vault.routes.changes_since(start)] == ["r"]
    _assert_fresh(vault)


def test_changes_since_lists_items_written_after_a_moment(vault: Vault) -> None:
    t0: datetime = clock.now()
    vault.add_string("old", "v")
    vault.save_route("old-route", {"target_url": "https://a.example"})
    t1 = t0 + timedelta(hours=1)
    with clock.frozen(t1):
        vault.add_string("new", "v")
    t2 = t1 + timedelta(hours=1)
    with clock.frozen(t2):
        vault.add_string("old", "w", replace=True)
        vault.save_route("new-route", {"target_url": "https://b.example"})

    assert [c.name for c in vault.secrets.changes_since(None)] == ["new", "old"]
    assert vault.secrets.changes_since(t0) == vault.secrets.changes_since(None)
    newer = vault.secrets.changes_since(t1)
    assert [(c.kind, c.name, c.updated_at) for c in newer] == [("secret", "old", t2)]
    assert newer[0].digest == vault.secrets.digest("old")
    assert newer[0].to_dict()["updated_at"].endswith("Z")
    assert vault.secrets.changes_since(t2) == []
    assert [c.name for c in vault.routes.changes_since(t1)] == ["new-route"]
    vault.remove_secret("new")  # a removed item is simply absent
    assert [c.name for c in vault.secrets.changes_since(t0)] == ["old"]


def test_digests_are_keyed_per_vault_and_the_key_is_hidden(tmp_path, frozen) -> None:
    found = []
    for name in ("a", "b"):
        with Vault.create(tmp_path / name / "v.knox", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as v:
            v.add_string("pin", "1234")
            v.save_route("r", {"target_url": "https://a.example"})
            found.append((v.secrets.digest("pin"), v.routes.digest("r")))
            # a guessed short value cannot be confirmed from what audit --sql shows
            with pytest.raises(UsageError):
                v.query("SELECT key FROM digest_key_blobs")
            shown = v.query("SELECT digest FROM secrets")[1]
            assert shown == [(found[-1][0],)]
    assert found[0][0] != found[1][0] and found[0][1] != found[1][1]


def test_an_older_vault_gets_its_digests_when_opened(vault_path, frozen) -> None:
    _old_vault(vault_path, 5)
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as migrated:
        assert set(migrated.secrets.digests()) == {"token"}
        assert set(migrated.routes.digests()) == {"accounts"}
        _assert_fresh(migrated)
        digests = migrated.secrets.digests(), migrated.routes.digests()
    with Vault.open(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as again:
        assert (again.secrets.digests(), again.routes.digests()) == digests  # same key


def test_team_sync_reads_the_stored_digests(vault: Vault) -> None:
    vault.add_string("token", "tok-A")
    vault.save_route("accounts", ROUTE)
    assert vault.remotes.digests("secret") == vault.secrets.digests()
    assert vault.remotes.digests("route", ["accounts", "absent"]) == vault.routes.digests()
    assert vault.secrets.digests([]) == {}


def test_digest_of_an_unknown_item_is_not_found(vault: Vault) -> None:
    with pytest.raises(NotFound, match="no secret named 'nope'"):
        vault.secrets.digest("nope")
    with pytest.raises(NotFound, match="no route named 'nope'"):
        vault.routes.digest("nope")
    assert vault.add_string("x", "v", environment=DEFAULT_ENV).name == "x"
