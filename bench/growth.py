"""Growth: inbox, instance list, history and report latency with 1k, 10k and 100k instances (about 20 audit
events each) on PostgreSQL. Where indexes should make the cost flat, it must stay flat.

    .venv/bin/python bench/growth.py [--sizes 1000,10000,100000] [--postgres URL]

Target: inbox p95 <= 20 ms at 100k instances.

The clones are started by 100 organisers (olivia is one of them), and one in twenty is a decided event request,
250 a year, going back a year every 250 (so the current academic year holds 50, 250, 250 of them at 1k, 10k,
100k): list pages and history must stay flat; the yearly reports must follow the year's requests, not the history.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import DEFAULT_POSTGRES, percentile, postgres_database, prepared_engine
from linear_process import write_linear_process
from sqlalchemy import func, select, text, update

from engine import services
from engine.audit import event_hash
from engine.model import Actor
from engine.reporting.ofs import academic_year_bounds, utc_bounds
from engine.tables import AuditHeadRecord, AuditRecord, HexBytes, InstanceRecord, TaskCandidateRecord, TaskRecord

REVIEWER = Actor("evan", frozenset({"events_office"}))
ORGANISER = Actor("olivia", frozenset({"organiser"}))
AUDITOR = Actor("audrey", frozenset({"auditor"}))
RUNNING_SHARE = 10  # one instance in ten still has an open task
ORGANISERS = 100  # clones are started by organiser0..99; olivia is organiser 0
EVENT_SHARE = 20  # one finished clone in twenty is a decided event request (what the yearly reports count)
EVENTS_PER_YEAR = 250


def clone_row(template: dict, instance_id: int) -> dict:
    """A cloned instance row: its organiser, and for one in EVENT_SHARE a decided event request of some year."""
    owner = ORGANISER.username if instance_id % ORGANISERS == 0 else f"organiser{instance_id % ORGANISERS}"
    row = {**template, "id": instance_id, "started_by": owner}
    if instance_id % EVENT_SHARE == 1:
        years_back = instance_id // EVENT_SHARE // EVENTS_PER_YEAR
        started = template["started_at"] - timedelta(days=365 * years_back)
        decided = (started + timedelta(days=7)).date().isoformat()
        row.update(process_key="event_approval", started_at=started, ended_at=started + timedelta(days=7),
                   summary={"title": f"Event {instance_id}", "decision": "approved", "ofs_category": "approved",
                            "risk_level": "LOW", "decided_on": decided, "final_decision_on": decided})
    return row


def templates(engine) -> tuple[dict, dict, list[dict], dict, list[dict]]:
    """One finished and one running instance made by the real services, to be cloned."""
    done = services.start_instance(engine, "linear", {}, ORGANISER)
    while done.open_tasks:
        done = services.complete_task(engine, done.open_tasks[0].id, {"note": "ok"}, REVIEWER)
    running = services.start_instance(engine, "linear", {}, ORGANISER)
    for _ in range(5):
        running = services.complete_task(engine, running.open_tasks[0].id, {"note": "ok"}, REVIEWER)
    with engine.new_uow(readonly=True) as uow:
        s = uow.session
        rows = {i: s.execute(select(InstanceRecord.__table__).where(InstanceRecord.id == i)).one()._asdict()
                for i in (done.id, running.id)}
        events = {i: [r._asdict() for r in s.execute(select(AuditRecord.__table__).where(
            AuditRecord.instance_id == i).order_by(AuditRecord.seq))] for i in (done.id, running.id)}
        task = s.execute(select(TaskRecord.__table__).where(TaskRecord.instance_id == running.id,
                                                            TaskRecord.status == "open")).one()._asdict()
    return rows[done.id], rows[running.id], events[done.id], task, events[running.id]


def grow(engine, count: int, template: tuple, batch: int = 2000) -> None:
    """Clone the templates until `count` instances exist (audit rows chained, tasks projected)."""
    done_row, running_row, done_events, task_row, running_events = template
    with engine.new_uow() as uow:
        s = uow.session
        existing = s.execute(select(func.count()).select_from(InstanceRecord)).scalar_one()
        head = s.get(AuditHeadRecord, 1)
        seq, prev = head.seq, head.hash
        next_id = s.execute(select(func.max(InstanceRecord.id))).scalar_one() + 1
        while existing < count:
            instances, tasks, candidates, events = [], [], [], []
            for _ in range(min(batch, count - existing)):
                running = next_id % RUNNING_SHARE == 0
                instances.append(clone_row(running_row if running else done_row, next_id))
                for event in running_events if running else done_events:
                    seq += 1
                    digest = event_hash(seq, event["at"], next_id, event["actor"], event["role"], event["type"],
                                        event["element_id"], event["details"], prev)
                    events.append({**event, "seq": seq, "instance_id": next_id, "prev_hash": prev, "hash": digest})
                    prev = digest
                if running:
                    task_id = str(uuid.uuid4())
                    tasks.append({**task_row, "id": task_id, "instance_id": next_id})
                    candidates.append({"task_id": task_id, "kind": "group", "value": "events_office"})
                next_id += 1
                existing += 1
            copy_rows(s, InstanceRecord, instances)
            if tasks:
                copy_rows(s, TaskRecord, tasks)
                copy_rows(s, TaskCandidateRecord, candidates)
            copy_rows(s, AuditRecord, events)
        s.execute(update(AuditHeadRecord).where(AuditHeadRecord.id == 1).values(seq=seq, hash=prev))
        if s.bind.dialect.name == "postgresql":  # explicit ids do not move the sequence
            s.execute(text("SELECT setval('instances_id_seq', (SELECT max(id) FROM instances))"))
        uow.commit()


def copy_rows(session, record: type, rows: list[dict]) -> None:
    """Bulk-load rows with PostgreSQL's COPY (ten times faster than INSERTs: the 100k step stays in minutes).

    Values are written as the column types store them: naive UTC timestamps, JSON as text, hex digests as bytes.
    """
    table = record.__table__
    columns = [c.name for c in table.columns if c.name in rows[0]]
    binary = {c.name for c in table.columns if isinstance(c.type, HexBytes)}
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([bytes.fromhex(row[c]) if c in binary and row[c] is not None else _stored(row[c])
                            for c in columns])


def _stored(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def timed(call, repeat: int = 30) -> tuple[float, float]:
    """p50 and p95 in ms over `repeat` calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return percentile(times, .5), percentile(times, .95)


def year_requests(engine) -> int:
    """Event requests submitted in the current academic year (what the yearly report's cost should follow)."""
    today = engine.now().date()
    start, end = utc_bounds(*academic_year_bounds(today.year if today.month >= 8 else today.year - 1))
    with engine.new_uow(readonly=True) as uow:
        return uow.session.execute(select(func.count()).select_from(InstanceRecord).where(
            InstanceRecord.process_key == "event_approval", InstanceRecord.started_at >= start,
            InstanceRecord.started_at < end)).scalar_one()


def main() -> None:
    """Grow the database step by step and time the reads at each size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        template = templates(engine)
        year = engine.now().year if engine.now().month >= 8 else engine.now().year - 1
        print("p50/p95 in ms; list: first page of 50, newest first (staff: own + worked processes; organiser: own;"
              " running: auditor, status filter)")
        columns = ("inbox", "list staff", "list organiser", "list running", "history", "OfS report", "dashboard")
        print(f"{'instances':>10} " + " ".join(f"{c:>15}" for c in columns) + f" {'year rows':>9} {'build s':>8}")
        for size in sizes:
            began = time.perf_counter()
            grow(engine, size, template)
            with engine.db.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()  # an uncommitted ANALYZE is rolled back: the planner would keep the 1k statistics
            build = time.perf_counter() - began
            times = [timed(lambda: services.list_tasks(engine, REVIEWER, "groups", limit=50)),
                     timed(lambda: services.list_instances(engine, REVIEWER, limit=50)),
                     timed(lambda: services.list_instances(engine, ORGANISER, limit=50)),
                     timed(lambda: services.list_instances(engine, AUDITOR, status="running", limit=50)),
                     timed(lambda size=size: services.instance_history(engine, size // 2, AUDITOR)),
                     timed(lambda: services.ofs_report(engine, AUDITOR, year)),
                     timed(lambda: services.dashboard_report(engine, AUDITOR))]
            print(f"{size:>10} " + " ".join(f"{p50:7.1f}/{p95:<7.1f}" for p50, p95 in times)
                  + f" {year_requests(engine):>9} {build:8.1f}")
        print("target: inbox p95 <= 20 ms at 100k instances; inbox, list and history stay flat as the history grows;"
              " the reports (current academic year) follow 'year rows' (the year's event requests), not the history:"
              " flat from 10k to 100k, where the year's volume is the same")
        verified = services.verify_audit(engine)  # the clones are chained like real events: all must verify
        print(json.dumps({"audit_events": verified.events, "chain_ok": verified.ok, "first_bad": verified.first_bad}))
        engine.db.dispose()
        if not verified.ok:
            sys.exit("the grown audit chain does not verify: the clones were written wrongly")


if __name__ == "__main__":
    main()
