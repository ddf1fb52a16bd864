"""The plans PostgreSQL keeps for the hot path's prepared statements (engine/prepared.py) find their rows through an
index.

A prepared statement runs on a generic plan, made without the values, once PostgreSQL finds it no dearer than
planning each call. A constant sent as a parameter then hides from the planner: `tasks.status = $2` cannot use the
partial indexes of open tasks (`WHERE status = 'open'`), and the completion's read scanned every task row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from mini_project import REQUESTER, REVIEWER

from engine import prepared, services
from engine.tables import InstanceRecord, TaskRecord

pytestmark = pytest.mark.postgres_only

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan"}


def _scans(plan: dict) -> Iterator[dict]:
    if plan.get("Node Type") in SCANS:
        yield plan
    for child in plan.get("Plans", ()):
        yield from _scans(child)


def _unindexed_scans(driver, named: prepared._Named) -> list[str]:
    """The scans of `named`'s generic plan that read a table without an index condition."""
    driver.execute(named.prepare)
    try:
        arguments = ", ".join(["NULL"] * len(named.parameters))
        [(explained,)] = driver.execute(
            f"EXPLAIN (FORMAT JSON) EXECUTE {named.name}{f'({arguments})' if arguments else ''}").fetchall()
    finally:
        driver.execute(f"DEALLOCATE {named.name}")
    plan = (explained if isinstance(explained, list) else json.loads(explained))[0]["Plan"]
    return [f"{scan['Node Type']} on {scan.get('Relation Name') or scan.get('Index Name')}"
            for scan in _scans(plan)
            if scan["Node Type"] not in ("Bitmap Heap Scan", "Bitmap Index Scan") and "Index Cond" not in scan]


def _in_service(driver, instance_id: int, task_id: str, copies: int = 3000) -> None:
    """Clone the instance and its task `copies` times (the task open in each), then give the planner statistics:
    on a few rows without them every plan is as cheap as any other."""
    columns = ", ".join(c.name for c in InstanceRecord.__table__.columns if c.name != "id")
    driver.execute(f"INSERT INTO instances ({columns}) SELECT {columns} FROM instances, generate_series(1, {copies}) "
                   "WHERE id = %s", (instance_id,))
    task_columns = [c.name for c in TaskRecord.__table__.columns if c.name not in ("id", "instance_id", "status")]
    driver.execute(f"INSERT INTO tasks (id, instance_id, status, {', '.join(task_columns)}) "
                   f"SELECT gen_random_uuid()::text, i.id, 'open', {', '.join('t.' + c for c in task_columns)} "
                   "FROM tasks t, instances i WHERE t.id = %s AND i.id <> %s", (task_id, instance_id))
    driver.execute("ANALYZE")


def test_every_statement_a_task_completion_prepares_is_planned_on_indexes(mini, monkeypatch):
    if mini.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    seen: dict[str, prepared._Named] = {}
    original = prepared._named

    def recording(sql: str) -> prepared._Named:
        seen[sql] = named = original(sql)
        return named

    monkeypatch.setattr(prepared, "_named", recording)
    view = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER)
    services.complete_task(mini, view.open_tasks[0].id, {"approved": True}, REVIEWER)
    assert any(" JOIN tasks " in sql for sql in seen), "the completion's read was not prepared"
    url = mini.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as driver:  # a connection of its own: no statement prepared yet
        _in_service(driver, view.id, view.open_tasks[0].id)
        # an index wherever one applies; a scan left without an index condition has no index that can serve it
        driver.execute("SET enable_seqscan = off")
        driver.execute("SET plan_cache_mode = force_generic_plan")
        unindexed = {sql: found for sql, named in seen.items() if (found := _unindexed_scans(driver, named))}
    assert not unindexed, "\n\n".join(f"{', '.join(found)} in:\n{sql}" for sql, found in unindexed.items())
