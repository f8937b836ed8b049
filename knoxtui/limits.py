"""Limits every input shares (issue 11 item 5). Leaf module: standard library only.

JSON from a file, a paste or a server is parsed with a depth limit: deeply nested JSON made
Python's parser raise RecursionError (an "internal error", or a crashed console)."""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 32


def parse_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with a depth limit: nesting past `max_depth` (or deep enough to exhaust
    Python's recursion) is a JSONDecodeError like any other bad JSON."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    too_deep = json.JSONDecodeError(f"nested deeper than {max_depth} levels", text, 0)
    try:
        data = json.loads(text)
    except RecursionError:
        raise too_deep from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise too_deep
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return data
