"""From a stored remote to a logged-in client: TLS by the routes' rules (CA bundle secret, else
system trust; the certificate secret as client identity for `--auth cert`) through
`knoxtui.net`'s context building, and the token from the configured auth method."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from knoxtui.errors import ValidationError
from knoxtui.remote.client import BaoClient
from knoxtui.remote.errors import RemoteAuthFailed
from knoxtui.vault.models import DEFAULT_ENV, CertificateValue

if TYPE_CHECKING:
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteRecord

ADDR_VARIABLES = ("BAO_ADDR", "VAULT_ADDR")
TOKEN_VARIABLES = ("BAO_TOKEN", "VAULT_TOKEN")
NAMESPACE_VARIABLES = ("BAO_NAMESPACE", "VAULT_NAMESPACE")


def env_first(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def default_url() -> str | None:
    """VAULT_ADDR / BAO_ADDR, as the bao and vault CLIs read them."""
    return env_first(ADDR_VARIABLES)


def _ca_bundle(vault: Vault, remote: RemoteRecord) -> bytes | None:
    if not remote.ca_bundle_secret:
        return None
    value = vault.resolve(
        remote.ca_bundle_secret, DEFAULT_ENV, detail=f"CA bundle of remote '{remote.name}'"
    )
    if not isinstance(value, str):
        raise ValidationError(
            f"The CA bundle of remote '{remote.name}' ('{remote.ca_bundle_secret}') must be a "
            "string secret holding PEM certificates.",
            code="wrong_secret_type",
        )
    return value.encode("utf-8")


def _identity(vault: Vault, remote: RemoteRecord):  # type: ignore[no-untyped-def]
    from knoxtui.net import load_identity

    assert remote.cert_secret is not None
    value = vault.resolve(
        remote.cert_secret, DEFAULT_ENV, detail=f"client certificate for remote '{remote.name}'"
    )
    if not isinstance(value, CertificateValue):
        raise ValidationError(
            f"The certificate of remote '{remote.name}' ('{remote.cert_secret}') must be a "
            "certificate secret.",
            code="wrong_secret_type",
        )
    return load_identity(
        value.chain_pem, value.key_pem, value.key_passphrase, secret_name=remote.cert_secret
    )


def connect(vault: Vault, remote: RemoteRecord, *, login: bool = True) -> BaoClient:
    """A client for `remote`, logged in unless `login` is false. The caller closes it."""
    context = None
    if urlsplit(remote.url).scheme == "https":
        from knoxtui.net import build_context

        identity = _identity(vault, remote) if remote.cert_secret else None
        context = build_context(identity=identity, ca_bundle_pem=_ca_bundle(vault, remote))
    client = BaoClient(remote.url, label=remote.name, namespace=remote.namespace, context=context)
    if not login:
        return client
    try:
        client.set_token(_token(vault, remote, client))
    except BaseException:
        client.close()
        raise
    return client


def _token(vault: Vault, remote: RemoteRecord, client: BaoClient) -> str:
    credentials = vault.remotes.credentials(remote.name)
    if remote.auth == "token":
        token = credentials.token or env_first(TOKEN_VARIABLES)
        if not token:
            raise RemoteAuthFailed(
                f"Remote '{remote.name}' uses token auth, but no token is stored and "
                "BAO_TOKEN / VAULT_TOKEN is not set.",
                hint=f"Store one: knoxtui remote add {remote.name} --url {remote.url} "
                "--token-file F --replace (or export VAULT_TOKEN).",
            )
        return token
    if remote.auth == "approle":
        if not credentials.role_id or not credentials.secret_id:
            raise RemoteAuthFailed(
                f"Remote '{remote.name}' uses AppRole, but its role-id or secret-id is missing.",
                hint=f"knoxtui remote add {remote.name} --auth approle --role-id ID "
                "--secret-id-file F --replace",
            )
        return client.login(
            remote.auth_mount or "approle",
            {"role_id": credentials.role_id, "secret_id": credentials.secret_id},
        )
    if not remote.cert_secret:
        raise RemoteAuthFailed(
            f"Remote '{remote.name}' uses certificate auth but names no certificate secret.",
            hint="Give one with --cert-secret SECRET.",
        )
    return client.login(remote.auth_mount or "cert", {})
