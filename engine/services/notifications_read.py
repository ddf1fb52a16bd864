"""Notification reads (in-app): the outbox items addressed to a user. Read-only; imports tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..bootstrap import WorkflowEngine
from ..model import Actor
from ..tables import OutboxRecord


@dataclass(frozen=True)
class NotificationView:
    """One message to a user, as shown in the app."""

    id: int
    instance_id: int | None
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None


def list_notifications(engine: WorkflowEngine, actor: Actor, *, limit: int = 100) -> list[NotificationView]:
    """The newest notifications addressed to `actor`, newest first."""
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(OutboxRecord).where(OutboxRecord.recipient == actor.username)
                                   .order_by(OutboxRecord.id.desc()).limit(limit)).scalars()
        return [NotificationView(id=r.id, instance_id=r.instance_id, subject=r.subject, body=r.body,
                                 created_at=r.created_at, sent_at=r.sent_at) for r in rows]


def count_notifications(engine: WorkflowEngine, actor: Actor, *, after_id: int = 0) -> int:
    """How many notifications addressed to `actor` have an id above `after_id` (the last one seen)."""
    with engine.new_uow(readonly=True) as uow:
        return uow.session.execute(select(func.count(OutboxRecord.id)).where(
            OutboxRecord.recipient == actor.username, OutboxRecord.id > after_id)).scalar_one()
