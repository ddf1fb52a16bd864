"""Effect handlers: persist what diagram scripts asked for, in the step's transaction.

notification -> outbox row; escalation_thrown -> overdue open tasks offered to the senior officer;
message_thrown -> message row for the worker; sharing_logged -> sharing log; speaker_history_recorded ->
speaker history. Imports tables, audit and the progress registry.
"""

from __future__ import annotations

from sqlalchemy import select

from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..effects import Effect
from ..model import Actor
from ..process_functions import speaker_ref
from ..tables import (
    InstanceRecord,
    MessageRecord,
    OutboxRecord,
    SharingLogRecord,
    SpeakerHistoryRecord,
    TaskCandidateRecord,
    TaskRecord,
)
from ..unit_of_work import UnitOfWork
from .progress import effect_handler

ESCALATION_GROUP = "senior_officer"


@effect_handler("notification")
def queue_notification(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                       actor: Actor) -> None:
    """An outbox row (in-app now, email by the worker); `initiator` means whoever started the instance."""
    payload = effect.payload
    recipient = record.started_by if payload["recipient"] == "initiator" else payload["recipient"]
    queue(uow, record.id, recipient, payload.get("email"), payload["subject"], payload["body"], effect.element_id)


def queue(uow: UnitOfWork, instance_id: int | None, recipient: str, email: str | None, subject: str, body: str,
          element_id: str | None = None) -> OutboxRecord:
    """Add one outbox row and its `notification_queued` audit event."""
    row = OutboxRecord(instance_id=instance_id, recipient=recipient, email=email, subject=subject[:300], body=body,
                       attempts=0)
    uow.session.add(row)
    uow.audit.append(AuditEventType.notification_queued, instance_id, "system", role="system", element_id=element_id,
                     recipient=recipient, email=email, subject=subject[:300])
    return row


@effect_handler("escalation_thrown")
def escalate_overdue_tasks(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                           actor: Actor) -> None:
    """Offer every overdue open task of the instance to the senior officer too, and remind its candidates."""
    now = engine.now()
    uow.session.flush()
    rows = uow.session.execute(select(TaskRecord).where(
        TaskRecord.instance_id == record.id, TaskRecord.status == "open", TaskRecord.due_at.is_not(None),
        TaskRecord.due_at <= now)).scalars().all()
    for row in rows:
        groups = list(row.candidate_groups or [])
        if ESCALATION_GROUP in groups:
            continue
        row.candidate_groups = [*groups, ESCALATION_GROUP]
        uow.session.add(TaskCandidateRecord(task_id=row.id, kind="group", value=ESCALATION_GROUP))
        uow.audit.append(AuditEventType.task_escalated, record.id, "system", role="system", element_id=row.element_id,
                         task_id=row.id, name=row.name, due_at=row.due_at.isoformat(), added_group=ESCALATION_GROUP,
                         code=effect.payload.get("code"))
        subject = f"Overdue: {row.name} ({record.summary.get('title') or record.process_key})"
        body = (f"The task \"{row.name}\" was due {row.due_at.isoformat()} and is still open. "
                f"It is now also offered to the senior officer.")
        for group in groups:
            queue(uow, record.id, f"role:{group}", None, subject, body, row.element_id)
        queue(uow, record.id, f"role:{ESCALATION_GROUP}", None, subject, body, row.element_id)


@effect_handler("message_thrown")
def store_message(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                  actor: Actor) -> None:
    """Keep a thrown message for delivery by the worker (the message outbox)."""
    payload = effect.payload
    uow.session.add(MessageRecord(name=payload["name"], correlation_key=payload.get("correlation_key"),
                                  payload=payload.get("payload") or {}, source_instance_id=record.id,
                                  status="pending", attempts=0))


@effect_handler("sharing_logged")
def log_share(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect, actor: Actor) -> None:
    """A sharing-log row; nothing counts as transmitted unless the decision shared something."""
    p = dict(effect.payload)
    details = dict(p.get("details") or {})
    shared = p["decision"] in ("shared", "partial", "query_sent") and bool(p.get("data_categories_shared"))
    uow.session.add(SharingLogRecord(
        instance_id=record.id, direction=p["direction"], decision=p["decision"], counterpart_org=p["counterpart_org"],
        speaker=p.get("speaker"), purpose=p.get("purpose"), data_requested=p.get("data_requested") or [],
        data_categories_shared=p.get("data_categories_shared") if shared else [], transmitted=shared,
        transfer_method=p.get("transfer_method") if shared else None, reasons=p.get("reasons"),
        lawful_basis=details.pop("art6_basis", None), details=details, recorded_by=record.started_by,
        decided_by=actor.username, retention_until=p.get("retention_until")))


@effect_handler("speaker_history_recorded")
def add_speaker_history(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                        actor: Actor) -> None:
    """One past event for one speaker."""
    p = effect.payload
    uow.session.add(SpeakerHistoryRecord(
        speaker_ref=speaker_ref(p["full_name"], p.get("affiliation")), full_name=p["full_name"],
        affiliation=p.get("affiliation"), instance_id=record.id, event_title=p["event_title"],
        event_date=p["event_date"], event_format=p.get("event_format"), decision=p.get("decision"),
        conditions=p.get("conditions") or [], incidents=p.get("incidents") or "none"))
