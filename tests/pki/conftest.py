"""PKI tests: the factory module in this folder is imported as a plain module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from knoxtui.pki import clear_key_cache


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> None:
    # Each test sees cold caches, so a passing test never relies on an earlier one's keys.
    clear_key_cache()
