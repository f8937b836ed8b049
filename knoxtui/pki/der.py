"""A minimal DER reader: just enough to sniff containers and decode qcStatements without a
third-party ASN.1 library (pki may import only the stdlib and cryptography)."""

from __future__ import annotations

from typing import NamedTuple

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


class Tlv(NamedTuple):
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


MAX_DEPTH = 64


def to_der(data: bytes) -> bytes:
    """Re-encode BER as DER, as OpenSSL reads it: indefinite lengths become definite, constructed
    strings (NSS/Windows write OCTET STRINGs in chunks) become one primitive string, long-form
    lengths become minimal. Already-DER input comes back unchanged. Raises DerError."""
    out, end = _ber_element(data, 0, 0)
    return out + data[end:] if data[end:].strip(b"\x00") else out


def is_ber(data: bytes) -> bool:
    """True when the first element is readable only as BER (indefinite lengths somewhere in its
    outer layers), i.e. `read_tlv` fails but `to_der` succeeds."""
    try:
        read_tlv(data)
        return False
    except DerError:
        pass
    try:
        to_der(data)
    except DerError:
        return False
    return True


_STRING_TAGS = frozenset({0x03, 0x04, 0x0C, 0x12, 0x13, 0x14, 0x16, 0x19, 0x1A, 0x1C, 0x1E})


def _encode_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _ber_header(data: bytes, offset: int) -> tuple[int, int, int | None]:
    """(tag, content offset, length or None for indefinite)."""
    if offset + 2 > len(data):
        raise DerError("short data")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        return tag, pos, first
    count = first & 0x7F
    if count == 0:
        if not tag & 0x20:
            raise DerError("indefinite length on a primitive element")
        return tag, pos, None
    if count > 4 or pos + count > len(data):
        raise DerError("bad length")
    length = int.from_bytes(data[pos : pos + count], "big")
    pos += count
    if pos + length > len(data):
        raise DerError("truncated")
    return tag, pos, length


def _ber_element(data: bytes, offset: int, depth: int) -> tuple[bytes, int]:
    """(DER of the element at `offset`, offset after it)."""
    if depth > MAX_DEPTH:
        raise DerError("nested too deeply")
    tag, pos, length = _ber_header(data, offset)
    if not tag & 0x20:
        assert length is not None
        end = pos + length
        return bytes([tag]) + _encode_length(length) + data[pos:end], end
    parts: list[bytes] = []
    limit = len(data) if length is None else pos + length
    while True:
        if length is None:
            if pos + 2 > len(data):
                raise DerError("indefinite length without end-of-contents")
            if data[pos] == 0 and data[pos + 1] == 0:
                pos += 2
                break
        elif pos >= limit:
            break
        child, pos = _ber_element(data, pos, depth + 1)
        if pos > limit:
            raise DerError("element overruns its parent")
        parts.append(child)
    primitive = tag & ~0x20
    if primitive in _STRING_TAGS:
        # a constructed string: the concatenation of its primitive pieces
        pieces = [read_tlv(piece) for piece in parts]
        if any(item.tag != primitive for item in pieces):
            raise DerError("constructed string with a foreign piece")
        if primitive == 0x03:
            # BIT STRING pieces each start with an unused-bits count; the last one's counts
            unused = pieces[-1].value[:1] if pieces else b"\x00"
            content = unused + b"".join(item.value[1:] for item in pieces)
        else:
            content = b"".join(item.value for item in pieces)
        return bytes([primitive]) + _encode_length(len(content)) + content, pos
    body = b"".join(parts)
    return bytes([tag]) + _encode_length(len(body)) + body, pos


def encode(tag: int, value: bytes) -> bytes:
    """One element, DER-encoded (`encode(t.tag, t.value)` re-creates a DER element read)."""
    return bytes([tag]) + _encode_length(len(value)) + value


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
        return excessive_algorithm(children(read_tlv(encrypted_key_info).value)[0])
    except (DerError, IndexError):
        return None


def excessive_algorithm(algorithm: Tlv) -> str | None:
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
                cost = excessive_algorithm(children(encrypted_data[1].value)[1])
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


def certificate_serial(certificate: bytes) -> int | None:
    """The serial number of a DER certificate, read here: cryptography warns on stderr (with a
    source path) when a serial is zero or negative, which RFC 5280 forbids and OpenSSL shows."""
    try:
        tbs = read_tlv(read_tlv(certificate).value)
        offset = 0
        item = read_tlv(tbs.value, offset)
        if item.tag == CONTEXT_0:
            item = read_tlv(tbs.value, item.end)
        if item.tag != INTEGER or not item.value:
            return None
        return int.from_bytes(item.value, "big", signed=True)
    except DerError:
        return None


# Curves OpenSSL knows but cryptography (and so knoxtui) does not use.
CURVE_NAMES = {
    "1.3.132.0.6": "secp112r1",
    "1.3.132.0.7": "secp112r2",
    "1.3.132.0.28": "secp128r1",
    "1.3.132.0.29": "secp128r2",
    "1.3.132.0.9": "secp160k1",
    "1.3.132.0.8": "secp160r1",
    "1.3.132.0.30": "secp160r2",
    "1.3.132.0.31": "secp192k1",
    "1.3.132.0.32": "secp224k1",
    "1.2.840.10045.3.1.2": "prime192v2",
    "1.2.840.10045.3.1.3": "prime192v3",
    "1.2.840.10045.3.1.4": "prime239v1",
    "1.2.840.10045.3.1.5": "prime239v2",
    "1.2.840.10045.3.1.6": "prime239v3",
    "1.2.156.10197.1.301": "SM2",
}


def certificate_spki(certificate: bytes) -> bytes | None:
    """The SubjectPublicKeyInfo element of a DER certificate, as written in it."""
    try:
        fields = children(read_tlv(read_tlv(certificate).value).value)
        if fields and fields[0].tag == CONTEXT_0:
            fields = fields[1:]
        spki = fields[5]  # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
        return encode(spki.tag, spki.value)
    except (DerError, IndexError):
        return None


def spki_shape(spki: bytes) -> tuple[str, int | None, str | None]:
    """(key type, size in bits, curve OID) read from a SubjectPublicKeyInfo, for keys that
    cryptography refuses to load (an RSA key with an even or too small exponent, a curve it does
    not know): what `openssl x509 -text` would still print."""
    try:
        algorithm, bits = children(read_tlv(spki).value)
        parts = children(algorithm.value)
        oid = decode_oid(parts[0].value)
        if oid in ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"):
            modulus = children(read_tlv(bits.value[1:]).value)[0].value.lstrip(b"\x00")
            size = (len(modulus) - 1) * 8 + modulus[0].bit_length() if modulus else 0
            return "rsa", size, None
        if oid == "1.2.840.10045.2.1":
            curve = decode_oid(parts[1].value) if len(parts) > 1 and parts[1].tag == OID else None
            return "ec", None, CURVE_NAMES.get(curve or "", curve)
        if oid == "1.2.840.10040.4.1":
            return "dsa", None, None
    except (DerError, IndexError, ValueError):
        pass
    return "unknown", None, None


def _tbs_fields(certificate: bytes) -> list[Tlv]:
    fields = children(read_tlv(read_tlv(certificate).value).value)
    return fields[1:] if fields and fields[0].tag == CONTEXT_0 else fields


def certificate_names(certificate: bytes) -> tuple[bytes, bytes] | None:
    """(subject, issuer) Name DER of a certificate, compared without decoding them."""
    try:
        fields = _tbs_fields(certificate)
        return encode(fields[4].tag, fields[4].value), encode(fields[2].tag, fields[2].value)
    except (DerError, IndexError):
        return None


def certificate_extensions(certificate: bytes) -> list[tuple[str, bytes]]:
    """(OID, value DER) of every extension, in order, duplicates kept."""
    out: list[tuple[str, bytes]] = []
    try:
        fields = children(read_tlv(read_tlv(certificate).value).value)
        holder = next((f for f in fields if f.tag == 0xA3), None)
        if holder is None:
            return out
        for extension in children(read_tlv(holder.value).value):
            parts = children(extension.value)
            out.append((decode_oid(parts[0].value), parts[-1].value))
    except (DerError, IndexError):
        pass
    return out


_PRINTABLE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
)


def strict_certificate(data: bytes) -> tuple[bytes, str]:
    """A DER copy of a certificate OpenSSL reads but cryptography's strict parser refuses, and
    what was changed ('' when nothing could be): minimal lengths, BOOLEAN TRUE as FF, a
    default value written out (critical FALSE) dropped, a PrintableString holding UTF-8 made a
    UTF8String. The copy is for reading fields only; fingerprint and PEM stay the original's."""
    fixes: set[str] = set()
    try:
        top = read_tlv(to_der(data))
        patched = _strict(top, fixes, 0, in_extension=False)
    except DerError:
        return data, ""
    if patched != data[: len(patched)] or len(patched) != len(data):
        fixes.add("length encodings")
    return patched, ", ".join(sorted(fixes)) if patched != data else ""


def _strict(item: Tlv, fixes: set[str], depth: int, *, in_extension: bool) -> bytes:
    if depth > MAX_DEPTH:
        raise DerError("nested too deeply")
    if item.tag == 0x01 and item.value not in (b"\x00", b"\xff"):
        fixes.add("BOOLEAN TRUE not written as FF")
        return encode(0x01, b"\xff")
    if item.tag == PRINTABLE_STRING and not set(item.value) <= _PRINTABLE:
        fixes.add("a PrintableString holding other characters")
        try:
            item.value.decode("utf-8")
        except UnicodeDecodeError:
            # OpenSSL shows such bytes one by one, as Latin-1
            return encode(UTF8_STRING, item.value.decode("latin-1").encode("utf-8"))
        return encode(UTF8_STRING, item.value)
    if item.tag == 0x04 and item.value[:1] in (b"\x30", b"\x31", b"\x03"):
        try:
            inner = read_tlv(item.value)
            if inner.end == len(item.value) and inner.tag & 0x20:
                return encode(0x04, _strict(inner, fixes, depth + 1, in_extension=False))
        except DerError:
            pass
        return encode(item.tag, item.value)
    if not item.tag & 0x20:
        return encode(item.tag, item.value)
    parts = children(item.value)
    if (
        item.tag == SEQUENCE
        and len(parts) == 3
        and parts[0].tag == OID
        and parts[1].tag == 0x01
        and parts[1].value == b"\x00"
        and parts[2].tag == 0x04
    ):
        fixes.add("a default value (critical FALSE) written out")
        parts = [parts[0], parts[2]]
    body = b"".join(_strict(p, fixes, depth + 1, in_extension=in_extension) for p in parts)
    return encode(item.tag, body)


def _header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at `pos`, without copying it."""
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4:
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    end = pos + length
    if end > len(data) or tag & 0x1F == 0x1F:
        raise DerError("truncated")
    return tag, pos, end


def certificate_head(certificate: bytes) -> tuple[int | None, bytes, bytes, bytes] | None:
    """(serial, subject DER, issuer DER, SPKI DER) of a certificate in one walk of its TBS
    (written for speed: it runs for every certificate seen), or None when it cannot be walked."""
    try:
        _tag, start, _end = _header(certificate, 0)
        _tag, pos, tbs_end = _header(certificate, start)
        spans: list[tuple[int, int, int, int]] = []
        while len(spans) < 7 and pos < tbs_end:
            tag, content, end = _header(certificate, pos)
            spans.append((tag, pos, content, end))
            pos = end
        if spans and spans[0][0] == CONTEXT_0:
            spans = spans[1:]
        serial_tag, _, serial_start, serial_end = spans[0]
        raw = certificate[serial_start:serial_end]
        number = int.from_bytes(raw, "big", signed=True) if raw and serial_tag == INTEGER else None
        issuer, subject, spki = spans[2], spans[4], spans[5]
        return (
            number,
            certificate[subject[1] : subject[3]],
            certificate[issuer[1] : issuer[3]],
            certificate[spki[1] : spki[3]],
        )
    except (DerError, IndexError):
        return None


def name_string_tags(name: bytes) -> set[int]:
    """The string types (tags) of every attribute value in a Name's DER, read without decoding
    (fast: it runs for every certificate seen). Raises DerError."""
    tags: set[int] = set()
    _tag, pos, end = _header(name, 0)
    while pos < end:
        _tag, rdn, rdn_end = _header(name, pos)
        while rdn < rdn_end:
            _tag, atv, atv_end = _header(name, rdn)
            _tag, _start, oid_end = _header(name, atv)
            tags.add(name[oid_end])
            rdn = atv_end
        pos = rdn_end
    return tags
