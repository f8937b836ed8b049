"""The lab: a local mTLS server on 127.0.0.1 with its own throwaway CA. It writes a client
certificate bundle for the user, answers JSON with the client certificate it saw, and can be told to
behave as each failure the diagnosis names."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import hashes

from knoxtui import clock, paths
from knoxtui.errors import UsageError
from knoxtui.lab.authority import Authority, IssuedCertificate

BEHAVIOURS: dict[str, str] = {
    "ok": "requires a client certificate from the lab CA and answers with what it saw",
    "optional": "asks for a client certificate but also serves requests without one",
    "wrong_client_ca": "trusts (and names) only another CA: our client certificate is unknown_ca",
    "no_client_auth": "never asks for a client certificate",
    "expired_server": "presents an expired server certificate",
    "hostname_mismatch": "presents a certificate for other.knoxtui.test only",
    "untrusted_server": "presents a server certificate from a CA the bundle does not hold",
    "tls13_only": "speaks TLS 1.3 only",
    "tls12_only": "speaks TLS 1.2 only",
    "plain_http": "speaks plain HTTP on the port",
    "nginx_required": "nginx 'ssl_verify_client on': finishes the handshake, answers 400 pages",
    "nginx_optional": "nginx 'ssl_verify_client optional': 400 only for a bad certificate",
    "oauth2": "POST /oauth/token needs the client certificate; other paths need the Bearer token",
    "slow": "answers after a delay (for timeout practice)",
}

CLIENT_ID = "lab-client"
CLIENT_SECRET_FILE = "client-secret.txt"
SERVER_NAME = "lab.knoxtui.test"
NGINX_400 = (
    "<html>\r\n<head><title>400 {title}</title></head>\r\n<body>\r\n"
    "<center><h1>400 Bad Request</h1></center>\r\n<center>{title}</center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class LabFiles:
    """What the lab wrote for the user (test material, throwaway CA)."""

    ca_bundle: Path  # the server CA: use as the route's CA bundle
    client_cert: Path  # client certificate chain (PEM)
    client_key: Path  # its private key (PEM, unencrypted, 0600)
    expired_client_cert: Path
    expired_client_key: Path
    other_ca_client_cert: Path
    other_ca_client_key: Path
    client_secret: Path  # the OAuth2 client secret of the "oauth2" behaviour


class LabServer:
    """`with LabServer(ca_dir, behaviour="ok") as lab: ... lab.url ...`"""

    def __init__(
        self,
        ca_dir: Path | str,
        port: int = 0,
        behaviour: str = "ok",
        *,
        slow_seconds: float = 5.0,
        token_lifetime: int = 3600,
    ) -> None:
        if behaviour not in BEHAVIOURS:
            raise UsageError(
                f"Unknown lab behaviour '{behaviour}'.",
                hint="Choose one of: " + ", ".join(BEHAVIOURS),
            )
        self.behaviour = behaviour
        self.slow_seconds = slow_seconds
        self.token_lifetime = token_lifetime
        self.ca_dir = Path(ca_dir)
        self.server_ca = Authority("knoxtui lab server CA")
        self.client_ca = Authority("knoxtui lab client CA")
        self.other_ca = Authority("knoxtui lab other CA")
        now = clock.now()
        self.client = self.client_ca.issue("lab-user", client=True)
        self.expired_client = self.client_ca.issue(
            "lab-user-expired",
            client=True,
            not_before=now - timedelta(days=60),
            not_after=now - timedelta(days=1),
        )
        self.other_client = self.other_ca.issue("lab-user-other-ca", client=True)
        self.client_secret = secrets.token_urlsafe(24)
        self.tokens: set[str] = set()
        self.token_requests = 0
        self._lock = threading.Lock()
        self.files = self._write_files()
        self._server = self._build_server(port)

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """Always https://: with "plain_http" that is the misconfiguration to practise on."""
        return f"https://{self._server.host}:{self._server.port}"

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/token"

    def start(self) -> LabServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- set-up ------------------------------------------------------------------------------

    def _write_files(self) -> LabFiles:
        paths.ensure_private_dir(self.ca_dir)  # its client key is a real key: 0700
        files = LabFiles(
            ca_bundle=self.ca_dir / "lab-ca.pem",
            client_cert=self.ca_dir / "client.pem",
            client_key=self.ca_dir / "client.key",
            expired_client_cert=self.ca_dir / "client-expired.pem",
            expired_client_key=self.ca_dir / "client-expired.key",
            other_ca_client_cert=self.ca_dir / "client-other-ca.pem",
            other_ca_client_key=self.ca_dir / "client-other-ca.key",
            client_secret=self.ca_dir / CLIENT_SECRET_FILE,
        )
        _write(files.ca_bundle, self.server_ca.cert_pem)
        for cert_path, key_path, issued in (
            (files.client_cert, files.client_key, self.client),
            (files.expired_client_cert, files.expired_client_key, self.expired_client),
            (files.other_ca_client_cert, files.other_ca_client_key, self.other_client),
        ):
            _write(cert_path, issued.chain_pem)
            _write(key_path, issued.key_pem(), private=True)
        _write(files.client_secret, self.client_secret.encode() + b"\n", private=True)
        readme = self.ca_dir / "README.txt"
        _write(
            readme,
            b"knoxtui lab material: a throwaway CA made for practice. Not for real use.\n",
        )
        return files

    def _server_certificate(self) -> IssuedCertificate:
        b = self.behaviour
        now = clock.now()
        if b == "expired_server":
            return self.server_ca.issue(
                SERVER_NAME,
                dns_names=(SERVER_NAME, "localhost"),
                ip_addresses=("127.0.0.1",),
                not_before=now - timedelta(days=400),
                not_after=now - timedelta(days=2),
            )
        if b == "hostname_mismatch":
            return self.server_ca.issue("other.knoxtui.test", dns_names=("other.knoxtui.test",))
        if b == "untrusted_server":
            rogue = Authority("knoxtui lab unknown server CA")
            return rogue.issue(
                SERVER_NAME, dns_names=(SERVER_NAME, "localhost"), ip_addresses=("127.0.0.1",)
            )
        return self.server_ca.issue(
            SERVER_NAME, dns_names=(SERVER_NAME, "localhost"), ip_addresses=("127.0.0.1",)
        )

    def _build_server(self, port: int) -> Any:
        from knoxtui.net.tls_server import TlsServer

        b = self.behaviour
        if b == "plain_http":
            return TlsServer(self._handle, cert_chain_pem=None, key_pem=None, plain=True, port=port)
        server_cert = self._server_certificate()
        trusted = (
            (self.other_ca.cert_pem,) if b == "wrong_client_ca" else (self.client_ca.cert_pem,)
        )
        verify = {
            "optional": "optional",
            "no_client_auth": "none",
            "nginx_required": "inspect",
            "nginx_optional": "inspect",
            "oauth2": "inspect",
        }.get(b, "required")
        return TlsServer(
            self._handle,
            cert_chain_pem=server_cert.chain_pem,
            key_pem=server_cert.key_pem(),
            trusted_client_cas_pem=trusted,
            verify=verify,
            min_version="1.3" if b == "tls13_only" else None,
            max_version="1.2" if b == "tls12_only" else None,
            port=port,
        )

    # --- answers -----------------------------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        from knoxtui.net.tls_server import ServerResponse

        b = self.behaviour
        if b in ("nginx_required", "nginx_optional", "oauth2"):
            if request.peer_certificate is not None and request.peer_verify_error is not None:
                return _nginx_page(ServerResponse, "The SSL certificate error")
            if request.peer_certificate is None and b == "nginx_required":
                return _nginx_page(ServerResponse, "No required SSL certificate was sent")
        if b == "oauth2":
            return self._oauth2(request, ServerResponse)
        answer = self._seen(request)
        return ServerResponse(
            200,
            json.dumps(answer).encode(),
            delay=self.slow_seconds if b == "slow" else 0.0,
        )

    def _seen(self, request: Any) -> dict[str, Any]:
        cert = request.peer_certificate
        seen = None
        if cert is not None:
            seen = {
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "serial": format(cert.serial_number, "X"),
                "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            }
        return {
            "lab": "knoxtui",
            "behaviour": self.behaviour,
            "method": request.method,
            "path": request.path,
            "servername": request.servername,
            "tls_version": request.tls_version,
            "client_certificate": seen,
            "body_size": len(request.body),
        }

    def _oauth2(self, request: Any, response_type: Any) -> Any:
        def error(status: int, code: str, text: str) -> Any:
            payload = {"error": code, "error_description": text}
            return response_type(status, json.dumps(payload).encode())

        if request.path.split("?")[0] == "/oauth/token":
            if request.method != "POST":
                return error(405, "invalid_request", "use POST")
            if request.peer_certificate is None:
                return error(
                    401, "invalid_client", "the token endpoint requires a client certificate"
                )
            form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
            if form.get("grant_type") != "client_credentials":
                return error(400, "unsupported_grant_type", "only client_credentials")
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("basic "):
                try:
                    pair = base64.b64decode(auth[6:]).decode()
                except (ValueError, UnicodeDecodeError):
                    return error(401, "invalid_client", "malformed basic credentials")
                user, _, password = pair.partition(":")
                client_id, secret = unquote(user), unquote(password)
            if client_id != CLIENT_ID:
                return error(401, "invalid_client", "unknown client_id")
            # tls_client_auth (RFC 8705): the certificate stands in for the secret.
            if secret is not None and not secrets.compare_digest(secret, self.client_secret):
                return error(401, "invalid_client", "client authentication failed")
            token = secrets.token_urlsafe(32)
            with self._lock:
                self.tokens.add(token)
                self.token_requests += 1
            payload = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": form.get("scope", "accounts"),
            }
            return response_type(200, json.dumps(payload).encode())
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            known = token in self.tokens
        if not known:
            return error(401, "invalid_token", "a Bearer token from /oauth/token is required")
        return response_type(200, json.dumps(self._seen(request)).encode())


def _nginx_page(response_type: Any, title: str) -> Any:
    return response_type(
        400, NGINX_400.format(title=title).encode(), content_type="text/html", reason="Bad Request"
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Written beside the target and renamed over it: a symlink planted at `path` is replaced,
    never followed (O_NOFOLLOW on the scratch file, whose name nobody can guess)."""
    mode = 0o600 if private else 0o644
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(scratch, flags, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
