"""A database in service: history cloned from instances the real services made, chained into the audit trail.

A benchmark's throwaway database starts empty, with no planner statistics, and fills as it runs. Measured that
way, the completion's read ran on a generic plan that scanned every task row (its predicate on open tasks was a
parameter, fixed since): a completion cost 2.4 ms after 2,000 completions and 3.7 ms after 6,000. A database in
service holds years of history, with statistics (autovacuum analyzes within a minute of 10% growth); `in_service`
gives a benchmark's database that shape in seconds, so the figures are those of the database users will have.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from harness import analyze
from sqlalchemy import func, select, text, update

from engine import services
from engine.audit import event_hash
from engine.bootstrap import WorkflowEngine
from engine.model import Actor
from engine.tables import AuditHeadRecord, AuditRecord, HexBytes, InstanceRecord, TaskCandidateRecord, TaskRecord

REVIEWER = Actor("evan", frozenset({"events_office"}))
ORGANISER = Actor("olivia", frozenset({"organiser"}))
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


def in_service(engine: WorkflowEngine, instances: int = 10_000) -> None:
    """Give a PostgreSQL benchmark database `instances` of history (one in ten running) and its statistics
    (0: leave it fresh, without statistics)."""
    if engine.db.dialect.name != "postgresql" or instances <= 0:
        return  # COPY is PostgreSQL's; SQLite's planner does not go by table sizes without ANALYZE
    grow(engine, instances, templates(engine))
    analyze(engine)
