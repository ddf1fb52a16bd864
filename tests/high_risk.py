"""Drive an S02-like HIGH-risk event request to its decision through engine.services (for the auditor tests)."""

from __future__ import annotations

from builders import event_request

from engine import services
from engine.bootstrap import WorkflowEngine
from engine.model import Actor

ORGANISER = Actor("olivia", frozenset({"organiser"}))
SECURITY = Actor("sam", frozenset({"security"}))
PREVENT = Actor("priya", frozenset({"prevent_lead"}))
SENIOR = Actor("morgan", frozenset({"senior_officer"}))
READER = Actor("audrey", frozenset({"auditor"}))
REQUIRED = ["M01", "M03", "M04", "M06", "M07", "M13", "M16"]
DECISION_REASONS = "Contested topic and a large public audience: stewards, security and a protected Q&A suffice."


def _complete(engine: WorkflowEngine, instance_id: int, element_id: str, data: dict, actor: Actor) -> None:
    [task] = [t for t in services.get_instance(engine, instance_id, READER).open_tasks if t.element_id == element_id]
    services.claim_task(engine, task.id, actor)
    services.complete_task(engine, task.id, data, actor)


def drive_high_risk_request(engine: WorkflowEngine) -> int:
    """Submit, check the speaker (two cancellations), assess, and let the senior officer approve with conditions."""
    speaker = {
        "full_name": "Dr Ada Visitor",
        "affiliation": "University of Elsewhere",
        "talk_title": "Free speech",
        "synopsis": "A debate.",
        "participation_mode": "in_person",
        "on_tour": False,
        "prior_controversy": True,
    }
    view = services.start_instance(
        engine,
        "event_approval",
        event_request(
            title="Society debate: contested questions",
            organiser_type="student_society",
            audience="open_to_public",
            expected_attendance=300,
            topic_sensitivity="contested",
            protest_anticipated="possible",
            event_type="debate",
            speakers=[speaker],
        ),
        ORGANISER,
    )
    steps = [
        (
            "due_diligence",
            {
                "proscribed_check": "none",
                "prior_incidents": "none",
                "prior_cancellations": 2,
                "due_diligence_summary": "Two cancellations elsewhere in the last three years.",
            },
            SECURITY,
        ),
        (
            "record_speaker_declaration",
            {"declaration_signed": True, "declaration_signed_on": view.started_at.date().isoformat()},
            ORGANISER,
        ),
        ("assess_security", {"security_risk": "medium", "security_notes": "Stewards at both doors."}, SECURITY),
        ("assess_prevent", {"prevent_risk": "low", "prevent_notes": "No specific evidence of risk."}, PREVENT),
        (
            "decide_high_risk",
            {
                "decision": "approved_with_conditions",
                "conditions_change_reason": "Proportionate to this event.",
                "conditions": REQUIRED,
                "condition_reason_category": "non_prevent",
                "decision_reasons": DECISION_REASONS,
            },
            SENIOR,
        ),
    ]
    for element_id, data, actor in steps:
        _complete(engine, view.id, element_id, data, actor)
    return view.id
