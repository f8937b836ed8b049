"""Shared fixtures: every test runs with its own KNOXTUI_HOME and no vault passphrase from the
caller's environment; the clock is frozen where a test asks for `frozen_now`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knoxtui import clock

# The fixed "now" of the test suite: certificates in tests/data and snapshots are dated from it.
TEST_NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("knoxhome")
    monkeypatch.setenv("KNOXTUI_HOME", str(home))
    for name in ("KNOXTUI_VAULT", "KNOXTUI_VAULT_PASSPHRASE", "KNOXTUI_NOW", "KNOXTUI_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with clock.frozen(TEST_NOW) as moment:
        yield moment
