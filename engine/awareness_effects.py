"""Script functions for the staff-awareness processes (prevent_training, prevent_concern) that ask for effects.

Like engine/process_effects.py they only emit effects; the handlers in engine/services/training.py and
engine/services/awareness.py persist them in the step's transaction. Notices never carry concern details.
Imports effects and awareness_counting only.
"""

from __future__ import annotations

from .awareness_counting import COURSES, IDEOLOGY_CATEGORIES, TRAINING_TYPES
from .effects import emit

COURSE_WORDS = {"prevent_awareness_elearning": "Prevent awareness e-learning", "wrap_workshop": "WRAP workshop",
                "channel_awareness": "Channel awareness", "safeguarding_briefing": "Safeguarding briefing",
                "other": "Other training"}
CONCERN_STAGES = ("escalated", "advice_sought", "referred")


def notify_user(username: str | None, notice: dict[str, str]) -> None:
    """Queue an in-app notice (and email, when the account has one) to one user; no-op without a username."""
    if username:
        emit("notification", recipient=str(username).strip(), email=None, subject=notice["subject"],
             body=notice["body"])


def course_name(course: str, course_other: str | None = None) -> str:
    """A readable course name (the free-text name for `other`)."""
    if course == "other" and course_other:
        return str(course_other)
    return COURSE_WORDS.get(course, course)


def training_notice(kind: str, course: str, trainee_name: str, due_on: str | None = None,
                    course_other: str | None = None) -> dict[str, str]:
    """The trainee's and manager's letters: `assigned`, `overdue` or `refresher_due`."""
    name = course_name(course, course_other)
    if kind == "assigned":
        return {"subject": f"Training assigned: {name}",
                "body": f"{trainee_name}, you have been asked to complete \"{name}\" by {due_on}. "
                        "Record your completion in campusflow (Tasks) once done."}
    if kind == "overdue":
        return {"subject": f"Training overdue: {name}",
                "body": f"\"{name}\" for {trainee_name} was due by {due_on} and is not yet recorded as complete."}
    return {"subject": f"Refresher due: {name}",
            "body": f"{trainee_name}'s \"{name}\" training needs a refresher (due {due_on}). "
                    "An administrator will assign it; please book a session."}


def record_training_assigned(trainee: str, trainee_name: str, department: str, staff_role: str,
                             manager: str | None, course: str, training_type: str, assigned_on: str,
                             complete_by: str) -> None:
    """Add the assignment to the training register (status `assigned`)."""
    if course not in COURSES or training_type not in TRAINING_TYPES:
        raise ValueError(f"unknown course {course!r} or training type {training_type!r}")
    emit("training_assigned", person=trainee, full_name=trainee_name, department=department, staff_role=staff_role,
         manager=manager or None, course=course, training_type=training_type, assigned_on=assigned_on,
         complete_by=complete_by)


def record_training_completed(completed_on: str, certificate_ref: str | None, refresher_due_on: str) -> None:
    """Mark this instance's register entry completed, with its refresher date."""
    emit("training_completed", completed_on=completed_on, certificate_ref=certificate_ref or None,
         refresher_due_on=refresher_due_on)


def record_concern_milestone(stage: str, ideology_category: str, occurred_on: str) -> None:
    """Count the case for the OfS return (W1 escalated, W2 advice_sought, W3 referred): no case data is stored."""
    if stage not in CONCERN_STAGES:
        raise ValueError(f"stage must be one of {', '.join(CONCERN_STAGES)}")
    category = ideology_category if ideology_category in IDEOLOGY_CATEGORIES else "other"
    emit("concern_milestone", stage=stage, ideology_category=category, occurred_on=occurred_on)


def concern_receipt_notice(reference: str) -> dict[str, str]:
    """The raiser's receipt: that the concern arrived, nothing about its handling."""
    return {"subject": f"Concern received ({reference})",
            "body": f"Thank you. Your concern {reference} has been received by the Prevent lead, who will handle it "
                    "in confidence. You will not be told the outcome; if you have more information, raise a new "
                    "concern quoting this reference."}


def concern_triage_notice(reference: str) -> dict[str, str]:
    """The Prevent lead's prompt: a new case to triage (details only in campusflow)."""
    return {"subject": f"New Prevent concern to triage ({reference})",
            "body": f"A member of staff has raised concern {reference}. Open your tasks in campusflow to triage it."}
