"""A minimal DER reader: just enough to sniff containers and decode qcStatements without a
third-party ASN.1 library (pki may import only the stdlib and cryptography)."""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OID = 0x06
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
IA5_STRING = 0x16
CONTEXT_0 = 0xA0

# Object identifiers we look for when sniffing binary input, as DER content bytes.
OID_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
OID_PKCS7_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")


class DerError(ValueError):
    """The bytes are not well-formed DER."""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    end: int  # offset just after this element in the buffer it was read from


def read_tlv(data: bytes, offset: int = 0) -> Tlv:
    """One tag-length-value element at `offset` (definite lengths only, as DER requires)."""
    if offset + 2 > len(data):
        raise DerError("short data")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("truncated")
    return Tlv(tag, data[pos:end], end)


def children(value: bytes) -> list[Tlv]:
    """The elements inside a constructed value."""
    items = []
    offset = 0
    while offset < len(value):
        item = read_tlv(value, offset)
        items.append(item)
        offset = item.end
    return items


def outer_length(data: bytes) -> int | None:
    """Total length of the first element, or None when it is not readable DER."""
    try:
        return read_tlv(data).end
    except DerError:
        return None


def decode_oid(content: bytes) -> str:
    """Dotted string of an OBJECT IDENTIFIER's content bytes."""
    if not content:
        raise DerError("empty OID")
    parts: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if content[-1] & 0x80:
        raise DerError("unterminated OID")
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])


def decode_string(item: Tlv) -> str:
    """A UTF8String, PrintableString or IA5String."""
    if item.tag not in (UTF8_STRING, PRINTABLE_STRING, IA5_STRING):
        raise DerError(f"not a string (tag {item.tag:#x})")
    return item.value.decode("utf-8", "replace")


# Work factors above these would keep a key derivation busy for minutes (a hostile or broken
# file must never hang live validation); real tools use 2,048 to 600,000 iterations.
MAX_ITERATIONS = 10_000_000
MAX_SCRYPT_BYTES = 1 << 30
_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_SCRYPT = "1.3.6.1.4.1.11591.4.11"


def _integer(item: Tlv) -> int:
    if item.tag != INTEGER:
        raise DerError("not an INTEGER")
    return int.from_bytes(item.value, "big", signed=True)


def excessive_kdf(encrypted_key_info: bytes) -> str | None:
    """Why the key derivation of an EncryptedPrivateKeyInfo (PKCS#8) would take unreasonably
    long, or None. Anything unreadable is left for the real parser to judge."""
    try:
        return _excessive_algorithm(children(read_tlv(encrypted_key_info).value)[0])
    except (DerError, IndexError):
        return None


def _excessive_algorithm(algorithm: Tlv) -> str | None:
    parts = children(algorithm.value)
    oid = decode_oid(parts[0].value)
    if oid == _PBES2:
        kdf = children(children(parts[1].value)[0].value)
        kdf_oid = decode_oid(kdf[0].value)
        fields = children(kdf[1].value)
        if kdf_oid == _PBKDF2 and _integer(fields[1]) > MAX_ITERATIONS:
            return f"{_integer(fields[1]):,} PBKDF2 iterations"
        if kdf_oid == _SCRYPT:
            n, r, p = (_integer(f) for f in fields[1:4])
            if 128 * n * r > MAX_SCRYPT_BYTES or n * p > MAX_ITERATIONS:
                return f"scrypt parameters N={n}, r={r}, p={p}"
    elif len(parts) > 1 and parts[1].tag == SEQUENCE:
        fields = children(parts[1].value)  # PBES1 / PKCS#12 PBE: salt, iterations
        if len(fields) > 1 and fields[1].tag == INTEGER and _integer(fields[1]) > MAX_ITERATIONS:
            return f"{_integer(fields[1]):,} iterations"
    return None


_OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_OID_DATA = "1.2.840.113549.1.7.1"


def excessive_pkcs12(pfx: bytes) -> str | None:
    """Why opening a PFX would take unreasonably long (its MAC, its encrypted bags, its
    shrouded key bags), or None. Files we cannot walk (BER-constructed strings) pass."""
    try:
        parts = children(read_tlv(pfx).value)
        if len(parts) > 2:
            mac_fields = children(parts[2].value)
            if len(mac_fields) > 2 and _integer(mac_fields[2]) > MAX_ITERATIONS:
                return f"{_integer(mac_fields[2]):,} MAC iterations"
        auth_safe = _content_octets(parts[1])
        for info in children(read_tlv(auth_safe).value):
            fields = children(info.value)
            kind = decode_oid(fields[0].value)
            if kind == _OID_ENCRYPTED_DATA:
                encrypted_data = children(read_tlv(fields[1].value).value)
                cost = _excessive_algorithm(children(encrypted_data[1].value)[1])
                if cost:
                    return cost
            elif kind == _OID_DATA:
                for bag in children(read_tlv(_content_octets(info)).value):
                    bag_fields = children(bag.value)
                    if decode_oid(bag_fields[0].value) == _OID_SHROUDED_KEY_BAG:
                        cost = excessive_kdf(bag_fields[1].value)
                        if cost:
                            return cost
    except (DerError, IndexError):
        return None
    return None


def _content_octets(content_info: Tlv) -> bytes:
    """The OCTET STRING inside a ContentInfo of type data ([0] EXPLICIT)."""
    explicit = children(content_info.value)[1]
    octets = read_tlv(explicit.value)
    if octets.tag != 0x04:
        raise DerError("not a primitive OCTET STRING")
    return octets.value
