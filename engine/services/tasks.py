"""Task services: my tasks, one task, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, or_, select, update

from .. import access, direct_reads, runtime
from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import (
    ConflictError,
    InstanceClosedError,
    InvalidTaskDataError,
    PermissionDeniedError,
    TaskNotFoundError,
    TaskNotReadyError,
)
from ..model import Actor, InstanceView, TaskView
from ..tables import InstanceRecord, TaskCandidateRecord, TaskRecord
from ..unit_of_work import UnitOfWork
from . import idempotency
from .instances import _view, current_view
from .progress import save_progress, task_view

SCOPES = ("mine", "groups", "all")


def list_tasks(engine: WorkflowEngine, actor: Actor, scope: str = "all", *, process: str | None = None,
               limit: int = 500, offset: int = 0) -> list[TaskView]:
    """Open tasks: `mine` assigned to me, `groups` offered to my roles or name, `all` both; by due date.

    Each carries its request's title (from the instance summary), so task lists need no instance query.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    with engine.new_uow(readonly=True) as uow:
        # Written as an OR of two conjunctions: "offered AND (unassigned OR mine)" made PostgreSQL plan a
        # loop over every open task (146 ms at 2k open tasks; 13 ms this way, bench/growth.py).
        offered = exists().where(TaskCandidateRecord.task_id == TaskRecord.id, or_(
            (TaskCandidateRecord.kind == "group") & TaskCandidateRecord.value.in_(sorted(access.staff_roles(actor))),
            (TaskCandidateRecord.kind == "user") & (TaskCandidateRecord.value == actor.username)))
        mine = TaskRecord.assignee == actor.username
        groups = or_(offered & TaskRecord.assignee.is_(None), offered & mine)
        condition = {"mine": mine, "groups": groups, "all": or_(mine, groups)}[scope]
        query = select(TaskRecord).where(TaskRecord.status == "open", condition)
        if process:
            query = query.where(TaskRecord.process_key == process)
        query = query.order_by(TaskRecord.due_at.is_(None), TaskRecord.due_at, TaskRecord.created_at)
        rows = uow.session.execute(query.limit(limit).offset(offset)).scalars().all()
        # Titles in a second query bounded by the page (a join would be planned before the sort and limit).
        summaries = dict(uow.session.execute(select(InstanceRecord.id, InstanceRecord.summary).where(
            InstanceRecord.id.in_(sorted({r.instance_id for r in rows})))).tuples().all()) if rows else {}
        return [task_view(row, title=(summaries.get(row.instance_id) or {}).get("title")) for row in rows]


def get_task(engine: WorkflowEngine, task_id: str, actor: Actor) -> TaskView:
    """One open task with its form and the instance's current data (the read is audited)."""
    with engine.new_uow() as uow:
        row = _visible_task(uow, task_id, actor)
        record = uow.session.get(InstanceRecord, row.instance_id)
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        form = version.forms.get(row.form_id) if row.form_id else None
        uow.audit.append(AuditEventType.document_viewed, record.id, actor.username, role=actor.primary_role,
                         element_id=row.element_id, task_id=row.id)
        uow.commit()
        data = access.only_visible(runtime.current_data(workflow), access.visible_fields(actor, record, version))
        return task_view(row, form=form.schema if form else None, data=data)


def _visible_task(uow: UnitOfWork, task_id: str, actor: Actor) -> TaskRecord:
    row = uow.session.get(TaskRecord, str(task_id))
    _check_visible(row, task_id, actor)
    return row


def _check_visible(row: TaskRecord | None, task_id: str, actor: Actor) -> None:
    if row is None:
        raise TaskNotFoundError(f"no task {task_id}")
    if not (access.is_candidate(actor, row) or row.assignee == actor.username):
        raise PermissionDeniedError("this task is not offered to you")
    if row.status != "open":
        raise TaskNotReadyError(f"task {task_id} is no longer open ({row.status})")


def claim_task(engine: WorkflowEngine, task_id: str, actor: Actor) -> TaskView:
    """Assign an open task to me; a conflict if someone else holds it."""
    return _set_assignee(engine, task_id, actor, claim=True)


def unclaim_task(engine: WorkflowEngine, task_id: str, actor: Actor) -> TaskView:
    """Release a task I hold back to its candidates."""
    return _set_assignee(engine, task_id, actor, claim=False)


def _set_assignee(engine: WorkflowEngine, task_id: str, actor: Actor, *, claim: bool) -> TaskView:
    with engine.new_uow() as uow:
        row = _visible_task(uow, task_id, actor)
        if claim and not access.is_candidate(actor, row):
            raise PermissionDeniedError("this task is not offered to you")
        expected, new = (None, actor.username) if claim else (actor.username, None)
        if row.assignee == new:
            return task_view(row)
        changed = uow.session.execute(update(TaskRecord).where(
            TaskRecord.id == row.id,
            TaskRecord.assignee.is_(None) if expected is None else TaskRecord.assignee == expected,
        ).values(assignee=new).execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise ConflictError(f"task is held by {row.assignee}" if row.assignee else "task is not held by you")
        uow.audit.append(AuditEventType.task_claimed if claim else AuditEventType.task_unclaimed, row.instance_id,
                         actor.username, role=actor.primary_role, element_id=row.element_id, task_id=row.id)
        uow.commit()
        uow.session.refresh(row)
        return task_view(row)


def complete_task(engine: WorkflowEngine, task_id: str, data: Any, actor: Actor, *,
                  idempotency_key: str | None = None) -> InstanceView:
    """Validate against the task's form, complete it, run the engine on; one transaction.

    With `idempotency_key`, a retry of the same request returns the instance instead of a conflict.
    """
    scope = f"complete:{task_id}"
    digest = idempotency.request_digest(scope, data)
    with engine.new_uow() as uow:
        if idempotency_key and (done := idempotency.find_previous(uow, actor.username, idempotency_key, scope,
                                                                  digest)) is not None:
            return current_view(engine, uow, done, actor)
        record, open_rows = _instance_with_open_tasks(uow, task_id)
        # Not among the open rows: read it alone, for the precise refusal (unknown, not offered, closed).
        row = next((r for r in open_rows if r.id == str(task_id)), None) or uow.session.get(TaskRecord, str(task_id))
        _check_visible(row, task_id, actor)
        if not access.can_work_task(actor, row):
            raise ConflictError(f"task is held by {row.assignee}")
        if record.status != "running":
            raise InstanceClosedError(f"instance {record.id} is {record.status}")
        version = engine.pinned_version(uow, record.process_version_id)
        workflow = engine.load_workflow(record.state, version)
        task = runtime.ready_user_task(workflow, task_id)
        runtime.check_separation_of_duties(workflow, task, actor.username, initiator=record.started_by)
        form = version.forms.get(row.form_id) if row.form_id else None
        clean = form.validate(data, now=engine.now()) if form else _no_form_data(data)
        role = _acting_role(actor, row)
        with runtime.tracking(workflow) as step:
            runtime.complete(workflow, task, clean, completed_by=actor.username)
        uow.audit.append(AuditEventType.task_completed, record.id, actor.username, role=role,
                         element_id=row.element_id, task_id=row.id, name=row.name, data=clean)
        open_rows = save_progress(engine, uow, record, workflow, version, actor, step, open_rows=open_rows)
        if idempotency_key:
            idempotency.remember(uow, actor.username, idempotency_key, scope, digest, record.id)
        uow.commit()
        return _view(engine, uow, record, version, workflow, actor, open_rows, data=step.data)


_INSTANCES, _TASKS = InstanceRecord.__table__, TaskRecord.__table__
_TASK_INSTANCE = select(_TASKS.c.instance_id).where(_TASKS.c.id == bindparam("task_id")).scalar_subquery()
_INSTANCE_WITH_OPEN_TASKS = (
    select(_INSTANCES, _TASKS)
    .join(_TASKS, (_TASKS.c.instance_id == _INSTANCES.c.id) & (_TASKS.c.status == "open"))
    .where(_INSTANCES.c.id == _TASK_INSTANCE))
_INSTANCE_KEYS = tuple(column.key for column in _INSTANCES.columns)
_TASK_KEYS = tuple(column.key for column in _TASKS.columns)


def _instance_with_open_tasks(uow: UnitOfWork, task_id: str) -> tuple[InstanceRecord | None, list[TaskRecord]]:
    """The instance `task_id` belongs to and its open task rows, in one query (the task itself is among them
    while it is open; a row per open task, usually one or two), through engine/direct_reads.py."""
    found = direct_reads.read_rows(uow.session, _INSTANCE_WITH_OPEN_TASKS, {"task_id": str(task_id)})
    if not found:
        return None, []
    split = len(_INSTANCE_KEYS)
    record = direct_reads.loaded(uow.session, InstanceRecord, dict(zip(_INSTANCE_KEYS, found[0][:split], strict=True)))
    return record, [direct_reads.loaded(uow.session, TaskRecord, dict(zip(_TASK_KEYS, row[split:], strict=True)))
                    for row in found]


def _no_form_data(data: Any) -> dict[str, Any]:
    if data:
        raise InvalidTaskDataError("this task has no form and takes no data",
                                   fields={k: ["Unknown field."] for k in (data if isinstance(data, dict) else {})})
    return {}


def _acting_role(actor: Actor, row: TaskRecord) -> str | None:
    shared = sorted(actor.roles & set(row.candidate_groups or ()))
    return shared[0] if shared else actor.primary_role
