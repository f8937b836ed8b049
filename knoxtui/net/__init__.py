"""The network layer: TLS contexts, the request through httpx, the handshake report and the
diagnosis. It receives decrypted material in memory and never imports the vault or the UI."""

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
