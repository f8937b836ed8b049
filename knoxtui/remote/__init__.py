"""Team sync with an OpenBao / HashiCorp Vault server (issue 13): KV v2 for secrets and routes
in the README's upstream layout, the PKI engine for CSRs. Talks to the server over net's TLS
rules and hands validated items to the vault; the vault never imports this package."""

from knoxtui.remote.client import BaoClient, KvEntry
from knoxtui.remote.errors import CasMismatch, RemoteAuthFailed, RemoteError, RemoteUnreachable
from knoxtui.remote.sync import STATES, ItemStatus, Outcome, classify, pull, push, status

__all__ = [
    "STATES",
    "BaoClient",
    "CasMismatch",
    "ItemStatus",
    "KvEntry",
    "Outcome",
    "RemoteAuthFailed",
    "RemoteError",
    "RemoteUnreachable",
    "classify",
    "pull",
    "push",
    "status",
]
