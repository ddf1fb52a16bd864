"""Who may see and do what: pure predicates over actors, instances and tasks. Imports model, tables and catalog."""

from __future__ import annotations

from typing import Any

from .bootstrap import PinnedVersion
from .catalog import restricted_roles_of
from .config import OWNER_ROLES
from .model import OUTCOME_FIELDS, Actor
from .tables import InstanceRecord, TaskRecord

READ_ALL_ROLES = ("auditor",)
# What a requester may read of their own case besides their own forms' fields.
REQUESTER_FIELDS = (*OUTCOME_FIELDS, "conditions_added", "conditions_removed", "appeal_outcome", "appeal_deadline_on",
                    "decided_on", "final_decision_on", "post_event_report_due_on", "withdrawn")
# Roles that never do task work (SPEC §2): auditors only read; admins manage users and deployments.
NO_TASK_ROLES = frozenset({"auditor", "admin"})


def staff_roles(actor: Actor) -> frozenset[str]:
    """The actor's roles that reach other people's cases (neither owner roles nor the no-task roles)."""
    return actor.roles - OWNER_ROLES - NO_TASK_ROLES


def is_read_only(actor: Actor) -> bool:
    """True for an actor who may change no case at all (an auditor, or an admin, holding no working role)."""
    return bool(actor.roles) and actor.roles <= NO_TASK_ROLES and "auditor" in actor.roles


def can_view_instance(actor: Actor, record: InstanceRecord, version: PinnedVersion) -> bool:
    """The requester, auditors, staff holding a role that works on this process, and the people the case names
    as its `participants` (e.g. a trainee and their manager).

    A process marked `restrictedTo` (special-category data, SPEC §13) is visible only to those roles: not even
    to whoever started it (they get a receipt, see `can_view_receipt`).
    """
    restricted = restricted_roles(version)
    if restricted:
        return actor.has_role(*restricted)
    return (record.started_by == actor.username or actor.has_role(*READ_ALL_ROLES)
            or bool(staff_roles(actor) & version.candidate_groups)
            or actor.username in ((record.summary or {}).get("participants") or ()))


def restricted_roles(version: PinnedVersion) -> tuple[str, ...]:
    """The roles a restricted process's cases are limited to; empty for ordinary processes."""
    return restricted_roles_of(version.key, version.content_hash, version.sources)


def can_view_receipt(actor: Actor, record: InstanceRecord, version: PinnedVersion) -> bool:
    """Who may see that a case exists and its status: whoever may see it, and whoever started it."""
    return record.started_by == actor.username or can_view_instance(actor, record, version)


def is_candidate(actor: Actor, task: TaskRecord) -> bool:
    """True when the task is offered to the actor, whoever holds it now.

    Staff are candidates through their roles or by name; a requester only for tasks assigned to them.
    """
    groups = set(task.candidate_groups or ())
    if actor.username in (task.candidate_users or ()) or staff_roles(actor) & groups:
        return True
    return bool(actor.roles & OWNER_ROLES & groups) and task.assignee == actor.username


def can_work_task(actor: Actor, task: TaskRecord) -> bool:
    """The assignee, or (while nobody holds it) any candidate."""
    if task.assignee:
        return task.assignee == actor.username
    return is_candidate(actor, task)


def visible_fields(actor: Actor, record: InstanceRecord, version: PinnedVersion) -> frozenset[str] | None:
    """Which case data keys the actor may read; None means all of it.

    Staff who work the process, and auditors, see everything. A requester sees what they submitted and are
    asked for (the start form and the forms of their own steps) and the outcome, never the internal
    assessments (security, Prevent, due diligence, intelligence).
    """
    if actor.has_role(*READ_ALL_ROLES) or staff_roles(actor) & version.candidate_groups:
        return None
    keys = set(REQUESTER_FIELDS)
    for form_id in {version.start_form_id, *version.owner_form_ids} - {None}:
        form = version.forms.get(form_id)
        if form is not None:
            keys |= form.field_keys()
    return frozenset(keys)


def only_visible(data: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """`data` restricted to `fields` (all of it when `fields` is None)."""
    return dict(data) if fields is None else {k: v for k, v in data.items() if k in fields}
