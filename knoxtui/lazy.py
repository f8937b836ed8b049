"""Lazy package exports: a package names what it exports and from which module, and the module is
imported on first use, so a command loads only the parts it touches (issue 12). A leaf module."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(
    package: str, table: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: `table` maps each exported name to the module
    that defines it; a name once loaded is kept in the package's `namespace`."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
