"""Task completions per second through the service layer (SQLite and PostgreSQL) vs raw SpiffWorkflow
with a serialize + deserialize round trip per task, on the same 10-step process, in one run.

    .venv/bin/python bench/complete_task.py [--seconds 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from linear_process import write_linear_process  # noqa: E402

from engine import runtime, serializer, services  # noqa: E402
from engine.bootstrap import bootstrap  # noqa: E402
from engine.bpmn_parser import ModelerParser  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.model import Actor  # noqa: E402
from engine.scripting import ScriptEngine  # noqa: E402

STEPS = 10
ORGANISER = Actor("olivia", frozenset({"organiser"}))
REVIEWER = Actor("evan", frozenset({"events_office"}))


def raw_rate(processes: Path, seconds: float) -> float:
    """Completions/s of raw SpiffWorkflow, JSON round trip (spec embedded) before every task."""
    parser = ModelerParser()
    parser.add_bpmn_files([str(processes / "linear.bpmn")])
    spec = parser.get_spec("linear")
    engine = ScriptEngine()
    done, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        workflow = runtime.BpmnWorkflow(spec, {}, script_engine=engine)
        workflow.do_engine_steps()
        for _ in range(STEPS):
            workflow = serializer.raw_round_trip(workflow)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update({"note": "ok"})
            task.run()
            workflow.do_engine_steps()
            done += 1
    return done / (time.perf_counter() - start)


def service_rate(database_url: str, processes: Path, forms: Path, seconds: float) -> tuple[float, float]:
    """Completions/s through engine.services (validate, load, run, save, project tasks, audit, commit)."""
    settings = Settings(database_url=database_url, processes_dir=processes, forms_dir=forms)
    upgrade(database_url)
    engine = bootstrap(settings)
    services.deploy(engine, load_catalog(processes, forms, settings.roles), Actor("admin", frozenset({"admin"})))
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        view = services.start_instance(engine, "linear", {}, ORGANISER)
        for _ in range(STEPS):
            task_id = view.open_tasks[0].id
            began = time.perf_counter()
            view = services.complete_task(engine, task_id, {"note": "ok"}, REVIEWER)
            latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    engine.db.dispose()
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def _postgres_database(url: str) -> tuple[str, callable]:
    name = f"cf_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return f"{url.rsplit('/', 1)[0]}/{name}", drop


def main() -> None:
    """Run every measurement and print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="server to create a throwaway database on ('' to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        processes, forms = write_linear_process(Path(tmp), STEPS)
        raw = raw_rate(processes, args.seconds)
        print(f"raw SpiffWorkflow + JSON round trip per task: {raw:8.1f} completions/s ({1000 / raw:.2f} ms)")
        rows = [("SQLite", f"sqlite:///{tmp}/bench.db", None)]
        if args.postgres:
            url, drop = _postgres_database(args.postgres)
            rows.append(("PostgreSQL", url, drop))
        for label, url, drop in rows:
            try:
                rate, p50 = service_rate(url, processes, forms, args.seconds)
            finally:
                if drop:
                    drop()
            print(f"service layer on {label:10}: {rate:8.1f} completions/s (p50 {p50:.2f} ms); "
                  f"raw is {raw / rate:.2f}x faster (target: within 3x)")


if __name__ == "__main__":
    main()
