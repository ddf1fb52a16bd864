"""Reads that skip the ORM's loading (engine/direct_reads.py): the same values as `session.execute`, pending
writes seen, and objects that are detached. Runs on SQLite, and on PostgreSQL in the PostgreSQL run."""

from __future__ import annotations

from datetime import UTC, datetime

from mini_project import REQUESTER
from sqlalchemy import bindparam, inspect, select, update

from engine import direct_reads, services
from engine.tables import InstanceRecord, TaskRecord

TASKS, INSTANCES = TaskRecord.__table__, InstanceRecord.__table__
BY_INSTANCE = select(INSTANCES, TASKS).join(TASKS, TASKS.c.instance_id == INSTANCES.c.id).where(
    INSTANCES.c.id == bindparam("instance_id")).order_by(TASKS.c.created_at)


def test_values_come_back_as_session_execute_gives_them(mini):
    instance_id = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER).id
    due = datetime(2031, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    with mini.db.begin() as conn:
        conn.execute(update(TASKS).values(due_at=due, candidate_groups=["security", "événements"]))
        conn.execute(update(INSTANCES).values(summary={"title": "Talk", "nested": {"a": [1, None]}}))
    with mini.new_uow(readonly=True) as uow:
        direct = direct_reads.read_rows(uow.session, BY_INSTANCE, {"instance_id": instance_id})
        through_session = [tuple(row) for row in uow.session.execute(BY_INSTANCE, {"instance_id": instance_id})]
    assert direct == through_session
    row = dict(zip(BY_INSTANCE.selected_columns.keys(), direct[0], strict=True))
    assert row["summary"] == {"title": "Talk", "nested": {"a": [1, None]}}
    assert row["due_at"] == due and row["due_at"].tzinfo is not None
    assert row["candidate_groups"] == ["security", "événements"] and row["ended_at"] is None


def test_a_read_sees_the_writes_held_back_before_it(mini):
    view = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER)
    with mini.new_uow() as uow:
        uow.write(update(TASKS).where(TASKS.c.id == bindparam("b_id")).values(assignee=bindparam("b_who")),
                  {"b_id": view.open_tasks[0].id, "b_who": "ravi"})
        rows = direct_reads.read_rows(uow.session, select(TASKS.c.assignee).where(TASKS.c.id == bindparam("id")),
                                      {"id": view.open_tasks[0].id})
        assert rows == [("ravi",)] and not uow.writes.pending


def test_detached_records_hold_their_values_unmodified_and_outside_the_session(mini):
    instance_id = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER).id
    with mini.new_uow() as uow:
        [values] = uow.session.execute(select(INSTANCES).where(INSTANCES.c.id == instance_id)).mappings().all()
        record = direct_reads.detached(InstanceRecord, values)
        state = inspect(record)
        assert state.detached and not state.modified and record not in uow.session
        assert (record.id, record.status, record.lock_version) == (values["id"], "running", values["lock_version"])
        assert uow.session.get(InstanceRecord, instance_id) is not record  # the session loads its own
