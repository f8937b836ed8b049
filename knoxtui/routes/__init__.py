"""Routes: the typed route model, `{{secret:NAME}}` templates, and resolution for an environment
into a request plan (DESIGN.md §2). The vault is reached only through a resolver callable."""

from knoxtui.routes.resolution import Resolver, plan_request, prepare, run_route
from knoxtui.routes.route import METHODS, TLS_VERSIONS, Route
from knoxtui.routes.template import has_references, substitute

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
