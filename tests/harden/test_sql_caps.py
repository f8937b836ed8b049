"""Issue 11 item 10: one `audit --sql` expression cannot take the machine (a nested replace()
over 200 MB or zeroblob(2e8) ran 30 s past the 10 s limit and used 5 GB). Real vault file."""

from __future__ import annotations

from pathlib import Path

import pytest
from vault_material import CHEAP_KDF, VAULT_PASSPHRASE

from knoxtui.errors import UsageError
from knoxtui.vault import Vault, query


@pytest.fixture
def vault(tmp_path: Path, frozen_now):
    with Vault.create(tmp_path / "q.knox", VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as opened:
        opened.add_string("token", "tok-Kestrel-77")
        yield opened


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT zeroblob(200000000)", "refused"),
        ("SELECT length(randomblob(200000000))", "refused"),
        # 2 MB from a function that the wall clock cannot interrupt.
        ("SELECT length(printf('%.*c', 2000000, 'x'))", "grew past 1 MB"),
        (
            "SELECT length(replace(replace(printf('%.*c', 900000, 'x'), 'x', 'xx'), 'x', 'xx'))",
            "grew past 1 MB",
        ),
        (
            "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r LIMIT 40) "
            "SELECT length(s) FROM r",
            "grew past 1 MB",
        ),
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT i, printf('%.*c', 500, 'x') FROM n",
            "more than 100,000 rows",
        ),
    ],
)
def test_big_values_and_endless_results_are_stopped(vault: Vault, sql: str, needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        vault.query(sql)
    assert needle in caught.value.message


def test_limits_are_lifted_after_the_query(vault: Vault) -> None:
    """The vault's own connection stores certificates bigger than the query cap afterwards."""
    with pytest.raises(UsageError):
        vault.query("SELECT length(printf('%.*c', 2000000, 'x'))")
    big = "x" * 1_040_000  # past the query's 1,000,000-byte cap, within the 1 MiB value limit
    vault.add_string("big", big)
    assert vault.resolve("big", "default") == big
    assert vault.query("SELECT count(*) FROM secret_audit_log")[1][0][0] >= 3


def test_the_native_handle_is_confirmed(vault: Vault) -> None:
    native = query._native(vault._conn)
    assert native is not None  # the LENGTH cap really applies on this build


def test_a_string_value_over_1_mb_is_refused_by_the_vault(vault: Vault) -> None:
    from knoxtui.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        vault.add_string("huge", "x" * (1024 * 1024 + 1))
    assert caught.value.code == "value_too_long" and "x" * 20 not in caught.value.message
