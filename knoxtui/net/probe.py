"""A diagnostic handshake with pyOpenSSL, for failure paths only: with verification off it gets
past a server certificate our real attempt refused, and reads the server's chain and the client CA
names from its CertificateRequest (TLS 1.2 sends those after the certificate we refused)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from knoxtui.net.plan import ClientIdentity

_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProbeResult:
    tls_version: str | None = None
    cipher: str | None = None
    server_chain_der: tuple[bytes, ...] = field(default=(), repr=False)
    acceptable_cas_der: tuple[bytes, ...] = field(default=(), repr=False)
    cert_requested: bool = False
    alert: str | None = None
    error: str | None = None


def probe(
    host: str,
    port: int,
    *,
    servername: str | None,
    identity: ClientIdentity | None = None,
    min_version: str | None = None,
    max_version: str | None = None,
    timeout: float = _TIMEOUT,
    opener: Callable[[float], socket.socket] | None = None,
) -> ProbeResult:
    """`opener(timeout)` gives the connected socket (a tunnel through a proxy); else direct."""
    from OpenSSL import SSL, crypto

    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *_: True)
    versions = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
    context.set_min_proto_version(versions.get(min_version or "", 0))
    context.set_max_proto_version(versions.get(max_version or "", 0))
    if identity is not None:
        context.use_certificate(crypto.load_certificate(crypto.FILETYPE_PEM, identity.chain_pem))
        for extra in x509.load_pem_x509_certificates(identity.chain_pem)[1:]:
            context.add_extra_chain_cert(crypto.X509.from_cryptography(extra))
        context.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, identity.key_pem))
    try:
        if opener is not None:
            sock = opener(timeout)
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return ProbeResult(error=str(exc))
    # pyOpenSSL wants a blocking socket; bound each read with SO_RCVTIMEO instead.
    sock.settimeout(None)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(timeout), 0))
    conn = SSL.Connection(context, sock)
    if servername:
        conn.set_tlsext_host_name(servername.encode("idna"))
    conn.set_connect_state()
    error = None
    try:
        conn.do_handshake()
        # TLS 1.3: a rejection of our certificate arrives on the first read.
        try:
            conn.send(b"HEAD / HTTP/1.0\r\nHost: " + (servername or host).encode() + b"\r\n\r\n")
            conn.recv(1)
        except SSL.Error as exc:
            error = _text(exc)
        except OSError:
            pass
    except SSL.Error as exc:
        error = _text(exc)
    except OSError as exc:
        error = str(exc)
    chain = conn.get_peer_cert_chain(as_cryptography=True) or []
    cas = [name.der() for name in conn.get_client_ca_list()]
    result = ProbeResult(
        tls_version=conn.get_protocol_version_name() if chain else None,
        cipher=conn.get_cipher_name() if chain else None,
        server_chain_der=tuple(c.public_bytes(Encoding.DER) for c in chain),
        acceptable_cas_der=tuple(cas),
        cert_requested=bool(cas),
        alert=_alert_in(error),
        error=error,
    )
    try:
        conn.shutdown()
    except SSL.Error:
        pass
    finally:
        sock.close()
    return result


def _text(exc: Exception) -> str:
    args = exc.args[0] if exc.args else []
    if isinstance(args, list):
        return "; ".join(str(item[-1]) for item in args if isinstance(item, tuple)) or str(exc)
    return str(exc)


def _alert_in(text: str | None) -> str | None:
    from knoxtui.net.handshake import ALERT_TEXTS

    if not text:
        return None
    lowered = text.lower()
    for words, name in sorted(ALERT_TEXTS.items(), key=lambda item: -len(item[0])):
        if f"alert {words}" in lowered:
            return name
    return None
