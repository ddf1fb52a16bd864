"""Subject access (UK GDPR Art. 15): gather everything held about a person into one export (DPO only).

Matches a name, user name or email, case-insensitively, in accounts, requests (their data), speaker history,
the sharing log, notifications and the audit trail (including erasable audit payloads). The export is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from .. import runtime
from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import InvalidDataError, PermissionDeniedError
from ..model import Actor
from ..tables import (
    AuditPayloadRecord,
    AuditRecord,
    InstanceRecord,
    OutboxRecord,
    SharingLogRecord,
    SpeakerHistoryRecord,
    UserRecord,
)
from ..unit_of_work import UnitOfWork

LIMIT = 5000


def require_dpo(actor: Actor) -> None:
    """Only the data protection officer answers subject access requests."""
    if not actor.has_role("dpo"):
        raise PermissionDeniedError("only the data protection officer may run a subject access search")


def _like(column: Any, term: str) -> Any:
    return func.lower(column).contains(term, autoescape=True)


def _plain(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v := getattr(row, k), datetime) else v) for k in fields}


def gather_subject_data(engine: WorkflowEngine, actor: Actor, subject: str | None) -> dict[str, Any]:
    """Everything held about `subject` (a name, user name or email) as one JSON-ready document."""
    require_dpo(actor)
    term = " ".join((subject or "").split()).lower()
    if len(term) < 3:
        raise InvalidDataError("give a name or email to search for", fields={"subject": [
            "Enter at least 3 characters of a name, user name or email."]})
    with engine.new_uow() as uow:
        users = uow.session.execute(select(UserRecord).where(or_(
            func.lower(UserRecord.username) == term, _like(UserRecord.email, term),
            _like(UserRecord.display_name, term)))).scalars().all()
        names = [u.username for u in users]
        export = {
            "subject": subject, "generated_at": engine.now().isoformat(), "generated_by": actor.username,
            "accounts": [_plain(u, ("username", "display_name", "email", "roles", "active", "created_at"))
                         for u in users],
            "requests": _requests(engine, uow, term, names),
            "speaker_history": [_plain(r, ("id", "full_name", "affiliation", "instance_id", "event_title",
                                           "event_date", "event_format", "decision", "conditions", "incidents"))
                                for r in uow.session.execute(select(SpeakerHistoryRecord).where(
                                    _like(SpeakerHistoryRecord.full_name, term))).scalars()],
            "sharing_log": [_plain(r, ("id", "created_at", "direction", "decision", "counterpart_org", "speaker",
                                       "purpose", "data_categories_shared", "reasons", "details"))
                            for r in uow.session.execute(select(SharingLogRecord).where(or_(
                                _like(SharingLogRecord.speaker, term),
                                _like(cast(SharingLogRecord.details, Text), term)))).scalars()],
            "notifications": [_plain(r, ("id", "created_at", "recipient", "email", "subject", "body"))
                              for r in uow.session.execute(select(OutboxRecord).where(or_(
                                  OutboxRecord.recipient.in_(names), _like(OutboxRecord.email, term)))).scalars()],
            "audit_mentions": _audit(uow, term, names),
        }
        uow.audit.append(AuditEventType.subject_access_exported, None, actor.username, role="dpo", query=subject,
                         found={k: len(v) for k, v in export.items() if isinstance(v, list)})
        uow.commit()
        return export


def _requests(engine: WorkflowEngine, uow: UnitOfWork, term: str, names: list[str]) -> list[dict[str, Any]]:
    rows = uow.session.execute(select(InstanceRecord).where(or_(
        InstanceRecord.started_by.in_(names), _like(InstanceRecord.state, term))).order_by(InstanceRecord.id)
        .limit(LIMIT)).scalars()
    found = []
    for row in rows:
        workflow = engine.load_workflow(row.state, engine.pinned_version(uow, row.process_version_id))
        found.append({**_plain(row, ("id", "process_key", "status", "started_by", "started_at", "ended_at")),
                      "data": runtime.current_data(workflow)})
    return found


def _audit(uow: UnitOfWork, term: str, names: list[str]) -> list[dict[str, Any]]:
    in_payload = select(AuditPayloadRecord.seq).where(_like(AuditPayloadRecord.body, term))
    rows = uow.session.execute(select(AuditRecord).where(or_(
        AuditRecord.actor.in_(names), _like(AuditRecord.details, term), AuditRecord.seq.in_(in_payload)))
        .order_by(AuditRecord.seq).limit(LIMIT)).scalars()
    return [_plain(r, ("seq", "at", "instance_id", "actor", "role", "type", "element_id", "details")) for r in rows]
