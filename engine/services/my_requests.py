"""My requests (read-only): the instances I started, with their open tasks, without auditing a data read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..bootstrap import WorkflowEngine
from ..model import Actor, InstanceSummary, TaskView
from ..tables import InstanceRecord, ProcessVersionRecord, TaskRecord
from .instances import LIST_COLUMNS, summary_of
from .progress import task_view


@dataclass(frozen=True)
class MyRequest:
    """One of my instances (summary fields only) and its open tasks, whoever they are offered to."""

    instance: InstanceSummary
    open_tasks: tuple[TaskView, ...]


def list_my_requests(engine: WorkflowEngine, actor: Actor, *, limit: int = 200) -> list[MyRequest]:
    """Instances `actor` started, newest first, each with its open tasks (ordered by due date)."""
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(
            select(*LIST_COLUMNS, ProcessVersionRecord.version)
            .join(ProcessVersionRecord, ProcessVersionRecord.id == InstanceRecord.process_version_id)
            .where(InstanceRecord.started_by == actor.username)
            .order_by(InstanceRecord.id.desc()).limit(limit)).all()
        ids = [row.id for row in rows]
        tasks: dict[int, list[TaskView]] = {}
        if ids:
            open_tasks = select(TaskRecord).where(TaskRecord.instance_id.in_(ids), TaskRecord.status == "open")
            for task in uow.session.execute(open_tasks.order_by(TaskRecord.due_at, TaskRecord.created_at)).scalars():
                tasks.setdefault(task.instance_id, []).append(task_view(task))
        return [MyRequest(summary_of(row, row.version), tuple(tasks.get(row.id, ()))) for row in rows]
