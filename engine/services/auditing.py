"""Audit services: verify the chain (whole or one instance), export it, and read the chain head."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from .. import audit_scan
from ..audit import AuditEventType, VerifyResult, combine, verify_instance
from ..audit_export import FORMATS, export_lines
from ..bootstrap import WorkflowEngine
from ..errors import InvalidDataError, PermissionDeniedError
from ..model import Actor
from ..tables import AuditHeadRecord, AuditRecord

EXPORT_ROLES = ("auditor", "admin")


def verify_audit(engine: WorkflowEngine, instance_id: int | None = None, *,
                 parallel: bool | None = None) -> VerifyResult:
    """Recompute every hash and link; report the first bad sequence number.

    The whole chain is read as plain tuples with the timestamp written out by the database; a big chain is
    split into seq ranges checked by worker processes (`parallel`: None decides by size), then joined.
    """
    if instance_id is None:
        return _verify_all(engine, parallel)
    with engine.new_uow(readonly=True) as uow:
        session = uow.session
        records = list(session.execute(select(AuditRecord).where(AuditRecord.instance_id == instance_id)
                                       .order_by(AuditRecord.seq)).scalars())
        wanted = [r.seq - 1 for r in records]
        predecessors = {r.seq: r for r in session.execute(
            select(AuditRecord).where(AuditRecord.seq.in_(wanted))).scalars()} if wanted else {}
        return verify_instance(records, predecessors)


def _verify_all(engine: WorkflowEngine, parallel: bool | None) -> VerifyResult:
    dialect, url = engine.db.dialect.name, engine.settings.database_url
    with engine.new_uow(readonly=True) as uow:
        connection = uow.session.connection().connection
        cursor = connection.cursor()
        try:
            snapshot = audit_scan.read_snapshot(cursor)
        finally:
            cursor.close()
        if snapshot.max_seq is None:
            return combine([], snapshot.head_seq, snapshot.head_hash)
        if parallel is None:
            parallel = audit_scan.parallel_possible(dialect, url, snapshot.rows)
        if not parallel:
            rows = audit_scan.iter_rows(connection, dialect, None, snapshot.max_seq)
            runs = [audit_scan.scan_rows(rows, sqlite_text=dialect == "sqlite")]
    if parallel:  # outside the read transaction: the workers read committed rows up to the snapshot's max
        runs = audit_scan.scan_parallel(dialect, url, snapshot)
    return combine(runs, snapshot.head_seq, snapshot.head_hash)


def export_audit(engine: WorkflowEngine, fmt: str, *, instance_id: int | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 actor: Actor | None = None) -> Iterator[str]:
    """The audit trail (all, one instance, or a time range) as JSON Lines or CSV, streamed.

    With an `actor` (the web edge), only auditors and admins may export, and the export is itself audited
    before the first line is produced; the command line (an operator on the server) passes none.
    """
    if fmt not in FORMATS:
        raise InvalidDataError(f"format must be one of {', '.join(FORMATS)}", fields={"format": ["Unknown format."]})
    if actor is not None:
        if not actor.has_role(*EXPORT_ROLES):
            raise PermissionDeniedError("only auditors and admins may export the audit trail")
        with engine.new_uow() as uow:
            uow.audit.append(AuditEventType.document_viewed, instance_id, actor.username, role=actor.primary_role,
                             view=f"export {fmt}", since=since.isoformat() if since else None,
                             until=until.isoformat() if until else None)
            uow.commit()
    return _export(engine, fmt, instance_id, since, until)


def _export(engine: WorkflowEngine, fmt: str, instance_id: int | None, since: datetime | None,
            until: datetime | None) -> Iterator[str]:
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
