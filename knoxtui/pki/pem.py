"""PEM blocks found in text that may carry anything around them: a UTF-8/UTF-16 BOM, CRLF line
endings, blank lines, indentation, and the `Bag Attributes` / `subject=` lines that
`openssl pkcs12 -nodes` writes before each block."""

from __future__ import annotations

import binascii
import re
import textwrap
from dataclasses import dataclass, field

_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9][A-Z0-9 #/_-]*)-----(.*?)-----END ([A-Z0-9 #/_-]*)-----", re.DOTALL
)
_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9][A-Z0-9 #/_-]*)-----")
_WHITESPACE = re.compile(rb"\s+")

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
PKCS7_LABELS = frozenset({"PKCS7", "CERTIFICATE CHAIN"})


@dataclass(frozen=True)
class PemBlock:
    """One decoded block. `der` is the payload; `headers` are RFC 1421 headers (Proc-Type, DEK-Info)
    that traditional encrypted keys carry."""

    label: str
    headers: tuple[tuple[str, str], ...]
    der: bytes = field(repr=False)

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
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def looks_like_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data


def find_blocks(data: bytes) -> tuple[list[PemBlock], list[BrokenBlock]]:
    """Every PEM block in `data`, in file order, and the ones that are damaged."""
    text = normalise_text(data)
    blocks: list[PemBlock] = []
    broken: list[BrokenBlock] = []
    last_end = 0
    for match in _BLOCK.finditer(text):
        label = match.group(1).decode("ascii")
        _report_unterminated(text[last_end : match.start()], broken)
        last_end = match.end()
        if match.group(3).decode("ascii") != label:
            broken.append(BrokenBlock(label, f"it begins as '{label}' but ends as another type"))
            continue
        block = _decode_block(label, match.group(2))
        if isinstance(block, BrokenBlock):
            broken.append(block)
        else:
            blocks.append(block)
    _report_unterminated(text[last_end:], broken)
    return blocks, broken


def _report_unterminated(gap: bytes, broken: list[BrokenBlock]) -> None:
    for begin in _BEGIN.finditer(gap):
        label = begin.group(1).decode("ascii")
        broken.append(BrokenBlock(label, "its '-----END' line is missing (the text is cut short)"))


def _decode_block(label: str, body: bytes) -> PemBlock | BrokenBlock:
    lines = [line.strip() for line in body.split(b"\n")]
    while lines and not lines[0]:
        lines.pop(0)
    headers: list[tuple[str, str]] = []
    while lines and b":" in lines[0]:
        name, _, value = lines.pop(0).partition(b":")
        headers.append(
            (name.strip().decode("ascii", "replace"), value.strip().decode("ascii", "replace"))
        )
    payload = _WHITESPACE.sub(b"", b"".join(lines))
    if not payload:
        return BrokenBlock(label, "it is empty")
    try:
        der = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        return BrokenBlock(label, "its base64 text is damaged (a character was changed or lost)")
    return PemBlock(label, tuple(headers), der)
