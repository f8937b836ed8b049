"""PKCS#12 (PFX) walked by hand: BER as NSS/Firefox and Windows write it, and every work factor
checked before any key derivation runs.

cryptography opens a PFX in one call and cannot say what is inside an encrypted safe before it
has derived every key in it: a hostile file (no MAC, a safe encrypted with the empty password, a
key bag asking for 2,000,000,000 PBKDF2 iterations) would keep it busy for minutes. Here each
layer's parameters are checked, then the layer is decrypted with those checked parameters, and
only then the next layer is looked at. BER files (indefinite lengths, chunked OCTET STRINGs) that
cryptography refuses are read entirely here; DER files go on to cryptography once checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knoxtui.pki import der, pbe

OID_DATA = "1.2.840.113549.1.7.1"
OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
OID_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
OID_SAFE_CONTENTS_BAG = "1.2.840.113549.1.12.10.1.6"
OID_X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
_MAC_HASHES = {
    pbe.OID_SHA1: "sha1",
    pbe.OID_SHA256: "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
# The PKCS#12 key derivation (MACs, 3DES safes) runs in Python here: about 0.5 µs a round.
# Real files use 2,048 (OpenSSL, NSS, Windows) to 600,000 rounds.
MAX_PYTHON_ROUNDS = 1_000_000
MAX_BAG_DEPTH = 4


class PfxError(ValueError):
    """The PFX is malformed (not a password problem)."""


class Excessive(ValueError):
    """A work factor is too high to compute; the message says which."""


@dataclass
class Mac:
    hash_name: str | None  # None: a digest we do not know
    digest: bytes
    salt: bytes
    iterations: int


@dataclass
class Safe:
    kind: str  # "data", "encrypted", "enveloped", "other"
    content: bytes = b""  # data: the SafeContents (BER or DER); encrypted: the ciphertext
    algorithm: der.Tlv | None = None


@dataclass
class Pfx:
    signed: bytes  # the AuthenticatedSafe octets the MAC covers
    safes: list[Safe]
    mac: Mac | None
    ber: bool  # the file is BER, not DER


@dataclass
class Opened:
    """What a password opened: certificate DERs (in file order), key bags, and shrouded key bags
    (EncryptedPrivateKeyInfo DER) still to decrypt."""

    certificates: list[bytes] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    shrouded: list[bytes] = field(default_factory=list)


def _integer(item: der.Tlv) -> int:
    if item.tag != der.INTEGER:
        raise PfxError("not an INTEGER")
    return int.from_bytes(item.value, "big", signed=True)


def _octets(item: der.Tlv) -> bytes:
    """An OCTET STRING's value, primitive or (after to_der) already joined."""
    if item.tag == 0x04:
        return item.value
    raise PfxError("not an OCTET STRING")


def _content(info: der.Tlv) -> der.Tlv:
    """The [0] EXPLICIT content of a ContentInfo."""
    parts = der.children(info.value)
    if len(parts) < 2 or parts[1].tag != der.CONTEXT_0:
        raise PfxError("ContentInfo without content")
    return der.read_tlv(parts[1].value)


def parse(data: bytes) -> Pfx:
    """The outer layers of a PFX (BER or DER). Raises PfxError when it is not one."""
    try:
        strict = der.outer_length(data) is not None
        top = der.read_tlv(der.to_der(data))
        parts = der.children(top.value)
        if len(parts) < 2 or _integer(parts[0]) != 3 or parts[1].tag != der.SEQUENCE:
            raise PfxError("not a PFX")
        info = der.children(parts[1].value)
        if der.decode_oid(info[0].value) != OID_DATA:
            raise PfxError("public-key integrity mode")
        signed = _octets(_content(parts[1]))
        mac = _mac(parts[2]) if len(parts) > 2 else None
        auth = der.to_der(signed)
        strict = strict and auth == signed
        safes = []
        for item in der.children(der.read_tlv(auth).value):
            safe = _safe(item)
            if safe.kind == "data":
                normal = der.to_der(safe.content)
                strict = strict and normal == safe.content
                safe.content = normal
            safes.append(safe)
    except (der.DerError, IndexError) as exc:
        raise PfxError(str(exc)) from None
    return Pfx(signed, safes, mac, not strict)


def _mac(item: der.Tlv) -> Mac:
    fields = der.children(item.value)
    digest_info = der.children(fields[0].value)
    algorithm = der.children(digest_info[0].value)
    hash_name = _MAC_HASHES.get(der.decode_oid(algorithm[0].value))
    iterations = _integer(fields[2]) if len(fields) > 2 else 1
    return Mac(hash_name, _octets(digest_info[1]), _octets(fields[1]), iterations)


def _safe(item: der.Tlv) -> Safe:
    kind = der.decode_oid(der.children(item.value)[0].value)
    if kind == OID_DATA:
        return Safe("data", _octets(_content(item)))
    if kind == OID_ENCRYPTED_DATA:
        encrypted_data = der.children(_content(item).value)
        info = der.children(encrypted_data[1].value)
        algorithm = info[1]
        if len(info) < 3:
            return Safe("encrypted", b"", algorithm)
        holder = info[2]
        if holder.tag == 0x80:
            ciphertext = holder.value
        elif holder.tag == 0xA0:  # constructed [0] IMPLICIT OCTET STRING: chunks
            ciphertext = b"".join(_octets(piece) for piece in der.children(holder.value))
        else:
            raise PfxError("EncryptedContentInfo without content")
        return Safe("encrypted", ciphertext, algorithm)
    if kind == OID_ENVELOPED_DATA:
        return Safe("enveloped")
    return Safe("other")


def outer_cost(pfx: Pfx) -> str | None:
    """The first excessive work factor visible without a password: the MAC, the encrypted safes'
    parameters, and the key bags of unencrypted safes."""
    if pfx.mac is not None and pfx.mac.iterations > der.MAX_ITERATIONS:
        return f"{pfx.mac.iterations:,} MAC iterations"
    for safe in pfx.safes:
        if safe.kind == "encrypted" and safe.algorithm is not None:
            cost = _algorithm_cost(safe.algorithm)
            if cost:
                return cost
        elif safe.kind == "data":
            cost = _bags_cost(safe.content, 0)
            if cost:
                return cost
    return None


def _algorithm_cost(algorithm: der.Tlv) -> str | None:
    try:
        cost = der.excessive_algorithm(algorithm)
    except (der.DerError, IndexError):
        return None
    if cost:
        return cost
    rounds = _python_rounds(algorithm)
    if rounds is not None and rounds > MAX_PYTHON_ROUNDS:
        return f"{rounds:,} iterations of the legacy PKCS#12 key derivation"
    return None


def _python_rounds(algorithm: der.Tlv) -> int | None:
    """Iterations of a legacy PKCS#12 PBE (3DES/RC2: its KDF runs in Python here)."""
    try:
        parts = der.children(algorithm.value)
        if der.decode_oid(parts[0].value).startswith("1.2.840.113549.1.12.1."):
            return _integer(der.children(parts[1].value)[1])
    except (der.DerError, IndexError, PfxError):
        return None
    return None


def _bags(contents: bytes, depth: int) -> list[tuple[str, der.Tlv]]:
    """(bag type, bag value) of a SafeContents, nested safeContentsBags flattened."""
    if depth > MAX_BAG_DEPTH:
        raise PfxError("safe contents nested too deeply")
    out: list[tuple[str, der.Tlv]] = []
    for bag in der.children(der.read_tlv(contents).value):
        fields = der.children(bag.value)
        kind = der.decode_oid(fields[0].value)
        value = der.read_tlv(fields[1].value)
        if kind == OID_SAFE_CONTENTS_BAG:
            out.extend(_bags(der.to_der(fields[1].value), depth + 1))
        else:
            out.append((kind, value))
    return out


def _bags_cost(contents: bytes, depth: int) -> str | None:
    try:
        bags = _bags(contents, depth)
    except (der.DerError, IndexError, PfxError):
        return None
    for kind, value in bags:
        if kind == OID_SHROUDED_KEY_BAG:
            raw = pbe.tlv(value.tag, value.value)
            cost = der.excessive_kdf(raw)
            if cost:
                return cost
            algorithm = der.children(value.value)[0]
            rounds = _python_rounds(algorithm)
            if rounds is not None and rounds > der.MAX_ITERATIONS:
                return f"{rounds:,} iterations"
    return None


def mac_matches(pfx: Pfx, password: bytes | None) -> bool | None:
    """Whether `password` verifies the MAC; None when there is no MAC we can check cheaply."""
    mac = pfx.mac
    if mac is None or mac.hash_name is None or mac.iterations > MAX_PYTHON_ROUNDS:
        return None
    computed = pbe.pkcs12_mac(mac.hash_name, password, mac.salt, mac.iterations, pfx.signed)
    return computed == mac.digest


def open_safes(pfx: Pfx, password: bytes | None) -> Opened:
    """Decrypt every encrypted safe with `password` (parameters checked first) and check the key
    bags inside. Raises Excessive for a hostile work factor, pbe.PbeError for a wrong password or
    a scheme not decrypted here, PfxError for a malformed file."""
    opened = Opened()
    for safe in pfx.safes:
        if safe.kind == "enveloped":
            raise pbe.PbeError("public-key privacy mode")
        if safe.kind == "other":
            continue
        contents = safe.content
        if safe.kind == "encrypted":
            assert safe.algorithm is not None
            cost = _algorithm_cost(safe.algorithm)
            if cost:
                raise Excessive(cost)
            plain = pbe.decrypt(safe.algorithm, password, safe.content)
            try:
                # a wrong password passes the padding check one time in 256: the plaintext must
                # also be one well-formed SafeContents
                contents = der.to_der(plain)
                if plain[:1] != b"\x30" or der.read_tlv(contents).end != len(contents):
                    raise der.DerError("not a SafeContents")
                bags = _bags(contents, 0)
            except (der.DerError, IndexError, PfxError):
                raise pbe.PbeError("wrong password") from None
        else:
            try:
                bags = _bags(contents, 0)
            except (der.DerError, IndexError) as exc:
                raise PfxError(str(exc)) from None
        cost = _bags_cost(contents, 0)
        if cost:
            raise Excessive(cost)
        for kind, value in bags:
            raw = pbe.tlv(value.tag, value.value)
            if kind == OID_CERT_BAG:
                cert_fields = der.children(value.value)
                if der.decode_oid(cert_fields[0].value) == OID_X509_CERTIFICATE:
                    octets = der.read_tlv(cert_fields[1].value)
                    opened.certificates.append(_octets(octets))
            elif kind == OID_KEY_BAG:
                opened.keys.append(raw)
            elif kind == OID_SHROUDED_KEY_BAG:
                opened.shrouded.append(raw)
    return opened


# What OpenSSL 3 (through cryptography) decrypts in a PFX: PBES2 and the PKCS#12 PBEs.
_KNOWN_SCHEMES = frozenset(
    {
        pbe.OID_PBES2,
        pbe.OID_PBE_SHA1_3DES,
        pbe.OID_PBE_SHA1_2DES,
        pbe.OID_PBE_SHA1_RC2_128,
        pbe.OID_PBE_SHA1_RC2_40,
    }
)


def _scheme(algorithm: der.Tlv) -> str | None:
    try:
        return der.decode_oid(der.children(algorithm.value)[0].value)
    except (der.DerError, IndexError):
        return None


def known_schemes(pfx: Pfx) -> bool:
    """Whether every encryption scheme visible in the file is one cryptography decrypts."""
    for safe in pfx.safes:
        if safe.kind == "encrypted" and safe.algorithm is not None:
            if _scheme(safe.algorithm) not in _KNOWN_SCHEMES:
                return False
        elif safe.kind == "data":
            try:
                bags = _bags(safe.content, 0)
            except (der.DerError, IndexError, PfxError):
                continue
            for kind, value in bags:
                if kind == OID_SHROUDED_KEY_BAG:
                    try:
                        algorithm = der.children(value.value)[0]
                    except (der.DerError, IndexError):
                        continue
                    if _scheme(algorithm) not in _KNOWN_SCHEMES:
                        return False
    return True
