"""Message service: deliver stored BPMN messages, one per transaction; safe with several workers at once.

A message whose correlation key matches a waiting catch event is delivered to that instance (the instance
that sent the request with the same key, or one whose business key is the key); otherwise a process with a
message start event for it is started, with the key as its business key.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update

from .. import messaging, runtime
from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import ConcurrentChangeError, ScriptTaskError
from ..model import SYSTEM
from ..tables import InstanceRecord, MessageRecord, ProcessVersionRecord
from ..unit_of_work import UnitOfWork
from .progress import save_progress

log = logging.getLogger(__name__)


def pending_message_ids(engine: WorkflowEngine, limit: int = 100) -> list[int]:
    """Messages not yet delivered, oldest first."""
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(MessageRecord.id).where(MessageRecord.status == "pending")
                                        .order_by(MessageRecord.id).limit(limit)).scalars())


def deliver_pending_messages(engine: WorkflowEngine, limit: int = 100) -> int:
    """Deliver every pending message; returns how many were delivered. Failures stay pending and are retried."""
    delivered = 0
    for message_id in pending_message_ids(engine, limit):
        try:
            delivered += deliver_message(engine, message_id)
        except ConcurrentChangeError:
            log.info("message %s: another worker delivered it first", message_id)
        except ScriptTaskError as exc:
            _record_failure(engine, message_id, str(exc))
            log.exception("message %s: delivery failed; it stays pending", message_id)
    return delivered


def deliver_message(engine: WorkflowEngine, message_id: int) -> int:
    """Deliver one message in its own transaction (claimed by a conditional update, so exactly once)."""
    with engine.new_uow() as uow:
        claimed = uow.session.execute(update(MessageRecord).where(
            MessageRecord.id == message_id, MessageRecord.status == "pending").values(
            status="delivering", attempts=MessageRecord.attempts + 1).execution_options(
            synchronize_session=False)).rowcount
        if claimed != 1:
            return 0
        message = uow.session.get(MessageRecord, message_id)
        target = _waiting_instance(engine, uow, message) or _start_by_message(engine, uow, message)
        message.status = "delivered" if target else "unmatched"
        message.target_instance_id = target
        message.delivered_at = engine.now()
        if target is None:
            message.last_error = "no instance waits for this message and no process starts on it"
        uow.commit()
        return 1 if target else 0


def _candidates(uow: UnitOfWork, message: MessageRecord) -> list[InstanceRecord]:
    if not message.correlation_key:
        return []
    senders = select(MessageRecord.source_instance_id).where(
        MessageRecord.correlation_key == message.correlation_key, MessageRecord.id != message.id)
    return list(uow.session.execute(select(InstanceRecord).where(
        InstanceRecord.status == "running",
        or_(InstanceRecord.business_key == message.correlation_key, InstanceRecord.id.in_(senders)))
        .order_by(InstanceRecord.id)).scalars())


def _waiting_instance(engine: WorkflowEngine, uow: UnitOfWork, message: MessageRecord) -> int | None:
    for record in _candidates(uow, message):
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        with runtime.tracking(workflow) as step:
            if not messaging.deliver(workflow, message.name, message.payload, message.correlation_key):
                continue
            runtime.run_engine(workflow)
        uow.audit.append(AuditEventType.message_received, record.id, "system", role="system", message=message.name,
                         correlation_key=message.correlation_key, message_id=message.id,
                         payload=message.payload)
        save_progress(engine, uow, record, workflow, version, SYSTEM, step)
        return record.id
    return None


def _start_by_message(engine: WorkflowEngine, uow: UnitOfWork, message: MessageRecord) -> int | None:
    keys = uow.session.execute(select(ProcessVersionRecord.process_key).distinct()).scalars().all()
    for key in sorted(keys):
        version = engine.latest_version(uow, key)
        if version.start_form_id is not None or not messaging.starts_on_message(version.spec_json, message.name):
            continue
        workflow = engine.new_workflow(version)
        record = InstanceRecord(process_version_id=version.id, process_key=version.key, status="running", state="",
                                business_key=message.correlation_key, summary={}, started_by="system",
                                started_at=engine.now())
        uow.session.add(record)
        uow.session.flush()
        uow.audit.append(AuditEventType.instance_started, record.id, "system", role="system", process=version.key,
                         version=version.version, content_hash=version.content_hash, message=message.name,
                         message_id=message.id, source_instance_id=message.source_instance_id,
                         payload=message.payload)
        with runtime.tracking(workflow) as step:
            runtime.start(workflow, {})
            messaging.start_by_message(workflow, message.name, message.payload)
            runtime.run_engine(workflow)
        save_progress(engine, uow, record, workflow, version, SYSTEM, step)
        return record.id
    return None


def _record_failure(engine: WorkflowEngine, message_id: int, error: str) -> None:
    with engine.new_uow() as uow:
        uow.session.execute(update(MessageRecord).where(MessageRecord.id == message_id).values(
            last_error=error[:2000], attempts=MessageRecord.attempts + 1))
        uow.commit()
