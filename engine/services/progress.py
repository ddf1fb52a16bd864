"""Persist what a workflow step did: state, the open-task projection, summary fields and audit events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import direct_reads, messaging, runtime, serializer
from ..access import OWNER_ROLES
from ..audit import AuditEventType
from ..bootstrap import PinnedVersion, WorkflowEngine
from ..effects import Effect
from ..errors import ScriptTaskError
from ..model import OUTCOME_FIELDS, Actor, TaskView
from ..runtime import Step
from ..tables import InstanceRecord, TaskCandidateRecord, TaskRecord
from ..unit_of_work import UnitOfWork

SUMMARY_FIELDS = ("title", "event_type", "start_at", "venue", *OUTCOME_FIELDS,
                  "decided_on", "final_decision_on", "ofs_category", "withdrawn", "appeal_outcome",
                  "participants")


EffectHandler = Callable[[WorkflowEngine, UnitOfWork, InstanceRecord, Effect, Actor], None]
EFFECT_HANDLERS: dict[str, EffectHandler] = {}


def effect_handler(kind: str) -> Callable[[EffectHandler], EffectHandler]:
    """Register the function that persists effects of `kind` (see engine/effects.py)."""
    def register(handler: EffectHandler) -> EffectHandler:
        EFFECT_HANDLERS[kind] = handler
        return handler
    return register


def save_progress(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, workflow: BpmnWorkflow,
                  version: PinnedVersion, actor: Actor, step: Step,
                  open_rows: list[TaskRecord] | None = None) -> list[TaskRecord]:
    """Write the workflow state and everything derived from it (tasks, effects, audit) into the unit of work.

    `open_rows`: the instance's open task rows when the caller already loaded them (saves a query).
    Returns the instance's open task rows.
    """
    now = engine.now()
    for event in step.events:
        uow.audit.append(event.type, record.id, actor.username, role=actor.primary_role,
                         element_id=event.element_id or None, **event.details)
    thrown = messaging.thrown_effects(workflow)  # before the dump: get_events() clears what is stored
    data = step.data if step.data is not None else runtime.current_data(workflow)
    changes = {"state": serializer.dumps(workflow), "summary": {k: data[k] for k in SUMMARY_FIELDS if k in data},
               "next_timer_at": runtime.next_timer_at(workflow)}
    if workflow.is_completed() and record.status == "running":
        changes.update(status="completed", ended_at=now)
        uow.audit.append(AuditEventType.instance_completed, record.id, actor.username, role=actor.primary_role,
                         outcome={k: data[k] for k in OUTCOME_FIELDS if k in data})
    write_instance(uow, record, changes)
    open_rows = sync_open_tasks(engine, uow, record, workflow, now, open_rows, ready=step.ready)
    for effect in [*step.effects, *thrown]:
        handler = EFFECT_HANDLERS.get(effect.kind)
        if handler is None:
            raise ScriptTaskError(f"no handler for effect {effect.kind!r}", element_id=effect.element_id)
        handler(engine, uow, record, effect, actor)
    return open_rows


def sync_open_tasks(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, workflow: BpmnWorkflow,
                    now: datetime, known_open: list[TaskRecord] | None = None,
                    ready: list[SpiffTask] | None = None) -> list[TaskRecord]:
    """Make the task projection match the workflow's READY user tasks; record each new one; return the open rows.

    `known_open`: the open rows as loaded earlier in this unit of work (otherwise they are queried).
    `ready`: the READY user tasks when the caller has them (`Step.ready`).
    """
    ready_by_id = {str(t.id): t for t in (ready if ready is not None else runtime.ready_user_tasks(workflow))}
    if known_open is None:
        known_open = uow.session.execute(_OPEN_ROWS, {"instance_id": record.id}).scalars()
    rows = {r.id: r for r in known_open}
    closed = [row for task_id, row in rows.items() if task_id not in ready_by_id]
    if closed:
        _close_tasks(uow, workflow, closed, now)
    open_rows = [row for task_id, row in rows.items() if task_id in ready_by_id]
    new_rows = [_task_row(workflow, task, record, now) for task_id, task in ready_by_id.items() if task_id not in rows]
    if new_rows:
        # Core inserts, deferred (engine/deferred_writes.py): the rows are returned detached, for views only.
        uow.write(_INSERT_TASKS, [_columns(row) for row in new_rows])
        candidates = [{"task_id": row.id, "kind": kind, "value": value} for row in new_rows
                      for kind, values in (("group", row.candidate_groups), ("user", row.candidate_users))
                      for value in values]
        if candidates:
            uow.write(_INSERT_CANDIDATES, candidates)
    for row in new_rows:
        open_rows.append(row)
        uow.audit.append(AuditEventType.task_ready, record.id, "system", role="system",
                         element_id=row.element_id, task_id=row.id, name=row.name,
                         candidate_groups=row.candidate_groups, assignee=row.assignee,
                         due_at=row.due_at.isoformat() if row.due_at else None)
    return open_rows


_INSTANCES, _TASKS, _CANDIDATES = InstanceRecord.__table__, TaskRecord.__table__, TaskCandidateRecord.__table__
# Built once (no per-call statement construction); Core inserts of many rows are one statement.
_SAVE_INSTANCE = update(_INSTANCES).where(_INSTANCES.c.id == bindparam("b_id"),
                                          _INSTANCES.c.lock_version == bindparam("b_version"))
_SAVE_STATEMENTS: dict[tuple[str, ...], Any] = {}  # one UPDATE per set of changed columns, built once
_CLOSE_TASK = update(_TASKS).where(_TASKS.c.id == bindparam("b_id"), _TASKS.c.status == "open").values(
    status=bindparam("b_status"), closed_at=bindparam("b_closed_at"), completed_by=bindparam("b_completed_by"))
_OPEN_ROWS = select(TaskRecord).where(TaskRecord.instance_id == bindparam("instance_id"), TaskRecord.status == "open")
_DROP_CANDIDATES = delete(_CANDIDATES).where(_CANDIDATES.c.task_id == bindparam("b_id"))
_INSERT_TASKS = insert(_TASKS)
_INSERT_CANDIDATES = insert(_CANDIDATES)


def write_instance(uow: UnitOfWork, record: InstanceRecord, changes: dict[str, Any]) -> None:
    """UPDATE the instance row with `changes` if nobody changed it since it was read (its lock_version).

    A deferred Core write rather than an ORM flush (this runs in every step); the loaded record is updated to
    match, without pending changes. The commit raises ConcurrentChangeError when another transaction got there
    first.
    """
    version = record.lock_version
    values = {**changes, "lock_version": version + 1}
    columns = tuple(values)
    statement = _SAVE_STATEMENTS.get(columns)
    if statement is None:
        statement = _SAVE_STATEMENTS[columns] = _SAVE_INSTANCE.values({key: bindparam(f"v_{key}") for key in values})
    uow.write(statement, {"b_id": record.id, "b_version": version, **{f"v_{k}": v for k, v in values.items()}},
              expect_rows=1, conflict="someone else changed this instance at the same time; reload and retry")
    for key, value in values.items():
        set_committed_value(record, key, value)


def _close_tasks(uow: UnitOfWork, workflow: BpmnWorkflow, rows: list[TaskRecord], now: datetime) -> None:
    """Mark rows completed (by whom the workflow says completed them) or cancelled (the process moved on) and
    drop their candidates, which serve the inbox only."""
    params = []
    for row in rows:
        completed_by = _completed_by(workflow, row.id)
        params.append({"b_id": row.id, "b_status": "completed" if completed_by else "cancelled", "b_closed_at": now,
                       "b_completed_by": completed_by})
    uow.write(_CLOSE_TASK, params[0] if len(params) == 1 else params, expect_rows=1,
              conflict="a task of this instance was closed at the same time; reload and retry")
    uow.write(_DROP_CANDIDATES, [{"b_id": row.id} for row in rows])
    for row, values in zip(rows, params, strict=True):
        for key in ("status", "closed_at", "completed_by"):
            set_committed_value(row, key, values[f"b_{key}"])


def _completed_by(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """Who completed the user task `task_id` (runtime.complete records it), or None if it did not complete."""
    key = UUID(task_id)
    task = next((w.tasks[key] for w in (workflow, *workflow.subprocesses.values()) if key in w.tasks), None)
    if task is None or not task.has_state(TaskState.COMPLETED):
        return None
    return task.internal_data.get("completed_by")


def _columns(row: TaskRecord) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in TaskRecord.__table__.columns}


def _task_row(workflow: BpmnWorkflow, task: SpiffTask, record: InstanceRecord, now: datetime) -> TaskRecord:
    spec = task.task_spec
    ext: dict[str, Any] = spec.extensions or {}
    groups = _split(ext.get("candidateGroups"))
    users = _split(ext.get("candidateUsers"))
    assignee = ext.get("assignee")
    if assignee and "{" in assignee:
        assignee = runtime.evaluate_task_expression(workflow, task, assignee, {"initiator": record.started_by})
    if not assignee and OWNER_ROLES & set(groups):
        assignee = record.started_by  # a requester's own step (accept conditions, appeal...) is theirs alone
    return direct_reads.holding(TaskRecord, {
        "id": str(task.id), "instance_id": record.id, "process_key": record.process_key, "element_id": spec.bpmn_id,
        "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane, "form_id": ext.get("formRef") or ext.get("formKey"),
        "candidate_groups": groups, "candidate_users": users, "assignee": assignee or None,
        "due_at": runtime.due_at(workflow, task, now), "priority": _priority(ext.get("priority")), "created_at": now,
        "status": "open", "closed_at": None, "completed_by": None})


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _priority(value: str | None) -> int:
    try:
        return int(value) if value else 50
    except ValueError:
        return 50


def task_view(row: TaskRecord, **extra: Any) -> TaskView:
    """A TaskView from a projection row."""
    return TaskView(id=row.id, instance_id=row.instance_id, process_key=row.process_key, name=row.name,
                    element_id=row.element_id, lane=row.lane, candidate_groups=tuple(row.candidate_groups or ()),
                    candidate_users=tuple(row.candidate_users or ()), assignee=row.assignee, due_at=row.due_at,
                    priority=row.priority, form_id=row.form_id, created_at=row.created_at, **extra)
