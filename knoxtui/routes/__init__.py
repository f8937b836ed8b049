"""Routes: the typed route model, `{{secret:NAME}}` templates, and resolution for an environment
into a request plan (DESIGN.md §2). The vault is reached only through a resolver callable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from knoxtui.lazy import exports

if TYPE_CHECKING:
    from knoxtui.routes.resolution import Resolver, plan_request, prepare, run_route
    from knoxtui.routes.route import METHODS, TLS_VERSIONS, Route
    from knoxtui.routes.template import has_references, substitute

# Submodules load on first use (PEP 562): a command imports only what it touches, so
# `knoxtui secret list` never pays for what it does not use. The names stay typed for mypy.
_EXPORTS = {
    "Resolver": "knoxtui.routes.resolution",
    "plan_request": "knoxtui.routes.resolution",
    "prepare": "knoxtui.routes.resolution",
    "run_route": "knoxtui.routes.resolution",
    "METHODS": "knoxtui.routes.route",
    "TLS_VERSIONS": "knoxtui.routes.route",
    "Route": "knoxtui.routes.route",
    "has_references": "knoxtui.routes.template",
    "substitute": "knoxtui.routes.template",
}


__getattr__ = exports(__name__, _EXPORTS, globals())


__all__ = [
    "METHODS",
    "TLS_VERSIONS",
    "Resolver",
    "Route",
    "has_references",
    "plan_request",
    "prepare",
    "run_route",
    "substitute",
]
