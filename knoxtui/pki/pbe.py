"""Password-based encryption written by hand where cryptography's serializers fall short.

cryptography writes PKCS#12 MACs with a fixed 2,048 iterations and PKCS#8 PEM keys with 2,048
PBKDF2 iterations; exports that travel deserve the 600,000 PBKDF2-SHA256 iterations OWASP asks
for. It also cannot tell us what is inside an encrypted PKCS#12 safe before decrypting all of it,
so the reader decrypts outer safes itself (with their parameters checked first) to look at the
work factors of the key bags inside. Primitives come from cryptography; only the framing is here.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from knoxtui.pki import der

OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_HMAC_SHA1 = "1.2.840.113549.2.7"
OID_HMAC_SHA256 = "1.2.840.113549.2.9"
OID_HMAC_SHA384 = "1.2.840.113549.2.10"
OID_HMAC_SHA512 = "1.2.840.113549.2.11"
OID_AES128_CBC = "2.16.840.1.101.3.4.1.2"
OID_AES192_CBC = "2.16.840.1.101.3.4.1.22"
OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
OID_DES_EDE3_CBC = "1.2.840.113549.3.7"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_SHA1 = "1.3.14.3.2.26"
# PKCS#12 PBE (RFC 7292 appendix C): SHA-1 KDF with 3DES or RC2
OID_PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
OID_PBE_SHA1_2DES = "1.2.840.113549.1.12.1.4"
OID_PBE_SHA1_RC2_128 = "1.2.840.113549.1.12.1.5"
OID_PBE_SHA1_RC2_40 = "1.2.840.113549.1.12.1.6"

# What an export uses (OWASP 2023 for PBKDF2-HMAC-SHA256), for the key bag, the MAC and PEM keys.
EXPORT_ITERATIONS = 600_000

_PRF_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    OID_HMAC_SHA1: hashes.SHA1,
    OID_HMAC_SHA256: hashes.SHA256,
    OID_HMAC_SHA384: hashes.SHA384,
    OID_HMAC_SHA512: hashes.SHA512,
}
_AES_SIZES = {OID_AES128_CBC: 16, OID_AES192_CBC: 24, OID_AES256_CBC: 32}


class PbeError(ValueError):
    """The password (or the data) is wrong."""


class UnsupportedScheme(PbeError):
    """The parameters name a scheme not decrypted here (RC4, DES, ...)."""


# --- DER writing -----------------------------------------------------------------------------


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def seq(*items: bytes) -> bytes:
    return tlv(der.SEQUENCE, b"".join(items))


def integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return tlv(der.INTEGER, raw)


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def oid(dotted: str) -> bytes:
    numbers = [int(n) for n in dotted.split(".")]
    body = bytearray()
    for number in [numbers[0] * 40 + numbers[1], *numbers[2:]]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body.extend(reversed(chunk))
    return tlv(der.OID, bytes(body))


_NULL = b"\x05\x00"


# --- PKCS#8 export ---------------------------------------------------------------------------


def encrypt_pkcs8(private_key_info: bytes, password: bytes, iterations: int) -> bytes:
    """EncryptedPrivateKeyInfo (DER): PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC."""
    salt, iv = os.urandom(16), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(private_key_info) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    kdf = seq(
        oid(OID_PBKDF2),
        seq(octets(salt), integer(iterations), seq(oid(OID_HMAC_SHA256), _NULL)),
    )
    algorithm = seq(oid(OID_PBES2), seq(kdf, seq(oid(OID_AES256_CBC), octets(iv))))
    return seq(algorithm, octets(encrypted))


# --- PKCS#12 key derivation (RFC 7292 appendix B) --------------------------------------------


def _bmp_password(password: bytes | None) -> bytes:
    if password is None:
        return b""
    return password.decode("utf-8").encode("utf-16-be") + b"\x00\x00"


def pkcs12_kdf(
    hash_name: str, password: bytes | None, salt: bytes, purpose: int, iterations: int, size: int
) -> bytes:
    """RFC 7292 B.2. `purpose`: 1 key, 2 IV, 3 MAC key. `password` None means no password."""
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    d = bytes([purpose]) * v

    def fill(data: bytes) -> bytes:
        if not data:
            return b""
        count = -(-len(data) // v) * v
        return (data * (count // len(data) + 1))[:count]

    i = bytearray(fill(salt) + fill(_bmp_password(password)))
    out = b""
    while len(out) < size:
        a = hashlib.new(hash_name, d + bytes(i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        if len(out) >= size:
            break
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for start in range(0, len(i), v):
            block = (int.from_bytes(i[start : start + v], "big") + b + 1) % (1 << (8 * v))
            i[start : start + v] = block.to_bytes(v, "big")
    return out[:size]


def pkcs12_mac(
    hash_name: str, password: bytes | None, salt: bytes, iterations: int, data: bytes
) -> bytes:
    size = hashlib.new(hash_name).digest_size
    key = pkcs12_kdf(hash_name, password, salt, 3, iterations, size)
    return hmac.new(key, data, hash_name).digest()


def strengthen_pkcs12_mac(pfx: bytes, password: bytes, iterations: int) -> bytes:
    """The same PFX with its MAC recomputed: HMAC-SHA256, a fresh salt, `iterations`."""
    version, auth_safe, *_ = der.children(der.read_tlv(pfx).value)
    content = der.children(auth_safe.value)
    signed = der.read_tlv(content[1].value).value  # [0] EXPLICIT OCTET STRING: the MAC input
    salt = os.urandom(16)
    digest = pkcs12_mac("sha256", password, salt, iterations, signed)
    mac_data = seq(
        seq(seq(oid(OID_SHA256), _NULL), octets(digest)), octets(salt), integer(iterations)
    )
    raw_version = tlv(version.tag, version.value)
    raw_auth_safe = tlv(auth_safe.tag, auth_safe.value)
    return seq(raw_version, raw_auth_safe, mac_data)


# --- decrypting a PKCS#12 safe ---------------------------------------------------------------


def decrypt(algorithm: der.Tlv, password: bytes | None, data: bytes) -> bytes:
    """Decrypt `data` with the AlgorithmIdentifier `algorithm` (PBES2 with PBKDF2 and AES, or a
    PKCS#12 PBE with 3DES or RC2). Work factors must have been checked by the caller. PbeError
    when the scheme is not one of these or the padding shows a wrong password."""
    try:
        parts = der.children(algorithm.value)
        scheme = der.decode_oid(parts[0].value)
        if scheme == OID_PBES2:
            return _decrypt_pbes2(parts[1], password, data)
        if scheme in (OID_PBE_SHA1_3DES, OID_PBE_SHA1_2DES):
            salt_item, count_item = der.children(parts[1].value)[:2]
            count = int.from_bytes(count_item.value, "big")
            size = 24 if scheme == OID_PBE_SHA1_3DES else 16
            key = pkcs12_kdf("sha1", password, salt_item.value, 1, count, size)
            iv = pkcs12_kdf("sha1", password, salt_item.value, 2, count, 8)
            if size == 16:
                key += key[:8]
            return _cbc(_triple_des(key), iv, data, 64)
        if scheme in (OID_PBE_SHA1_RC2_40, OID_PBE_SHA1_RC2_128):
            # what `openssl pkcs12 -export -legacy` (and older Windows/Java) encrypt the
            # certificate safe with: decrypted here so the bags inside are checked before
            # cryptography derives anything
            salt_item, count_item = der.children(parts[1].value)[:2]
            count = int.from_bytes(count_item.value, "big")
            size = 5 if scheme == OID_PBE_SHA1_RC2_40 else 16
            key = pkcs12_kdf("sha1", password, salt_item.value, 1, count, size)
            iv = pkcs12_kdf("sha1", password, salt_item.value, 2, count, 8)
            return _rc2_cbc(key, iv, data)
    except (der.DerError, IndexError, ValueError) as exc:
        if isinstance(exc, PbeError):
            raise
        raise UnsupportedScheme("malformed encryption parameters") from None
    raise UnsupportedScheme(f"scheme {scheme}")


def _rc2_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC (RFC 2268, effective key bits = the key's length) with PKCS#7 padding. OpenSSL 3
    has RC2 only in its legacy provider and cryptography exposes none: pycryptodomex's (already
    installed for pyjks) is used."""
    from Cryptodome.Cipher import ARC2

    if not data or len(data) % 8:
        raise PbeError("wrong password or damaged data")
    # effective_keylen is a documented keyword the stubs leave out
    cipher = ARC2.new(key, ARC2.MODE_CBC, iv=iv, effective_keylen=len(key) * 8)  # type: ignore[call-arg]
    plain = cipher.decrypt(data)
    try:
        unpadder = padding.PKCS7(64).unpadder()
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise PbeError("wrong password or damaged data") from None


def _triple_des(key: bytes) -> algorithms.BlockCipherAlgorithm:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

    return TripleDES(key)


def _decrypt_pbes2(params: der.Tlv, password: bytes | None, data: bytes) -> bytes:
    kdf, cipher = der.children(params.value)[:2]
    kdf_parts = der.children(kdf.value)
    if der.decode_oid(kdf_parts[0].value) != OID_PBKDF2:
        raise UnsupportedScheme("not PBKDF2")
    fields = der.children(kdf_parts[1].value)
    salt = fields[0].value
    count = int.from_bytes(fields[1].value, "big")
    prf: type[hashes.HashAlgorithm] = hashes.SHA1
    for item in fields[2:]:
        if item.tag == der.SEQUENCE:
            prf_oid = der.decode_oid(der.children(item.value)[0].value)
            if prf_oid not in _PRF_HASHES:
                raise UnsupportedScheme("unknown PRF")
            prf = _PRF_HASHES[prf_oid]
    cipher_parts = der.children(cipher.value)
    cipher_oid = der.decode_oid(cipher_parts[0].value)
    iv = cipher_parts[1].value
    if cipher_oid == OID_DES_EDE3_CBC:
        key = PBKDF2HMAC(prf(), 24, salt, count).derive(password or b"")
        return _cbc(_triple_des(key), iv, data, 64)
    if cipher_oid not in _AES_SIZES:
        raise UnsupportedScheme("not AES-CBC or 3DES-CBC")
    key = PBKDF2HMAC(prf(), _AES_SIZES[cipher_oid], salt, count).derive(password or b"")
    return _cbc(algorithms.AES(key), iv, data, 128)


def _cbc(algorithm: algorithms.BlockCipherAlgorithm, iv: bytes, data: bytes, block: int) -> bytes:
    try:
        decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(block).unpadder()
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise PbeError("wrong password or damaged data") from None
