"""Timer service: fire due timers, one instance per transaction; safe with several workers at once.

Each transaction claims the next due instance with FOR UPDATE SKIP LOCKED (PostgreSQL), so workers never
wait on each other and never fire the same timer twice (optimistic locking backs this up on SQLite).
"""

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


def fire_due_timers(engine: WorkflowEngine, now: datetime | None = None, limit: int = 100_000) -> int:
    """Fire every timer due at `now`; returns how many instances moved.

    An instance whose timer path fails (or does not move) is logged, stays due for the next pass, and is
    skipped for the rest of this one.
    """
    now = now or engine.now()
    fired, skipped = 0, set[int]()
    while fired + len(skipped) < limit:
        try:
            instance_id, moved = fire_next_due(engine, now, skipped)
        except ConcurrentChangeError:
            continue  # another worker won this instance; take the next
        if instance_id is None:
            break
        if moved:
            fired += 1
        else:
            skipped.add(instance_id)
    return fired


def fire_next_due(engine: WorkflowEngine, now: datetime, skip: set[int]) -> tuple[int | None, bool]:
    """Claim the next due instance and fire its timers in one transaction.

    Returns (instance id, whether it moved); (None, False) when nothing is due.
    """
    with engine.new_uow() as uow:
        query = select(InstanceRecord).where(InstanceRecord.status == "running", InstanceRecord.next_timer_at <= now)
        if skip:
            query = query.where(InstanceRecord.id.not_in(skip))
        query = query.order_by(InstanceRecord.next_timer_at).limit(1)
        if uow.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        record = uow.session.execute(query).scalar_one_or_none()
        if record is None:
            return None, False
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        try:
            with runtime.tracking(workflow) as step:
                runtime.fire_timers(workflow)
        except ScriptTaskError:
            log.exception("instance %s: a timer path failed; it stays due and is retried next pass", record.id)
            return record.id, False
        if not step.events:
            return record.id, False  # nothing was due after all (its clock disagrees): leave it for later
        save_progress(engine, uow, record, workflow, version, SYSTEM, step)
        uow.commit()
        return record.id, True
