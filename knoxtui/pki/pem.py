"""PEM blocks found in text that may carry anything around them: a UTF-8/UTF-16 BOM, CRLF line
endings, blank lines, indentation, and the `Bag Attributes` / `subject=` lines that
`openssl pkcs12 -nodes` writes before each block."""

from __future__ import annotations

import binascii
import hashlib
import re
import textwrap
from dataclasses import dataclass, field

from knoxtui.pki.lazy import lazy

_LABEL = re.compile(rb"[A-Z0-9][A-Z0-9 #/_-]{0,63}")
_WHITESPACE = b" \t\n\r\x0b\x0c"

KEY_LABELS = frozenset(
    {
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
    }
)
CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
PKCS7_LABELS = frozenset({"PKCS7", "CERTIFICATE CHAIN", "PKCS #7 SIGNED DATA"})
CMS_LABELS = frozenset({"CMS"})


@dataclass(frozen=True)
class PemBlock:
    """One block. `payload` is its base64 text without whitespace, decoded to `der` on first use
    (raising ValueError when damaged); `headers` are the RFC 1421 headers (Proc-Type, DEK-Info)
    of traditional encrypted keys. `digest` identifies the block for caches without decoding."""

    label: str
    headers: tuple[tuple[str, str], ...]
    payload: bytes = field(repr=False)

    @lazy
    def der(self) -> bytes:
        try:
            return binascii.a2b_base64(self.payload, strict_mode=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                "its base64 text is damaged (a character was changed or lost)"
            ) from None

    @lazy
    def digest(self) -> bytes:
        head = self.label + "".join(f"\n{name}:{value}" for name, value in self.headers) + "\n"
        return hashlib.sha256(head.encode() + self.payload).digest()

    @property
    def encrypted(self) -> bool:
        if self.label == "ENCRYPTED PRIVATE KEY":
            return True
        return any(k == "Proc-Type" and "ENCRYPTED" in v.upper() for k, v in self.headers)

    def text(self) -> bytes:
        """The block re-written as canonical PEM (LF endings, 64-column base64)."""
        body = "\n".join(textwrap.wrap(binascii.b2a_base64(self.der, newline=False).decode(), 64))
        head = "".join(f"{k}: {v}\n" for k, v in self.headers)
        if head:
            head += "\n"
        return f"-----BEGIN {self.label}-----\n{head}{body}\n-----END {self.label}-----\n".encode()


@dataclass(frozen=True)
class BrokenBlock:
    """A block that looks like PEM but cannot be decoded (why, in words a user understands)."""

    label: str
    reason: str


def normalise_text(data: bytes) -> bytes:
    """Undo what editors and Windows tools do to text files: BOMs, UTF-16, CR line endings."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def looks_like_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data


def find_blocks(data: bytes) -> tuple[list[PemBlock], list[BrokenBlock]]:
    """Every PEM block in `data`, in file order, and the ones that are damaged."""
    # Plain bytes.find() scanning: several times faster than a regex, and this runs on every
    # keystroke of live validation.
    text = normalise_text(data)
    blocks: list[PemBlock] = []
    broken: list[BrokenBlock] = []
    pos = 0
    while True:
        begin = text.find(b"-----BEGIN ", pos)
        if begin < 0:
            break
        label_start = begin + 11
        label_end = text.find(b"-----", label_start)
        raw_label = text[label_start:label_end] if label_end >= 0 else b""
        if not _LABEL.fullmatch(raw_label):
            pos = label_start
            continue
        label = raw_label.decode("ascii")
        body_start = label_end + 5
        end_marker = b"-----END " + raw_label + b"-----"
        end = text.find(end_marker, body_start)
        next_begin = text.find(b"-----BEGIN ", body_start)
        if end < 0 or 0 <= next_begin < end:
            broken.append(
                BrokenBlock(label, "its '-----END' line is missing (the text is cut short)")
            )
            pos = body_start
            continue
        block = _decode_block(label, text[body_start:end])
        if isinstance(block, BrokenBlock):
            broken.append(block)
        else:
            blocks.append(block)
        pos = end + len(end_marker)
    return blocks, broken


def _decode_block(label: str, body: bytes) -> PemBlock | BrokenBlock:
    headers: list[tuple[str, str]] = []
    if b":" in body:
        lines = [line.strip() for line in body.split(b"\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and b":" in lines[0]:
            name, _, value = lines.pop(0).partition(b":")
            headers.append(
                (name.strip().decode("ascii", "replace"), value.strip().decode("ascii", "replace"))
            )
        body = b"".join(lines)
    payload = body.translate(None, _WHITESPACE)
    if not payload:
        return BrokenBlock(label, "it is empty")
    return PemBlock(label, tuple(headers), payload)
