"""SPEC §9 event-decision counts from instance summaries (pure; the report service feeds it rows).

One count per event, by its final decision date in the academic year (1 Aug – 31 Jul); an appeal's outcome
replaces the rejection it overturned (the summary holds only the final decision); withdrawn requests are
counted separately and never reported. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

OTHER_CATEGORIES = ("health_and_safety", "procedural", "other")


def in_academic_year(day: str | None, year: int) -> bool:
    """True when the ISO date falls in the academic year starting 1 Aug `year`."""
    return bool(day) and date(year, 8, 1) <= date.fromisoformat(str(day)[:10]) <= date(year + 1, 7, 31)


def count_event_decisions(summaries: Iterable[Mapping[str, Any]], year: int) -> dict[str, Any]:
    """E1, E2a, E2b, E3a, E3b (with a per-category breakdown and reasons) and the internal withdrawn count."""
    counts: dict[str, Any] = {"E1": 0, "E2a": 0, "E2b": 0, "E3a": 0, "E3b": 0,
                              "E3b_by_category": {c: 0 for c in OTHER_CATEGORIES}, "E3b_reasons": [],
                              "withdrawn": 0}
    for summary in summaries:
        if not in_academic_year(summary.get("final_decision_on"), year):
            continue
        if summary.get("withdrawn"):
            counts["withdrawn"] += 1
            continue
        category = summary.get("ofs_category")
        if category and category.startswith("approved"):
            counts["E1"] += 1
            counts["E2a"] += category == "approved_prevent_conditions"
            counts["E2b"] += category == "approved_non_prevent_conditions"
        elif category == "rejected_prevent":
            counts["E3a"] += 1
        elif category == "rejected_other":
            counts["E3b"] += 1
            reason = summary.get("rejection_reason_category") or "other"
            counts["E3b_by_category"][reason] = counts["E3b_by_category"].get(reason, 0) + 1
            counts["E3b_reasons"].append({"category": reason, "reasons": summary.get("decision_reasons") or ""})
    return counts
