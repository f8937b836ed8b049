"""Tiny timing helpers for benchmarks: medians over repeats, ratios against a reference."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, number: int = 1) -> float:
    """Median wall time of `number` calls of `fn`, over `repeat` rounds, per call."""
    fn()  # warm-up
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.3f} s "


def row(label: str, seconds: float, reference: float | None = None, goal: str = "") -> str:
    ratio = f"  {seconds / reference:6.2f}x" if reference else ""
    return f"  {label:<58}{fmt(seconds)}{ratio}  {goal}".rstrip()
