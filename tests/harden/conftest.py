"""The hardening tests share helpers: tests/ui/ui_helpers.py, tests/vault/vault_material.py."""

from __future__ import annotations

import sys
from pathlib import Path

for _folder in ("ui", "vault"):
    _path = str(Path(__file__).resolve().parents[1] / _folder)
    if _path not in sys.path:
        sys.path.append(_path)
