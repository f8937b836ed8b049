"""The PKI core: bytes in, frozen results out (cryptography only; no I/O, no UI).

See /work/notes/PKI_API.md for the contract; `load_bundle` is the entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knoxtui.lazy import exports

if TYPE_CHECKING:
    from knoxtui.pki.bundle import CertificateBundle, load_bundle
    from knoxtui.pki.certificate import CertificateInfo, Psd2Info, describe_certificate
    from knoxtui.pki.expiry import ExpiryStatus, ExpiryThresholds, days_remaining, expiry_status
    from knoxtui.pki.finding import ERROR_CODES, WARNING_CODES, Finding, PkiError, Severity
    from knoxtui.pki.key import clear_key_cache, load_private_key, public_key_description

# Submodules load on first use (PEP 562): a command imports only what it touches, so
# `knoxtui secret list` never pays for what it does not use. The names stay typed for mypy.
_EXPORTS = {
    "CertificateBundle": "knoxtui.pki.bundle",
    "load_bundle": "knoxtui.pki.bundle",
    "CertificateInfo": "knoxtui.pki.certificate",
    "Psd2Info": "knoxtui.pki.certificate",
    "describe_certificate": "knoxtui.pki.certificate",
    "ExpiryStatus": "knoxtui.pki.expiry",
    "ExpiryThresholds": "knoxtui.pki.expiry",
    "days_remaining": "knoxtui.pki.expiry",
    "expiry_status": "knoxtui.pki.expiry",
    "ERROR_CODES": "knoxtui.pki.finding",
    "WARNING_CODES": "knoxtui.pki.finding",
    "Finding": "knoxtui.pki.finding",
    "PkiError": "knoxtui.pki.finding",
    "Severity": "knoxtui.pki.finding",
    "clear_key_cache": "knoxtui.pki.key",
    "load_private_key": "knoxtui.pki.key",
    "public_key_description": "knoxtui.pki.key",
}


__getattr__ = exports(__name__, _EXPORTS, globals())


__all__ = [
    "ERROR_CODES",
    "WARNING_CODES",
    "CertificateBundle",
    "CertificateInfo",
    "ExpiryStatus",
    "ExpiryThresholds",
    "Finding",
    "PkiError",
    "Psd2Info",
    "Severity",
    "clear_key_cache",
    "days_remaining",
    "describe_certificate",
    "expiry_status",
    "load_bundle",
    "load_private_key",
    "public_key_description",
]
