"""Fixtures of the UI tests: the demo vault, built once, copied per test."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from ui_helpers import KDF_ITER, NOW


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo vault (no lab), built once at the suite's frozen time; tests use copies."""
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
