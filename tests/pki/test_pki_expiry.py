"""Expiry status and days remaining, at the boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from knoxtui.pki import ExpiryStatus, ExpiryThresholds, days_remaining, expiry_status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=100)


def test_days_remaining_floors() -> None:
    assert days_remaining(NOW + timedelta(days=10, hours=23), NOW) == 10
    assert days_remaining(NOW + timedelta(seconds=1), NOW) == 0
    assert days_remaining(NOW, NOW) == 0
    assert days_remaining(NOW - timedelta(seconds=1), NOW) == -1
    assert days_remaining(NOW - timedelta(days=3), NOW) == -3


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (timedelta(days=91), ExpiryStatus.VALID),
        (timedelta(days=90, hours=23), ExpiryStatus.WARNING),
        (timedelta(days=31), ExpiryStatus.WARNING),
        (timedelta(days=30, hours=12), ExpiryStatus.URGENT),
        (timedelta(seconds=1), ExpiryStatus.URGENT),
        (timedelta(0), ExpiryStatus.EXPIRED),
        (-timedelta(days=1), ExpiryStatus.EXPIRED),
    ],
)
def test_status_thresholds(until: timedelta, expected: ExpiryStatus) -> None:
    assert expiry_status(START, NOW + until, NOW) is expected


def test_not_yet_valid_and_custom_thresholds() -> None:
    assert expiry_status(NOW + timedelta(seconds=1), NOW + timedelta(days=400), NOW) is (
        ExpiryStatus.NOT_YET_VALID
    )
    custom = ExpiryThresholds(warning_days=200, urgent_days=100)
    assert expiry_status(START, NOW + timedelta(days=150), NOW, custom) is ExpiryStatus.WARNING
    assert expiry_status(START, NOW + timedelta(days=150), NOW) is ExpiryStatus.VALID
    assert str(ExpiryStatus.NOT_YET_VALID) == "not_yet_valid"
