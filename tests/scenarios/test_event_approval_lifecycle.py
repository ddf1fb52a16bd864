"""Process A after the decision: appeal, conditions, pre-event check, post-event report; every timer (frozen clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scenario_driver import (
    APPEAL,
    EVENTS,
    NON_PREVENT_CONDITIONS,
    ORGANISER,
    SENIOR,
    TODAY,
    Driver,
    event_data,
    speaker,
)
from sqlalchemy import select

from engine import services
from engine.errors import PermissionDeniedError
from engine.tables import AuditRecord, OutboxRecord, SpeakerHistoryRecord, TaskCandidateRecord

REJECT = {
    "decision": "rejected",
    "rejection_reason_category": "health_and_safety",
    "decision_reasons": "The venue cannot be evacuated safely at this size.",
}


def rejected(driver: Driver, decider=EVENTS) -> None:
    driver.start(event_data(20))
    driver.complete("review_request", REJECT, decider)
    assert driver.open() == ["lodge_appeal"]


def audit_types(driver: Driver) -> list[str]:
    return [e.type for e in services.instance_history(driver.engine, driver.instance_id, APPEAL_AUDITOR)]


APPEAL_AUDITOR = __import__("scenario_driver").AUDITOR


def test_the_appeal_window_closes_after_five_working_days(driver, clock):
    rejected(driver)
    clock.move_to(TODAY + timedelta(days=7, hours=14))  # after 23:59 London on the fifth working day
    assert services.fire_due_timers(driver.engine) == 1
    view = driver.view()
    assert (view.status, view.outcome["decision"], view.open_tasks) == ("completed", "rejected", ())
    assert "timer_fired" in audit_types(driver)


def test_an_appeal_officer_who_did_not_decide_may_overturn_the_rejection(driver):
    rejected(driver)
    driver.complete("lodge_appeal", {"appeal_grounds": "We will cap attendance at 100."}, ORGANISER)
    assert driver.open() == ["decide_appeal"]
    driver.complete(
        "decide_appeal", {"appeal_outcome": "overturn", "appeal_reasons": "Capped attendance is safe."}, APPEAL
    )
    view = driver.view()
    assert (view.outcome["decision"], view.outcome["rejection_reason_category"]) == ("approved", None)
    assert (view.data["ofs_category"], view.data["appeal_outcome"]) == ("approved", "overturn")
    assert view.status == "running" and driver.open() == []  # waits for the event to end


def test_an_upheld_appeal_ends_the_request_rejected(driver):
    rejected(driver)
    driver.complete("lodge_appeal", {"appeal_grounds": "Please reconsider."}, ORGANISER)
    driver.complete("decide_appeal", {"appeal_outcome": "uphold", "appeal_reasons": "The risk remains."}, APPEAL)
    view = driver.view()
    assert (view.status, view.outcome["decision"], view.data["ofs_category"]) == (
        "completed",
        "rejected",
        "rejected_other",
    )


def test_varied_conditions_on_appeal_need_the_organisers_acceptance(driver):
    rejected(driver)
    driver.complete("lodge_appeal", {"appeal_grounds": "We accept stewards."}, ORGANISER)
    driver.complete(
        "decide_appeal",
        {
            "appeal_outcome": "vary_conditions",
            "appeal_conditions": ["M06", "M15"],
            "appeal_condition_reason_category": "non_prevent",
            "appeal_reasons": "Stewards and separate exits make it safe.",
        },
        APPEAL,
    )
    assert driver.view().outcome["conditions"] == ["M06", "M15"]
    assert driver.open() == ["accept_conditions"]


def test_the_original_decision_maker_may_not_decide_the_appeal(driver):
    both = __import__("engine.model", fromlist=["Actor"]).Actor("evan", frozenset({"events_office", "appeal_officer"}))
    rejected(driver, decider=both)
    driver.complete("lodge_appeal", {"appeal_grounds": "Please reconsider."}, ORGANISER)
    task = driver.task("decide_appeal")
    with pytest.raises(PermissionDeniedError):
        services.complete_task(driver.engine, task.id, {"appeal_outcome": "overturn", "appeal_reasons": "x"}, both)
    assert driver.open() == ["decide_appeal"]


def test_conditions_accepted_then_checked_three_days_before_then_reported_after_the_event(driver, clock):
    driver.start(event_data(20, speakers=[speaker("Dr Returning")]))
    driver.check_speaker()
    driver.complete(
        "review_request",
        {
            "decision": "approved_with_conditions",
            "conditions": ["M06"],
            "condition_reason_category": "non_prevent",
            "conditions_change_reason": "Stewards for a packed room.",
        },
        EVENTS,
    )
    driver.complete("accept_conditions", {"conditions_response": "accept"}, ORGANISER)
    assert driver.open() == []
    data = driver.data
    clock.move_to(data["pre_event_check_at"])
    clock.tick(timedelta(minutes=1))
    assert services.fire_due_timers(driver.engine) == 1
    assert driver.open() == ["confirm_conditions_in_place"]
    driver.complete("confirm_conditions_in_place", {"conditions_in_place": "yes"}, EVENTS)
    clock.move_to(data["end_at"])
    clock.tick(timedelta(minutes=1))
    assert services.fire_due_timers(driver.engine) == 1
    report = driver.task("file_post_event_report")
    assert (report.assignee, report.due_at.date().isoformat()) == ("olivia", data["post_event_report_due_on"])
    driver.complete(
        "file_post_event_report",
        {"actual_attendance": 35, "incidents": "none", "conditions_complied": "yes"},
        ORGANISER,
    )
    assert driver.view().status == "completed"
    with driver.engine.new_uow(readonly=True) as uow:
        (row,) = uow.session.execute(select(SpeakerHistoryRecord)).scalars()
        assert (row.full_name, row.decision, row.conditions, row.incidents) == (
            "Dr Returning",
            "approved_with_conditions",
            ["M06"],
            "none",
        )


def test_the_organiser_may_withdraw_instead_of_accepting_conditions(driver):
    driver.start(event_data(20))
    driver.complete("review_request", NON_PREVENT_CONDITIONS, EVENTS)
    driver.complete("accept_conditions", {"conditions_response": "withdraw"}, ORGANISER)
    view = driver.view()
    assert (view.status, view.outcome["decision"], view.data["withdrawn"], view.data["ofs_category"]) == (
        "completed",
        "withdrawn",
        True,
        None,
    )


def test_an_overdue_review_reminds_and_escalates_to_the_senior_officer(driver, clock):
    driver.start(event_data(20))
    task = driver.task("review_request")
    clock.move_to(task.due_at + timedelta(minutes=5))
    assert services.fire_due_timers(driver.engine) == 1
    escalated = driver.task("review_request")
    assert escalated.id == task.id and set(escalated.candidate_groups) == {"events_office", "senior_officer"}
    assert [t.id for t in services.list_tasks(driver.engine, SENIOR, "groups")] == [task.id]
    assert audit_types(driver).count("task_escalated") == 1
    with driver.engine.new_uow(readonly=True) as uow:
        recipients = set(uow.session.execute(select(OutboxRecord.recipient)).scalars())
        groups = set(
            uow.session.execute(
                select(TaskCandidateRecord.value).where(
                    TaskCandidateRecord.task_id == task.id, TaskCandidateRecord.kind == "group"
                )
            ).scalars()
        )
        assert groups == {"events_office", "senior_officer"}
        assert uow.session.execute(select(AuditRecord.type).where(AuditRecord.type == "task_escalated")).all()
    assert {"role:events_office", "role:senior_officer"} <= recipients
    driver.complete("review_request", {"decision": "approved"}, SENIOR)
    assert driver.view().outcome["decision"] == "approved"
