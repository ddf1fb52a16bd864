"""Functions that diagram scripts call (dates in working days, scope, speaker factors, OfS category).

Pure helpers: no database, no SpiffWorkflow. Values go into task data, so dates are ISO strings.
Imports working_days only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import clock, working_days

LONDON = ZoneInfo("Europe/London")
SEVERITY = {
    "proscribed_check": ("none", "suspected", "confirmed"),
    "prior_incidents": ("none", "minor", "serious"),
    "external_intel": ("not_requested", "green", "amber", "red"),
}
IN_SCOPE_VENUES = ("on_campus", "su_premises", "online", "hybrid")
UNIVERSITY_ORGANISERS = ("staff_department", "student_society", "students_union")


def _day(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(LONDON).date()
    return value


def today() -> str:
    """Today's date in London (ISO)."""
    return clock.now().astimezone(LONDON).date().isoformat()


def london_date(value: date | datetime | str) -> str:
    """The London calendar date of a date or date-time (ISO)."""
    return _day(value).isoformat()


def working_days_until(first: date | datetime | str, last: date | datetime | str) -> int:
    """Working days strictly after `first` and strictly before the London date of `last`."""
    return working_days.working_days_between(_day(first), _day(last))


def working_day_after(start: date | datetime | str, days: int) -> str:
    """The date `days` working days after (negative: before) `start` (ISO)."""
    return working_days.add_working_days(_day(start), int(days)).isoformat()


def end_of_day(day: date | datetime | str) -> str:
    """23:59:59 London time on `day`, as an ISO date-time with offset (timers and due dates)."""
    return datetime.combine(_day(day), time(23, 59, 59), LONDON).isoformat()


def at_london_time(day: date | datetime | str, hour: int = 9) -> str:
    """`hour`:00 London time on `day`, as an ISO date-time with offset."""
    return datetime.combine(_day(day), time(int(hour)), LONDON).isoformat()


def earliest(*days: str) -> str:
    """The earliest of several ISO dates."""
    return min(_day(d) for d in days).isoformat()


def latest(*days: str) -> str:
    """The latest of several ISO dates."""
    return max(_day(d) for d in days).isoformat()


def decision_due_date(submitted_on: str, review_working_days: int, event_date: str) -> str:
    """SPEC §8: N working days after submission, capped at 5 working days before the event, never before today."""
    due = earliest(working_day_after(submitted_on, review_working_days), working_day_after(event_date, -5))
    return latest(due, submitted_on)


def years_after(day: date | datetime | str, years: int) -> str:
    """The same calendar date `years` later (28 Feb for 29 Feb) (ISO)."""
    start = _day(day)
    try:
        return start.replace(year=start.year + int(years)).isoformat()
    except ValueError:
        return start.replace(year=start.year + int(years), day=28).isoformat()


def is_event_in_scope(venue_mode: str, organiser_type: str, uses_university_brand: bool,
                      university_funded: bool) -> bool:
    """SPEC §3 step 1: on campus, SU premises, online/hybrid; off campus only when branded, funded or ours."""
    if venue_mode in IN_SCOPE_VENUES:
        return True
    return bool(uses_university_brand or university_funded or organiser_type in UNIVERSITY_ORGANISERS)


def attendance_in_person(venue_mode: str, expected_attendance: int, stated: int | None) -> int:
    """SPEC §3: the stated in-person figure, else the expected attendance unless the event is online."""
    if stated is not None:
        return int(stated)
    return 0 if venue_mode == "online" else int(expected_attendance)


def worst(factor: str, values: list[Any]) -> str:
    """The worst value of a graded speaker factor (none < suspected < confirmed, ...)."""
    order = SEVERITY[factor]
    seen = [v for v in values if v in order]
    return max(seen, key=order.index) if seen else order[0]


def worst_speaker_factors(speakers: list[dict[str, Any]]) -> dict[str, Any]:
    """SPEC §6: the event takes the worst value of each speaker factor; no speakers means all 'none'."""
    checked = [s for s in speakers or [] if isinstance(s, dict)]
    return {
        "proscribed_check": worst("proscribed_check", [s.get("proscribed_check") for s in checked]),
        "prior_incidents": worst("prior_incidents", [s.get("prior_incidents") for s in checked]),
        "external_intel": worst("external_intel", [s.get("external_intel") for s in checked]),
        "prior_cancellations": max([int(s.get("prior_cancellations") or 0) for s in checked], default=0),
        "any_speaker_on_tour": any(bool(s.get("on_tour")) for s in checked),
        "new_speakers": sum(1 for s in checked if s.get("new_speaker")),
    }


def unique_codes(codes: list[str] | None) -> list[str]:
    """Mitigation codes without duplicates or blanks, in catalogue order."""
    return sorted({c for c in codes or [] if c})


def ofs_category_of(decision: str | None, condition_reason_category: str | None,
                 rejection_reason_category: str | None) -> str | None:
    """SPEC §9 bucket of a final decision: approved, approved_prevent_conditions, approved_non_prevent_conditions,
    rejected_prevent, rejected_other; None for anything not reported (withdrawn, not in scope)."""
    if decision == "approved":
        return "approved"
    if decision == "approved_with_conditions":
        return ("approved_prevent_conditions" if condition_reason_category == "prevent"
                else "approved_non_prevent_conditions")
    if decision == "rejected":
        return "rejected_prevent" if rejection_reason_category == "prevent_risk" else "rejected_other"
    return None


def notice_rejection_reasons(notice_working_days: int, risk_level: str) -> str:
    """The organiser-facing reason for a procedural rejection on notice."""
    return (f"The request gave {notice_working_days} working days' notice. A {risk_level} risk event needs more time "
            "to assess and mitigate than that, so it cannot go ahead on this date. You are welcome to rebook it "
            "for a later date.")


def new_reference(prefix: str) -> str:
    """A fresh, unique reference such as IQ-3f9a1c2b (correlation keys for messages)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def speaker_ref(full_name: str, affiliation: str | None = None) -> str:
    """A normalised key for a speaker's history: lower-case name and affiliation."""
    return " ".join(f"{full_name or ''} | {affiliation or ''}".lower().split())


def days_after(day: date | datetime | str, days: int) -> str:
    """The calendar date `days` after `day` (ISO)."""
    return (_day(day) + timedelta(days=int(days))).isoformat()
