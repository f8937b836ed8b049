"""TLS client contexts: trust, client identity, versions. The decrypted key never touches the disk
(DESIGN.md §5): on Linux it goes through an anonymous memory file; elsewhere it is re-encrypted with
a one-time password into a 0600 file deleted at once. Contexts are cached by content hash."""

from __future__ import annotations

import _ssl
import hashlib
import os
import secrets
import ssl
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable

from knoxtui.net.errors import ClientKeyUnusable
from knoxtui.net.plan import ClientIdentity

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
_CACHE_SIZE = 32
_cache: OrderedDict[str, ssl.SSLContext] = OrderedDict()
_lock = threading.Lock()

# Installed on every context we build: sees each TLS message of our connections (the handshake
# report's CertificateRequest, alerts), so success needs no second handshake.
MessageObserver = Callable[..., None]
_observer: MessageObserver | None = None


def set_message_observer(observer: MessageObserver | None) -> None:
    global _observer
    _observer = observer


def build_context(
    *,
    identity: ClientIdentity | None = None,
    ca_bundle_pem: bytes | None = None,
    verify: bool = True,
    min_version: str | None = None,
    max_version: str | None = None,
    alpn: tuple[str, ...] = ("http/1.1",),
) -> ssl.SSLContext:
    """A client context, from the cache when the same inputs were seen before."""
    digest = hashlib.sha256()
    for part in (
        identity.content_hash if identity else "",
        hashlib.sha256(ca_bundle_pem).hexdigest() if ca_bundle_pem else "",
        str(verify),
        min_version or "",
        max_version or "",
        ",".join(alpn),
    ):
        digest.update(part.encode() + b"\0")
    key = digest.hexdigest()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    context = _new_context(identity, ca_bundle_pem, verify, min_version, max_version, alpn)
    with _lock:
        _cache[key] = context
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return context


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _new_context(
    identity: ClientIdentity | None,
    ca_bundle_pem: bytes | None,
    verify: bool,
    min_version: str | None,
    max_version: str | None,
    alpn: tuple[str, ...],
) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_bundle_pem:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=ca_bundle_pem.decode("ascii", "replace"))
        except ssl.SSLError:
            raise ClientKeyUnusable(
                "The route's CA bundle holds no readable PEM certificate.",
                hint="Store the server's CA certificate(s) as PEM in the CA bundle secret.",
                code="ca_bundle_unusable",
            ) from None
    else:
        context = ssl.create_default_context()
    context.minimum_version = _VERSIONS[min_version] if min_version else ssl.TLSVersion.TLSv1_2
    if max_version:
        context.maximum_version = _VERSIONS[max_version]
    if alpn:
        context.set_alpn_protocols(list(alpn))
    if identity is not None:
        load_identity_into(context, identity)
    if _observer is not None:
        _install_observer(context, _observer)
    return context


def _install_observer(context: ssl.SSLContext, observer: MessageObserver) -> None:
    # The C-level slot takes plain ints; ssl.py's setter would wrap every call in three enum
    # conversions (~40 messages per handshake), a measurable share of a loopback request.
    raw = getattr(_ssl._SSLContext, "_msg_callback", None)
    if raw is not None and hasattr(raw, "__set__"):
        raw.__set__(context, observer)
    elif hasattr(context, "_msg_callback"):
        context._msg_callback = observer


def load_identity_into(context: ssl.SSLContext, identity: ClientIdentity) -> None:
    """`load_cert_chain` only reads paths; give it paths that are not files on a disk."""
    try:
        if hasattr(os, "memfd_create") and sys.platform.startswith("linux"):
            _load_via_memfd(context, identity)
        else:
            _load_via_onetime_file(context, identity)
    except ssl.SSLError as exc:
        raise ClientKeyUnusable(
            f"OpenSSL refused the client certificate or key ({exc.reason or 'unknown reason'}).",
            hint="Check the certificate with knoxtui inspect and re-import it.",
        ) from None


def _load_via_memfd(context: ssl.SSLContext, identity: ClientIdentity) -> None:
    chain_fd = os.memfd_create("knoxtui-chain", os.MFD_CLOEXEC)
    key_fd = os.memfd_create("knoxtui-key", os.MFD_CLOEXEC)
    try:
        os.write(chain_fd, identity.chain_pem)
        os.write(key_fd, identity.key_pem)
        context.load_cert_chain(f"/proc/self/fd/{chain_fd}", f"/proc/self/fd/{key_fd}")
    finally:
        os.close(chain_fd)
        os.close(key_fd)


def _load_via_onetime_file(context: ssl.SSLContext, identity: ClientIdentity) -> None:
    from cryptography.hazmat.primitives import serialization

    password = secrets.token_urlsafe(32).encode()
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    sealed = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    fd, path = tempfile.mkstemp(prefix="knoxtui-", suffix=".pem")
    try:
        os.chmod(path, 0o600)
        os.write(fd, identity.chain_pem + sealed)
        os.close(fd)
        fd = -1
        context.load_cert_chain(path, path, password=password)
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(path)
