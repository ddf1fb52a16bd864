"""Who may see and do what: pure predicates over actors, instances and tasks. Imports model and tables only."""

from __future__ import annotations

from .bootstrap import PinnedVersion
from .model import Actor
from .tables import InstanceRecord, TaskRecord

READ_ALL_ROLES = ("auditor",)


def can_view_instance(actor: Actor, record: InstanceRecord, version: PinnedVersion) -> bool:
    """The requester, auditors, and anyone holding a role that works on this process."""
    return (record.started_by == actor.username or actor.has_role(*READ_ALL_ROLES)
            or bool(actor.roles & version.candidate_groups))


def is_candidate(actor: Actor, task: TaskRecord) -> bool:
    """True when the task is offered to the actor (by group or by name), whoever holds it now."""
    return actor.username in (task.candidate_users or ()) or bool(actor.roles & set(task.candidate_groups or ()))


def can_work_task(actor: Actor, task: TaskRecord) -> bool:
    """The assignee, or (while nobody holds it) any candidate."""
    if task.assignee:
        return task.assignee == actor.username
    return is_candidate(actor, task)
