"""Which stored certificate fits a server: given the CA names it accepts for client certificates
(the `certificate_authorities` of its CertificateRequest, in the handshake report), the stored
certificates whose issuer or chain leads to one of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from knoxtui.pki.names import canonical_name


class ChainNames(Protocol):
    """What is needed of a certificate's metadata (the vault's CertificateMetadata has it)."""

    @property
    def issuer(self) -> str: ...

    @property
    def chain_issuers(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class CertificateFit:
    secret: str
    environment: str
    matched_ca: str  # the acceptable CA name as the server sent it
    direct: bool  # True when the leaf's own issuer is the accepted CA (no intermediate between)


def fitting_certificates(
    acceptable_cas: Sequence[str],
    candidates: Iterable[tuple[str, str, ChainNames]],
) -> list[CertificateFit]:
    """Candidates are (secret name, environment, metadata). A server that names no CA accepts any
    client certificate, so then every candidate fits. Direct issuer matches sort first."""
    wanted = {canonical_name(ca): ca for ca in acceptable_cas}
    fits: list[CertificateFit] = []
    for secret, environment, metadata in candidates:
        if not wanted:
            fits.append(CertificateFit(secret, environment, "", direct=False))
            continue
        issuer = canonical_name(metadata.issuer)
        if issuer in wanted:
            fits.append(CertificateFit(secret, environment, wanted[issuer], direct=True))
            continue
        for name in metadata.chain_issuers:
            key = canonical_name(name)
            if key in wanted:
                fits.append(CertificateFit(secret, environment, wanted[key], direct=False))
                break
    fits.sort(key=lambda fit: (not fit.direct, fit.secret, fit.environment))
    return fits
