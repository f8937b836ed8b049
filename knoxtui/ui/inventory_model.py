"""Vault listings shaped into table records: one row per secret and environment value."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from knoxtui.lifecycle.expiry import STATUS_WORDS
from knoxtui.ui.widgets.record_table import Column, Record

STATUS_LABELS = STATUS_WORDS
STATUS_ORDER = ("expired", "urgent", "warning", "not_yet_valid", "valid")

# Priorities (lower stays longer at a narrow terminal): the expiry state is always visible.
INVENTORY_COLUMNS = (
    Column("name", "Name", 10, 32, priority=0),
    Column("type", "Type", 6, 11, priority=6),
    Column("environment", "Environment", 8, 14, priority=3),
    Column("subject_cn", "Subject CN", 10, 30, priority=5, grow=True),
    Column("issuer_cn", "Issuer CN", 9, 26, priority=7, grow=True),
    Column("expires", "Expires", 10, 10, priority=4),
    Column("days", "Days", 5, 6, justify="right", priority=2),
    Column("status", "Status", 8, 13, priority=1),
)
EXPIRY_COLUMN = 6  # "Days": the default sort, soonest first

# Sort keys must compare across rows: None-free tuples (missing values sort last).
_LAST = (1, "")


def _text_key(value: str | None) -> tuple[int, str]:
    return (0, value.lower()) if value else _LAST


def inventory_records(secrets: Iterable[Any], now: datetime, thresholds: Any) -> list[Record]:
    """Rows for every environment value of every secret (vault `SecretInfo`s)."""
    records: list[Record] = []
    for secret in secrets:
        values = secret.values or ()
        for value in values:
            meta = getattr(value, "certificate", None)
            bundle = None if meta is not None else getattr(value, "ca_bundle", None)
            if bundle is not None:
                # A CA bundle shows its worst certificate (the first to expire), and how many more.
                meta = bundle.worst(now, thresholds)
            if meta is not None:
                days = meta.days_remaining(now)
                status = str(meta.status(now, thresholds))
                expires = meta.valid_until.strftime("%Y-%m-%d")
                subject_cn = meta.subject_cn or meta.subject
                if bundle is not None and bundle.count > 1:
                    subject_cn += f" +{bundle.count - 1}"
                issuer_cn = meta.issuer_cn or meta.issuer
                days_text = str(days)
                days_key: tuple[int, int] = (0, days)
                status_label = STATUS_LABELS.get(status, status)
                status_key = (0, STATUS_ORDER.index(status)) if status in STATUS_ORDER else (1, 0)
                tone = status
            else:
                subject_cn = issuer_cn = expires = days_text = ""
                days_key = (1, 0)
                status_label = "—"
                status_key = (2, 0)
                tone = "plain"
            if getattr(secret, "status", None) == "retiring":
                status_label += " (retiring)"
            cells = (
                secret.name,
                secret.secret_type,
                value.environment,
                subject_cn,
                issuer_cn,
                expires,
                days_text,
                status_label,
            )
            records.append(
                Record(
                    key=(secret.name, value.environment),
                    cells=cells,
                    sort_keys=(
                        _text_key(secret.name),
                        _text_key(secret.secret_type),
                        _text_key(value.environment),
                        _text_key(subject_cn),
                        _text_key(issuer_cn),
                        _text_key(expires),
                        days_key,
                        status_key,
                    ),
                    tone=tone,
                    search=" ".join(cells).lower() + (" ca bundle" if bundle is not None else ""),
                )
            )
    return records


def status_counts(records: Iterable[Record]) -> Counter[str]:
    return Counter(record.tone for record in records)
