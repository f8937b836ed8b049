"""Reading a certificate input in a child process with a hard time limit (issue 11 item 4).

Key derivation (PKCS#12, encrypted PKCS#8, JKS) runs in OpenSSL holding the GIL: a file asking
for billions of PBKDF2 iterations froze the whole console, ctrl+l and the idle lock included,
for minutes. Inputs that need a key derivation are read by a child process instead; the worker
thread only waits on a pipe (the UI stays live) and the child is killed at the time limit. The
bundle comes back pickled, certificates and key as DER (the key over a pipe, never on disk).
Cheap inputs (plain PEM) are read in the thread as before.

Run as `python -m knoxtui.ui.bundle_process`; imports neither Textual nor Rich.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import threading
from typing import Any

TIME_LIMIT_SECONDS = 10.0

_children: set[subprocess.Popen[bytes]] = set()
_guard = threading.Lock()
_epoch = [0]  # stop_all() moves it: a reader started before a stop is killed on sight


class BundleTimeout(Exception):
    """The child did not finish within the time limit (and was killed)."""


class BundleReaderFailed(Exception):
    """The child ended without a result (crashed, or was killed from outside)."""


class BundleNotPortable(Exception):
    """The child read the input in time but its result could not be sent back (a type the pipe
    does not know yet): reading it again in the thread costs no more than the child took."""


_NOT_PORTABLE = 3


def needs_process(data: bytes, key_data: bytes | None) -> bool:
    """True when reading may derive a key: anything but plain, unencrypted PEM."""
    return any(
        b"-----BEGIN" not in blob or b"ENCRYPTED" in blob
        for blob in (data, key_data)
        if blob is not None
    )


class _Pickler(pickle.Pickler):
    """cryptography's objects do not pickle: certificates go as DER, keys as unencrypted PKCS#8
    DER (through the pipe to the parent only)."""

    def reducer_override(self, obj: Any) -> Any:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import (
            dsa,
            ec,
            ed448,
            ed25519,
            rsa,
            x448,
            x25519,
        )

        if isinstance(obj, x509.ObjectIdentifier):
            return _oid, (obj.dotted_string,)
        if isinstance(obj, x509.Certificate):
            return _certificate, (obj.public_bytes(serialization.Encoding.DER),)
        private = (
            rsa.RSAPrivateKey,
            ec.EllipticCurvePrivateKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PrivateKey,
            dsa.DSAPrivateKey,
            x25519.X25519PrivateKey,
            x448.X448PrivateKey,
        )
        if isinstance(obj, private):
            der = obj.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _private_key, (der,)
        return NotImplemented


def _certificate(der: bytes) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def _oid(dotted: str) -> Any:
    from cryptography import x509

    return x509.ObjectIdentifier(dotted)


def _private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(der, None)


def load_bundle_bounded(
    data: bytes,
    *,
    time_limit: float | None = None,
    **options: Any,
) -> Any:
    """`knoxtui.pki.load_bundle(data, **options)`, in a child process killed after `time_limit`
    seconds. Raises BundleTimeout or BundleReaderFailed."""
    limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit
    request = pickle.dumps((data, options))
    with _guard:
        epoch = _epoch[0]
    child = subprocess.Popen(
        [sys.executable, "-m", "knoxtui.ui.bundle_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    with _guard:
        _children.add(child)
        if epoch != _epoch[0]:  # a lock came while this reader was starting
            child.kill()
    try:
        out, _ = child.communicate(request, timeout=limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise BundleTimeout from None
    except BaseException:
        child.kill()
        child.wait()
        raise
    finally:
        with _guard:
            _children.discard(child)
    if child.returncode == _NOT_PORTABLE:
        raise BundleNotPortable
    if child.returncode != 0 or not out:
        raise BundleReaderFailed(f"exit status {child.returncode}")
    return pickle.loads(out)  # our own child's answer


def running() -> int:
    """How many readers run now."""
    with _guard:
        return sum(1 for child in _children if child.poll() is None)


def stop_all() -> None:
    """Kill every reader (the lock: a child holds a decrypted key until it ends)."""
    with _guard:
        _epoch[0] += 1
        children = list(_children)
    for child in children:
        if child.poll() is None:
            child.kill()


def _child() -> int:
    from knoxtui.process import disable_core_dumps

    disable_core_dumps()  # it holds the decrypted key too
    data, options = pickle.loads(sys.stdin.buffer.read())
    from knoxtui.pki import load_bundle

    bundle = load_bundle(data, **options)
    # Run as __main__: pickle by the importable module's names, which the parent can load.
    from knoxtui.ui import bundle_process as importable

    buffer = io.BytesIO()
    try:
        importable._Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(bundle)
    except (TypeError, pickle.PicklingError, AttributeError):
        return _NOT_PORTABLE
    sys.stdout.buffer.write(buffer.getvalue())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child())
