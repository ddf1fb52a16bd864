"""Memory and storage: database bytes per completed instance (10-step process, PostgreSQL), and the resident
memory of a worker process and of a web worker.

    .venv/bin/python bench/memory.py [--instances 200] [--postgres URL]

Target: <= 12 KB per completed instance.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import DEFAULT_POSTGRES, ROOT, postgres_database, prepared_engine
from linear_process import write_linear_process
from sqlalchemy import text

from engine import services
from engine.model import Actor

TABLES = ("instances", "tasks", "task_candidates", "audit_events")


def database_bytes(engine) -> int:
    """Bytes on disk of the per-instance tables (with indexes and TOAST), after a VACUUM."""
    with engine.db.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM FULL " + ", ".join(TABLES))  # live data only, not dead row versions
        return sum(conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar_one() for t in TABLES)


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    organiser, reviewer = Actor("olivia", frozenset({"organiser"})), Actor("evan", frozenset({"events_office"}))
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        before = database_bytes(engine)
        for _ in range(args.instances):
            view = services.start_instance(engine, "linear", {}, organiser)
            while view.open_tasks:
                view = services.complete_task(engine, view.open_tasks[0].id, {"note": "ok"}, reviewer)
        per_instance = (database_bytes(engine) - before) / args.instances
        env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": url}
        worker = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "worker",
                                   "--interval", "0.2"], cwd=ROOT, env=env)
        time.sleep(3)
        worker_kib = rss_kib(worker.pid)
        worker.terminate()
        worker.wait(timeout=10)
        engine.db.dispose()
    print(f"storage per completed 10-step instance: {per_instance / 1024:.1f} KB (target <= 12 KB; "
          f"state, open-task projection and ~25 audit events, with indexes)")
    print(f"worker process resident memory: {worker_kib / 1024:.0f} MB")


if __name__ == "__main__":
    main()
