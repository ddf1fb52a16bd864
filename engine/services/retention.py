"""Retention services: the worker's redaction pass, and legal holds set and released by the DPO.

Each redaction is one unit of work: the record's personal data, its related rows (outbox, messages, speaker
history), its audit payloads, the `redactions` row and the `data_redacted` audit event commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update

from .. import retention
from ..audit import AuditEventType, delete_payloads
from ..bootstrap import WorkflowEngine
from ..errors import InvalidDataError, NotFoundError, PermissionDeniedError
from ..model import Actor
from ..tables import (
    InstanceRecord,
    LegalHoldRecord,
    MessageRecord,
    OutboxRecord,
    RedactionRecord,
    SharingLogRecord,
    SpeakerHistoryRecord,
)
from ..unit_of_work import UnitOfWork

HOLD_ROLES = ("dpo",)
RECORD_TYPES = {"instance": InstanceRecord, "sharing_log": SharingLogRecord}
EVENT_PROCESS = "event_approval"


@dataclass(frozen=True)
class RetentionPass:
    """What one retention pass did: records redacted, and expired records kept because of a legal hold."""

    redacted: tuple[tuple[str, int], ...]
    held: tuple[tuple[str, int], ...]


def _held(uow: UnitOfWork) -> set[tuple[str, int]]:
    rows = uow.session.execute(select(LegalHoldRecord.record_type, LegalHoldRecord.record_id)
                               .where(LegalHoldRecord.released_at.is_(None)))
    return {(t, i) for t, i in rows}


def _done(uow: UnitOfWork) -> set[tuple[str, int]]:
    return {(t, i) for t, i in uow.session.execute(select(RedactionRecord.record_type, RedactionRecord.record_id))}


def expired_records(engine: WorkflowEngine, today: date) -> list[tuple[str, int, str, date]]:
    """(type, id, rule, expiry) of every record past its retention date and not yet redacted."""
    s = engine.settings
    found: list[tuple[str, int, str, date]] = []
    with engine.new_uow(readonly=True) as uow:
        done = _done(uow)
        rows = uow.session.execute(select(InstanceRecord.id, InstanceRecord.process_key, InstanceRecord.summary,
                                          InstanceRecord.started_at, InstanceRecord.ended_at)
                                   .where(InstanceRecord.ended_at.is_not(None)))
        for row in rows:
            if row.process_key == EVENT_PROCESS:
                rule, expiry = "event_files", retention.event_file_expiry(row.summary or {}, row.started_at,
                                                                           s.retention_event_years)
            else:
                rule, expiry = "speaker_information", retention.closed_case_expiry(row.ended_at,
                                                                                   s.retention_speaker_info_months)
            if expiry < today and ("instance", row.id) not in done:
                found.append(("instance", row.id, rule, expiry))
        for share_id, created_at in uow.session.execute(select(SharingLogRecord.id, SharingLogRecord.created_at)):
            expiry = retention.sharing_log_expiry(created_at, s.retention_sharing_log_years)
            if expiry < today and ("sharing_log", share_id) not in done:
                found.append(("sharing_log", share_id, "sharing_log", expiry))
    return found


def run_retention(engine: WorkflowEngine, today: date | None = None) -> RetentionPass:
    """Redact every expired record that is not under a legal hold (a hold on an instance covers its log rows)."""
    today = today or engine.now().date()
    redacted, held = [], []
    for record_type, record_id, rule, expiry in expired_records(engine, today):
        with engine.new_uow() as uow:
            holds = _held(uow)
            owner = (uow.session.get(SharingLogRecord, record_id).instance_id if record_type == "sharing_log"
                     else None)
            if (record_type, record_id) in holds or ("instance", owner) in holds:
                held.append((record_type, record_id))
                continue
            erased = (_redact_instance(uow, record_id) if record_type == "instance"
                      else _redact_share(uow, record_id))
            uow.session.add(RedactionRecord(record_type=record_type, record_id=record_id, rule=rule,
                                            expired_on=expiry.isoformat()))
            uow.audit.append(AuditEventType.data_redacted, record_id if record_type == "instance" else owner,
                             "system", role="system", record_type=record_type, record_id=record_id, rule=rule,
                             expired_on=expiry.isoformat(), erased=erased)
            uow.commit()
            redacted.append((record_type, record_id))
    return RetentionPass(tuple(redacted), tuple(held))


def _redact_instance(uow: UnitOfWork, instance_id: int) -> dict[str, int]:
    record = uow.session.get(InstanceRecord, instance_id)
    record.state = retention.redact_state(record.state)
    record.summary = retention.redact_summary(record.summary)
    r = retention.REDACTED
    outbox = uow.session.execute(update(OutboxRecord).where(OutboxRecord.instance_id == instance_id)
                                 .values(email=None, subject=r, body=r)).rowcount
    messages = uow.session.execute(update(MessageRecord).where(
        (MessageRecord.source_instance_id == instance_id) | (MessageRecord.target_instance_id == instance_id))
        .values(payload={})).rowcount
    speakers = 0
    for row in uow.session.execute(select(SpeakerHistoryRecord).where(
            SpeakerHistoryRecord.instance_id == instance_id)).scalars():
        row.full_name, row.affiliation, row.event_title, row.speaker_ref = r, None, r, f"redacted-{row.id}"
        speakers += 1
    return {"outbox": outbox or 0, "messages": messages or 0, "speaker_history": speakers,
            "audit_payloads": delete_payloads(uow.session, instance_id)}


def _redact_share(uow: UnitOfWork, share_id: int) -> dict[str, int]:
    row = uow.session.get(SharingLogRecord, share_id)
    row.speaker, row.purpose, row.reasons, row.details = retention.REDACTED, retention.REDACTED, None, {}
    return {"sharing_log": 1}


def _require_dpo(actor: Actor) -> None:
    if not actor.has_role(*HOLD_ROLES):
        raise PermissionDeniedError("only the data protection officer may set or release legal holds")


def _reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if len(text) < 5:
        raise InvalidDataError("a reason is required", fields={field: ["Give the reason (at least 5 characters)."]})
    return text


def set_legal_hold(engine: WorkflowEngine, actor: Actor, record_type: str, record_id: Any,
                   reason: str | None) -> int:
    """Put a record under legal hold (retention will not redact it); returns the hold id."""
    _require_dpo(actor)
    if record_type not in RECORD_TYPES:
        raise InvalidDataError("unknown record type", fields={"record_type": [f"One of {', '.join(RECORD_TYPES)}."]})
    try:
        number = int(record_id)
    except (TypeError, ValueError):
        raise InvalidDataError("record id must be a number", fields={"record_id": ["Not a valid number."]}) from None
    text = _reason(reason)
    with engine.new_uow() as uow:
        if uow.session.get(RECORD_TYPES[record_type], number) is None:
            raise NotFoundError(f"no {record_type.replace('_', ' ')} {number}")
        hold = LegalHoldRecord(record_type=record_type, record_id=number, reason=text, set_by=actor.username,
                               set_at=engine.now())
        uow.session.add(hold)
        uow.session.flush()
        uow.audit.append(AuditEventType.legal_hold_set, number if record_type == "instance" else None,
                         actor.username, role="dpo", hold_id=hold.id, record_type=record_type, record_id=number,
                         reason=text)
        uow.commit()
        return hold.id


def release_legal_hold(engine: WorkflowEngine, actor: Actor, hold_id: int, reason: str | None) -> None:
    """Release a hold (with a reason); the record then follows its normal retention."""
    _require_dpo(actor)
    text = _reason(reason)
    with engine.new_uow() as uow:
        hold = uow.session.get(LegalHoldRecord, hold_id)
        if hold is None or hold.released_at is not None:
            raise NotFoundError(f"no active legal hold {hold_id}")
        hold.released_at, hold.released_by, hold.release_reason = engine.now(), actor.username, text
        uow.audit.append(AuditEventType.legal_hold_released,
                         hold.record_id if hold.record_type == "instance" else None, actor.username, role="dpo",
                         hold_id=hold.id, record_type=hold.record_type, record_id=hold.record_id, reason=text)
        uow.commit()


def list_legal_holds(engine: WorkflowEngine, actor: Actor) -> list[dict[str, Any]]:
    """Every legal hold, active first."""
    _require_dpo(actor)
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(LegalHoldRecord).order_by(LegalHoldRecord.released_at.is_not(None),
                                                                    LegalHoldRecord.id.desc())).scalars()
        return [{"id": h.id, "record_type": h.record_type, "record_id": h.record_id, "reason": h.reason,
                 "set_by": h.set_by, "set_at": h.set_at.isoformat(), "released_by": h.released_by,
                 "released_at": h.released_at.isoformat() if h.released_at else None,
                 "release_reason": h.release_reason} for h in rows]
