"""Two worker processes drain the same due timers at once: each timer fires exactly once (SQLite and PG)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from engine import clock, services
from engine.catalog import load_catalog
from engine.model import Actor
from engine.tables import AuditRecord, InstanceRecord

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from linear_process import write_timer_process  # noqa: E402

TIMERS = 300
pytestmark = pytest.mark.timeout(300)


def test_two_workers_fire_each_due_timer_exactly_once(engine, tmp_path):
    processes, forms = write_timer_process(tmp_path)
    services.deploy(engine, load_catalog(processes, forms, engine.settings.roles), Actor("a", frozenset({"admin"})))
    with clock.frozen_at(datetime.now(UTC) - timedelta(hours=1)):
        first = services.start_instance(engine, "wait", {}, Actor("olivia", frozenset({"organiser"})))
    with engine.new_uow() as uow:  # clone the waiting instance: every copy's timer fell due an hour ago
        row = uow.session.execute(select(InstanceRecord.__table__).where(InstanceRecord.id == first.id)).one()
        uow.session.execute(insert(InstanceRecord), [{**row._asdict(), "id": first.id + i} for i in range(1, TIMERS)])
        if engine.db.dialect.name == "postgresql":
            uow.session.execute(text("SELECT setval('instances_id_seq', (SELECT max(id) FROM instances))"))
        uow.commit()
    env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": engine.settings.database_url}
    workers = [subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "worker", "--once"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    fired_by = [int(out.split("fired timers in ")[1].split()[0]) for out in outputs]
    with engine.new_uow(readonly=True) as uow:
        s = uow.session
        per_instance = dict(s.execute(select(AuditRecord.instance_id, func.count()).where(
            AuditRecord.type == "timer_fired").group_by(AuditRecord.instance_id)).all())
        completed = s.execute(select(func.count()).select_from(InstanceRecord).where(
            InstanceRecord.status == "completed")).scalar_one()
    assert sum(fired_by) == TIMERS, fired_by  # between them, every timer once
    assert len(per_instance) == TIMERS and set(per_instance.values()) == {1}
    assert completed == TIMERS
    assert services.verify_audit(engine).ok
