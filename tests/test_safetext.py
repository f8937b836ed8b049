"""The one helper that makes untrusted text safe to show."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knoxtui.safetext import body_text, has_controls, visible


def test_escape_sequences_become_visible() -> None:
    hostile = "O=\x1b]52;c;ZWNobyBwd25lZA==\x07 ok\r\x1b[2J\x9b"
    shown = visible(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "\x9b" not in shown
    assert shown.startswith("O=\\x1b]52;c;")
    assert "\\r" in shown and "\\x07" in shown and "\\x9b" in shown


def test_plain_text_is_unchanged_and_unicode_kept() -> None:
    for text in ("CN=api.bank.example", "Zürich Kantonalbank ✔", ""):
        assert visible(text) == text
        assert not has_controls(text)


def test_one_line_by_default_multiline_keeps_newlines() -> None:
    assert visible("a\nb\tc") == "a\\nb\\tc"
    assert visible("a\nb\tc\x1b", multiline=True) == "a\nb\tc\\x1b"


def test_bidi_overrides_are_shown() -> None:
    assert visible("evil\u202etxt.exe") == "evil\\u202etxt.exe"


@given(st.text())
def test_nothing_unsafe_survives(text: str) -> None:
    shown = visible(text)
    assert not has_controls(shown)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in shown)


def test_body_text_binary_and_text() -> None:
    assert body_text(b"\x00\x01\x02\xff") == ("", True)
    text, binary = body_text(b'{"a": "\x1b[31mred"}\r\n')
    assert not binary and text == '{"a": "\\x1b[31mred"}\n'
    text, binary = body_text("é".encode() * 10, limit=5)
    assert not binary and text == "éé"
