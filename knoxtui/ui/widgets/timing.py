"""The timing of a run as a waterfall: each phase starts where the one before ended, so the bars
add up to the total (the OAuth2 token request comes first and counts in it)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

BAR_WIDTH = 28


def timing_phases(timings: Mapping[str, float | None]) -> list[tuple[str, float]]:
    """(label, ms) in the order they happen; `total` last is their sum (what the user waited)."""
    oauth2 = timings.get("oauth2_ms") or 0.0
    connect = timings.get("connect_ms") or 0.0
    tls = timings.get("tls_handshake_ms") or 0.0
    ttfb = timings.get("ttfb_ms") or 0.0
    request_total = timings.get("total_ms")
    phases: list[tuple[str, float]] = []
    if oauth2:
        phases.append(("OAuth2 token", oauth2))
    if connect:
        phases.append(("DNS + connect", connect))
    if tls:
        phases.append(("TLS handshake", tls))
    if ttfb:
        phases.append(("first byte", ttfb))
    if request_total is not None:
        rest = request_total - connect - tls - ttfb
        if rest >= 0.05:
            # after the first byte: the body; without one, the time until it failed
            phases.append(("body + rest" if ttfb else "until failure", rest))
        total = oauth2 + request_total
    else:
        total = sum(ms for _label, ms in phases)
    if not phases and not total:
        return []
    return [*phases, ("total", total)]


def timing_bars(timings: Mapping[str, float | None], accent: str) -> Text:
    phases = timing_phases(timings)
    text = Text()
    text.append("Timing\n", style="bold")
    if not phases:
        text.append("  (nothing was sent)\n")
        return text
    total = phases[-1][1] or 1.0
    offset = 0.0
    for label, ms in phases:
        if label == "total":
            start, cells = 0, BAR_WIDTH
        else:
            start = min(BAR_WIDTH - 1, int(BAR_WIDTH * offset / total))
            end = max(start + 1, round(BAR_WIDTH * (offset + ms) / total))
            cells = min(BAR_WIDTH, end) - start
            offset += ms
        text.append(f"{label:<14}")
        text.append(" " * start)
        text.append("█" * cells, style=accent if label != "total" else f"bold {accent}")
        text.append(" " * (BAR_WIDTH - start - cells))
        text.append(f" {ms:8.1f} ms\n")
    return text
