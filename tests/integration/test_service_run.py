"""The event_approval process through the service API, with a persistence round trip at every step."""

from __future__ import annotations

import pytest
from builders import AUDITOR, EVENTS_OFFICE, ORGANISER, SECURITY, event_request
from projection import assert_projection_agrees
from sqlalchemy import func, select

from engine import runtime, serializer, services
from engine.errors import ConflictError, InvalidDataError, PermissionDeniedError, TaskNotReadyError
from engine.model import Actor
from engine.tables import AuditRecord, InstanceRecord, TaskRecord


def _state_round_trip(engine, instance_id: int) -> None:
    """The stored state loads against its pinned spec and serializes back to the same JSON."""
    with engine.new_uow(readonly=True) as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        assert serializer.dumps(workflow) == record.state
        ready = {str(t.id) for t in runtime.ready_user_tasks(workflow)}
        rows = set(uow.session.execute(select(TaskRecord.id).where(TaskRecord.instance_id == instance_id,
                                                                   TaskRecord.status == "open")).scalars())
        assert ready == rows  # the inbox projection agrees with the workflow
    assert_projection_agrees(engine, instance_id)


def _audit_count(engine) -> int:
    with engine.new_uow(readonly=True) as uow:
        return uow.session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()


def test_low_risk_request_is_approved_by_the_events_office(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    _state_round_trip(deployed, view.id)
    assert view.status == "running" and view.data["risk_level"] == "LOW" and view.data["risk_score"] == 0
    [task] = services.list_tasks(deployed, EVENTS_OFFICE, "groups")
    assert (task.element_id, task.candidate_groups, task.form_id) == ("review_request", ("events_office",),
                                                                      "review_decision")
    assert task.title == "Research seminar: soil carbon"  # task lists carry the request's title
    services.claim_task(deployed, task.id, EVENTS_OFFICE)
    _state_round_trip(deployed, view.id)
    done = services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    _state_round_trip(deployed, view.id)
    # approved without conditions: nothing is left for the events office; the request waits for the event
    assert done.status == "running" and done.outcome["decision"] == "approved"
    assert services.list_tasks(deployed, EVENTS_OFFICE) == []
    types = [e.type for e in services.instance_history(deployed, view.id, AUDITOR)]
    assert types[0] == "instance_started"
    for expected in ("script_ran", "decision_evaluated", "task_ready", "task_claimed", "task_completed",
                     "gateway_taken", "data_changed"):
        assert expected in types
    assert services.verify_audit(deployed).ok and services.verify_audit(deployed, view.id).ok


def test_rejection_needs_a_category_and_reasons(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    with pytest.raises(InvalidDataError) as refused:
        services.complete_task(deployed, task.id, {"decision": "rejected"}, EVENTS_OFFICE)
    assert {"rejection_reason_category", "decision_reasons"} <= set(refused.value.fields)
    done = services.complete_task(deployed, task.id, {
        "decision": "rejected", "rejection_reason_category": "health_and_safety",
        "decision_reasons": "The venue cannot hold the audience safely and no other room is free."}, EVENTS_OFFICE)
    assert done.outcome["rejection_reason_category"] == "health_and_safety" and view.id == done.id
    # the appeal window opens: the organiser's own step, offered to nobody else
    assert [t.element_id for t in done.open_tasks] == ["lodge_appeal"]
    assert done.open_tasks[0].assignee == ORGANISER.username


def test_gateway_records_the_branch_it_took(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    services.complete_task(deployed, task.id, {"decision": "rejected", "rejection_reason_category": "procedural",
                                               "decision_reasons": "Too late to assess."}, EVENTS_OFFICE)
    taken = {e.element_id: e.details["to"] for e in services.instance_history(deployed, view.id, AUDITOR)
             if e.type == "gateway_taken"}
    assert taken["outcome_check"] == ["lodge_appeal"]


def test_user_without_the_candidate_group_is_refused_and_nothing_changes(deployed):
    services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    before = _audit_count(deployed)
    for call in (lambda: services.claim_task(deployed, task.id, SECURITY),
                 lambda: services.complete_task(deployed, task.id, {"decision": "approved"}, SECURITY),
                 lambda: services.get_task(deployed, task.id, ORGANISER)):
        with pytest.raises(PermissionDeniedError):
            call()
    assert _audit_count(deployed) == before
    assert [t.id for t in services.list_tasks(deployed, EVENTS_OFFICE)] == [task.id]


def test_invalid_start_data_creates_no_instance_and_no_audit_row(deployed):
    before = _audit_count(deployed)
    with pytest.raises(InvalidDataError) as refused:
        services.start_instance(deployed, "event_approval",
                                event_request(expected_attendance=0, audience="everyone", bogus=1), ORGANISER)
    assert {"expected_attendance", "audience", "bogus"} <= set(refused.value.fields)
    assert services.list_instances(deployed, AUDITOR) == [] and _audit_count(deployed) == before


def test_only_starter_groups_may_start_a_process(deployed):
    with pytest.raises(PermissionDeniedError):
        services.start_instance(deployed, "event_approval", event_request(), AUDITOR)


def test_completed_task_cannot_be_completed_again(deployed):
    services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    with pytest.raises(TaskNotReadyError):
        services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    with pytest.raises(TaskNotReadyError):
        services.claim_task(deployed, task.id, EVENTS_OFFICE)


def test_claimed_task_is_held_against_other_candidates(deployed):
    services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    colleague = Actor("erin", frozenset({"events_office"}))
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    services.claim_task(deployed, task.id, EVENTS_OFFICE)
    assert services.list_tasks(deployed, colleague, "groups") == []
    with pytest.raises(ConflictError):
        services.claim_task(deployed, task.id, colleague)
    with pytest.raises(ConflictError):
        services.complete_task(deployed, task.id, {"decision": "approved"}, colleague)
    services.unclaim_task(deployed, task.id, EVENTS_OFFICE)
    assert [t.id for t in services.list_tasks(deployed, colleague, "groups")] == [task.id]


def test_an_organisers_own_step_is_offered_to_nobody_else(deployed):
    other = Actor("oscar", frozenset({"organiser"}))
    services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    done = services.complete_task(deployed, task.id, {
        "decision": "rejected", "rejection_reason_category": "procedural", "decision_reasons": "Too late."},
        EVENTS_OFFICE)
    [appeal] = done.open_tasks
    assert [t.id for t in services.list_tasks(deployed, ORGANISER)] == [appeal.id]
    assert services.list_tasks(deployed, other) == []
    for call in (lambda: services.get_task(deployed, appeal.id, other),
                 lambda: services.claim_task(deployed, appeal.id, other)):
        with pytest.raises(PermissionDeniedError):
            call()


def test_organisers_see_only_their_own_requests(deployed):
    other = Actor("oscar", frozenset({"organiser"}))
    mine = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    services.start_instance(deployed, "event_approval", event_request(title="Another event"), other)
    assert [i.id for i in services.list_instances(deployed, ORGANISER)] == [mine.id]
    with pytest.raises(PermissionDeniedError):
        services.get_instance(deployed, mine.id, other)
    assert len(services.list_instances(deployed, AUDITOR)) == 2
    assert len(services.list_instances(deployed, EVENTS_OFFICE)) == 2


def test_reading_case_data_is_itself_audited(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    services.get_instance(deployed, view.id, EVENTS_OFFICE)
    viewed = [e for e in services.instance_history(deployed, view.id, AUDITOR) if e.type == "document_viewed"]
    assert viewed and viewed[-1].actor == EVENTS_OFFICE.username


def test_changing_the_required_conditions_needs_a_reason_and_a_refusal_changes_nothing(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    before = _audit_count(deployed)
    decision = {"decision": "approved_with_conditions", "conditions": ["M06"],
                "condition_reason_category": "non_prevent"}
    with pytest.raises(InvalidDataError) as refused:  # refused by the diagram's own rule (refuse() in a script)
        services.complete_task(deployed, task.id, decision, EVENTS_OFFICE)
    assert list(refused.value.fields) == ["conditions_change_reason"]
    assert _audit_count(deployed) == before
    _state_round_trip(deployed, view.id)
    assert [t.id for t in services.list_tasks(deployed, EVENTS_OFFICE)] == [task.id]
    done = services.complete_task(deployed, task.id, {**decision, "conditions_change_reason": "A packed room."},
                                  EVENTS_OFFICE)
    assert done.outcome["conditions"] == ["M06"]


def test_a_requester_reads_their_own_answers_and_the_outcome_but_not_internal_assessments(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    staff_view = services.get_instance(deployed, view.id, EVENTS_OFFICE)
    internal = {k for k in staff_view.data if k.startswith(("notice_", "scope", "required_"))}
    assert internal, "the process keeps internal working data (notice, scope, required mitigations)"
    own = services.get_instance(deployed, view.id, ORGANISER)
    assert not internal & set(own.data)
    assert own.data["title"] == event_request()["title"] and own.outcome == staff_view.outcome
    for entry in services.instance_history(deployed, view.id, ORGANISER):
        shown = set(entry.details.get("changes", {})) | set(entry.details.get("data", {}))
        assert not internal & shown
