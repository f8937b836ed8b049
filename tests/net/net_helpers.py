"""Real TLS servers and test material for the net tests: certificates made at test time with the
lab's Authority (cryptography), servers on 127.0.0.1 in threads that each test stops itself."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knoxtui.lab import Authority, IssuedCertificate
from knoxtui.net.tls_server import ServerResponse, TlsServer


@dataclass(frozen=True)
class CertValue:
    """The shape of the vault's CertificateValue (the net layer only duck-types it)."""

    chain_pem: bytes
    key_pem: bytes | None = field(repr=False)
    key_passphrase: str | None = field(default=None, repr=False)


class Pki:
    """One set of test material: server CA, client CA, an unrelated CA, and their certificates."""

    def __init__(self) -> None:
        self.server_ca = Authority("Test Server Root CA")
        self.client_root = Authority("Test Bank Client Root")
        self.client_ca = Authority("Test Bank Client Issuing CA", parent=self.client_root)
        self.other_ca = Authority("Unrelated Client CA")
        self.server = self.server_ca.issue(
            "api.bank.test", dns_names=("api.bank.test", "localhost"), ip_addresses=("127.0.0.1",)
        )
        self.client = self.client_ca.issue("tpp-client", client=True)
        self.other_client = self.other_ca.issue("stranger", client=True)

    def value(self, issued: IssuedCertificate, passphrase: str | None = None) -> CertValue:
        key = issued.key_pem(passphrase.encode() if passphrase else None)
        return CertValue(issued.chain_pem, key, passphrase)


def resolver(values: dict[str, Any], environments: dict[str, dict[str, Any]] | None = None):
    """A plain dict resolver: `values` serve every environment; `environments[name][env]` only
    those environments (anything else is EnvironmentMissing, as the vault does)."""
    from knoxtui.errors import EnvironmentMissing, NotFound

    def resolve(name: str, environment: str) -> Any:
        if environments and name in environments:
            by_env = environments[name]
            if environment not in by_env:
                raise EnvironmentMissing(name, environment, list(by_env))
            return by_env[environment]
        if name not in values:
            raise NotFound(f"no secret {name}")
        return values[name]

    return resolve


def ok_handler(request: Any) -> ServerResponse:
    import json

    seen = request.peer_certificate.subject.rfc4514_string() if request.peer_certificate else None
    return ServerResponse(200, json.dumps({"client": seen, "path": request.path}).encode())


@contextmanager
def pyopenssl_server(pki: Pki, **options: Any) -> Iterator[TlsServer]:
    options.setdefault("trusted_client_cas_pem", (pki.client_root.cert_pem, pki.client_ca.cert_pem))
    options.setdefault("advertised_client_cas_pem", (pki.client_root.cert_pem,))
    handler = options.pop("handler", ok_handler)
    issued = options.pop("server_cert", pki.server)
    with TlsServer(
        handler, cert_chain_pem=issued.chain_pem, key_pem=issued.key_pem(), **options
    ) as server:
        yield server


class PythonSslServer:
    """A Python `ssl` server: it sends no CA names in its CertificateRequest (Python cannot)."""

    def __init__(
        self, context: ssl.SSLContext, *, answer: bytes | None = None, silent: bool = False
    ) -> None:
        self.context = context
        self.answer = (
            answer or b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        )
        self.silent = silent
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._conns: list[socket.socket] = []

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            if self.silent:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                data += chunk
            tls.sendall(self.answer)
            tls.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def __enter__(self) -> PythonSslServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self.listener.close()


def python_server_context(
    pki: Pki, *, require: bool = True, version: str | None = None
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_verify_locations(
        cadata=(pki.client_root.cert_pem + pki.client_ca.cert_pem).decode()
    )
    _load_chain(context, pki.server)
    context.verify_mode = ssl.CERT_REQUIRED if require else ssl.CERT_OPTIONAL
    if version:
        tls = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
        context.minimum_version = context.maximum_version = tls
    return context


def _load_chain(context: ssl.SSLContext, issued: IssuedCertificate) -> None:
    import os

    fd_chain, fd_key = os.memfd_create("c"), os.memfd_create("k")
    try:
        os.write(fd_chain, issued.chain_pem)
        os.write(fd_key, issued.key_pem())
        context.load_cert_chain(f"/proc/self/fd/{fd_chain}", f"/proc/self/fd/{fd_key}")
    finally:
        os.close(fd_chain)
        os.close(fd_key)


class RecordingListener:
    """A plain listening socket that counts accepted connections (to prove none was made)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def accepted(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


OPENSSL = shutil.which("openssl")


@contextmanager
def openssl_server(tmp: Path, pki: Pki, *args: str) -> Iterator[int]:
    """`openssl s_server -www` with the given extra arguments; yields its port."""
    assert OPENSSL
    (tmp / "srv.pem").write_bytes(pki.server.chain_pem)
    (tmp / "srv.key").write_bytes(pki.server.key_pem())
    (tmp / "clientca.pem").write_bytes(pki.client_root.cert_pem + pki.client_ca.cert_pem)
    port = free_port()
    proc = subprocess.Popen(
        [
            OPENSSL,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(tmp / "srv.pem"),
            "-key",
            str(tmp / "srv.key"),
            "-CAfile",
            str(tmp / "clientca.pem"),
            "-www",
            "-quiet",
            "-naccept",
            "20",
            *args,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
