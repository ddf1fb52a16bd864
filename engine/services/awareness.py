"""Prevent concern services (SPEC §13): the W-milestone handler, the raiser's receipt, and the OfS figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import access
from ..audit import AuditEventType
from ..awareness_counting import academic_year_bounds, awareness_counts
from ..bootstrap import WorkflowEngine
from ..effects import Effect
from ..errors import InstanceNotFoundError, PermissionDeniedError
from ..model import Actor
from ..tables import ConcernMilestoneRecord, InstanceRecord, TrainingRecord
from ..unit_of_work import UnitOfWork
from .progress import effect_handler


@dataclass(frozen=True)
class CaseReceipt:
    """What the person who raised a restricted case may know: that it arrived, and whether it is still open."""

    id: int
    process_key: str
    status: str
    received_at: datetime
    ended_at: datetime | None


@effect_handler("concern_milestone")
def record_milestone(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                     actor: Actor) -> None:
    """One row per case and stage (a repeated stage keeps its first date): the category and date only."""
    p = effect.payload
    uow.session.flush()
    exists = uow.session.execute(select(ConcernMilestoneRecord.id).where(
        ConcernMilestoneRecord.instance_id == record.id, ConcernMilestoneRecord.stage == p["stage"])).first()
    if not exists:
        uow.session.add(ConcernMilestoneRecord(instance_id=record.id, stage=p["stage"],
                                               ideology_category=p["ideology_category"],
                                               occurred_on=str(p["occurred_on"])[:10]))


def case_receipt(engine: WorkflowEngine, instance_id: int, actor: Actor) -> CaseReceipt:
    """The receipt of a case: for whoever started it or may see it; the view is audited like any other."""
    with engine.new_uow() as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        if record is None:
            raise InstanceNotFoundError(f"instance {instance_id} not found")
        version = engine.pinned_version(uow, record.process_version_id)
        if not access.can_view_receipt(actor, record, version):
            raise PermissionDeniedError(f"you may not see instance {instance_id}")
        uow.audit.append(AuditEventType.document_viewed, record.id, actor.username, role=actor.primary_role,
                         view="receipt")
        uow.commit()
        return CaseReceipt(id=record.id, process_key=record.process_key, status=record.status,
                           received_at=record.started_at, ended_at=record.ended_at)


def sees_receipt_only(engine: WorkflowEngine, instance_id: int, actor: Actor) -> bool:
    """True when `actor` started a restricted case they may not otherwise see (unknown ids: False)."""
    with engine.new_uow(readonly=True) as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        if record is None:
            return False
        version = engine.pinned_version(uow, record.process_version_id)
        return access.can_view_receipt(actor, record, version) and not access.can_view_instance(actor, record,
                                                                                                version)


def awareness_figures(engine: WorkflowEngine, year: int) -> dict[str, Any]:
    """SPEC §13 figures for the academic year starting 1 Aug `year`: T1–T3 people trained, W1–W3 by category.

    Aggregates only (no names, no case data), for the OfS report.
    """
    first, last = (d.isoformat() for d in academic_year_bounds(year))
    with engine.new_uow(readonly=True) as uow:
        training = [{"person": r.person, "training_type": r.training_type, "completed_on": r.completed_on,
                     "status": r.status}
                    for r in uow.session.execute(select(TrainingRecord).where(
                        TrainingRecord.status == "completed", TrainingRecord.completed_on >= first,
                        TrainingRecord.completed_on <= last)).scalars()]
        milestones = [{"instance_id": m.instance_id, "stage": m.stage, "ideology_category": m.ideology_category,
                       "occurred_on": m.occurred_on}
                      for m in uow.session.execute(select(ConcernMilestoneRecord).where(
                          ConcernMilestoneRecord.occurred_on >= first,
                          ConcernMilestoneRecord.occurred_on <= last)).scalars()]
    return awareness_counts(training, milestones, year)
