"""Errors of the net layer raised before any connection: the client key cannot be used."""

from __future__ import annotations

from knoxtui.errors import KnoxError


class KeyPassphraseWrong(KnoxError):
    """The stored key passphrase does not decrypt the certificate's private key."""

    code = "key_passphrase_wrong"
    exit_code = 1


class ClientKeyUnusable(KnoxError):
    """The client key is missing, unreadable or does not match the certificate."""

    code = "client_key_unusable"
    exit_code = 1
