"""Deferred writes (engine/deferred_writes.py): sent in order before the session's next query or at commit;
on PostgreSQL as one multi-statement query with values bound by psycopg on the client. Runs on SQLite, and on
PostgreSQL in the PostgreSQL run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mini_project import REQUESTER
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine import services
from engine.errors import ConcurrentChangeError
from engine.tables import AuditHeadRecord, AuditRecord, InstanceRecord, TaskRecord

TASKS = TaskRecord.__table__
SET_ASSIGNEE = update(TASKS).where(TASKS.c.id == bindparam("b_id")).values(assignee=bindparam("b_assignee"))
SET_SUMMARY = update(InstanceRecord.__table__).where(
    InstanceRecord.__table__.c.id == bindparam("b_id"),
    InstanceRecord.__table__.c.lock_version == bindparam("b_version")).values(summary=bindparam("b_summary"))


def _started(engine) -> tuple[int, str]:
    view = services.start_instance(engine, "leave_request", {"days": 2}, REQUESTER)
    return view.id, view.open_tasks[0].id


def _snapshot(engine, instance_id: int) -> tuple:
    with engine.new_uow(readonly=True) as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        tasks = uow.session.execute(select(TaskRecord.id, TaskRecord.status, TaskRecord.assignee)
                                    .order_by(TaskRecord.id)).all()
        events = uow.session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
        head = uow.session.get(AuditHeadRecord, 1)
        return record.lock_version, record.summary, tasks, events, (head.seq, head.hash)


def test_a_query_after_a_write_sees_it_and_values_convert_as_with_execute(mini):
    instance_id, task_id = _started(mini)
    due = datetime(2031, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    row = {"id": "00000000-0000-0000-0000-00000000beef", "instance_id": instance_id, "process_key": "leave_request",
           "element_id": "extra", "name": "Extra step", "lane": None, "form_id": None,
           "candidate_groups": ["security", "événements"], "candidate_users": [], "assignee": None, "due_at": due,
           "priority": 50, "created_at": due, "status": "open", "closed_at": None, "completed_by": None}
    second = {**row, "id": "00000000-0000-0000-0000-00000000f00d", "candidate_groups": [], "due_at": None}
    with mini.new_uow() as uow:
        uow.write(SET_ASSIGNEE, {"b_id": task_id, "b_assignee": "ravi"})
        uow.write(insert(TASKS), [row, second])  # several rows: one INSERT with a VALUES list on PostgreSQL
        assert uow.writes.pending, "writes wait until something needs them"
        assert uow.session.execute(select(TaskRecord.assignee).where(TaskRecord.id == task_id)).scalar_one() == "ravi"
        assert not uow.writes.pending
        stored = uow.session.execute(select(TaskRecord.id, TaskRecord.candidate_groups, TaskRecord.due_at)
                                     .where(TaskRecord.element_id == "extra").order_by(TaskRecord.id)).all()
        assert [tuple(r) for r in stored] == [(row["id"], ["security", "événements"], due), (second["id"], [], None)]
        uow.commit()
    with mini.new_uow(readonly=True) as uow:
        assert uow.session.get(TaskRecord, task_id).assignee == "ravi"


def test_values_that_look_like_sql_are_stored_exactly(mini):
    instance_id, task_id = _started(mini)
    tricky = "O'Brien; DROP TABLE tasks; -- 100% \\ $$ \" %(x)s %s ? \u00e9\u6f22 \n end"
    with mini.new_uow() as uow:
        version = uow.session.get(InstanceRecord, instance_id).lock_version
        uow.write(SET_ASSIGNEE, {"b_id": task_id, "b_assignee": tricky})
        uow.write(SET_SUMMARY, {"b_id": instance_id, "b_version": version, "b_summary": {tricky: [tricky, 1.5]}},
                  expect_rows=1)
        uow.commit()
    with mini.new_uow(readonly=True) as uow:
        assert uow.session.get(TaskRecord, task_id).assignee == tricky
        assert uow.session.get(InstanceRecord, instance_id).summary == {tricky: [tricky, 1.5]}
        assert uow.session.execute(select(func.count()).select_from(TaskRecord)).scalar_one() >= 1


def test_a_write_of_no_rows_sends_nothing_and_the_rest_commits(mini):
    instance_id, task_id = _started(mini)
    with mini.new_uow() as uow:
        uow.write(insert(TASKS), [])
        assert uow.writes.send() is None  # nothing to send: no statement, no transaction begun
        uow.write(insert(TASKS), [])
        uow.write(SET_ASSIGNEE, {"b_id": task_id, "b_assignee": "ravi"})
        uow.audit.append("task_claimed", instance_id, "ravi")
        uow.commit()
    with mini.new_uow(readonly=True) as uow:
        assert uow.session.get(TaskRecord, task_id).assignee == "ravi"
    assert services.verify_audit(mini).ok


def test_an_unexpected_row_count_fails_the_commit_and_nothing_is_written(mini):
    instance_id, task_id = _started(mini)
    before = _snapshot(mini, instance_id)
    with mini.new_uow() as uow, pytest.raises(ConcurrentChangeError, match="someone was quicker"):
        uow.write(SET_ASSIGNEE, {"b_id": task_id, "b_assignee": "ravi"})
        uow.write(SET_SUMMARY, {"b_id": instance_id, "b_version": before[0] + 7, "b_summary": {"title": "x"}},
                  expect_rows=1, conflict="someone was quicker")
        uow.audit.append("data_changed", instance_id, "ravi", changes={"title": "x"})
        uow.commit()
    assert _snapshot(mini, instance_id) == before


def test_a_database_error_among_the_writes_rolls_everything_back(mini):
    instance_id, task_id = _started(mini)
    before = _snapshot(mini, instance_id)
    with mini.new_uow() as uow:
        existing = uow.session.execute(select(TASKS).where(TASKS.c.id == task_id)).mappings().one()
        uow.write(SET_ASSIGNEE, {"b_id": task_id, "b_assignee": "ravi"})
        uow.write(insert(TASKS), [dict(existing)])  # the same primary key again
        uow.audit.append("data_changed", instance_id, "ravi", changes={"assignee": "ravi"})
        with pytest.raises((IntegrityError, ConcurrentChangeError)):
            uow.commit()
    assert _snapshot(mini, instance_id) == before


def test_each_parameter_set_is_checked(mini):
    ids = [_started(mini)[1] for _ in range(3)]
    instance_id = _started(mini)[0]
    before = _snapshot(mini, instance_id)
    with mini.new_uow() as uow, pytest.raises(ConcurrentChangeError):
        uow.write(SET_ASSIGNEE, [{"b_id": i, "b_assignee": "ravi"} for i in [*ids, "no-such-task"]], expect_rows=1)
        uow.commit()
    assert _snapshot(mini, instance_id) == before  # the three that matched were not written either
    with mini.new_uow() as uow:
        uow.write(SET_ASSIGNEE, [{"b_id": i, "b_assignee": "ravi"} for i in ids], expect_rows=1)
        uow.commit()
    with mini.new_uow(readonly=True) as uow:
        assert {uow.session.get(TaskRecord, i).assignee for i in ids} == {"ravi"}
