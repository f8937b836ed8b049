"""The `{{secret:NAME}}` reference syntax and secret names, shared by vault (to check and track
references) and routes (to substitute them)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

SECRET_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
SECRET_REF = re.compile(r"\{\{\s*secret:([^}\s]*)\s*\}\}")


def is_valid_name(name: str) -> bool:
    return SECRET_NAME.fullmatch(name) is not None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        for item in value:
            yield from _strings(item)


def references(value: Any) -> list[str]:
    """Every secret name referenced anywhere inside `value` (str, dict, list), in order, unique."""
    seen: dict[str, None] = {}
    for text in _strings(value):
        for match in SECRET_REF.finditer(text):
            seen.setdefault(match.group(1), None)
    return list(seen)


def field_name(value: Any) -> Any:
    """The secret name a `*_secret_id` field holds: `NAME` or the KnoxCall guide's
    `{{secret:NAME}}` alike (anything else is returned unchanged, for the caller to refuse)."""
    if isinstance(value, str):
        match = SECRET_REF.fullmatch(value.strip())
        if match is not None:
            return match.group(1)
    return value
