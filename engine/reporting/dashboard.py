"""Dashboard figures for the Prevent lead and security over a date range (pure; the report service queries).

Requests are those submitted in the range; decisions those whose final decision date is in it. Stdlib only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from .ofs import BreachRow, RequestRow, ShareRow, median_decision_days, shares_by_direction

STATUSES = ("running", "completed", "cancelled", "error")
RISK_BANDS = ("LOW", "MEDIUM", "HIGH", "REFUSE_LEGAL", "not assessed")
DECISIONS = ("approved", "approved_with_conditions", "rejected", "not_in_scope", "withdrawn")


def months_between(first: date, last: date) -> list[str]:
    """Every month (YYYY-MM) from `first` to `last` inclusive."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard_figures(rows: Sequence[RequestRow], shares: Sequence[ShareRow], breaches: Sequence[BreachRow],
                      escalations: int, first: date, last: date) -> dict[str, Any]:
    """Requests by status and risk band, decisions per month, median decision time, SLA breaches, shares."""
    def in_range(day: Any) -> bool:
        return bool(day) and first <= date.fromisoformat(str(day)[:10]) <= last

    submitted = [r for r in rows if first <= r.submitted_on <= last]
    statuses = Counter(r.status for r in submitted)
    bands = Counter(str(r.summary.get("risk_level") or "not assessed") for r in submitted)
    months = {m: dict.fromkeys(DECISIONS, 0) for m in months_between(first, last)}
    for row in rows:
        day = row.summary.get("final_decision_on")
        decision = row.summary.get("decision")
        if in_range(day) and decision in DECISIONS:
            months[str(day)[:7]][decision] += 1
    median, timed = median_decision_days(rows, in_range)
    share_counts, _ = shares_by_direction(shares)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "requests": len(submitted),
        "by_status": {s: statuses.get(s, 0) for s in STATUSES},
        "by_risk_band": {b: bands.get(b, 0) for b in RISK_BANDS},
        "decisions_per_month": months,
        "median_decision_working_days": median, "decisions_timed": timed,
        "sla_breaches": len(breaches), "escalations": escalations,
        "information_shares": share_counts,
    }
