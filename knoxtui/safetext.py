"""The one place that makes untrusted text safe to show (DESIGN.md §5).

Text read from a file, a server, a secrets server or typed by the user may carry C0/C1 control
characters: ESC starts terminal sequences (OSC 52 sets the clipboard, CSI 2J clears the screen),
CR overwrites a line already printed, BEL rings. Every text view (CLI output, reports, the console)
passes such text through `visible()`; JSON keeps the exact string (its encoder escapes controls).
This module is a leaf: standard library only.
"""

from __future__ import annotations

import re

# C0 (0x00-0x1f) without tab and newline, DEL, C1 (0x80-0x9f), and the Unicode characters that
# reorder or hide text on a terminal (bidi overrides and isolates, line/paragraph separators).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\r`, `\\x07`).

    One line by default: newline and tab are escaped too, so a name cannot forge a second line.
    `multiline=True` keeps newline and tab (bodies, PEM, descriptions) and escapes the rest.
    """
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE if multiline else _UNSAFE_ONE_LINE
    if pattern.search(value) is None:
        return value
    return pattern.sub(_escape, value)


def json_text(encoded: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with the controls json leaves raw
    (DEL, C1, bidi and line separators) written as `\\uXXXX`: the same strings, safe on a
    terminal. json already escapes C0; outside strings JSON text is ASCII."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


def has_controls(text: str, *, multiline: bool = False) -> bool:
    """True when `visible()` would change `text`."""
    pattern = _UNSAFE if multiline else _UNSAFE_ONE_LINE
    return pattern.search(text) is not None


def body_text(data: bytes, *, limit: int | None = None) -> tuple[str, bool]:
    """A response or file body as safe text: `(text, is_binary)`.

    Bytes that are not UTF-8, or text where control characters (other than tab, CR before LF and
    newline) make up more than a few percent, are binary: the caller shows "binary, N bytes".
    Otherwise the decoded text with every remaining control made visible.
    """
    chunk = data if limit is None else data[:limit]
    try:
        decoded = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multibyte character cut by the limit is not binary.
        if limit is not None and len(data) > limit and exc.start >= len(chunk) - 3:
            decoded = chunk[: exc.start].decode("utf-8", errors="strict")
        else:
            return "", True
    normalised = decoded.replace("\r\n", "\n")
    controls = len(_UNSAFE.findall(normalised))
    if "\x00" in normalised or controls > max(8, len(normalised) // 20):
        return "", True
    return visible(normalised, multiline=True), False
