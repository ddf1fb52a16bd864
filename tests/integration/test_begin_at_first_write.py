"""PostgreSQL units of work that change state begin their transaction at the first write (engine/db.py):
reads before it run outside a transaction, everything from it on commits or rolls back as one."""

from __future__ import annotations

import psycopg
import pytest
from mini_project import REQUESTER, REVIEWER
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select

from engine import services
from engine.db import needs_transaction
from engine.tables import InstanceRecord, UserRecord

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def postgres(mini):
    if mini.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    return mini


def test_a_completion_reads_outside_a_transaction_and_commits_its_writes_together(postgres, monkeypatch):
    view = services.start_instance(postgres, "leave_request", {"days": 2}, REQUESTER)
    with postgres.new_uow(readonly=True) as uow:
        version = uow.session.get(InstanceRecord, view.id).lock_version
    seen: list[tuple[str, TransactionStatus, TransactionStatus]] = []
    execute = psycopg.Cursor.execute

    def observed(cursor, query, *args, **kwargs):  # the read and the writes go to psycopg directly
        before = cursor.connection.info.transaction_status
        result = execute(cursor, query, *args, **kwargs)
        seen.append((str(query).split(";")[0].split()[0], before, cursor.connection.info.transaction_status))
        return result

    monkeypatch.setattr(psycopg.Cursor, "execute", observed)
    services.complete_task(postgres, view.open_tasks[0].id, {"approved": True}, REVIEWER)
    monkeypatch.undo()
    # the read (prepared in its own message on first use, engine/prepared.py) begins no transaction;
    # the writes come in one message from BEGIN to COMMIT
    assert [(first in ("PREPARE", "EXECUTE"), before, after) for first, before, after in seen[:1]] == \
        [(True, TransactionStatus.IDLE, TransactionStatus.IDLE)]
    assert seen[1:] == [("BEGIN", TransactionStatus.IDLE, TransactionStatus.IDLE)]
    with postgres.new_uow(readonly=True) as uow:
        assert uow.session.get(InstanceRecord, view.id).lock_version == version + 1
    assert services.verify_audit(postgres).ok


def test_an_orm_write_is_in_a_transaction_that_rolls_back_without_commit(postgres):
    with postgres.new_uow() as uow:
        uow.session.execute(select(func.count()).select_from(UserRecord))
        assert uow.session.connection().connection.driver_connection.info.transaction_status == TransactionStatus.IDLE
        uow.session.add(UserRecord(username="ghost", display_name="Ghost", roles=["organiser"]))
        uow.session.flush()
        assert uow.session.connection().connection.driver_connection.info.transaction_status == \
            TransactionStatus.INTRANS
    with postgres.new_uow(readonly=True) as uow:
        assert uow.session.execute(select(UserRecord).where(UserRecord.username == "ghost")).first() is None


@pytest.mark.parametrize(("statement", "begins"), [
    ("SELECT id FROM instances", False),
    ("  select id from instances where id = 1", False),
    ("SELECT id FROM instances WHERE status = 'running' FOR UPDATE SKIP LOCKED", True),
    ("SELECT seq FROM audit_head WHERE id = 1 FOR NO KEY UPDATE", True),
    ("SELECT 1 FOR SHARE", True),
    ("INSERT INTO users (username) VALUES ('x') RETURNING id", True),
    ("UPDATE tasks SET assignee = NULL", True),
    ("WITH moved AS (DELETE FROM outbox RETURNING id) SELECT count(*) FROM moved", True),
])
def test_only_a_plain_select_runs_before_the_transaction(statement, begins):
    assert needs_transaction(statement) is begins
