"""The hardening tests share the UI tests' helpers (tests/ui/ui_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_UI = str(Path(__file__).resolve().parents[1] / "ui")
if _UI not in sys.path:
    sys.path.append(_UI)
