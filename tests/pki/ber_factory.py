"""Turn DER into the BER that NSS/Firefox and some Windows tools write: indefinite lengths on
constructed elements and OCTET STRINGs cut into constructed chunks, in the outer layers only
(certificates inside keep their exact DER bytes, as those tools keep them). TEST MATERIAL ONLY."""

from __future__ import annotations


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    tag = data[offset]
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length


def _elements(value: bytes) -> list[tuple[int, bytes]]:
    out = []
    offset = 0
    while offset < len(value):
        tag, content, offset = _read(value, offset)
        out.append((tag, content))
    return out


def _is_der_sequence(value: bytes) -> bool:
    try:
        tag, content, end = _read(value, 0)
        if tag != 0x30 or end != len(value):
            return False
        _elements(content)
        return True
    except (IndexError, ValueError):
        return False


def berify(der: bytes, octet_levels: int = 2, chunk: int = 64, keep_depth: int = 99) -> bytes:
    """BER for one DER element. OCTET STRINGs holding a SEQUENCE are berified inside too, for
    `octet_levels` levels (a PKCS#12's AuthenticatedSafe and SafeContents). Elements at
    `keep_depth` and below stay DER (the certificates of a PKCS#7 are at depth 4)."""
    tag, content, _ = _read(der, 0)
    return _element(tag, content, octet_levels, chunk, 0, keep_depth)


def _element(
    tag: int, content: bytes, octet_levels: int, chunk: int, depth: int, keep: int
) -> bytes:
    if depth >= keep:
        return _tlv(tag, content)
    if tag & 0x20:
        inner = b"".join(
            _element(t, c, octet_levels, chunk, depth + 1, keep) for t, c in _elements(content)
        )
        return bytes([tag, 0x80]) + inner + b"\x00\x00"
    if tag == 0x04:
        if octet_levels > 0 and _is_der_sequence(content):
            t, c, _ = _read(content, 0)
            content = _element(t, c, octet_levels - 1, chunk, 0, keep)
        pieces = [content[i : i + chunk] for i in range(0, len(content), chunk)] or [b""]
        return b"\x24\x80" + b"".join(_tlv(0x04, p) for p in pieces) + b"\x00\x00"
    return _tlv(tag, content)
