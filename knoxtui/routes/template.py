"""`{{secret:NAME}}` substitution, also inside longer strings ("Bearer {{secret:token}}")."""

from __future__ import annotations

from collections.abc import Callable

from knoxtui import refs


def substitute(text: str, lookup: Callable[[str], str]) -> str:
    """`text` with every reference replaced by `lookup(name)`."""
    return refs.SECRET_REF.sub(lambda match: lookup(match.group(1)), text)


def has_references(text: str) -> bool:
    return refs.SECRET_REF.search(text) is not None
