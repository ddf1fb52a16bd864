"""Frozen views returned to callers (web, CLI, tests): no ORM rows, no SpiffWorkflow objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OUTCOME_FIELDS = (
    "decision",
    "risk_level",
    "risk_score",
    "conditions",
    "condition_reason_category",
    "rejection_reason_category",
    "decision_reasons",
    "late_accepted",
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name and the roles (candidate groups) they hold."""

    username: str
    roles: frozenset[str] = frozenset()

    def has_role(self, *roles: str) -> bool:
        """True when the actor holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    @property
    def primary_role(self) -> str | None:
        """A stable role to record in the audit when the step does not name one."""
        return min(self.roles) if self.roles else None


SYSTEM = Actor("system", frozenset({"system"}))


@dataclass(frozen=True)
class ProcessView:
    key: str
    name: str
    version: int
    version_id: int
    content_hash: str
    start_form_id: str | None
    can_start: bool
    deployed_at: datetime


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: int
    process_key: str
    name: str
    element_id: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    due_at: datetime | None
    priority: int
    form_id: str | None
    created_at: datetime
    form: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    title: str | None = None  # the request's title, in task lists


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    process_version: int
    business_key: str | None
    status: str
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    data: dict[str, Any]
    open_tasks: tuple[TaskView, ...]
    outcome: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceSummary:
    id: int
    process_key: str
    process_version: int
    status: str
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    role: str | None
    type: str
    element_id: str | None
    details: dict[str, Any]
    hash: str
    prev_hash: str
    instance_id: int | None = None


@dataclass(frozen=True)
class DeployResult:
    """What a deploy registered: new versions (key, version) and the keys left unchanged."""

    deployed: tuple[tuple[str, int], ...]
    unchanged: tuple[str, ...]
    forms_deployed: tuple[str, ...]


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    active: bool
