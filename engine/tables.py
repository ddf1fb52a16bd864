"""SQLAlchemy 2.0 tables: pinned process versions, instances, the open-task projection, audit, users, outbox.

Imports SQLAlchemy only (workflow state is an opaque JSON string here).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite and PostgreSQL then round-trip the same value."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class HexBytes(TypeDecorator[str]):
    """Hex text in Python, its bytes in the database: a SHA-256 digest takes 32 bytes instead of 64 characters.

    Text that is not hex (a tampered reference) is bound as its UTF-8 bytes, so it matches no stored value.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return bytes.fromhex(value)
        except (TypeError, ValueError):
            return str(value).encode("utf-8")

    def process_result_value(self, value: bytes | str | None, dialect: Any) -> str | None:
        return bytes(value).hex() if isinstance(value, bytes | memoryview) else value


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ProcessVersionRecord(Base):
    """One deployed, content-hashed version of a process with the exact sources it was built from."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        UniqueConstraint("process_key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    sources: Mapped[dict[str, str]] = mapped_column(JSON)
    spec_json: Mapped[str] = mapped_column(Text)
    start_form_id: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    starter_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(200))


class FormRecord(Base):
    """One deployed version of a Camunda form."""

    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("form_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceRecord(Base):
    """A running or finished process instance; `state` is the workflow without its spec."""

    __tablename__ = "instances"
    # PostgreSQL keeps a fifth of each page free (fillfactor 80, migration 0013): the update at every step stays on
    # its page and touches no index. SQLAlchemy has no table option for it.
    # Instance list pages (newest first) read one index range per visibility branch (migration 0006); the
    # yearly reports find a year's event requests by submission or decision date (decisions: PostgreSQL only).
    __table_args__ = (
        Index("ix_instances_due_timers", "next_timer_at",  # the worker's claim of the next due timer
              postgresql_where=text("status = 'running' AND next_timer_at IS NOT NULL"),
              sqlite_where=text("status = 'running' AND next_timer_at IS NOT NULL")),
        Index("ix_instances_started_by_id", "started_by", "id"),
        Index("ix_instances_process_key_id", "process_key", "id"),
        Index("ix_instances_status_id", "status", "id"),
        Index("ix_instances_process_key_started_at", "process_key", "started_at"),
        *(Index(f"ix_instances_{field}", "process_key", text(f"(summary ->> '{field}')")).ddl_if(dialect="postgresql")
          for field in ("final_decision_on", "decided_on")),
        Index("ix_instances_decision_id", text("(summary ->> 'decision')"), "id").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))  # see ix_instances_*_id
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20))  # see ix_instances_*_id
    state: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by: Mapped[str] = mapped_column(String(200))  # see ix_instances_*_id
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # see ix_instances_due_timers
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}


class TaskRecord(Base):
    """A user task: the inbox projection (open ones), so task lists never deserialize workflows.

    Closed tasks stay (status completed/cancelled) so that acting on one again is a conflict, not "unknown".
    """

    __tablename__ = "tasks"
    # Partial indexes: closed tasks are history, kept for conflicts and audits but never searched.
    __table_args__ = tuple(
        Index(f"ix_tasks_open_{column}", column, postgresql_where=text("status = 'open'"),
              sqlite_where=text("status = 'open'"))
        for column in ("instance_id", "due_at", "assignee")) + (
        Index("ix_tasks_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL"),
              sqlite_where=text("due_at IS NOT NULL")),  # the yearly reports' SLA breaches
        # Task lists in their order (services/tasks.py list_tasks): a page is read from the front (0011).
        Index("ix_tasks_open_queue", text("(due_at IS NULL)"), "due_at", "created_at",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    form_id: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))

    # Written with the task, queried only through the inbox index: never loaded with the task row.
    candidates: Mapped[list[TaskCandidateRecord]] = relationship(cascade="save-update, merge", lazy="noload")


class TaskCandidateRecord(Base):
    """Who may work on an open task: one row per candidate group or user (indexed for the inbox)."""

    __tablename__ = "task_candidates"
    __table_args__ = (Index("ix_task_candidates_kind_value", "kind", "value"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


class AuditRecord(Base):
    """Append-only audit event; `hash` = SHA-256 over the event and `prev_hash` (one chain for the database).

    Both hashes are hex text in Python (what the hash covers) and their 32 bytes on disk (HexBytes, 0010).
    """

    __tablename__ = "audit_events"
    # On instance_id alone: PostgreSQL stores an instance's events as one deduplicated entry (a third of the size
    # of (instance_id, seq)); SQLite's index entries end with the rowid, i.e. seq, anyway.
    __table_args__ = (Index("ix_audit_events_instance", "instance_id"),
                      Index("ix_audit_events_escalated_at", "at", postgresql_where=text("type = 'task_escalated'"),
                            sqlite_where=text("type = 'task_escalated'")))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(60))
    element_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(HexBytes)
    hash: Mapped[str] = mapped_column(HexBytes)


class AuditHeadRecord(Base):
    """The chain head (a single row); locking it serializes appends across processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class UserRecord(Base):
    """A local account; roles are the candidate groups the user belongs to."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiTokenRecord(Base):
    """An API bearer token, stored as its SHA-256 only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxRecord(Base):
    """A notification to deliver (email and in-app), written in the same transaction as the step."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(300), index=True)
    email: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageRecord(Base):
    """A BPMN message thrown by one instance, kept until the worker delivers it (the message outbox)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    correlation_key: Mapped[str | None] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target_instance_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending, delivered, unmatched
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class SharingLogRecord(Base):
    """SPEC §5 sharing log: one row per information share or refusal, inbound or outbound (auditor-visible)."""

    __tablename__ = "sharing_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    direction: Mapped[str] = mapped_column(String(20), index=True)  # inbound, outbound
    decision: Mapped[str] = mapped_column(String(30), index=True)  # shared, partial, declined, query_sent, ...
    counterpart_org: Mapped[str] = mapped_column(String(300))
    speaker: Mapped[str | None] = mapped_column(String(300), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    data_requested: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_categories_shared: Mapped[list[str]] = mapped_column(JSON, default=list)
    transmitted: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer_method: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[str | None] = mapped_column(Text)
    lawful_basis: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str] = mapped_column(String(200))
    retention_until: Mapped[str | None] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SpeakerHistoryRecord(Base):
    """One past event of a speaker here: facts a later check or a partner's request may rely on."""

    __tablename__ = "speaker_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    speaker_ref: Mapped[str] = mapped_column(String(500), index=True)
    full_name: Mapped[str] = mapped_column(String(300))
    affiliation: Mapped[str | None] = mapped_column(String(300))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event_title: Mapped[str] = mapped_column(String(300))
    event_date: Mapped[str] = mapped_column(String(10))
    event_format: Mapped[str | None] = mapped_column(String(50))
    decision: Mapped[str | None] = mapped_column(String(40))
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    incidents: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKeyRecord(Base):
    """An `Idempotency-Key` used on start or complete: the request's digest and the instance it produced.

    Written in the same transaction as the state change, so a retry either finds it or finds nothing happened.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(300))
    request_digest: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginThrottleRecord(Base):
    """Failed logins per user name and address; `locked_until` refuses every attempt until then."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StagedDeploymentRecord(Base):
    """Files an admin uploaded: validated and compared before a separate, reasoned deploy."""

    __tablename__ = "staged_deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditPayloadRecord(Base):
    """The erasable part of an audit event (case data, emails, free text), outside the hash chain.

    The event (`seq`) holds `"$payload": digest` in its `details` with digest = SHA-256(salt + body); the chain
    hashes the digest, so deleting this row (retention, erasure) leaves the chain verifiable and the digest
    unlinkable. The digest itself is not stored here: readers recompute it, so a body that was altered no longer
    matches its event and is not shown.
    """

    __tablename__ = "audit_payloads"

    # salt is hex in Python, bytes on disk (HexBytes). instance_id is written but not indexed: an instance's
    # payloads are found through its events (ix_audit_events_instance), one per event at most.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    salt: Mapped[str] = mapped_column(HexBytes)
    body: Mapped[str] = mapped_column(Text)


class LegalHoldRecord(Base):
    """A DPO's legal hold: retention never redacts the held record while `released_at` is empty."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(30))  # instance, sharing_log
    record_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(Text)


class RedactionRecord(Base):
    """A record whose personal data the retention pass has redacted (so it is done once, and shown as such)."""

    __tablename__ = "redactions"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(60))
    expired_on: Mapped[str] = mapped_column(String(10))
    redacted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainingRecord(Base):
    """SPEC §13 training register: one completed course for one person (from the process or a CSV import)."""

    __tablename__ = "training_records"
    __table_args__ = (Index("ix_training_records_person_course", "person", "course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(200), index=True)
    full_name: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    staff_role: Mapped[str | None] = mapped_column(String(100), index=True)
    manager: Mapped[str | None] = mapped_column(String(200))
    course: Mapped[str] = mapped_column(String(60))
    training_type: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # assigned, completed
    assigned_on: Mapped[str | None] = mapped_column(String(10))
    complete_by: Mapped[str | None] = mapped_column(String(10))
    completed_on: Mapped[str | None] = mapped_column(String(10), index=True)
    certificate_ref: Mapped[str | None] = mapped_column(String(200))
    refresher_due_on: Mapped[str | None] = mapped_column(String(10), index=True)
    source: Mapped[str] = mapped_column(String(20))  # process, import
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConcernMilestoneRecord(Base):
    """A Prevent concern reaching an OfS-counted stage (escalated, advice sought, referred): no case data."""

    __tablename__ = "concern_milestones"
    __table_args__ = (UniqueConstraint("instance_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    stage: Mapped[str] = mapped_column(String(30), index=True)  # escalated, advice_sought, referred
    ideology_category: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
