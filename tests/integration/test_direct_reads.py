"""Reads that skip the ORM's loading (engine/direct_reads.py): the same values as `session.execute`, pending
writes seen, and objects in the session as if it had loaded them. Runs on SQLite, and on PostgreSQL in the PostgreSQL
run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
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


def test_records_join_the_session_unmodified_and_later_queries_return_them(mini):
    instance_id = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER).id
    with mini.new_uow() as uow:
        [values] = direct_reads.read_rows(uow.session, select(INSTANCES).where(INSTANCES.c.id == bindparam("id")),
                                          {"id": instance_id})
        record = direct_reads.loaded(uow.session, InstanceRecord,
                                     dict(zip(INSTANCES.columns.keys(), values, strict=True)))
        state = inspect(record)
        assert state.persistent and not state.modified and record in uow.session
        assert (record.id, record.status, record.lock_version) == (instance_id, "running", record.lock_version)
        assert uow.session.get(InstanceRecord, instance_id) is record  # no second copy
        assert uow.session.execute(select(InstanceRecord).where(InstanceRecord.id == instance_id)).scalar_one() \
            is record


@pytest.mark.postgres_only
def test_a_locking_read_is_refused(mini):
    if mini.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    with mini.new_uow() as uow:  # it would lock nothing outside the transaction session.execute begins
        locking = select(INSTANCES.c.id).where(INSTANCES.c.id == bindparam("id")).with_for_update()
        with pytest.raises(ValueError, match="plain SELECT"):
            direct_reads.read_rows(uow.session, locking, {"id": 1})


def test_a_record_built_without_events_holds_what_the_constructor_gives_and_no_changes():
    values = {"id": "t1", "instance_id": 7, "process_key": "p", "element_id": "e", "name": "Step", "lane": None,
              "form_id": "f", "candidate_groups": ["security"], "candidate_users": [], "assignee": None,
              "due_at": datetime(2031, 2, 3, tzinfo=UTC), "priority": 50,
              "created_at": datetime(2031, 1, 1, tzinfo=UTC), "status": "open", "closed_at": None, "completed_by": None}
    built, constructed = direct_reads.holding(TaskRecord, values), TaskRecord(**values)
    assert {key: getattr(built, key) for key in values} == {key: getattr(constructed, key) for key in values}
    state = inspect(built)
    assert state.transient and not state.modified and built.candidates == []
    with pytest.raises(TypeError, match="no column nmae"):
        direct_reads.holding(TaskRecord, {**values, "nmae": "Step"})
