"""The hardening tests share helpers: tests/ui/ui_helpers.py, tests/vault/vault_material.py."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest

for _folder in ("ui", "vault", "net"):
    _path = str(Path(__file__).resolve().parents[1] / _folder)
    if _path not in sys.path:
        sys.path.append(_path)


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo vault (as tests/ui builds it), built once; tests use copies."""
    from ui_helpers import KDF_ITER, NOW

    from knoxtui import clock
    from knoxtui.demo import build_demo_vault

    path = tmp_path_factory.mktemp("demo-master") / "demo.knox"
    with clock.frozen(NOW):
        build_demo_vault(path, now=NOW, kdf_iter=KDF_ITER)
    return path


@pytest.fixture
def demo_vault(demo_master: Path, tmp_path: Path, frozen_now: datetime) -> Path:
    target = tmp_path / "demo.knox"
    shutil.copy2(demo_master, target)
    return target
