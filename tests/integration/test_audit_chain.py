"""The audit chain: clean data verifies; an edited, deleted, inserted or reordered row is caught."""

from __future__ import annotations

import pytest
from builders import EVENTS_OFFICE, ORGANISER, event_request
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine import services


def _run_two_requests(engine) -> list[int]:
    ids = []
    for title in ("First event", "Second event"):
        view = services.start_instance(engine, "event_approval", event_request(title=title), ORGANISER)
        [task] = [t for t in services.list_tasks(engine, EVENTS_OFFICE) if t.instance_id == view.id]
        services.complete_task(engine, task.id, {"decision": "approved"}, EVENTS_OFFICE)
        ids.append(view.id)
    return ids


def _tamper(engine, *statements: str) -> None:
    """What an attacker with database access does: switch off the append-only guard, then change rows."""
    with engine.db.begin() as conn:
        if engine.db.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def _events(engine) -> int:
    return services.verify_audit(engine).events


def test_untouched_chain_verifies(deployed):
    _run_two_requests(deployed)
    result = services.verify_audit(deployed)
    assert result.ok and result.first_bad is None and result.events > 20


def test_audit_rows_cannot_be_updated_or_deleted_through_the_database(deployed):
    _run_two_requests(deployed)
    for statement in ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3",
                      "DELETE FROM audit_events WHERE seq = 3"):
        with pytest.raises(DatabaseError), deployed.db.begin() as conn:
            conn.execute(text(statement))
    assert services.verify_audit(deployed).ok


def test_edited_event_is_reported_at_its_sequence_number(deployed):
    first, _ = _run_two_requests(deployed)
    seq = services.instance_history(deployed, first, EVENTS_OFFICE)[2].seq
    _tamper(deployed, f"UPDATE audit_events SET details = '{{\"data\":{{}}}}' WHERE seq = {seq}")
    result = services.verify_audit(deployed)
    assert (result.ok, result.first_bad) == (False, seq)
    assert not services.verify_audit(deployed, first).ok


def test_edited_actor_is_reported(deployed):
    _run_two_requests(deployed)
    _tamper(deployed, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 9")
    assert services.verify_audit(deployed).first_bad == 9


def test_deleted_event_is_reported_where_the_gap_is(deployed):
    _run_two_requests(deployed)
    _tamper(deployed, "DELETE FROM audit_events WHERE seq = 7")
    result = services.verify_audit(deployed)
    assert (result.ok, result.first_bad) == (False, 7)


def test_deleting_the_newest_events_is_caught_by_the_chain_head(deployed):
    _run_two_requests(deployed)
    last = _events(deployed)
    _tamper(deployed, f"DELETE FROM audit_events WHERE seq >= {last - 1}")
    result = services.verify_audit(deployed)
    assert (result.ok, result.first_bad) == (False, last - 1)


def test_reordered_events_are_reported(deployed):
    _run_two_requests(deployed)
    _tamper(deployed, "UPDATE audit_events SET seq = -1 WHERE seq = 4",
            "UPDATE audit_events SET seq = 4 WHERE seq = 6",
            "UPDATE audit_events SET seq = 6 WHERE seq = -1")
    result = services.verify_audit(deployed)
    assert (result.ok, result.first_bad) == (False, 4)


def test_inserted_event_is_reported(deployed):
    _run_two_requests(deployed)
    last = _events(deployed)
    _tamper(deployed,
            f"INSERT INTO audit_events (seq, instance_id, at, actor, role, type, element_id, details, prev_hash, hash) "
            f"SELECT {last + 1}, instance_id, at, 'mallory', role, type, element_id, details, hash, hash "
            f"FROM audit_events WHERE seq = {last}")
    result = services.verify_audit(deployed)
    assert (result.ok, result.first_bad) == (False, last + 1)


def test_instance_verify_catches_a_deleted_event_inside_the_instance(deployed):
    first, second = _run_two_requests(deployed)
    history = services.instance_history(deployed, first, EVENTS_OFFICE)
    _tamper(deployed, f"DELETE FROM audit_events WHERE seq = {history[3].seq}")
    assert not services.verify_audit(deployed, first).ok
    assert services.verify_audit(deployed, second).ok


def test_chain_head_names_the_last_event(deployed):
    _run_two_requests(deployed)
    history = services.instance_history(deployed, 2, EVENTS_OFFICE)  # reading history is itself audited
    seq, digest = services.chain_head(deployed)
    assert seq == _events(deployed) and len(digest) == 64
    assert history[-1].seq <= seq
