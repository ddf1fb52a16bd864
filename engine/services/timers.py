"""Timer service: fire due timers, one instance per transaction; safe with several workers at once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from .. import runtime
from ..bootstrap import WorkflowEngine
from ..errors import ConcurrentChangeError, ScriptTaskError
from ..model import SYSTEM
from ..tables import InstanceRecord
from .progress import save_progress

log = logging.getLogger(__name__)


def due_instance_ids(engine: WorkflowEngine, now: datetime, limit: int = 100) -> list[int]:
    """Running instances whose earliest timer is due."""
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(
            select(InstanceRecord.id).where(InstanceRecord.status == "running", InstanceRecord.next_timer_at <= now)
            .order_by(InstanceRecord.next_timer_at).limit(limit)).scalars())


def fire_due_timers(engine: WorkflowEngine, now: datetime | None = None, limit: int = 100) -> int:
    """Fire every due timer; returns how many instances moved. Another worker's win is skipped, not repeated."""
    now = now or engine.now()
    fired = 0
    for instance_id in due_instance_ids(engine, now, limit):
        try:
            fired += fire_instance_timers(engine, instance_id, now)
        except ConcurrentChangeError:
            log.info("instance %s: another worker fired its timers first", instance_id)
        except ScriptTaskError:
            log.exception("instance %s: a timer path failed; it stays due and is retried", instance_id)
    return fired


def fire_instance_timers(engine: WorkflowEngine, instance_id: int, now: datetime) -> int:
    """Fire one instance's due timers in its own transaction (row locked, skipped if another worker has it)."""
    with engine.new_uow() as uow:
        query = select(InstanceRecord).where(InstanceRecord.id == instance_id, InstanceRecord.status == "running",
                                             InstanceRecord.next_timer_at <= now)
        if uow.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        record = uow.session.execute(query).scalar_one_or_none()
        if record is None:
            return 0
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        with runtime.tracking(workflow) as step:
            runtime.fire_timers(workflow)
        save_progress(engine, uow, record, workflow, version, SYSTEM, step)
        uow.commit()
        return 1
