"""From a diagnosis to the route field that fixes it, with a suggested value when the run shows
one (issue 15 item 13): the tester's ctrl+f opens the route editor there, filled in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CLIENT_CERT_CODES = frozenset(
    {
        "client_cert_rejected_unknown_ca",
        "client_cert_required",
        "client_cert_expired",
        "client_cert_rejected",
    }
)
PROXY_CODES = frozenset(
    {"proxy_unreachable", "proxy_auth_required", "proxy_refused", "tls_intercepted"}
)


@dataclass(frozen=True)
class RouteFix:
    field: str  # the route key whose form field gets the focus
    value: Any  # the suggested value (None: the field is opened, nothing filled in)
    reason: str  # one line: why this value

    @property
    def sentence(self) -> str:
        if self.value is None:
            return f"ctrl+f opens the route editor on {self.field}"
        return f"ctrl+f opens the route editor with {self.field} = {self.value!s} ({self.reason})"


def _dns_names(san: Iterable[str]) -> list[str]:
    return [entry[4:] for entry in san if entry.startswith("DNS:") and "*" not in entry]


def _trusting_bundles(secrets: Iterable[Any], issuers: Sequence[str]) -> list[str]:
    """String secrets whose CA-bundle certificates include one of `issuers` (by subject)."""
    wanted = set(issuers)
    found = []
    for secret in secrets:
        if getattr(secret, "secret_type", None) != "string":
            continue
        for value in getattr(secret, "values", ()):
            bundle = getattr(value, "ca_bundle", None)
            if bundle is not None and wanted & set(bundle.subjects):
                found.append(secret.name)
                break
    return found


def suggest_fix(
    result: Any, config: dict[str, Any], *, secrets: Iterable[Any] = (), fits: Iterable[Any] = ()
) -> RouteFix | None:
    """The route field a diagnosis names, and a value the run supports; None when the fix is
    not in the route (a wrong key passphrase is fixed in the secret, a server problem there)."""
    code = getattr(result.diagnosis, "code", "")
    report = result.report
    chain = list(getattr(report, "server_chain", ()) or ())
    if code == "hostname_mismatch":
        names = _dns_names(chain[0].san) if chain else []
        if names:
            return RouteFix("tls_servername", names[0], "a name the server's certificate holds")
        return RouteFix("tls_servername", None, "")
    if code in ("server_cert_untrusted", "ca_bundle_unusable"):
        issuers = [c.issuer for c in chain] + [c.subject for c in chain[1:]]
        bundles = [
            name
            for name in _trusting_bundles(secrets, issuers)
            if name != config.get("ca_bundle_secret_id")
        ]
        if bundles:
            return RouteFix(
                "ca_bundle_secret_id", bundles[0], "a stored CA bundle holding the server's CA"
            )
        return RouteFix("ca_bundle_secret_id", None, "")
    if code == "protocol_mismatch":
        version = getattr(report, "server_tls_version", None) or ""
        number = version.replace("TLSv", "").strip()
        if number in ("1.2", "1.3"):
            low = config.get("tls_min_version")
            key = "tls_min_version" if low and low > number else "tls_max_version"
            return RouteFix(key, number, f"the server speaks TLS {number}")
        return RouteFix("tls_min_version", None, "")
    if code in CLIENT_CERT_CODES:
        current = config.get("certificate_secret_id")
        usable = [
            fit.secret for fit in fits if fit.secret != current and getattr(fit, "usable", True)
        ]
        if usable:
            return RouteFix(
                "certificate_secret_id", usable[0], "a stored certificate the server accepts"
            )
        return RouteFix("certificate_secret_id", None, "")
    if code in PROXY_CODES:
        if code == "tls_intercepted":
            return RouteFix("proxy", "none", "mTLS cannot pass an inspecting proxy: go direct")
        return RouteFix("proxy", None, "")
    return None
