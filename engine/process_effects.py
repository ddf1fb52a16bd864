"""Script functions that ask for side effects (notifications, the sharing log, speaker history).

They only emit effects (engine/effects.py); handlers in engine/services/effect_handlers.py persist them
in the step's transaction. Imports effects only.
"""

from __future__ import annotations

from typing import Any

from .effects import emit

DECISION_WORDS = {"approved": "approved", "approved_with_conditions": "approved with conditions",
                  "rejected": "rejected", "not_in_scope": "outside the scope of the events policy"}


def notify_organiser(email: str | None, notice: dict[str, str]) -> None:
    """Queue an email and in-app notice to whoever started the instance."""
    emit("notification", recipient="initiator", email=email, subject=notice["subject"], body=notice["body"])


def notify_group(group: str, notice: dict[str, str]) -> None:
    """Queue a notice to everyone holding a role."""
    emit("notification", recipient=f"role:{group}", email=None, subject=notice["subject"], body=notice["body"])


def decision_notice(title: str, decision: str, conditions: list[str] | None, rejection_reason_category: str | None,
                    decision_reasons: str | None, appeal_deadline_on: str | None) -> dict[str, str]:
    """The organiser's letter: outcome, reasons, conditions and the appeal route."""
    lines = [f"Your event request \"{title}\" has been {DECISION_WORDS.get(decision, decision)}."]
    if conditions:
        lines.append(f"Conditions: {', '.join(conditions)}. Please accept them in campusflow.")
    if decision == "rejected":
        lines.append(f"Ground: {rejection_reason_category}.")
    if decision_reasons:
        lines.append(f"Reasons: {decision_reasons}")
    if decision == "rejected":
        lines.append(f"You may appeal in campusflow until {appeal_deadline_on}. An appeal officer who took no part "
                     "in this decision will decide it.")
    return {"subject": f"Event request {DECISION_WORDS.get(decision, decision)}: {title}", "body": "\n\n".join(lines)}


def appeal_notice(title: str, appeal_outcome: str, decision: str, conditions: list[str] | None,
                  appeal_reasons: str) -> dict[str, str]:
    """The organiser's letter after an appeal."""
    outcome = {"uphold": "upheld the rejection", "vary_conditions": "approved the event with varied conditions",
               "overturn": "overturned the rejection"}.get(appeal_outcome, appeal_outcome)
    body = f"The appeal officer has {outcome}.\n\nReasons: {appeal_reasons}"
    if conditions and decision == "approved_with_conditions":
        body += f"\n\nConditions: {', '.join(conditions)}."
    return {"subject": f"Appeal decided: {title}", "body": body}


def out_of_scope_notice(title: str) -> dict[str, str]:
    """The organiser's letter for a request outside the events policy."""
    return {"subject": f"Event request outside the policy: {title}",
            "body": f"\"{title}\" is an off-campus event that is neither branded, funded nor organised by the "
                    "University, so it is outside the scope of the events policy and needs no approval."}


def log_share(direction: str, decision: str, counterpart_org: str, speaker: str | None, purpose: str | None,
              data_requested: list[str] | None, data_categories_shared: list[str] | None,
              transfer_method: str | None, reasons: str | None, retention_until: str | None,
              **details: Any) -> None:
    """Write a sharing-log row (SPEC §5) in the step's transaction."""
    emit("sharing_logged", direction=direction, decision=decision, counterpart_org=counterpart_org, speaker=speaker,
         purpose=purpose, data_requested=list(data_requested or []),
         data_categories_shared=list(data_categories_shared or []), transfer_method=transfer_method,
         reasons=reasons or None, retention_until=retention_until, details=details)


def record_speaker_history(speakers: list[dict[str, Any]], title: str, event_date: str, event_format: str,
                           decision: str, conditions: list[str] | None, incidents: str | None) -> None:
    """Add this event to each speaker's history (SPEC §3 step 9)."""
    for speaker in speakers or []:
        emit("speaker_history_recorded", full_name=speaker.get("full_name"), affiliation=speaker.get("affiliation"),
             event_title=title, event_date=event_date, event_format=event_format, decision=decision,
             conditions=list(conditions or []), incidents=incidents or "none")
