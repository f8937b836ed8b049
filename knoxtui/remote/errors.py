"""Errors of the secrets server. Server text reaches a message only through `safetext.visible`
and never with a token, a secret-id or a value in it."""

from __future__ import annotations

from knoxtui.errors import Conflict, KnoxError, UsageError


class RemoteError(KnoxError):
    """The server answered, but not with what was asked (a bad path, a policy, a bad answer)."""

    code = "remote_error"
    exit_code = 1


class RemoteUnreachable(UsageError):
    """No answer: connection refused, DNS, timeout, TLS to the server, sealed. Exit 2."""

    code = "remote_unreachable"


class RemoteAuthFailed(UsageError):
    """The server refused the credentials (permission denied, login failed). Exit 2."""

    code = "remote_auth_failed"


class CasMismatch(Conflict):
    """A check-and-set write over a version someone else wrote: nothing was written."""

    code = "cas_mismatch"
