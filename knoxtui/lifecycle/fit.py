"""Which stored certificate fits a server, from the CA names of its handshake report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from knoxtui.pki.fit import CertificateFit, fitting_certificates

if TYPE_CHECKING:
    from knoxtui.vault import Vault


def fitting_stored_certificates(
    vault: Vault, acceptable_cas: Sequence[str], *, include_retiring: bool = False
) -> list[CertificateFit]:
    """Stored certificate values whose issuer or chain names one of `acceptable_cas`
    (HandshakeReport.acceptable_client_cas); direct issuer matches first. Metadata only.
    Values that cannot authenticate a client (no private key, an EKU without clientAuth) are
    left out: a server that checks would refuse them whatever their issuer."""
    candidates = [
        (secret.name, value.environment, value.certificate)
        for secret in vault.list_secrets()
        if secret.secret_type == "certificate" and (include_retiring or secret.status != "retiring")
        for value in secret.values
        if value.certificate is not None
        and value.certificate.has_private_key
        and value.certificate.client_auth_eku
    ]
    return fitting_certificates(acceptable_cas, candidates)
