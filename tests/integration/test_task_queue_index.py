"""Task lists read their page from the front of an index in their own order (migration 0011), so an inbox stays
fast however many open tasks there are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from mini_project import REQUESTER, REVIEWER
from sqlalchemy import event, insert

from engine import services
from engine.db import make_engine
from engine.migrate import alembic_config, upgrade
from engine.tables import TaskCandidateRecord, TaskRecord


def _queue_index(url: str) -> bool:
    # Catalog queries: SQLAlchemy does not reflect expression indexes on SQLite.
    catalog = ("SELECT name FROM sqlite_master WHERE type = 'index'" if url.startswith("sqlite")
               else "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'")
    db = make_engine(url)
    try:
        with db.connect() as conn:
            return "ix_tasks_open_queue" in set(conn.exec_driver_sql(catalog).scalars())
    finally:
        db.dispose()


def test_migration_0011_adds_the_queue_index_and_downgrades(database_url):
    upgrade(database_url, "0010")
    assert not _queue_index(database_url)
    upgrade(database_url)
    assert _queue_index(database_url)
    command.downgrade(alembic_config(database_url), "0010")
    assert not _queue_index(database_url)


@pytest.mark.postgres_only
def test_an_inbox_page_is_read_from_the_queue_index_in_its_order(mini):
    if mini.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    instance_id = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER).id
    start = datetime(2031, 1, 1, tzinfo=UTC)
    rows = [{"id": f"00000000-0000-0000-0000-{n:012d}", "instance_id": instance_id, "process_key": "leave_request",
             "element_id": "review", "name": "Review", "lane": None, "form_id": None,
             "candidate_groups": ["security"], "candidate_users": [], "assignee": None,
             "due_at": None if n % 3 == 0 else start + timedelta(hours=n % 97), "priority": 50,
             "created_at": start + timedelta(seconds=n), "status": "open", "closed_at": None, "completed_by": None}
            for n in range(3000)]
    with mini.db.begin() as conn:
        conn.execute(insert(TaskRecord.__table__), rows)
        conn.execute(insert(TaskCandidateRecord.__table__),
                     [{"task_id": row["id"], "kind": "group", "value": "security"} for row in rows])
        conn.exec_driver_sql("ANALYZE tasks")
        conn.exec_driver_sql("ANALYZE task_candidates")
    statements = []

    @event.listens_for(mini.db, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    page = services.list_tasks(mini, REVIEWER, "groups", limit=50)
    event.remove(mini.db, "before_cursor_execute", _seen)
    listing, parameters = next((s, p) for s, p in statements if s.lstrip().startswith("SELECT tasks.id"))
    with mini.db.connect() as conn:
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + listing, parameters).scalars())
    assert "ix_tasks_open_queue" in plan and "Sort" not in plan, plan
    expected = [r["id"] for r in sorted(rows, key=lambda r: (r["due_at"] is None, r["due_at"] or start,
                                                             r["created_at"]))]
    inserted = {row["id"] for row in rows}
    listed = [task.id for task in page if task.id in inserted]  # the started instance's own task may be among them
    assert len(listed) >= 49 and listed == expected[:len(listed)]
