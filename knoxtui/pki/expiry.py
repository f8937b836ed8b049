"""Expiry: days remaining and the valid/warning/urgent/expired/not_yet_valid status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ExpiryStatus(StrEnum):
    VALID = "valid"
    WARNING = "warning"
    URGENT = "urgent"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


@dataclass(frozen=True)
class ExpiryThresholds:
    """Days left at or below which a certificate is `warning` / `urgent` (DESIGN.md §3)."""

    warning_days: int = 90
    urgent_days: int = 30


DEFAULT_THRESHOLDS = ExpiryThresholds()


def days_remaining(valid_until: datetime, now: datetime) -> int:
    """Whole days left, floored; negative once expired (one second past expiry is -1)."""
    return (valid_until - now) // timedelta(days=1)


def expiry_status(
    valid_from: datetime,
    valid_until: datetime,
    now: datetime,
    thresholds: ExpiryThresholds = DEFAULT_THRESHOLDS,
) -> ExpiryStatus:
    if now < valid_from:
        return ExpiryStatus.NOT_YET_VALID
    if now >= valid_until:
        return ExpiryStatus.EXPIRED
    days = days_remaining(valid_until, now)
    if days <= thresholds.urgent_days:
        return ExpiryStatus.URGENT
    if days <= thresholds.warning_days:
        return ExpiryStatus.WARNING
    return ExpiryStatus.VALID
