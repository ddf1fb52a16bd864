"""Check that the task projection (tasks table) agrees with the stored workflow, open and closed rows alike."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import runtime
from engine.bootstrap import WorkflowEngine
from engine.tables import InstanceRecord, TaskRecord


def assert_projection_agrees(engine: WorkflowEngine, instance_id: int) -> None:
    """Open rows are exactly the READY user tasks; a closed row is `completed` by whoever the workflow says
    completed it, or `cancelled` when the workflow did not complete that task."""
    with engine.new_uow(readonly=True) as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        workflow = engine.load_workflow(record.state, engine.pinned_version(uow, record.process_version_id))
        rows = uow.session.execute(select(TaskRecord).where(TaskRecord.instance_id == instance_id)).scalars().all()
    assert {str(t.id) for t in runtime.ready_user_tasks(workflow)} == {r.id for r in rows if r.status == "open"}
    tasks = {str(t.id): t for t in workflow.get_tasks()}
    for row in rows:
        if row.status == "open":
            continue
        task = tasks[row.id]
        if row.status == "completed":
            assert task.has_state(TaskState.COMPLETED), row.element_id
            assert row.completed_by == task.internal_data["completed_by"], row.element_id
        else:
            assert row.status == "cancelled" and row.completed_by is None, (row.element_id, row.status)
            assert not task.has_state(TaskState.COMPLETED), row.element_id
        assert row.closed_at is not None
