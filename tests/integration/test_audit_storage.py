"""Compact audit storage (migration 0010): hashes as 32 bytes, payloads keyed by seq, no null details."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from alembic import command
from builders import AUDITOR, EVENTS_OFFICE, ORGANISER, event_request
from sqlalchemy import select, text
from test_audit_chain import _run_two_requests, _tamper

from engine import services
from engine.audit import PAYLOAD_KEY, event_hash
from engine.audit_scan import GENESIS_HASH
from engine.bootstrap import bootstrap
from engine.db import make_engine
from engine.migrate import alembic_config, upgrade
from engine.tables import AuditRecord


def test_event_hashes_are_hex_in_python_and_their_32_bytes_in_the_database(deployed):
    _run_two_requests(deployed)
    with deployed.new_uow(readonly=True) as uow:
        records = list(uow.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())
        raw = uow.session.execute(text("SELECT prev_hash, hash FROM audit_events ORDER BY seq")).all()
    assert [(bytes(p), bytes(h)) for p, h in raw] == \
        [(bytes.fromhex(r.prev_hash), bytes.fromhex(r.hash)) for r in records]
    assert records[0].prev_hash == GENESIS_HASH and all(len(r.hash) == 64 for r in records)
    assert all(after.prev_hash == before.hash for before, after in zip(records, records[1:], strict=False))
    assert services.verify_audit(deployed, parallel=False).ok and services.verify_audit(deployed, parallel=True).ok


def test_a_hash_overwritten_with_text_is_reported_not_a_crash(deployed):
    _run_two_requests(deployed)
    _tamper(deployed, f"UPDATE audit_events SET hash = '{'f' * 64}' WHERE seq = 5")  # text where bytes belong
    for parallel in (False, True):
        result = services.verify_audit(deployed, parallel=parallel)
        assert (result.ok, result.first_bad) == (False, 5)


def test_new_events_store_no_null_details_and_read_the_same(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    with deployed.new_uow(readonly=True) as uow:
        stored = [json.loads(r.stored_details if hasattr(r, "stored_details") else r.details) for r in
                  uow.session.execute(select(AuditRecord).where(AuditRecord.instance_id == view.id)).scalars()]
    ready = [d for d in stored if "task_id" in d and "candidate_groups" in d]
    assert ready and all(None not in d.values() for d in stored)
    assert all("assignee" not in d for d in ready)  # unassigned: the key is left out, not written as null
    history = services.instance_history(deployed, view.id, AUDITOR)
    assert all(e.details.get("assignee") is None for e in history)
    [task] = [t for t in services.list_tasks(deployed, EVENTS_OFFICE) if t.instance_id == view.id]
    services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    assert services.replay_instance(deployed, view.id, AUDITOR).ok


def test_a_payload_body_altered_in_the_database_is_never_shown_as_recorded(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    with deployed.db.begin() as conn:  # audit_payloads is outside the chain, and not append-only (erasure)
        seq = conn.execute(text("SELECT min(seq) FROM audit_payloads")).scalar_one()
        conn.execute(text("UPDATE audit_payloads SET body = :body WHERE seq = :seq"),
                     {"body": json.dumps({"data": {"title": "forged"}}), "seq": seq})
    history = services.instance_history(deployed, view.id, AUDITOR)  # payloads preloaded for the instance
    [started] = [e for e in history if e.seq == seq]
    assert started.details.get("redacted") is True and "data" not in started.details
    exported = [json.loads(line) for line in services.export_audit(deployed, "jsonl")]  # loaded one by one
    [row] = [r for r in exported if r["seq"] == seq]
    assert "forged" not in json.dumps(row) and json.loads(row["readable_details"])["redacted"] is True
    assert services.verify_audit(deployed).ok  # the chain itself is untouched


def _old_chain(conn, instance_id: int) -> list[dict]:
    """Three events as 0009 stored them (hashes as hex text), the second with a payload."""
    salt, body = "ab" * 16, json.dumps({"data": {"title": "Old talk"}}, separators=(",", ":"))
    digest = hashlib.sha256((salt + body).encode()).hexdigest()
    rows, prev = [], GENESIS_HASH
    for seq, (type_, details) in enumerate([("instance_started", {"process": "x", "data": {}}),
                                             ("task_completed", {PAYLOAD_KEY: digest, "assignee": None}),
                                             ("instance_completed", {"outcome": {}})], start=1):
        at = datetime(2026, 1, 5, 10, 0, seq, 123456, tzinfo=UTC)
        stored = json.dumps(details, sort_keys=True, separators=(",", ":"))
        digest_of_event = event_hash(seq, at, instance_id, "olivia", "organiser", type_, None, stored, prev)
        rows.append({"seq": seq, "instance_id": instance_id, "at": at.replace(tzinfo=None), "actor": "olivia",
                     "role": "organiser", "type": type_, "element_id": None, "details": stored,
                     "prev_hash": prev, "hash": digest_of_event})
        prev = digest_of_event
    conn.execute(text("INSERT INTO audit_events (seq, instance_id, at, actor, role, type, element_id, details, "
                      "prev_hash, hash) VALUES (:seq, :instance_id, :at, :actor, :role, :type, :element_id, "
                      ":details, :prev_hash, :hash)"), rows)
    conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :hash)"), {"hash": prev})
    conn.execute(text("INSERT INTO audit_payloads (digest, seq, instance_id, salt, body) "
                      "VALUES (:digest, 2, :instance_id, :salt, :body)"),
                 {"digest": bytes.fromhex(digest), "instance_id": instance_id, "salt": bytes.fromhex(salt),
                  "body": body})
    return rows


def test_migration_0010_converts_events_and_payloads_written_before_it_and_downgrades(settings):
    url = settings.database_url
    upgrade(url, "0009")
    db = make_engine(url)
    with db.begin() as conn:
        rows = _old_chain(conn, 41)
    upgrade(url)
    engine = bootstrap(settings)
    try:
        assert services.verify_audit(engine, parallel=False).ok and services.verify_audit(engine, parallel=True).ok
        with engine.new_uow(readonly=True) as uow:
            records = list(uow.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())
            raw = uow.session.execute(text("SELECT hash FROM audit_events ORDER BY seq")).scalars().all()
            payload_columns = uow.session.execute(text("SELECT * FROM audit_payloads")).one()._fields
        assert [(r.prev_hash, r.hash) for r in records] == [(r["prev_hash"], r["hash"]) for r in rows]
        assert [bytes(h) for h in raw] == [bytes.fromhex(r["hash"]) for r in rows]
        assert "digest" not in payload_columns
        assert json.loads(records[1].details) == {"assignee": None, "data": {"title": "Old talk"}}
        assert json.loads(records[1].stored_details) == json.loads(rows[1]["details"])
        # the instance's payloads are still found (through its events) and erased the same way
        assert services.verify_audit(engine, 41).ok
        from engine.audit import delete_payloads, instance_payloads

        with engine.new_uow() as uow:
            assert list(instance_payloads(uow.session, 41).values()) == ['{"data":{"title":"Old talk"}}']
            assert delete_payloads(uow.session, 41) == 1
            uow.commit()
        assert services.verify_audit(engine).ok
    finally:
        engine.db.dispose()
    command.downgrade(alembic_config(url), "0009")
    with db.connect() as conn:
        assert conn.execute(text("SELECT prev_hash, hash FROM audit_events ORDER BY seq")).tuples().all() == \
            [(r["prev_hash"], r["hash"]) for r in rows]
    db.dispose()


def test_migration_0010_keeps_a_tampered_hash_detectable(settings):
    url = settings.database_url
    upgrade(url, "0009")
    db = make_engine(url)
    with db.begin() as conn:
        _old_chain(conn, 7)
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER") if db.dialect.name == "postgresql"
                     else text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET hash = 'not a hash' WHERE seq = 2"))
    db.dispose()
    upgrade(url)
    engine = bootstrap(settings)
    try:
        for parallel in (False, True):
            result = services.verify_audit(engine, parallel=parallel)
            assert (result.ok, result.first_bad) == (False, 2)
    finally:
        engine.db.dispose()
