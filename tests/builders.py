"""Test data builders: realistic start data for an event request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.model import Actor

ORGANISER = Actor("olivia", frozenset({"organiser"}))
EVENTS_OFFICE = Actor("evan", frozenset({"events_office"}))
SECURITY = Actor("sam", frozenset({"security"}))
AUDITOR = Actor("audrey", frozenset({"auditor"}))


def event_request(**overrides: Any) -> dict[str, Any]:
    """A valid, low-risk event request; override any field."""
    start = (datetime.now(UTC) + timedelta(days=40)).replace(hour=18, minute=0, second=0, microsecond=0)
    data: dict[str, Any] = {
        "title": "Research seminar: soil carbon",
        "description": "A visiting researcher presents recent work.",
        "event_type": "seminar",
        "organiser_type": "staff_department",
        "organiser_name": "Dr Olivia Reed",
        "organiser_email": "o.reed@example.ac.uk",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=2)).isoformat(),
        "venue_mode": "on_campus",
        "venue": "Room 2.14, Science Building",
        "uses_university_brand": True,
        "university_funded": False,
        "audience": "members_only",
        "expected_attendance": 40,
        "topic_sensitivity": "low",
        "media_expected": False,
        "recording_planned": False,
        "protest_anticipated": "no",
        "fundraising": False,
        "segregation_requested": False,
        "code_of_practice_ack": True,
        "speakers": [],
    }
    data.update(overrides)
    return data
