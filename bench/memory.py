"""Memory and storage: database bytes per completed instance (10-step process, PostgreSQL), and the resident
memory of a worker process and of a web worker.

    .venv/bin/python bench/memory.py [--instances 200] [--postgres URL]

Storage counts every table of the schema that grows while instances run (state, tasks and candidates, audit
events and their erasable payloads, outbox, idempotency keys, ...), after a VACUUM FULL, and prints a per-table
breakdown into heap, indexes and TOAST. Target: <= 12 KB per completed instance.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import DEFAULT_POSTGRES, ROOT, postgres_database, prepared_engine
from linear_process import write_linear_process
from sqlalchemy import text

from engine import services
from engine.model import Actor

# Per table: heap (main fork, free space and visibility maps), all its indexes, and its TOAST table with index.
SIZES = text("""
    SELECT c.relname,
           pg_table_size(c.oid) - COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
           pg_indexes_size(c.oid),
           COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
    FROM pg_class c
    WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r'
""")
INDEX_SIZES = text("""
    SELECT substring(t.relname FROM 7) || ' ' || substring(pg_get_indexdef(i.indexrelid) FROM ' USING [a-z]+ (.*)$'),
           pg_relation_size(i.indexrelid)
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relnamespace = pg_my_temp_schema() AND t.relkind = 'r'
""")


@dataclass(frozen=True)
class TableBytes:
    """Bytes on disk of one table."""

    heap: int
    indexes: int
    toast: int

    @property
    def total(self) -> int:
        return self.heap + self.indexes + self.toast

    def __sub__(self, other: TableBytes) -> TableBytes:
        return TableBytes(self.heap - other.heap, self.indexes - other.indexes, self.toast - other.toast)


def table_bytes(engine, indexes: dict[str, int] | None = None) -> dict[str, TableBytes]:
    """Bytes on disk of the live rows of every table in the schema, as VACUUM FULL would leave them.

    Each table is copied into a fresh temporary table with the same columns, storage, compression and
    indexes (rebuilt after the copy): VACUUM FULL itself keeps dead rows whenever any session on the server,
    in any database, holds an old transaction open, which made the figure depend on whatever else was running.
    `indexes`, when given, receives the bytes of each index by table and definition.
    """
    with engine.db.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        try:
            for name in tables.all():
                conn.exec_driver_sql(f'CREATE TEMPORARY TABLE "sized_{name}" (LIKE "{name}" INCLUDING ALL)')
                conn.exec_driver_sql(f'INSERT INTO "sized_{name}" SELECT * FROM "{name}"')
                conn.exec_driver_sql(f'REINDEX TABLE "sized_{name}"')
            if indexes is not None:
                indexes.update(conn.execute(INDEX_SIZES).tuples().all())
            return {name.removeprefix("sized_"): TableBytes(heap, index_bytes, toast)
                    for name, heap, index_bytes, toast in conn.execute(SIZES)}
        finally:
            conn.exec_driver_sql("DISCARD TEMP")


def growth(before: dict[str, TableBytes], after: dict[str, TableBytes]) -> dict[str, TableBytes]:
    """The tables that grew, with their growth."""
    empty = TableBytes(0, 0, 0)
    grown = {name: sizes - before.get(name, empty) for name, sizes in after.items()}
    return {name: sizes for name, sizes in sorted(grown.items(), key=lambda item: -item[1].total) if sizes.total}


def breakdown(grown: dict[str, TableBytes], instances: int) -> list[str]:
    """Lines of the per-table table: bytes per instance, heap, indexes, TOAST."""
    lines = [f"{'table':<20}{'total':>9}{'heap':>9}{'indexes':>9}{'toast':>9}   (bytes per instance)"]
    for name, sizes in [*grown.items(), ("all", TableBytes(*(sum(getattr(s, part) for s in grown.values())
                                                           for part in ("heap", "indexes", "toast"))))]:
        lines.append(f"{name:<20}" + "".join(f"{value / instances:>9.0f}"
                                             for value in (sizes.total, sizes.heap, sizes.indexes, sizes.toast)))
    return lines


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
    parser.add_argument("--indexes", action="store_true", help="also print the growth of each index")
    args = parser.parse_args()
    organiser, reviewer = Actor("olivia", frozenset({"organiser"})), Actor("evan", frozenset({"events_office"}))
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        indexes_before: dict[str, int] = {}
        indexes_after: dict[str, int] = {}
        before = table_bytes(engine, indexes_before)
        for _ in range(args.instances):
            view = services.start_instance(engine, "linear", {}, organiser)
            while view.open_tasks:
                view = services.complete_task(engine, view.open_tasks[0].id, {"note": "ok"}, reviewer)
        grown = growth(before, table_bytes(engine, indexes_after))
        env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": url}
        worker = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "worker",
                                   "--interval", "0.2"], cwd=ROOT, env=env)
        time.sleep(3)
        worker_kib = rss_kib(worker.pid)
        worker.terminate()
        worker.wait(timeout=10)
        engine.db.dispose()
    per_instance = sum(sizes.total for sizes in grown.values()) / args.instances
    print("\n".join(breakdown(grown, args.instances)))
    if args.indexes:
        for label, size in sorted(indexes_after.items(), key=lambda item: item[1] - indexes_before.get(item[0], 0),
                                  reverse=True):
            if size > indexes_before.get(label, 0):
                print(f"  index {label}: {(size - indexes_before.get(label, 0)) / args.instances:.0f}")
    print(f"storage per completed 10-step instance: {per_instance / 1024:.1f} KB (target <= 12 KB; every table "
          f"that grew: state, tasks, audit events and payloads, ..., with indexes and TOAST)")
    print(f"worker process resident memory: {worker_kib / 1024:.0f} MB")


if __name__ == "__main__":
    main()
