"""SPEC §9 OfS annual return: the figures, each with the requests behind it, and their CSV form.

Counting goes through engine.ofs_counting (the same summary fields the event_approval process writes:
final_decision_on, withdrawn, ofs_category, rejection_reason_category, decision_reasons); this module adds
the drill-down lists, information shares, the median decision time and SLA breaches. Stdlib only.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..ofs_counting import OTHER_CATEGORIES, count_event_decisions, in_academic_year
from ..working_days import working_days_between

LONDON = ZoneInfo("Europe/London")
FIGURES: tuple[tuple[str, str], ...] = (
    ("E1", "Events approved (including approved with conditions)"),
    ("E2a", "Events approved with Prevent-related conditions"),
    ("E2b", "Events approved with non-Prevent conditions"),
    ("E3a", "Events rejected for Prevent reasons"),
    ("E3b", "Events rejected for other reasons"),
    *((f"E3b:{c}", f"Events rejected for other reasons: {c.replace('_', ' ')}") for c in OTHER_CATEGORIES),
)


@dataclass(frozen=True)
class RequestRow:
    """What reports read of an event request: id, submission time, status and its summary fields."""

    id: int
    started_at: datetime
    status: str
    summary: Mapping[str, Any]

    @property
    def submitted_on(self) -> date:
        """The London date the request was submitted."""
        return self.started_at.astimezone(LONDON).date()


@dataclass(frozen=True)
class ShareRow:
    """One sharing-log row as reports see it (no personal data)."""

    id: int
    instance_id: int | None
    direction: str
    decision: str
    created_at: datetime


@dataclass(frozen=True)
class BreachRow:
    """A review task finished after its due time (or still open past it)."""

    task_id: str
    instance_id: int
    name: str
    due_at: datetime
    closed_at: datetime | None


def academic_year_bounds(year: int) -> tuple[date, date]:
    """1 Aug `year` – 31 Jul `year + 1`."""
    return date(year, 8, 1), date(year + 1, 7, 31)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering the London dates `first`..`last` inclusive."""
    start = datetime.combine(first, datetime.min.time(), LONDON).astimezone(UTC)
    return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), LONDON).astimezone(UTC)


def figure_codes(summary: Mapping[str, Any]) -> tuple[str, ...]:
    """The figures one final decision counts in (the same rules as count_event_decisions)."""
    if summary.get("withdrawn"):
        return ("withdrawn",)
    category = summary.get("ofs_category")
    if category and str(category).startswith("approved"):
        extra = {"approved_prevent_conditions": ("E2a",), "approved_non_prevent_conditions": ("E2b",)}
        return ("E1", *extra.get(category, ()))
    if category == "rejected_prevent":
        return ("E3a",)
    if category == "rejected_other":
        return ("E3b", f"E3b:{summary.get('rejection_reason_category') or 'other'}")
    return ()


def decision_working_days(submitted_on: date, decided_on: str) -> int:
    """Working days from submission to decision: those after the submission day up to the decision day."""
    decided = date.fromisoformat(str(decided_on)[:10])
    return working_days_between(submitted_on, decided + timedelta(days=1))


def median_decision_days(rows: Iterable[RequestRow], in_range: Any) -> tuple[float | None, int]:
    """Median working days to the first decision of requests decided in range, and how many were timed."""
    days = [decision_working_days(r.submitted_on, r.summary["decided_on"]) for r in rows
            if r.summary.get("decided_on") and in_range(r.summary["decided_on"])]
    return (statistics.median(days) if days else None), len(days)


def shares_by_direction(shares: Iterable[ShareRow]) -> tuple[dict[str, dict[str, int]], dict[str, list[int]]]:
    """Counts of shares by direction and decision, and the log ids behind each."""
    counts: dict[str, dict[str, int]] = {}
    ids: dict[str, list[int]] = {}
    for share in shares:
        counts.setdefault(share.direction, {}).setdefault(share.decision, 0)
        counts[share.direction][share.decision] += 1
        ids.setdefault(f"shares:{share.direction}:{share.decision}", []).append(share.id)
    return counts, ids


def ofs_return(rows: Sequence[RequestRow], shares: Sequence[ShareRow], breaches: Sequence[BreachRow],
               year: int) -> dict[str, Any]:
    """The §9 return for the academic year starting 1 Aug `year`, with the request ids behind every figure."""
    first, last = academic_year_bounds(year)
    counted = [r for r in rows if in_academic_year(r.summary.get("final_decision_on"), year)]
    counts = count_event_decisions((r.summary for r in counted), year)
    drilldown: dict[str, list[int]] = {code: [] for code, _ in FIGURES}
    drilldown["withdrawn"] = []
    reasons = []
    for row in sorted(counted, key=lambda r: r.id):
        for code in figure_codes(row.summary):
            drilldown.setdefault(code, []).append(row.id)
        if row.summary.get("ofs_category") == "rejected_other" and not row.summary.get("withdrawn"):
            reasons.append({"instance_id": row.id, "category": row.summary.get("rejection_reason_category") or "other",
                            "reasons": row.summary.get("decision_reasons") or ""})
    median, timed = median_decision_days(rows, lambda day: in_academic_year(day, year))
    share_counts, share_ids = shares_by_direction(shares)
    drilldown.update(share_ids)
    drilldown["sla_breaches"] = sorted({b.instance_id for b in breaches})
    figures = {code: counts[code] for code in ("E1", "E2a", "E2b", "E3a", "E3b")}
    return {
        "year": year, "academic_year": f"{year}/{str(year + 1)[-2:]}", "from": first.isoformat(),
        "to": last.isoformat(), "figures": figures, "E3b_by_category": counts["E3b_by_category"],
        "E3b_reasons": reasons, "withdrawn_internal": counts["withdrawn"],
        "information_shares": share_counts, "median_decision_working_days": median, "decisions_timed": timed,
        "sla_breaches": len(breaches),
        "sla_breach_tasks": [{"task_id": b.task_id, "instance_id": b.instance_id, "name": b.name,
                              "due_at": b.due_at.isoformat(), "closed_at": b.closed_at.isoformat()
                              if b.closed_at else None} for b in breaches],
        "drilldown": drilldown,
    }


def ofs_csv(report: Mapping[str, Any]) -> str:
    """The return as CSV: one line per figure (code, description, count, request ids), then reasons and shares."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "figure", "description", "value", "ids"])
    drill = report["drilldown"]
    for code, label in FIGURES:
        value = report["figures"][code] if ":" not in code else report["E3b_by_category"][code.split(":")[1]]
        writer.writerow(["events", code, label, value, " ".join(map(str, drill.get(code, [])))])
    for reason in report["E3b_reasons"]:
        writer.writerow(["E3b_reasons", f"E3b:{reason['category']}", reason["reasons"], "", reason["instance_id"]])
    for direction, decisions in sorted(report["information_shares"].items()):
        for decision, count in sorted(decisions.items()):
            writer.writerow(["information_shares", f"{direction}:{decision}", f"Information shares {direction}, "
                             f"{decision}", count, " ".join(map(str, drill.get(f"shares:{direction}:{decision}", [])))])
    median = report["median_decision_working_days"]
    writer.writerow(["timeliness", "median_decision_working_days", "Median decision time (working days)",
                     "" if median is None else median, ""])
    writer.writerow(["timeliness", "sla_breaches", "Review tasks finished after their due date", report["sla_breaches"],
                     " ".join(map(str, drill["sla_breaches"]))])
    writer.writerow(["internal", "withdrawn", "Withdrawn (internal only, not reported)", report["withdrawn_internal"],
                     " ".join(map(str, drill["withdrawn"]))])
    return out.getvalue()
