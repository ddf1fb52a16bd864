"""Audit services: verify the chain (whole or one instance), export it, and read the chain head."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from ..audit import VerifyResult, iter_chain, verify_chain, verify_instance
from ..audit_export import export_lines
from ..bootstrap import WorkflowEngine
from ..tables import AuditHeadRecord, AuditRecord


def verify_audit(engine: WorkflowEngine, instance_id: int | None = None) -> VerifyResult:
    """Recompute every hash and link; report the first bad sequence number."""
    with engine.new_uow(readonly=True) as uow:
        session = uow.session
        if instance_id is None:
            head = session.get(AuditHeadRecord, 1)
            head_copy = AuditHeadRecord(id=1, seq=head.seq, hash=head.hash) if head else None
            return verify_chain(iter_chain(session), head_copy)
        records = list(session.execute(select(AuditRecord).where(AuditRecord.instance_id == instance_id)
                                       .order_by(AuditRecord.seq)).scalars())
        wanted = [r.seq - 1 for r in records]
        predecessors = {r.seq: r for r in session.execute(
            select(AuditRecord).where(AuditRecord.seq.in_(wanted))).scalars()} if wanted else {}
        return verify_instance(records, predecessors)


def export_audit(engine: WorkflowEngine, fmt: str, *, instance_id: int | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[str]:
    """The audit trail (all, one instance, or a time range) as JSON Lines or CSV, streamed."""
    with engine.new_uow(readonly=True) as uow:
        query = select(AuditRecord).order_by(AuditRecord.seq)
        if instance_id is not None:
            query = query.where(AuditRecord.instance_id == instance_id)
        if since is not None:
            query = query.where(AuditRecord.at >= since)
        if until is not None:
            query = query.where(AuditRecord.at < until)
        yield from export_lines(uow.session.execute(query.execution_options(yield_per=2000)).scalars(), fmt)


def chain_head(engine: WorkflowEngine) -> tuple[int, str]:
    """The last sequence number and hash: record it elsewhere to prove later that nothing changed."""
    with engine.new_uow(readonly=True) as uow:
        head = uow.session.get(AuditHeadRecord, 1)
        return (head.seq, head.hash) if head else (0, "0" * 64)
