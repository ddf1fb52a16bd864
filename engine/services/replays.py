"""Replay service: re-execute an instance from its pinned version and recorded inputs, and compare."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import replay
from ..audit import instance_payloads, merge_payload
from ..bootstrap import WorkflowEngine
from ..errors import PermissionDeniedError
from ..model import Actor
from ..replay import RecordedEvent, ReplayReport
from ..tables import AuditRecord, InstanceRecord
from .instances import load_visible, record_view

REPLAY_ROLES = ("auditor", "admin")


def replay_instance(engine: WorkflowEngine, instance_id: int, actor: Actor) -> ReplayReport:
    """Rebuild the instance from its recorded inputs; report the first step that does not match."""
    if not actor.has_role(*REPLAY_ROLES):
        raise PermissionDeniedError("only auditors and admins may replay instances")
    with engine.new_uow(readonly=True) as uow:
        record, version = load_visible(engine, uow, instance_id, actor)
        events = _recorded_events(uow.session, instance_id)
        try:
            stored = engine.load_workflow(record.state, version)
        except Exception as exc:  # noqa: BLE001 - a corrupted state is a finding, not a crash
            stored, broken = None, f"the stored state cannot be loaded: {exc}"
        else:
            broken = None
    report = replay.replay(instance_id, version.spec_json, engine.script_engine, events, stored)
    if broken and report.ok:
        report.diverge(None, broken)
    record_view(engine, instance_id, actor, "replay")  # the replay reads all the case data
    return report


def _recorded_events(session: Session, instance_id: int) -> list[RecordedEvent]:
    """The instance's events with their payloads merged back: two queries (rows as tuples, then the payloads)."""
    bodies = instance_payloads(session, instance_id)
    rows = session.execute(select(AuditRecord.seq, AuditRecord.at, AuditRecord.actor, AuditRecord.type,
                                  AuditRecord.element_id, AuditRecord.details)
                           .where(AuditRecord.instance_id == instance_id).order_by(AuditRecord.seq)).tuples()
    return [RecordedEvent(seq, at, actor, type_, element_id, json.loads(merge_payload(details, bodies)))
            for seq, at, actor, type_, element_id, details in rows]


def instance_ids(engine: WorkflowEngine) -> list[int]:
    """Every instance id, for `replay --all`."""
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(InstanceRecord.id).order_by(InstanceRecord.id)).scalars())
