"""Storage per instance: compact workflow state, audit payload digests as bytes, and migration 0007."""

from __future__ import annotations

import hashlib
import json

from alembic import command
from builders import AUDITOR, EVENTS_OFFICE, ORGANISER, event_request
from sqlalchemy import select, text

from engine import retention, serializer, services
from engine.audit import PAYLOAD_KEY
from engine.db import make_engine
from engine.migrate import alembic_config, upgrade
from engine.tables import AuditPayloadRecord, AuditRecord, InstanceRecord


def _stored(engine, instance_id: int) -> tuple[str, object]:
    with engine.new_uow(readonly=True) as uow:
        record = uow.session.get(InstanceRecord, instance_id)
        return record.state, engine.pinned_version(uow, record.process_version_id)


def _complete_state(workflow) -> str:
    """The state as written before defaults were left out (every field of every task)."""
    dct = serializer._STOCK_SERIALIZER.to_dict(workflow)
    dct.pop("spec"), dct.pop("subprocess_specs")
    dct[serializer._VERSION_KEY] = serializer._SERIALIZER.VERSION
    return json.dumps(dct, separators=(",", ":"))


def test_state_leaves_out_default_task_fields_and_older_complete_states_still_load(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    [task] = services.list_tasks(deployed, EVENTS_OFFICE)
    services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    state, version = _stored(deployed, view.id)
    workflow = deployed.load_workflow(state, version)
    complete = _complete_state(workflow)
    assert '"typename":"Task"' in complete and '"typename":"Task"' not in state
    assert len(state) < 0.75 * len(complete)
    # a row written by the earlier format loads to the same workflow, which is then written compactly
    assert serializer.dumps(deployed.load_workflow(complete, version)) == state
    # retention rewrites the JSON generically: the redacted compact state still loads
    redacted = retention.redact_state(state)
    assert "Olivia" not in redacted
    assert [t.task_spec.name for t in deployed.load_workflow(redacted, version).get_tasks()] == \
        [t.task_spec.name for t in workflow.get_tasks()]


def test_payload_is_kept_by_its_event_seq_with_its_salt_as_bytes_and_its_digest_only_in_the_event(deployed):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    with deployed.new_uow(readonly=True) as uow:
        payload = uow.session.execute(select(AuditPayloadRecord).where(AuditPayloadRecord.instance_id == view.id)
                                      .order_by(AuditPayloadRecord.seq)).scalars().first()
        event = uow.session.get(AuditRecord, payload.seq)
        raw = uow.session.execute(text("SELECT * FROM audit_payloads WHERE seq = :seq"), {"seq": payload.seq}).one()
    assert len(payload.salt) == 32 and "digest" not in raw._fields
    digest = hashlib.sha256((payload.salt + payload.body).encode()).hexdigest()
    assert json.loads(event.stored_details)[PAYLOAD_KEY] == digest
    assert bytes(raw.salt) == bytes.fromhex(payload.salt)
    history = services.instance_history(deployed, view.id, AUDITOR)
    assert history[0].details["data"]["title"] == event_request()["title"]
    assert services.verify_audit(deployed).ok


def test_migration_0007_converts_existing_payloads_and_downgrades(database_url):
    upgrade(database_url, "0003")
    upgrade(database_url, "0005")
    digest, salt = hashlib.sha256(b"x").hexdigest(), "ab" * 16
    db = make_engine(database_url)
    with db.begin() as conn:
        conn.execute(text("INSERT INTO audit_payloads (digest, seq, instance_id, salt, body) "
                          "VALUES (:digest, 7, 1, :salt, '{}')"), {"digest": digest, "salt": salt})
    upgrade(database_url, "0007")
    with db.connect() as conn:  # raw SQL: the tables of engine/tables.py describe the newest schema
        row = conn.execute(text("SELECT digest, salt, seq FROM audit_payloads")).one()
        assert (bytes(row.digest), bytes(row.salt), row.seq) == (bytes.fromhex(digest), bytes.fromhex(salt), 7)
    command.downgrade(alembic_config(database_url), "0007-1")
    with db.connect() as conn:
        assert tuple(conn.execute(text("SELECT digest, salt FROM audit_payloads")).one()) == (digest, salt)
    db.dispose()
