"""The network layer: TLS contexts, the request through httpx, the handshake report and the
diagnosis. It receives decrypted material in memory and never imports the vault or the UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from knoxtui.lazy import exports

if TYPE_CHECKING:
    from knoxtui.net.context import build_context, clear_cache
    from knoxtui.net.diagnosis import CODES, SIDES, Diagnosis
    from knoxtui.net.errors import ClientKeyUnusable, KeyPassphraseWrong
    from knoxtui.net.handshake import Alert, HandshakeReport
    from knoxtui.net.identity import load_identity
    from knoxtui.net.oauth2 import AUTH_METHODS, OAuth2Step
    from knoxtui.net.plan import ClientIdentity, OAuth2Plan, RequestPlan
    from knoxtui.net.reproduce import reproduction_commands
    from knoxtui.net.request import (
        UNVERIFIED_WARNING,
        RequestResult,
        Timings,
        execute,
        failed_before_connecting,
        forget_secrets,
    )

# Submodules load on first use (PEP 562): a command imports only what it touches, so
# `knoxtui secret list` never pays for what it does not use. The names stay typed for mypy.
_EXPORTS = {
    "build_context": "knoxtui.net.context",
    "clear_cache": "knoxtui.net.context",
    "CODES": "knoxtui.net.diagnosis",
    "SIDES": "knoxtui.net.diagnosis",
    "Diagnosis": "knoxtui.net.diagnosis",
    "ClientKeyUnusable": "knoxtui.net.errors",
    "KeyPassphraseWrong": "knoxtui.net.errors",
    "Alert": "knoxtui.net.handshake",
    "HandshakeReport": "knoxtui.net.handshake",
    "load_identity": "knoxtui.net.identity",
    "AUTH_METHODS": "knoxtui.net.oauth2",
    "OAuth2Step": "knoxtui.net.oauth2",
    "ClientIdentity": "knoxtui.net.plan",
    "OAuth2Plan": "knoxtui.net.plan",
    "RequestPlan": "knoxtui.net.plan",
    "reproduction_commands": "knoxtui.net.reproduce",
    "UNVERIFIED_WARNING": "knoxtui.net.request",
    "RequestResult": "knoxtui.net.request",
    "Timings": "knoxtui.net.request",
    "execute": "knoxtui.net.request",
    "failed_before_connecting": "knoxtui.net.request",
    "forget_secrets": "knoxtui.net.request",
}


__getattr__ = exports(__name__, _EXPORTS, globals())


__all__ = [
    "AUTH_METHODS",
    "CODES",
    "SIDES",
    "UNVERIFIED_WARNING",
    "Alert",
    "ClientIdentity",
    "ClientKeyUnusable",
    "Diagnosis",
    "HandshakeReport",
    "KeyPassphraseWrong",
    "OAuth2Plan",
    "OAuth2Step",
    "RequestPlan",
    "RequestResult",
    "Timings",
    "build_context",
    "clear_cache",
    "execute",
    "failed_before_connecting",
    "forget_secrets",
    "load_identity",
    "reproduction_commands",
]
