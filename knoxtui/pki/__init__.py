"""The PKI core: bytes in, frozen results out (cryptography only; no I/O, no UI).

See /work/notes/PKI_API.md for the contract; `load_bundle` is the entry point.
"""

from knoxtui.pki.bundle import CertificateBundle, load_bundle
from knoxtui.pki.certificate import CertificateInfo, Psd2Info, describe_certificate
from knoxtui.pki.expiry import ExpiryStatus, ExpiryThresholds, days_remaining, expiry_status
from knoxtui.pki.finding import ERROR_CODES, WARNING_CODES, Finding, PkiError, Severity
from knoxtui.pki.key import clear_key_cache, load_private_key, public_key_description

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
