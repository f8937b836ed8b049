"""Private keys: loading every PEM/DER kind without ever blocking on a passphrase prompt, and
pairing keys with certificates by comparing public keys (SubjectPublicKeyInfo bytes).

Loading an RSA key through OpenSSL 3 normally re-validates the whole key (~35 ms, cryptography
issue 7236). Pairing only needs the public half, so keys are loaded with that check skipped and
cached by a hash of their bytes and passphrase: live validation on every keystroke stays cheap.
Call `clear_key_cache()` to drop every decrypted key the cache holds (the TUI does on lock).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from knoxtui.pki import der, pem
from knoxtui.pki.certificate import public_key_shape
from knoxtui.pki.finding import PkiError

_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_CACHE_SIZE = 64


@dataclass(frozen=True)
class LoadedKey:
    """A decrypted key, whether it came encrypted, and its public key as SPKI DER."""

    key: PrivateKeyTypes = field(repr=False)
    encrypted: bool
    spki: bytes = field(repr=False)


_cache: OrderedDict[bytes, LoadedKey] = OrderedDict()
_cache_lock = threading.Lock()


def clear_key_cache() -> None:
    """Forget every decrypted key held for fast re-validation."""
    with _cache_lock:
        _cache.clear()


def passphrase_bytes(passphrase: str | bytes | None) -> bytes | None:
    """The passphrase as bytes; None and empty both mean 'none given'."""
    if passphrase is None:
        return None
    value = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    return value or None


def spki_bytes(key: Any) -> bytes:
    """SubjectPublicKeyInfo DER of a certificate, public key or private key."""
    if isinstance(key, x509.Certificate) or hasattr(key, "public_key"):
        key = key.public_key()
    data: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def public_key_description(key: Any) -> str:
    """A short public name for a key, safe to show: 'RSA-2048 …a3f1c2', 'EC P-256 …', 'Ed25519 …'.
    The suffix is the end of the SHA-256 of the public key (SPKI), so two keys can be told apart."""
    try:
        public = key.public_key() if hasattr(key, "public_key") else key
        kind, size, curve = public_key_shape(public)
        digest = hashlib.sha256(spki_bytes(public)).hexdigest()[-6:]
    except (ValueError, TypeError, AttributeError, UnsupportedAlgorithm):
        return "an unreadable public key"
    if kind == "rsa":
        name = f"RSA-{size}"
    elif kind == "ec":
        name = f"EC {_CURVE_NAMES.get(curve or '', curve)}"
    elif kind == "dsa":
        name = f"DSA-{size}"
    elif kind == "ed25519":
        name = "Ed25519"
    elif kind == "ed448":
        name = "Ed448"
    else:
        name = kind
    return f"{name} …{digest}"


def load_private_key(data: bytes, passphrase: str | bytes | None = None) -> PrivateKeyTypes:
    """Load a PEM (first key block, anything around it ignored) or DER private key.

    Raises PkiError with code passphrase_required, wrong_passphrase, unsupported_key_encryption
    or corrupt. Never prompts. A passphrase given for an unencrypted key is ignored.
    """
    if pem.looks_like_pem(data):
        blocks, broken = pem.find_blocks(data)
        keys = [b for b in blocks if b.label in pem.KEY_LABELS]
        if keys:
            return open_block(keys[0], passphrase).key
        damaged = [b for b in broken if b.label in pem.KEY_LABELS]
        if damaged:
            raise PkiError(
                "corrupt",
                f"The private key is damaged: {damaged[0].reason}.",
                "Copy the key again from its original file, including the BEGIN and END lines.",
            )
        if any(b.label == "OPENSSH PRIVATE KEY" for b in blocks):
            raise PkiError(
                "unsupported_key_encryption",
                "This is an OpenSSH private key, not one for TLS.",
                "Use the key that was generated with the certificate signing request (CSR).",
            )
        raise PkiError(
            "corrupt",
            "There is no private key in this text (no '-----BEGIN ... PRIVATE KEY-----' block).",
            "Give the file that holds the private key.",
        )
    return open_der(data, passphrase).key


def open_block(block: pem.PemBlock, passphrase: str | bytes | None) -> LoadedKey:
    """Decrypt one PEM key block (cached by the block's text and the passphrase)."""

    def content() -> bytes:
        try:
            # Traditional encryption needs its DEK-Info header: go through the PEM loader then.
            return block.text() if block.headers else block.der
        except ValueError as exc:
            raise PkiError(
                "corrupt",
                f"The private key is damaged: {exc}.",
                "Copy the key again from its original file, including the BEGIN and END lines.",
            ) from None

    return _open(block.digest, content, passphrase, block.encrypted, pem_text=bool(block.headers))


def open_der(data: bytes, passphrase: str | bytes | None) -> LoadedKey:
    """Decrypt a DER key, PKCS#8 (encrypted or not) or traditional (cached)."""
    return _open(hashlib.sha256(data).digest(), lambda: data, passphrase, None, pem_text=False)


def _open(
    digest: bytes,
    content: Callable[[], bytes],
    passphrase: str | bytes | None,
    encrypted: bool | None,
    *,
    pem_text: bool,
) -> LoadedKey:
    password = passphrase_bytes(passphrase)
    cache_key = hashlib.sha256(digest + b"\0" + (password or b"")).digest()
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit is not None:
            _cache.move_to_end(cache_key)
            return hit
    loaded = _decrypt(content(), password, encrypted, pem_text=pem_text)
    with _cache_lock:
        _cache[cache_key] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def _decrypt(
    data: bytes, password: bytes | None, encrypted: bool | None, *, pem_text: bool
) -> LoadedKey:
    loader = serialization.load_pem_private_key if pem_text else serialization.load_der_private_key
    if encrypted is False or (encrypted is None and password is None):
        try:
            key = loader(data, None, unsafe_skip_rsa_key_validation=True)
            return LoadedKey(key, False, spki_bytes(key))
        except TypeError:
            encrypted = True  # "Password was not given but private key is encrypted"
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise _unreadable(exc) from None
    if not pem_text and (cost := der.excessive_kdf(data)) is not None:
        raise PkiError(
            "unsupported_key_encryption",
            f"The private key's encryption asks for {cost}, which would take far too long to "
            "decrypt; the file is damaged or hostile.",
            "Export the key again from its source.",
        )
    if password is None:
        raise PkiError(
            "passphrase_required",
            "The private key is encrypted and no passphrase was given.",
            "Give the key passphrase (--key-passphrase-file F, or the passphrase field).",
        )
    try:
        key = loader(data, password, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        # A passphrase was given for a key that is not encrypted: ignore it.
        try:
            key = loader(data, None, unsafe_skip_rsa_key_validation=True)
        except (TypeError, ValueError, UnsupportedAlgorithm) as exc:
            raise _unreadable(exc) from None
        return LoadedKey(key, False, spki_bytes(key))
    except UnsupportedAlgorithm:
        raise _unsupported_encryption() from None
    except ValueError as exc:
        text = str(exc).lower()
        # "unknown cipher": a traditional PEM's DEK-Info names one cryptography lacks (Camellia)
        if "unknown key encryption" in text or "unsupported" in text or "unknown cipher" in text:
            raise _unsupported_encryption() from None
        if "password" in text or "decrypt" in text:
            raise PkiError(
                "wrong_passphrase",
                "The passphrase does not decrypt the private key.",
                "Check the key passphrase (it is the one set when the key was exported, "
                "not the vault passphrase); watch for a trailing space or newline.",
            ) from None
        raise _unreadable(exc) from None
    return LoadedKey(key, True, spki_bytes(key))


def _unsupported_encryption() -> PkiError:
    return PkiError(
        "unsupported_key_encryption",
        "The private key is encrypted with a scheme this system's cryptography cannot decrypt.",
        "Re-encrypt it with a modern scheme: openssl pkcs8 -topk8 -v2 aes256 -in key.pem -out "
        "key-aes.pem",
    )


def _unreadable(exc: Exception) -> PkiError:
    # cryptography's message says "unsupported algorithm" for encryption it does not know.
    text = str(exc).lower()
    if isinstance(exc, UnsupportedAlgorithm) or "unknown key encryption" in text:
        return _unsupported_encryption()
    if "explicit" in text:
        return PkiError(
            "corrupt",
            "The EC private key spells out its curve parameters instead of naming the curve, "
            "which is not supported.",
            "Convert it: openssl ec -in key.pem -param_enc named_curve -out key-named.pem",
        )
    return PkiError(
        "corrupt",
        "The private key could not be read: the data is damaged or not a private key.",
        "Export the key again from its source (PEM 'PRIVATE KEY' or a .p12/.pfx file).",
    )
