"""SPEC §5 retention rules (pure): when each kind of record expires, and how personal data is redacted.

Redaction keeps what reports count (decisions, categories, dates, scores, codes, numbers, booleans) and replaces
every other text (names, emails, titles, descriptions, reasons, free text) with REDACTED, recursively through
lists and nested objects such as speakers. Stdlib only.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

REDACTED = "[redacted]"
# Text fields kept because they are codes that reports and the audit count, never free text about a person.
KEEP_FIELDS = frozenset({
    "decision", "risk_level", "route", "conditions", "required_mitigations", "conditions_added", "conditions_removed",
    "ofs_category", "appeal_outcome", "notice_decision", "external_intel", "prior_incidents", "audience",
    "topic_sensitivity", "protest_anticipated", "direction", "art6_basis", "data_categories_shared",
    "data_requested", "transfer_method", "conditions_response", "incidents", "status",
})
KEEP_SUFFIXES = ("_on", "_at", "_category", "_categories", "_level", "_check", "_decision", "_outcome", "_mode",
                 "_type", "_code", "_codes")
# Spiff's serializer writes typed values (dates, datetimes) as {"typename": ..., "value": ...}: not personal.
TYPED_VALUE_KEY = "typename"
# Where a serialized workflow keeps case data: workflow/subprocess/task `data`, and task deltas' `updates`.
DATA_KEYS = frozenset({"data", "updates"})


def is_kept(key: str | None) -> bool:
    """True for fields whose text is a code or a date (kept through redaction)."""
    return key is not None and (key in KEEP_FIELDS or key.endswith(KEEP_SUFFIXES))


def redact_value(value: Any, key: str | None = None) -> Any:
    """`value` with every free text outside the kept fields replaced by REDACTED."""
    if isinstance(value, dict):
        if TYPED_VALUE_KEY in value:
            return value
        return {k: redact_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, key) for v in value]
    if isinstance(value, str) and not is_kept(key):
        return REDACTED if value else value
    return value


def _redact_data_dicts(node: Any) -> Any:
    """Walk a serialized workflow and redact every case-data dictionary (DATA_KEYS) in it."""
    if isinstance(node, dict):
        return {k: (redact_value(v) if k in DATA_KEYS and isinstance(v, dict) else _redact_data_dicts(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_redact_data_dicts(v) for v in node]
    return node


def redact_state(state: str) -> str:
    """A serialized workflow with its case data redacted (its structure, and so its loadability, unchanged)."""
    if not state:
        return state
    return json.dumps(_redact_data_dicts(json.loads(state)), separators=(",", ":"))


def redact_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The instance summary with free text redacted; counting fields survive."""
    return redact_value(dict(summary or {}))


def add_years(day: date, years: int) -> date:
    """The same day `years` later (28 Feb for 29 Feb)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, last)
        except ValueError:
            continue
    raise ValueError(day)


def _day(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def event_file_expiry(summary: dict[str, Any], started_at: datetime, years: int) -> date:
    """Event files: the end of the academic year of the event (31 Jul) plus `years`."""
    day = _day(summary.get("start_at")) or _day(summary.get("final_decision_on")) or started_at.date()
    year_end = date(day.year + (1 if day.month >= 8 else 0), 7, 31)
    return add_years(year_end, years)


def closed_case_expiry(ended_at: datetime, months: int) -> date:
    """Information received about a speaker: the case closing date plus `months`."""
    return add_months(ended_at.date(), months)


def sharing_log_expiry(created_at: datetime, years: int) -> date:
    """A sharing-log row: its date plus `years`."""
    return add_years(created_at.date(), years)
