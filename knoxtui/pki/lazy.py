"""`lazy`: a cached attribute for the PKI core's value objects (typed as cached_property)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any


class _Lazy:
    """A cached attribute without functools.cached_property's lock (Python 3.11 takes an RLock
    on every first read): computing twice in a race is harmless here, the values are equal."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.name = function.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


if TYPE_CHECKING:
    lazy = cached_property
else:
    lazy = _Lazy
