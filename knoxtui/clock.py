"""The injectable clock. Everything that asks "what time is it" asks here, so tests and snapshots
can freeze time (`frozen(...)`, or KNOXTUI_NOW=2026-01-01T00:00:00Z for a whole process)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_override: Callable[[], datetime] | None = None


def _parse(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _override is not None:
        return _override()
    env = os.environ.get("KNOXTUI_NOW")
    if env:
        return _parse(env)
    return datetime.now(UTC)


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Install a clock (None restores the real one)."""
    global _override
    _override = source


@contextmanager
def frozen(moment: datetime | str) -> Iterator[datetime]:
    """Freeze `now()` at one moment for the duration of a block."""
    fixed = _parse(moment) if isinstance(moment, str) else moment.astimezone(UTC)
    previous = _override
    set_clock(lambda: fixed)
    try:
        yield fixed
    finally:
        set_clock(previous)
