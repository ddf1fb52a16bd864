"""Audit chain: event types, hashing, append under the chain-head lock, and verification.

Imports SQLAlchemy and the tables; never SpiffWorkflow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .tables import AuditHeadRecord, AuditRecord, utcnow

GENESIS_HASH = "0" * 64


class AuditEventType(StrEnum):
    """Audit event types take the form <subject>_<past_tense_verb>."""

    instance_started = "instance_started"
    instance_completed = "instance_completed"
    instance_cancelled = "instance_cancelled"
    task_ready = "task_ready"
    task_claimed = "task_claimed"
    task_unclaimed = "task_unclaimed"
    task_completed = "task_completed"
    task_cancelled = "task_cancelled"
    task_escalated = "task_escalated"
    gateway_taken = "gateway_taken"
    timer_fired = "timer_fired"
    message_sent = "message_sent"
    message_received = "message_received"
    decision_evaluated = "decision_evaluated"
    script_ran = "script_ran"
    service_called = "service_called"
    event_reached = "event_reached"
    data_changed = "data_changed"
    document_viewed = "document_viewed"
    process_deployed = "process_deployed"
    user_changed = "user_changed"
    token_issued = "token_issued"
    notification_queued = "notification_queued"


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def event_hash(seq: int, at: datetime, instance_id: int | None, actor: str, role: str | None, type_: str,
               element_id: str | None, details: str, prev_hash: str) -> str:
    """SHA-256 of one event's content and the previous event's hash.

    Each field is written as `<length>` U+001F `<text>` and the fields are joined by U+001E, in this order:
    seq, at (ISO-8601 with microseconds and offset), instance_id, actor, role, type, element_id, details
    (canonical JSON), prev_hash; absent values are empty. Unambiguous, and simple to re-implement elsewhere.
    """
    parts = (str(seq), _timestamp(at), "" if instance_id is None else str(instance_id), actor, role or "", type_,
             element_id or "", details, prev_hash)
    return hashlib.sha256("\x1e".join(f"{len(p)}\x1f{p}" for p in parts).encode("utf-8")).hexdigest()


def record_hash(record: Any) -> str:
    """Recompute the hash a stored record should carry."""
    return event_hash(record.seq, record.at, record.instance_id, record.actor, record.role, record.type,
                      record.element_id, record.details, record.prev_hash)


@dataclass
class PendingEvent:
    """An event recorded during a service call, chained and written when the unit of work commits."""

    type: str
    instance_id: int | None
    actor: str
    role: str | None
    element_id: str | None
    details: dict[str, Any]
    at: datetime = field(default_factory=utcnow)


class AuditLog:
    """Collects a unit of work's events; `flush` chains them onto the head inside the same transaction."""

    def __init__(self) -> None:
        self.pending: list[PendingEvent] = []

    def append(self, type_: str, instance_id: int | None, actor: str, *, role: str | None = None,
               element_id: str | None = None, **details: Any) -> None:
        """Record one event (written at commit, in the same transaction as the state change)."""
        self.pending.append(PendingEvent(str(type_), instance_id, actor, role, element_id, details))

    def flush(self, session: Session) -> int:
        """Lock the chain head, assign sequence numbers and hashes, insert the rows; returns the last seq.

        Core statements, not ORM objects: this runs inside every state change.
        """
        if not self.pending:
            return 0
        head = session.execute(
            select(AuditHeadRecord.seq, AuditHeadRecord.hash).where(AuditHeadRecord.id == 1).with_for_update()
        ).first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        rows = []
        for event in self.pending:
            seq += 1
            details = canonical_json(event.details)
            digest = event_hash(seq, event.at, event.instance_id, event.actor, event.role, event.type,
                                event.element_id, details, prev)
            rows.append({"seq": seq, "instance_id": event.instance_id, "at": event.at, "actor": event.actor,
                         "role": event.role, "type": event.type, "element_id": event.element_id,
                         "details": details, "prev_hash": prev, "hash": digest})
            prev = digest
        session.execute(insert(AuditRecord), rows)
        if head is None:
            session.execute(insert(AuditHeadRecord).values(id=1, seq=seq, hash=prev))
        else:
            session.execute(update(AuditHeadRecord).where(AuditHeadRecord.id == 1).values(seq=seq, hash=prev))
        self.pending.clear()
        return seq


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain verification: `first_bad` is the first sequence number that does not check out."""

    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None


def verify_chain(records: Iterable[Any], head: AuditHeadRecord | None) -> VerifyResult:
    """Walk the whole chain in sequence order; detect edits, deletions, insertions and reordering."""
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for record in records:
        count += 1
        if record.seq != expected_seq:
            return VerifyResult(False, count, min(record.seq, expected_seq), f"sequence gap: expected {expected_seq}")
        if record.prev_hash != expected_prev:
            return VerifyResult(False, count, record.seq, "prev_hash does not match the previous event")
        if record_hash(record) != record.hash:
            return VerifyResult(False, count, record.seq, "content does not match its hash")
        expected_prev, expected_seq = record.hash, expected_seq + 1
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != expected_seq - 1 or head_hash != expected_prev:
        return VerifyResult(False, count, expected_seq if head_seq >= expected_seq else head_seq + 1,
                            "the chain head does not match the last event (events removed or added at the end)")
    return VerifyResult(True, count, None)


def verify_instance(records: list[AuditRecord], predecessors: dict[int, AuditRecord]) -> VerifyResult:
    """Verify one instance's events: each hash, and the link to the event just before it in the chain.

    `predecessors` maps seq-1 of each event to the stored event with that seq (or is missing it).
    """
    for record in records:
        if record_hash(record) != record.hash:
            return VerifyResult(False, len(records), record.seq, "content does not match its hash")
        before = predecessors.get(record.seq - 1)
        expected_prev = before.hash if before is not None else (GENESIS_HASH if record.seq == 1 else None)
        if record.prev_hash != expected_prev:
            return VerifyResult(False, len(records), record.seq, "prev_hash does not match the event before it")
    return VerifyResult(True, len(records), None)


def iter_chain(session: Session, batch: int = 20000) -> Iterator[Any]:
    """Every audit row in sequence order, fetched in batches as plain rows (no ORM objects: verify is hot)."""
    table = AuditRecord.__table__
    last = 0
    while True:
        rows = session.execute(select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
