"""Scenario helpers: actors per role, a frozen clock, and a driver that works tasks by element id.

Every call goes through engine.services, so each step loads and saves the instance (persistence round trip);
`round_trip` also checks that the stored state deserializes and serializes to the same JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from projection import assert_projection_agrees
from sqlalchemy import select

from engine import serializer, services
from engine.bootstrap import WorkflowEngine
from engine.model import Actor, InstanceView, TaskView
from engine.tables import InstanceRecord
from engine.working_days import add_working_days

LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # a Monday, no bank holiday near
ORGANISER = Actor("olivia", frozenset({"organiser"}))
EVENTS = Actor("evan", frozenset({"events_office"}))
SECURITY = Actor("sam", frozenset({"security"}))
PREVENT = Actor("priya", frozenset({"prevent_lead"}))
PREVENT_2 = Actor("paul", frozenset({"prevent_lead"}))
SENIOR = Actor("morgan", frozenset({"senior_officer"}))
APPEAL = Actor("alex", frozenset({"appeal_officer"}))
DPO = Actor("dana", frozenset({"dpo"}))
AUDITOR = Actor("audrey", frozenset({"auditor"}))
CLEAR = {"proscribed_check": "none", "prior_incidents": "none", "prior_cancellations": 0}


def start_after(notice_working_days: int, hour: int = 18) -> datetime:
    """An event start giving exactly `notice_working_days` working days' notice from TODAY."""
    day = add_working_days(TODAY.date(), notice_working_days + 1)
    return datetime.combine(day, time(hour), LONDON)


def event_data(notice_working_days: int = 20, **overrides: Any) -> dict[str, Any]:
    """A valid event request (SPEC §3 field names) giving the stated notice."""
    start = start_after(notice_working_days)
    data: dict[str, Any] = {
        "title": "Research seminar", "description": "A talk and questions.", "event_type": "seminar",
        "organiser_type": "staff_department", "organiser_name": "Dr Olivia Reed",
        "organiser_email": "o.reed@example.ac.uk", "start_at": start.isoformat(),
        "end_at": start.replace(hour=20).isoformat(), "venue_mode": "on_campus", "venue": "Room 2.14",
        "uses_university_brand": True, "university_funded": False, "audience": "members_only",
        "expected_attendance": 40, "topic_sensitivity": "low", "media_expected": False, "recording_planned": False,
        "protest_anticipated": "no", "fundraising": False, "segregation_requested": False,
        "code_of_practice_ack": True, "speakers": [],
    }
    data.update(overrides)
    return data


def medium_risk_event(notice_working_days: int) -> dict[str, Any]:
    """A public, contested event of 150 people with a protest possible: MEDIUM risk, at the given notice."""
    return event_data(notice_working_days, audience="open_to_public", expected_attendance=150,
                      topic_sensitivity="contested", protest_anticipated="possible")


# The events office approves with one non-Prevent condition (stewards), which the organiser must accept.
NON_PREVENT_CONDITIONS = {
    "decision": "approved_with_conditions",
    "conditions_change_reason": "Proportionate to this event.",
    "conditions": ["M06"],
    "condition_reason_category": "non_prevent",
}


def speaker(name: str = "Dr Ada Visitor", **overrides: Any) -> dict[str, Any]:
    """One speaker entry of the event request."""
    data = {"full_name": name, "affiliation": "University of Elsewhere", "talk_title": "Soil carbon",
            "synopsis": "Recent findings.", "participation_mode": "in_person", "on_tour": False,
            "prior_controversy": False}
    data.update(overrides)
    return data


class Driver:
    """Drive one instance through engine.services by element id, checking persistence at each step."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self.instance_id = 0

    def start(self, data: dict[str, Any], actor: Actor = ORGANISER, process: str = "event_approval") -> InstanceView:
        view = services.start_instance(self.engine, process, data, actor)
        self.instance_id = view.id
        self.round_trip()
        return view

    def view(self) -> InstanceView:
        return services.get_instance(self.engine, self.instance_id, AUDITOR)

    @property
    def data(self) -> dict[str, Any]:
        return self.view().data

    def open(self) -> list[str]:
        """Element ids of the open tasks, sorted."""
        return sorted(t.element_id for t in self.view().open_tasks)

    def task(self, element_id: str, index: int = 0) -> TaskView:
        tasks = [t for t in self.view().open_tasks if t.element_id == element_id]
        assert tasks, f"{element_id} is not open; open: {self.open()}"
        return tasks[index]

    def complete(self, element_id: str, data: dict[str, Any], actor: Actor, index: int = 0) -> InstanceView:
        task = self.task(element_id, index)
        services.claim_task(self.engine, task.id, actor)
        view = services.complete_task(self.engine, task.id, data, actor)
        self.round_trip()
        return view

    def round_trip(self) -> None:
        """The stored state loads and dumps to the same JSON."""
        with self.engine.new_uow(readonly=True) as uow:
            record = uow.session.get(InstanceRecord, self.instance_id)
            version = self.engine.pinned_version(uow, record.process_version_id)
            state = record.state
        assert json.loads(serializer.dumps(self.engine.load_workflow(state, version))) == json.loads(state)
        assert_projection_agrees(self.engine, self.instance_id)

    def check_speaker(self, factors: dict[str, Any] | None = None, actor: Actor = SECURITY) -> InstanceView:
        """Due diligence (with `factors`) and the declaration for the first speaker still waiting."""
        self.complete("due_diligence", {**CLEAR, **(factors or {})}, actor)
        return self.declare()

    def declare(self) -> InstanceView:
        return self.complete("record_speaker_declaration",
                             {"declaration_signed": True, "declaration_signed_on": TODAY.date().isoformat()},
                             ORGANISER)


def instances_of(engine: WorkflowEngine, process_key: str) -> list[int]:
    """Ids of a process's instances, oldest first."""
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(InstanceRecord.id).where(InstanceRecord.process_key == process_key)
                                        .order_by(InstanceRecord.id)).scalars())


def attach(engine: WorkflowEngine, instance_id: int) -> Driver:
    """A driver for an instance something else started (e.g. by a message)."""
    driver = Driver(engine)
    driver.instance_id = instance_id
    return driver


ADMIN_ACTOR = Actor("ada", frozenset({"admin"}))
