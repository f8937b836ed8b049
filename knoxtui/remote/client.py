"""A small client of the OpenBao / HashiCorp Vault HTTP API: KV v2 (read, write with cas, metadata,
list), the login endpoints (AppRole, TLS certificate) and the PKI engine (sign, revoke).

Plain httpx rather than hvac: httpx is already ours (the route requests), takes the `ssl.SSLContext`
that `knoxtui.net` builds (CA bundle secret, client identity from a memory file), is thread-safe
for bounded concurrency over one connection pool, and we use a dozen endpoints — hvac would add
`requests` and a second TLS stack configured by file paths.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from knoxtui.errors import UsageError
from knoxtui.limits import parse_json
from knoxtui.remote.errors import CasMismatch, RemoteAuthFailed, RemoteError, RemoteUnreachable
from knoxtui.safetext import visible

CONNECT_TIMEOUT_S = 3.0  # offline stays first-class: an absent server answers fast
READ_TIMEOUT_S = 30.0
MAX_CONCURRENCY = 16
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_SERVER_TEXT = 300

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class KvEntry:
    """One KV v2 read: the data of the current version, and that version."""

    data: dict[str, Any]
    version: int


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"'{visible(url or '')}' is not a secrets server URL.",
            hint="Give its address like https://bao.example:8200 (--url, or VAULT_ADDR/BAO_ADDR).",
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError(
            "The secrets server URL must not hold a user, a password, a query or a fragment.",
            hint="Give only scheme, host, port (and path prefix); credentials go to --token-file "
            "or the auth options.",
        )
    return url.rstrip("/")


def check_path_part(text: str, what: str) -> str:
    """Mounts and prefixes: segments of letters, digits, '_', '-', '.', never '..' or empty."""
    parts = text.strip("/").split("/") if text else []
    if not parts or any(
        not p or p in (".", "..") or not all(c.isalnum() or c in "_-." for c in p) for p in parts
    ):
        raise UsageError(
            f"'{visible(text)}' is not a usable {what}.",
            hint=f"A {what} is one or more names of letters, digits, '_', '-' and '.', "
            "separated by '/'.",
        )
    return "/".join(parts)


class BaoClient:
    """One server, one token, one connection pool (thread-safe; callers bound the concurrency
    with `bounded_map`). The token lives only in this object's headers; `repr` and every error
    leave it out."""

    def __init__(
        self,
        url: str,
        *,
        label: str,
        namespace: str | None = None,
        context: ssl.SSLContext | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        timeout: float = READ_TIMEOUT_S,
    ) -> None:
        self.url = check_url(url)
        self.label = label
        headers = {"X-Vault-Request": "true"}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        from knoxtui.net.proxy import transport_for

        # The routes' rule for proxies: HTTPS_PROXY / ALL_PROXY / NO_PROXY as curl reads them.
        transport, self.proxy = transport_for(
            self.url, None, ssl_context=context if context is not None else True
        )
        self._http = httpx.Client(
            base_url=self.url + "/v1/",
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            trust_env=False,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"BaoClient(label={self.label!r}, url={self.url!r})"

    def __enter__(self) -> BaoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def set_token(self, token: str | None) -> None:
        if token:
            self._http.headers["X-Vault-Token"] = token
        else:
            self._http.headers.pop("X-Vault-Token", None)

    @property
    def has_token(self) -> bool:
        return "X-Vault-Token" in self._http.headers

    # ------------------------------------------------------------------ transport

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The JSON answer; None for 404 (and 204). Raises the errors of this package."""
        try:
            response = self._http.request(method, path, json=body)
        except httpx.TimeoutException as exc:
            phase = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting"
            raise RemoteUnreachable(
                f"The remote '{self.label}' ({self.url}) did not answer (timeout while {phase}).",
                hint="Check the address and the network; local commands work without it.",
            ) from None
        except httpx.ConnectError as exc:
            raise self._connect_error(exc) from None
        except httpx.TransportError as exc:
            raise RemoteUnreachable(
                f"The connection to remote '{self.label}' ({self.url}) failed "
                f"({type(exc).__name__}).",
                hint="Check the address and the network; local commands work without it.",
            ) from None
        status = response.status_code
        if status in (204,) or (status == 404 and not _errors(response)):
            return None
        if status == 404:
            return None
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise RemoteError(f"The remote '{self.label}' sent an answer larger than 16 MiB.")
        if status >= 400:
            raise self._http_error(method, path, response)
        try:
            answer = parse_json(response.content)  # depth-limited (RecursionError is no ValueError)
        except ValueError:
            raise RemoteError(
                f"The remote '{self.label}' answered {method} {path} with something that is not "
                "JSON; is the URL that of an OpenBao / Vault server?"
            ) from None
        if not isinstance(answer, dict):
            raise RemoteError(f"The remote '{self.label}' answered {path} with an unknown shape.")
        return answer

    def _connect_error(self, exc: httpx.ConnectError) -> RemoteUnreachable:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ssl.SSLError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RemoteUnreachable(
                f"The TLS certificate of remote '{self.label}' ({self.url}) is not trusted "
                f"({visible(cause.verify_message or 'verification failed')}).",
                hint="Store the server's CA as a string secret and name it with "
                "--ca-bundle-secret, or trust it system-wide.",
                code="server_cert_untrusted",
            )
        if isinstance(cause, ssl.SSLError):
            return RemoteUnreachable(
                f"The TLS handshake with remote '{self.label}' ({self.url}) failed "
                f"({visible(cause.reason or 'TLS error')}).",
                hint="Check the URL's scheme and port, and the certificate auth settings.",
                code="tls_error",
            )
        reason = str(exc).lower()
        what = "connection refused" if "refused" in reason else "cannot connect"
        if "name or service" in reason or "nodename" in reason or "getaddrinfo" in reason:
            what = "the host name does not resolve"
        return RemoteUnreachable(
            f"The remote '{self.label}' ({self.url}) is unreachable ({what}).",
            hint="Local commands work without it; try again when the server is up.",
        )

    def _http_error(self, method: str, path: str, response: httpx.Response) -> Exception:
        text = "; ".join(_errors(response)) or response.reason_phrase
        said = visible(text[:_SERVER_TEXT])
        status = response.status_code
        if status == 400 and "check-and-set" in text:
            return CasMismatch(f"{path}: newer version upstream ({said})")
        if status in (401, 403):
            return RemoteAuthFailed(
                f"The remote '{self.label}' refused {method} {path}: {said} (HTTP {status}).",
                hint="Check the credentials of the remote (knoxtui remote add NAME ... again) and "
                "the policy of its token.",
            )
        if status == 503:
            return RemoteUnreachable(
                f"The remote '{self.label}' is not serving ({said}; HTTP 503, sealed or standby).",
                hint="Unseal it or wait for the cluster; local commands work without it.",
            )
        return RemoteError(
            f"The remote '{self.label}' refused {method} {path}: {said} (HTTP {status})."
        )

    # ------------------------------------------------------------------ KV v2

    @staticmethod
    def _kv(mount: str, kind: str, path: str) -> str:
        return f"{mount}/{kind}/{quote(path, safe='/')}"

    def kv_read(self, mount: str, path: str) -> KvEntry | None:
        """The current version; None when there is none (absent, or its latest version deleted)."""
        answer = self.request("GET", self._kv(mount, "data", path))
        if answer is None:
            return None
        body = answer.get("data") or {}
        data = body.get("data")
        meta = body.get("metadata") or {}
        if data is None or meta.get("deletion_time") or meta.get("destroyed"):
            return None
        if not isinstance(data, dict):
            raise RemoteError(f"The remote '{self.label}' holds a non-object at {path}.")
        return KvEntry(data=data, version=int(meta.get("version") or 0))

    def kv_write(self, mount: str, path: str, data: dict[str, Any], *, cas: int) -> int:
        """Write with check-and-set `cas` (0: only if absent). The new version."""
        answer = self.request(
            "POST", self._kv(mount, "data", path), {"options": {"cas": cas}, "data": data}
        )
        return int(((answer or {}).get("data") or {}).get("version") or 0)

    def kv_metadata(self, mount: str, path: str) -> dict[str, Any] | None:
        answer = self.request("GET", self._kv(mount, "metadata", path))
        return None if answer is None else dict(answer.get("data") or {})

    def kv_current_version(self, mount: str, path: str) -> int | None:
        """The live current version, None when absent or its latest version is deleted."""
        meta = self.kv_metadata(mount, path)
        return None if meta is None else _live_version(meta)

    def kv_list(self, mount: str, folder: str) -> list[str]:
        answer = self.request("LIST", self._kv(mount, "metadata", folder.rstrip("/") + "/"))
        keys = ((answer or {}).get("data") or {}).get("keys") or []
        return sorted(k for k in keys if isinstance(k, str) and not k.endswith("/"))

    def kv_versions(self, mount: str, folder: str) -> dict[str, int]:
        """Name -> live current version of every item in `folder`: one request on OpenBao
        (detailed-metadata); on HashiCorp Vault a list, then the metadata of each, concurrently."""
        base = folder.rstrip("/") + "/"
        try:
            answer = self.request("LIST", self._kv(mount, "detailed-metadata", base))
        except (RemoteError, RemoteAuthFailed):
            # HashiCorp Vault has no such endpoint (404/405); a policy may not grant it (403).
            answer = None
        if answer is not None:
            data = answer.get("data") or {}
            info = data.get("key_info") or {}
            out = {}
            for key in data.get("keys") or []:
                if isinstance(key, str) and not key.endswith("/"):
                    version = _live_version(info.get(key) or {})
                    if version is not None:
                        out[key] = version
            return out
        names = self.kv_list(mount, folder)
        versions = bounded_map(lambda n: self.kv_current_version(mount, base + n), names)
        return {n: v for n, v in zip(names, versions, strict=True) if v is not None}

    # ------------------------------------------------------------------ auth

    def login(self, mount: str, body: dict[str, Any]) -> str:
        """POST auth/<mount>/login; the client token (kept only in memory)."""
        try:
            answer = self.request("POST", f"auth/{mount}/login", body)
        except RemoteError as exc:
            raise RemoteAuthFailed(
                f"Login to remote '{self.label}' with auth/{mount} failed: {exc.message}",
                hint="Check the role and credentials stored for this remote.",
            ) from None
        token = ((answer or {}).get("auth") or {}).get("client_token")
        if not isinstance(token, str) or not token:
            raise RemoteAuthFailed(
                f"Login to remote '{self.label}' with auth/{mount} gave no token."
            )
        return token

    def lookup_self(self) -> dict[str, Any]:
        answer = self.request("GET", "auth/token/lookup-self")
        return dict((answer or {}).get("data") or {})

    # ------------------------------------------------------------------ PKI

    def pki_sign(self, mount: str, role: str, csr_pem: str, ttl: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"csr": csr_pem, "format": "pem"}
        if ttl:
            body["ttl"] = ttl
        answer = self.request("POST", f"{mount}/sign/{quote(role, safe='')}", body)
        if answer is None:
            raise RemoteError(
                f"The remote '{self.label}' has no PKI role '{visible(role)}' at {mount}/.",
                hint="Check --role and the PKI mount of the remote.",
            )
        return dict(answer.get("data") or {})

    def pki_revoke(self, mount: str, serial: str) -> dict[str, Any]:
        answer = self.request("POST", f"{mount}/revoke", {"serial_number": serial})
        return dict((answer or {}).get("data") or {})


def _errors(response: httpx.Response) -> list[str]:
    try:
        body = parse_json(response.content)
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [str(e) for e in errors] if isinstance(errors, list) else []


def _live_version(meta: dict[str, Any]) -> int | None:
    current = int(meta.get("current_version") or 0)
    if not current:
        return None
    entry = (meta.get("versions") or {}).get(str(current)) or {}
    if entry.get("deletion_time") or entry.get("destroyed"):
        return None
    return current


def bounded_map(
    fn: Callable[[_T], _R], items: Iterable[_T], workers: int = MAX_CONCURRENCY
) -> list[_R]:
    """fn over items with at most `workers` at once, results in order; the first error raises
    after the running calls finish (nothing is left running)."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        return list(pool.map(fn, todo))


def chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
