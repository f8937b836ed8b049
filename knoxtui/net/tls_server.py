"""A small threaded HTTPS (or plain HTTP) server on pyOpenSSL, for the lab and the tests. Unlike
Python's ssl module it can name its acceptable client CAs in the CertificateRequest and accept any
client certificate to judge it later, as nginx does — the behaviours real bank endpoints show."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

VERIFY_MODES = ("none", "optional", "required", "inspect")
_READ_TIMEOUT = 10


@dataclass
class ServerRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = field(repr=False)
    peer_certificate: x509.Certificate | None
    peer_verify_error: int | None  # X509_V_ERR_* of the client chain, when "inspect" let it pass
    servername: str | None
    tls_version: str | None


@dataclass
class ServerResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    reason: str = ""
    delay: float = 0.0  # seconds to wait before answering (the "slow" behaviour)
    headers: tuple[tuple[str, str], ...] = ()  # more headers, written as given (latin-1)


Handler = Callable[[ServerRequest], ServerResponse]


class TlsServer:
    """Serves on 127.0.0.1 in a thread until `stop()`; one short-lived thread per connection.

    verify: "none" (no CertificateRequest), "optional" (ask, fail bad certs), "required" (ask, fail
    missing or bad certs, like `ssl_verify_client on` in a Python-ssl style server), "inspect" (ask,
    accept anything, let the handler judge: nginx's way)."""

    def __init__(
        self,
        handler: Handler,
        *,
        cert_chain_pem: bytes | None,
        key_pem: bytes | None,
        trusted_client_cas_pem: tuple[bytes, ...] = (),
        advertised_client_cas_pem: tuple[bytes, ...] | None = None,
        verify: str = "required",
        min_version: str | None = None,
        max_version: str | None = None,
        plain: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {VERIFY_MODES}")
        self.handler = handler
        self.plain = plain
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.1)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self._context = (
            None
            if plain
            else self._build_context(
                cert_chain_pem,
                key_pem,
                trusted_client_cas_pem,
                trusted_client_cas_pem
                if advertised_client_cas_pem is None
                else advertised_client_cas_pem,
                verify,
                min_version,
                max_version,
            )
        )
        self._acceptor = threading.Thread(
            target=self._serve, name=f"tls-server-{self.port}", daemon=True
        )

    @staticmethod
    def _build_context(
        chain_pem: bytes | None,
        key_pem: bytes | None,
        trusted: tuple[bytes, ...],
        advertised: tuple[bytes, ...],
        verify: str,
        min_version: str | None,
        max_version: str | None,
    ) -> Any:
        from OpenSSL import SSL, crypto

        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        versions = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
        context.set_min_proto_version(versions.get(min_version or "", SSL.TLS1_2_VERSION))
        context.set_max_proto_version(versions.get(max_version or "", 0))
        if chain_pem is None or key_pem is None:
            raise ValueError("a TLS server needs a certificate and a key")
        certs = x509.load_pem_x509_certificates(chain_pem)
        context.use_certificate(crypto.X509.from_cryptography(certs[0]))
        for extra in certs[1:]:
            context.add_extra_chain_cert(crypto.X509.from_cryptography(extra))
        context.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, key_pem))
        store = context.get_cert_store()
        assert store is not None
        for pem in trusted:
            for cert in x509.load_pem_x509_certificates(pem):
                store.add_cert(crypto.X509.from_cryptography(cert))
        for pem in advertised:
            for cert in x509.load_pem_x509_certificates(pem):
                context.add_client_ca(cert)
        context.set_alpn_select_callback(
            lambda conn, offered: (
                b"http/1.1" if b"http/1.1" in offered else SSL.NO_OVERLAPPING_PROTOCOLS
            )
        )

        def check(conn: Any, cert: Any, errnum: int, depth: int, ok: int) -> bool:
            if not ok and verify == "inspect":
                state = conn.get_app_data()
                if state is not None and state.get("error") is None:
                    state["error"] = errnum
                return True
            return bool(ok)

        modes = {
            "none": SSL.VERIFY_NONE,
            "optional": SSL.VERIFY_PEER,
            "inspect": SSL.VERIFY_PEER,
            "required": SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT,
        }
        context.set_verify(modes[verify], check)
        return context

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TlsServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=5)
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> TlsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'http' if self.plain else 'https'}://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # --- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._connection, args=(sock,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _connection(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", _READ_TIMEOUT, 0))
        with self._lock:
            self._open.add(sock)
        try:
            if self._context is None:
                self._exchange(_PlainStream(sock), None, None, None, None)
            else:
                self._tls_connection(sock)
        except Exception:  # a client going away mid-exchange is normal here
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _tls_connection(self, sock: socket.socket) -> None:
        from OpenSSL import SSL

        assert self._context is not None
        conn = SSL.Connection(self._context, sock)
        state: dict[str, Any] = {"error": None}
        conn.set_app_data(state)
        conn.set_accept_state()
        try:
            conn.do_handshake()
        except SSL.Error:
            return
        peer = conn.get_peer_certificate(as_cryptography=True)
        servername = conn.get_servername()
        self._exchange(
            conn,
            peer,
            state["error"],
            servername.decode() if servername else None,
            conn.get_protocol_version_name(),
        )
        with contextlib.suppress(SSL.Error):
            conn.shutdown()

    def _exchange(
        self,
        stream: Any,
        peer: x509.Certificate | None,
        verify_error: int | None,
        servername: str | None,
        version: str | None,
    ) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = stream.recv(65536)
            if not chunk:
                return
            data += chunk
            if len(data) > 1 << 20 or not data[:1].isalpha():
                # Not HTTP (e.g. a TLS ClientHello on the plain port): answer as web servers do.
                stream.sendall(_BAD_REQUEST)
                return
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 3 or not parts[2].startswith("HTTP/"):
            stream.sendall(
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = stream.recv(65536)
            if not chunk:
                break
            body += chunk
        request = ServerRequest(
            parts[0], parts[1], headers, body, peer, verify_error, servername, version
        )
        response = self.handler(request)
        if response.delay and self._stop.wait(response.delay):
            return
        reason = response.reason or _REASONS.get(response.status, "Status")
        head_out = (
            f"HTTP/1.1 {response.status} {reason}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in response.headers)
            + "Connection: close\r\nServer: knoxtui-lab\r\n\r\n"
        )
        stream.sendall(head_out.encode("latin-1") + response.body)


class _PlainStream:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def recv(self, size: int) -> bytes:
        return self.sock.recv(size)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)


_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}
