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
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
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

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}


class TaskRecord(Base):
    """A user task: the inbox projection (open ones), so task lists never deserialize workflows.

    Closed tasks stay (status completed/cancelled) so that acting on one again is a conflict, not "unknown".
    """

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    form_id: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
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
    """Append-only audit event; `hash` = SHA-256 over the event and `prev_hash` (one chain for the database)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_instance_seq", "instance_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(60), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


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
