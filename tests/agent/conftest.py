from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import Session, session_for


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    for made in session_for(tmp_path):
        # This process looks at the same state folder as the commands it runs.
        monkeypatch.setenv("KNOXTUI_HOME", str(made.home))
        yield made
