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
from cryptography.hazmat.primitives.asymmetric import rsa
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
        except TypeError:
            encrypted = True  # "Password was not given but private key is encrypted"
        except (ValueError, UnsupportedAlgorithm):
            raise _unreadable(None if pem_text else data) from None
        else:
            if not _rsa_consistent(key):
                raise _damaged_rsa()
            return LoadedKey(key, False, spki_bytes(key))
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
        except (TypeError, ValueError, UnsupportedAlgorithm):
            raise _unreadable(None if pem_text else data) from None
        if not _rsa_consistent(key):
            raise _damaged_rsa() from None
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
        raise _unreadable(None) from None
    if not _rsa_consistent(key):
        raise _damaged_rsa()
    return LoadedKey(key, True, spki_bytes(key))


def _unsupported_encryption() -> PkiError:
    return PkiError(
        "unsupported_key_encryption",
        "The private key is encrypted with a scheme this system's cryptography cannot decrypt.",
        "Re-encrypt it with a modern scheme: openssl pkcs8 -topk8 -v2 aes256 -in key.pem -out "
        "key-aes.pem",
    )


_OID_RSA = "1.2.840.113549.1.1.1"
_OID_RSA_PSS = "1.2.840.113549.1.1.10"
_OID_EC = "1.2.840.10045.2.1"
_OID_DSA = "1.2.840.10040.4.1"
_KEY_ALGORITHMS = {
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.2.840.113549.1.3.1": "DH",
    "1.2.840.10046.2.1": "X9.42 DH",
    "1.2.643.7.1.1.1.1": "GOST R 34.10-2012",
    "1.2.156.10197.1.301": "SM2",
}


def key_structure(data: bytes) -> tuple[str, str | None]:
    """(algorithm, EC parameters) of an unencrypted DER key, read from its structure: PKCS#8
    PrivateKeyInfo, SEC1 ECPrivateKey or PKCS#1 RSAPrivateKey. The algorithm is 'rsa', 'ec',
    'dsa', a name or a dotted OID, 'unknown' when the bytes are not a key; the EC parameters are
    a curve OID, 'explicit' (spelled out) or None."""
    try:
        parts = der.children(der.read_tlv(data).value)
        tags = [p.tag for p in parts]
        if len(parts) >= 3 and tags[:3] == [der.INTEGER, der.SEQUENCE, 0x04]:
            algorithm = der.children(parts[1].value)
            oid = der.decode_oid(algorithm[0].value)
            if oid == _OID_EC:
                return "ec", _ec_parameters(algorithm[1] if len(algorithm) > 1 else None)
            if oid in (_OID_RSA, _OID_RSA_PSS):
                return "rsa", None
            if oid == _OID_DSA:
                return "dsa", None
            return _KEY_ALGORITHMS.get(oid, oid), None
        if len(parts) >= 2 and tags[:2] == [der.INTEGER, 0x04]:  # SEC1
            params = next((p for p in parts[2:] if p.tag == der.CONTEXT_0), None)
            return "ec", _ec_parameters(der.read_tlv(params.value) if params else None)
        if len(parts) == 9 and all(t == der.INTEGER for t in tags):
            return "rsa", None
        if len(parts) == 6 and all(t == der.INTEGER for t in tags):
            return "dsa", None
    except (der.DerError, IndexError):
        pass
    return "unknown", None


def _ec_parameters(params: der.Tlv | None) -> str | None:
    if params is None:
        return None
    if params.tag == der.OID:
        return der.decode_oid(params.value)
    if params.tag == der.SEQUENCE:
        return "explicit"
    return None


def _unreadable(data: bytes | None) -> PkiError:
    """Why cryptography could not load an unencrypted key, decided from the key's structure."""
    algorithm, parameters = key_structure(data) if data is not None else ("unknown", None)
    if algorithm == "ec" and parameters == "explicit":
        return PkiError(
            "unsupported_format",
            "The EC private key spells out its curve parameters instead of naming the curve, "
            "and they are not those of a curve knoxtui supports.",
            "Convert it: openssl ec -in key.pem -param_enc named_curve -out key-named.pem "
            "(if OpenSSL cannot name the curve, generate a new P-256 key and CSR).",
        )
    if algorithm == "ec" and parameters is not None:
        curve = der.CURVE_NAMES.get(parameters, parameters)
        return PkiError(
            "unsupported_format",
            f"The private key is on the elliptic curve {curve}, which OpenSSL may read but "
            "knoxtui (cryptography) does not support; it is not encrypted.",
            "Generate a new key on P-256 or P-384 (or RSA-2048+) and request a new certificate.",
        )
    if algorithm not in ("rsa", "ec", "dsa", "unknown"):
        return PkiError(
            "unsupported_format",
            f"The private key is a {algorithm} key, which cannot sign for TLS client "
            "authentication here.",
            "Use an RSA, EC (P-256/P-384) or Ed25519 key and its certificate.",
        )
    if algorithm != "unknown":
        return PkiError(
            "corrupt",
            f"The {algorithm.upper()} private key is damaged: its structure is readable but "
            "its values are not a valid key.",
            "Export the key again from its source (PEM 'PRIVATE KEY' or a .p12/.pfx file).",
        )
    return PkiError(
        "corrupt",
        "The private key could not be read: the data is damaged or not a private key.",
        "Export the key again from its source (PEM 'PRIVATE KEY' or a .p12/.pfx file).",
    )


def _rsa_consistent(key: PrivateKeyTypes) -> bool:
    """n = p·q and the CRT values fit: loading skips OpenSSL's RSA check (35 ms, mostly the
    primality tests), these cheap equations catch a corrupted key (tens of µs)."""
    if not isinstance(key, rsa.RSAPrivateKey):
        return True
    numbers = key.private_numbers()
    p, q, n = numbers.p, numbers.q, numbers.public_numbers.n
    return p * q == n and p > 1 and q > 1 and (numbers.iqmp * q) % p == 1


def _damaged_rsa() -> PkiError:
    return PkiError(
        "corrupt",
        "The RSA private key is damaged: its numbers do not fit together (n ≠ p·q), so it "
        "cannot sign.",
        "Export the key again from its source (PEM 'PRIVATE KEY' or a .p12/.pfx file).",
    )


def check_fully(key: PrivateKeyTypes) -> None:
    """OpenSSL's full check of an RSA key (primality included, tens of ms): run once when a key
    is stored. Raises PkiError corrupt."""
    if not isinstance(key, rsa.RSAPrivateKey):
        return
    if not _rsa_consistent(key):
        raise _damaged_rsa()
    raw = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        serialization.load_der_private_key(raw, None)
    except ValueError:
        raise _damaged_rsa() from None
