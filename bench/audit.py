"""Audit verify speed (events/s) and replay time per instance.

    .venv/bin/python bench/audit.py [--events 200000] [--postgres URL]

Builds a database with real instances of a 40-step process, then copies their audit rows (re-chained)
until the chain holds --events events; times `verify_audit` over all of it (in one process, and split over
worker processes, one per CPU), and `replay_instance` per 40-step instance.
Targets: verify >= 200,000 events/s; replay <= 50 ms per 40-step instance. The figures depend on the CPU
and on what else runs: measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_POSTGRES, postgres_database  # noqa: E402
from linear_process import write_linear_process  # noqa: E402

from engine import services  # noqa: E402
from engine.audit import event_hash  # noqa: E402
from engine.bootstrap import bootstrap  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.model import Actor  # noqa: E402
from engine.tables import AuditHeadRecord, AuditRecord  # noqa: E402

STEPS = 40
AUDITOR = Actor("audrey", frozenset({"auditor"}))


def build(engine, processes: Path, forms: Path, instances: int) -> list[int]:
    """Run `instances` 40-step instances to completion through the service layer."""
    services.deploy(engine, load_catalog(processes, forms, engine.settings.roles), Actor("a", frozenset({"admin"})))
    ids = []
    for _ in range(instances):
        view = services.start_instance(engine, "linear", {}, Actor("olivia", frozenset({"organiser"})))
        while view.open_tasks:
            view = services.complete_task(engine, view.open_tasks[0].id, {"note": "ok"},
                                          Actor("evan", frozenset({"events_office"})))
        ids.append(view.id)
    return ids


def grow_chain(engine, target: int) -> int:
    """Append copies of the existing events (properly chained) until the chain holds `target` events."""
    with engine.new_uow() as uow:
        session = uow.session
        template = [r._asdict() for r in session.execute(select(AuditRecord.__table__).order_by(AuditRecord.seq))]
        head = session.get(AuditHeadRecord, 1)
        seq, prev = head.seq, head.hash
        while seq < target:
            batch = []
            for row in template[: target - seq]:
                seq += 1
                digest = event_hash(seq, row["at"], row["instance_id"], row["actor"], row["role"], row["type"],
                                    row["element_id"], row["details"], prev)
                batch.append({**row, "seq": seq, "prev_hash": prev, "hash": digest})
                prev = digest
            session.execute(insert(AuditRecord), batch)
        session.execute(update(AuditHeadRecord).where(AuditHeadRecord.id == 1).values(seq=seq, hash=prev))
        uow.commit()
    return seq


def measure(label: str, url: str, processes: Path, forms: Path, events: int) -> None:
    """Print verify and replay figures for one database."""
    upgrade(url)
    engine = bootstrap(Settings(database_url=url, processes_dir=processes, forms_dir=forms))
    ids = build(engine, processes, forms, 10)
    replays = []
    for instance_id in ids:
        began = time.perf_counter()
        report = services.replay_instance(engine, instance_id, AUDITOR)
        replays.append((time.perf_counter() - began) * 1000)
        assert report.ok, report.reason
    total = grow_chain(engine, events)
    for mode, parallel in (("one process", False), ("parallel", True)):
        began = time.perf_counter()
        result = services.verify_audit(engine, parallel=parallel)
        elapsed = time.perf_counter() - began
        assert result.ok and result.events == total, result
        print(f"{label:10} verify ({mode:11}): {total / elapsed:10,.0f} events/s ({total:,} events in "
              f"{elapsed:.2f} s; target >= 200,000)")
    print(f"{label:10} replay of a {STEPS}-step instance: median {statistics.median(replays):.1f} ms, "
          f"max {max(replays):.1f} ms (target <= 50 ms)")
    engine.db.dispose()


def main() -> None:
    """Run on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        processes, forms = write_linear_process(Path(tmp), STEPS)
        measure("SQLite", f"sqlite:///{tmp}/audit.db", processes, forms, args.events)
        if args.postgres:
            with postgres_database(args.postgres) as url:
                measure("PostgreSQL", url, processes, forms, args.events)


if __name__ == "__main__":
    main()
