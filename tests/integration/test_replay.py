"""Re-execution replay: recorded inputs rebuild the same instance; a corrupted state or forged input is found."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from mini_project import AUDITOR, REQUESTER, REVIEWER, START
from sqlalchemy import select, text

from engine import services
from engine.audit import GENESIS_HASH, event_hash
from engine.errors import PermissionDeniedError
from engine.services.replays import replay_instance
from engine.tables import AuditRecord, InstanceRecord


def _run_with_timers(engine, approved: bool = True) -> int:
    """Start, let the reminder cycle fire twice, approve, let the wait timer fire: inputs of every kind."""
    with freeze_time(START) as clock:
        view = services.start_instance(engine, "leave_request", {"days": 2}, REQUESTER)
        for _ in range(2):
            clock.tick(timedelta(minutes=61))
            services.fire_due_timers(engine)
        [task] = services.get_instance(engine, view.id, REVIEWER).open_tasks
        services.claim_task(engine, task.id, REVIEWER)
        services.complete_task(engine, task.id, {"approved": approved}, REVIEWER)
        clock.tick(timedelta(minutes=6))
        services.fire_due_timers(engine)
    return view.id


def _rewrite(engine, statements: list[tuple[str, dict]]) -> None:
    with engine.db.begin() as conn:
        if engine.db.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        for statement, params in statements:
            conn.execute(text(statement), params)


def test_completed_instance_with_timers_replays_to_the_same_state(mini):
    instance_id = _run_with_timers(mini)
    report = replay_instance(mini, instance_id, AUDITOR)
    assert report.ok, report.reason
    assert report.steps == 5 and report.events_checked > 10
    assert report.states[-1]["data"]["approved"] is True


def test_running_instance_replays_too(mini):
    with freeze_time(START):
        view = services.start_instance(mini, "leave_request", {"days": 9}, REQUESTER)
    report = replay_instance(mini, view.id, AUDITOR)
    assert report.ok and report.steps == 1


def test_corrupted_stored_state_is_reported(mini):
    instance_id = _run_with_timers(mini)
    with mini.db.begin() as conn:
        state = conn.execute(select(InstanceRecord.state).where(InstanceRecord.id == instance_id)).scalar_one()
        conn.execute(text("UPDATE instances SET state = :s WHERE id = :i"),
                     {"s": state.replace('"days":2', '"days":20'), "i": instance_id})
    report = replay_instance(mini, instance_id, AUDITOR)
    assert not report.ok and "days" in report.reason


def test_forged_input_with_a_rebuilt_chain_is_caught_at_the_first_divergent_step(mini):
    """An insider edits a recorded decision and recomputes every hash: verify passes, replay does not."""
    instance_id = _run_with_timers(mini, approved=True)
    with mini.new_uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())
    updates, prev = [], GENESIS_HASH
    for row in rows:
        details = row.details
        if row.type == "task_completed" and row.instance_id == instance_id:
            details = json.dumps({**json.loads(details), "data": {"approved": False}}, sort_keys=True,
                                 separators=(",", ":"))
        digest = event_hash(row.seq, row.at, row.instance_id, row.actor, row.role, row.type, row.element_id,
                            details, prev)
        updates.append(("UPDATE audit_events SET details = :d, prev_hash = :p, hash = :h WHERE seq = :s",
                        {"d": details, "p": bytes.fromhex(prev), "h": bytes.fromhex(digest), "s": row.seq}))
        prev = digest
    updates.append(("UPDATE audit_head SET hash = :h", {"h": prev}))
    _rewrite(mini, updates)
    assert services.verify_audit(mini).ok  # the forgery is internally consistent ...
    report = replay_instance(mini, instance_id, AUDITOR)
    assert not report.ok  # ... but the recorded steps no longer follow from the recorded inputs
    completed = next(r.seq for r in rows if r.type == "task_completed" and r.instance_id == instance_id)
    assert report.first_divergence is not None and report.first_divergence > completed


def test_only_auditors_and_admins_replay(mini):
    instance_id = _run_with_timers(mini)
    with pytest.raises(PermissionDeniedError):
        replay_instance(mini, instance_id, REVIEWER)
