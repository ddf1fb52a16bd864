"""SPEC §13 staff-awareness figures (pure; the awareness service feeds it rows). Stdlib only.

T1 induction, T2 refresher, T3 broader safeguarding: people (distinct usernames) who completed such training
in the academic year (1 Aug – 31 Jul), by completion date.
W1 cases escalated to the Prevent lead, W2 external advice sought, W3 formal (Channel) referrals: one count per
case and stage, by the date the stage was reached, broken down by the OfS ideology categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

COURSES = ("prevent_awareness_elearning", "wrap_workshop", "channel_awareness", "safeguarding_briefing", "other")
TRAINING_TYPES = ("induction", "refresher", "broader_safeguarding")
IDEOLOGY_CATEGORIES = ("islamist", "extreme_right_wing", "mixed_unclear_unstable", "other")
TRIAGE_OUTCOMES = ("no_further_action", "internal_support", "seek_external_advice")
TRAINING_FIGURES = {"T1": "induction", "T2": "refresher", "T3": "broader_safeguarding"}
CONCERN_FIGURES = {"W1": "escalated", "W2": "advice_sought", "W3": "referred"}


def academic_year_bounds(year: int) -> tuple[date, date]:
    """The first and last day of the academic year starting 1 Aug `year`."""
    return date(year, 8, 1), date(year + 1, 7, 31)


def in_academic_year(day: str | None, year: int) -> bool:
    """True when the ISO date (or date-time) falls in the academic year starting 1 Aug `year`."""
    if not day:
        return False
    first, last = academic_year_bounds(year)
    return first <= date.fromisoformat(str(day)[:10]) <= last


def count_training(records: Iterable[Mapping[str, Any]], year: int) -> dict[str, int]:
    """T1–T3: distinct people with a completed record of each training type in the year."""
    people: dict[str, set[str]] = {figure: set() for figure in TRAINING_FIGURES}
    for record in records:
        if record.get("status", "completed") != "completed" or not in_academic_year(record.get("completed_on"), year):
            continue
        for figure, training_type in TRAINING_FIGURES.items():
            if record.get("training_type") == training_type:
                people[figure].add(str(record["person"]).strip().lower())
    return {figure: len(names) for figure, names in people.items()}


def count_concerns(milestones: Iterable[Mapping[str, Any]], year: int) -> dict[str, Any]:
    """W1–W3 with a per-category breakdown: one count per (case, stage) reached in the year."""
    seen: dict[str, set[tuple[Any, str]]] = {figure: set() for figure in CONCERN_FIGURES}
    for milestone in milestones:
        if not in_academic_year(milestone.get("occurred_on"), year):
            continue
        for figure, stage in CONCERN_FIGURES.items():
            if milestone.get("stage") == stage:
                category = milestone.get("ideology_category")
                seen[figure].add((milestone["instance_id"], category if category in IDEOLOGY_CATEGORIES else "other"))
    counts: dict[str, Any] = {}
    for figure, cases in seen.items():
        counts[figure] = len({case for case, _ in cases})
        counts[f"{figure}_by_category"] = {c: sum(1 for _, cat in cases if cat == c) for c in IDEOLOGY_CATEGORIES}
    return counts


def awareness_counts(records: Iterable[Mapping[str, Any]], milestones: Iterable[Mapping[str, Any]],
                     year: int) -> dict[str, Any]:
    """All §13 figures for one academic year, in report order."""
    return {"academic_year": f"{year}/{str(year + 1)[-2:]}", **count_training(records, year),
            **count_concerns(milestones, year)}
