"""Timers: 10,000 due timers fired by two workers at once on PostgreSQL — each exactly once; timers/s.

    .venv/bin/python bench/timers.py [--timers 10000] [--workers 2] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import DEFAULT_POSTGRES, ROOT, analyze, postgres_database, prepared_engine
from linear_process import write_timer_process
from sqlalchemy import func, insert, select, text

from engine import clock, services
from engine.model import Actor
from engine.tables import AuditRecord, InstanceRecord


def seed(engine, count: int) -> None:
    """One instance waiting on a timer that fell due an hour ago, cloned `count` times."""
    with clock.frozen_at(datetime.now(UTC) - timedelta(hours=1)):
        view = services.start_instance(engine, "wait", {}, Actor("olivia", frozenset({"organiser"})))
    with engine.new_uow() as uow:
        s = uow.session
        row = s.execute(select(InstanceRecord.__table__).where(InstanceRecord.id == view.id)).one()._asdict()
        assert row["next_timer_at"] is not None
        for start in range(0, count - 1, 5000):
            s.execute(insert(InstanceRecord), [{**row, "id": view.id + 1 + i}
                                               for i in range(start, min(count - 1, start + 5000))])
        s.execute(text("SELECT setval('instances_id_seq', (SELECT max(id) FROM instances))"))
        uow.commit()


def main() -> None:
    """Seed, run the workers side by side, then check each timer fired exactly once."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_timer_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        seed(engine, args.timers)
        analyze(engine)  # statistics, as a database in service has them
        env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": url}
        began = time.perf_counter()
        workers = [subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "worker", "--once"],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
                   for _ in range(args.workers)]
        outputs = [w.communicate(timeout=900)[0].strip() for w in workers]
        elapsed = time.perf_counter() - began
        with engine.new_uow(readonly=True) as uow:
            s = uow.session
            fired = s.execute(select(func.count()).select_from(AuditRecord).where(
                AuditRecord.type == "timer_fired")).scalar_one()
            twice = s.execute(text("SELECT count(*) FROM (SELECT instance_id FROM audit_events WHERE type = "
                                   "'timer_fired' GROUP BY instance_id HAVING count(*) > 1) t")).scalar_one()
            completed = s.execute(select(func.count()).select_from(InstanceRecord).where(
                InstanceRecord.status == "completed")).scalar_one()
        ok = services.verify_audit(engine).ok
        engine.db.dispose()
    print(f"{args.timers:,} due timers, {args.workers} workers: {elapsed:.1f} s, {args.timers / elapsed:,.0f} timers/s")
    for output in outputs:
        print(f"  worker: {output}")
    print(f"  timer_fired events: {fired:,}; instances fired more than once: {twice}; completed: {completed:,}; "
          f"audit chain verifies: {ok}")
    print("  exactly once: " + ("yes" if fired == completed == args.timers and twice == 0 else "NO"))


if __name__ == "__main__":
    main()
