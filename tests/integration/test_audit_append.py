"""Appending to the audit chain at commit (engine/audit.py `write_to`).

On PostgreSQL the server chains the events (`campusflow_append_events`, migration 0012) and must hash exactly as
`event_hash` defines; on SQLite Python does. Every test here runs on both, and compares what was stored with
Python's own definition, field by field, on the awkward values: absent fields, empty text, text that reads like
SQL or an array literal, characters outside ASCII, payloads and several events in one commit.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from alembic import command
from mini_project import REQUESTER, REVIEWER
from sqlalchemy import select, text

from engine import services
from engine.audit import PAYLOAD_KEY, record_hash
from engine.audit_scan import GENESIS_HASH
from engine.db import make_engine
from engine.errors import ConcurrentChangeError
from engine.migrate import alembic_config, upgrade
from engine.tables import AuditHeadRecord, AuditPayloadRecord, AuditRecord
from engine.unit_of_work import UnitOfWork

AWKWARD = ["NULL", "", "{a,b}", '"quoted", \\ back', "O'Brien; DROP TABLE audit_events; --", "événement 漢字 🙂",
           "line\nbreak\ttab"]


def _events(engine) -> list[AuditRecord]:
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())


def _head(engine) -> tuple[int, str] | None:
    with engine.new_uow(readonly=True) as uow:
        head = uow.session.get(AuditHeadRecord, 1)
        return (head.seq, head.hash) if head else None


def _append_awkward(uow: UnitOfWork) -> None:
    for number, value in enumerate(AWKWARD):
        uow.audit.append("data_changed", number if number % 2 else None, value or "someone", role=value or None,
                         element_id=value or None, note=value, data={"field": value} if number % 3 else None)
    # empty text where the others give NULL: both hash as the empty field, and each is stored as given
    uow.audit.append("data_changed", None, "someone", role="", element_id="", note="")


def test_events_stored_by_the_commit_hash_as_python_defines_them(engine):
    with engine.new_uow() as uow:
        _append_awkward(uow)
        uow.commit()
    events = _events(engine)
    assert [e.seq for e in events] == list(range(1, len(AWKWARD) + 2))
    assert (events[-1].role, events[-1].element_id) == ("", "")
    events = events[:-1]
    assert events[0].prev_hash == GENESIS_HASH
    for before, event in zip([None, *events], events, strict=False):
        assert record_hash(event) == event.hash
        if before is not None:
            assert event.prev_hash == before.hash
    assert [e.actor for e in events] == [v or "someone" for v in AWKWARD]
    assert [e.role for e in events] == [v or None for v in AWKWARD]
    assert [e.instance_id for e in events] == [n if n % 2 else None for n in range(len(AWKWARD))]
    assert _head(engine)[0] == len(AWKWARD) + 1
    assert services.verify_audit(engine).ok


def test_payloads_are_stored_apart_under_their_event_and_merge_back(engine):
    with engine.new_uow() as uow:
        _append_awkward(uow)
        uow.commit()
    events = _events(engine)
    with engine.new_uow(readonly=True) as uow:
        payload_seqs = sorted(uow.session.execute(select(AuditPayloadRecord.seq)).scalars())
    assert payload_seqs == [e.seq for number, e in enumerate(events[:len(AWKWARD)]) if number % 3]
    for number, event in enumerate(events[:len(AWKWARD)]):
        details = json.loads(event.details)
        assert details["note"] == AWKWARD[number]
        if number % 3:
            assert details["data"] == {"field": AWKWARD[number]} and PAYLOAD_KEY in event.stored_details
        else:
            assert "data" not in details


def test_the_time_hashed_is_the_time_stored_whatever_the_offset_given(engine):
    at = datetime(2027, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=1)))
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.audit.pending[-1].at = at  # +01:00: stored and hashed as UTC
        uow.commit()
    [event] = _events(engine)
    assert event.at == at
    assert record_hash(event) == event.hash


def test_the_first_commit_creates_the_head(engine):
    assert _head(engine) is None  # a new database: no event yet, no head
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.audit.append("data_changed", None, "ravi")
        uow.commit()
    events = _events(engine)
    assert [e.seq for e in events] == [1, 2] and events[0].prev_hash == GENESIS_HASH
    assert services.verify_audit(engine).ok


def test_a_head_that_is_not_hex_is_chained_on_as_written_and_verification_fails(engine):
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.commit()
    with engine.db.begin() as conn:
        conn.execute(text("UPDATE audit_head SET hash = 'tampered'"))
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.commit()
    with engine.db.connect() as conn:
        stored = conn.execute(text("SELECT prev_hash FROM audit_events WHERE seq = 2")).scalar_one()
    assert bytes(stored) == b"tampered"  # as tables.HexBytes stores text that is not hex
    result = services.verify_audit(engine)
    assert (result.ok, result.first_bad) == (False, 2)


def test_a_failed_check_leaves_neither_the_events_nor_the_head_moved(engine):
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.commit()
    before = (_events(engine), _head(engine))
    statement = text("UPDATE audit_head SET seq = seq WHERE id = 2")  # matches no row
    with engine.new_uow() as uow, pytest.raises(ConcurrentChangeError, match="nobody home"):
        uow.write(statement, {}, expect_rows=1, conflict="nobody home")
        uow.audit.append("data_changed", None, "ravi")
        uow.commit()
    assert [e.seq for e in _events(engine)] == [e.seq for e in before[0]] and _head(engine) == before[1]


def test_an_event_time_without_a_zone_is_refused(engine):
    with engine.new_uow() as uow:
        uow.audit.append("data_changed", None, "ravi")
        uow.audit.pending[-1].at = datetime(2027, 1, 1)
        with pytest.raises(ValueError, match="naive"):
            uow.commit()
    assert _events(engine) == []


def test_migration_0012_adds_the_functions_on_postgresql_and_downgrades(database_url):
    def functions() -> set[str]:
        db = make_engine(database_url)
        try:
            with db.connect() as conn:
                return set(conn.exec_driver_sql(
                    "SELECT proname FROM pg_proc WHERE proname IN "
                    "('campusflow_append_events', 'campusflow_expect_rows')").scalars())
        finally:
            db.dispose()

    if not database_url.startswith("postgresql"):
        upgrade(database_url)  # nothing to add on SQLite, which chains in Python
        command.downgrade(alembic_config(database_url), "0011")
        return
    upgrade(database_url, "0011")
    assert functions() == set()
    upgrade(database_url)
    assert functions() == {"campusflow_append_events", "campusflow_expect_rows"}
    command.downgrade(alembic_config(database_url), "0011")
    assert functions() == set()


@pytest.mark.postgres_only
def test_a_completion_on_postgresql_is_one_read_and_one_message(mini, monkeypatch):
    if mini.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    first = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER)
    services.complete_task(mini, first.open_tasks[0].id, {"approved": True}, REVIEWER)  # caches warm
    view = services.start_instance(mini, "leave_request", {"days": 2}, REQUESTER)
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    services.complete_task(mini, view.open_tasks[0].id, {"approved": True}, REVIEWER)
    monkeypatch.undo()
    assert len(sent) == 2, sent
    # run by name, each statement prepared in the message of its first use on the connection (engine/prepared.py;
    # the pool may hand out a connection that has not run them yet)
    read = [s for s in sent[0].split(";\n") if not s.startswith("PREPARE ")]
    assert len(read) == 1 and read[0].startswith("EXECUTE cf_")
    statements = [s for s in sent[1].split(";\n") if not s.startswith("PREPARE ")]
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert all(s.startswith("EXECUTE cf_") for s in statements[1:-1]) and len(statements) >= 5
    assert services.verify_audit(mini).ok
