"""Fixtures of the vault tests: a frozen clock and a fresh vault with a cheap KDF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from vault_material import CHEAP_KDF, TEST_NOW, VAULT_PASSPHRASE

from knoxtui import clock
from knoxtui.vault import Vault


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen(TEST_NOW) as moment:
        yield moment


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vaultdir" / "test.knox"


@pytest.fixture
def vault(vault_path: Path, frozen: datetime) -> Iterator[Vault]:
    with Vault.create(vault_path, VAULT_PASSPHRASE, kdf_iter=CHEAP_KDF) as opened:
        yield opened
