"""Retention (SPEC §5): expired records are redacted, held ones are not, the audit chain still verifies."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg  # noqa: F401 - load its C extension before freezegun swaps datetime classes
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))
from scenario_driver import (  # noqa: E402
    AUDITOR,
    DPO,
    EVENTS,
    NON_PREVENT_CONDITIONS,
    ORGANISER,
    TODAY,
    Driver,
    event_data,
    speaker,
)

from engine import services  # noqa: E402
from engine.errors import InvalidDataError, PermissionDeniedError  # noqa: E402
from engine.retention import REDACTED  # noqa: E402
from engine.services.retention import release_legal_hold, run_retention, set_legal_hold  # noqa: E402
from engine.tables import AuditPayloadRecord, InstanceRecord, OutboxRecord, SharingLogRecord  # noqa: E402

LATER = date(2034, 1, 1)  # after 31 Jul 2027 + 6 years
EMAIL = "o.reed@example.ac.uk"


@pytest.fixture
def two_events(deployed):
    with freeze_time(TODAY):
        ids = []
        for title in ("Soil carbon seminar", "Held seminar"):
            driver = Driver(deployed)
            driver.start(event_data(20, title=title, speakers=[speaker("Dr Ada Visitor")]))
            driver.check_speaker()
            driver.complete("review_request", NON_PREVENT_CONDITIONS, EVENTS)
            driver.complete("accept_conditions", {"conditions_response": "withdraw"}, ORGANISER)
            ids.append(driver.instance_id)
    return deployed, ids


def _row(engine, instance_id):
    with engine.new_uow(readonly=True) as uow:
        return uow.session.get(InstanceRecord, instance_id)


def _payloads(engine, instance_id):
    with engine.new_uow(readonly=True) as uow:
        return uow.session.execute(
            select(func.count()).select_from(AuditPayloadRecord).where(AuditPayloadRecord.instance_id == instance_id)
        ).scalar_one()


def test_expired_records_are_redacted_held_ones_kept_and_the_chain_verifies(two_events):
    engine, (expired, held) = two_events
    assert _row(engine, expired).status == "completed" and _payloads(engine, expired) > 0
    before = services.ofs_report(engine, AUDITOR, 2026)
    hold = set_legal_hold(engine, DPO, "instance", held, "Subject of a pending legal claim.")

    assert run_retention(engine, date(2033, 7, 31)).redacted == ()  # not yet past the date
    done = run_retention(engine, LATER)
    assert done.redacted == (("instance", expired),) and done.held == (("instance", held),)

    row = _row(engine, expired)
    assert row.summary["title"] == REDACTED and row.summary["decision"] == "withdrawn"
    assert EMAIL not in row.state and "Ada Visitor" not in row.state and '"decision":"withdrawn"' in row.state
    assert _payloads(engine, expired) == 0
    with engine.new_uow(readonly=True) as uow:  # the redacted workflow still loads against its pinned version
        assert engine.load_workflow(row.state, engine.pinned_version(uow, row.process_version_id)) is not None
    history = services.instance_history(engine, expired, AUDITOR)
    started = next(e for e in history if e.type == "instance_started")
    assert started.details.get("redacted") is True and "data" not in started.details
    assert history[-1].type == "data_redacted" and history[-1].details["rule"] == "event_files"
    with engine.new_uow(readonly=True) as uow:
        assert {
            o.body
            for o in uow.session.execute(select(OutboxRecord).where(OutboxRecord.instance_id == expired)).scalars()
        } == {REDACTED}

    kept = _row(engine, held)
    assert kept.summary["title"] == "Held seminar" and EMAIL in kept.state and _payloads(engine, held) > 0
    assert services.verify_audit(engine).ok
    assert services.verify_audit(engine, expired).ok
    assert services.ofs_report(engine, AUDITOR, 2026)["figures"] == before["figures"]  # counts survive
    assert run_retention(engine, LATER).redacted == ()  # done once

    release_legal_hold(engine, DPO, hold, "The claim was settled.")
    assert run_retention(engine, LATER).redacted == (("instance", held),)
    assert services.verify_audit(engine).ok


def test_sharing_log_rows_expire_after_six_years_unless_held(deployed):
    with deployed.new_uow() as uow:
        for speaker_name in ("Kim Lee", "Sam Held"):
            uow.session.add(
                SharingLogRecord(
                    direction="inbound",
                    decision="shared",
                    counterpart_org="North Uni",
                    speaker=speaker_name,
                    purpose="Event check",
                    decided_by="priya",
                    created_at=datetime(2026, 10, 1, tzinfo=UTC),
                    data_requested=[],
                    data_categories_shared=["dates"],
                    details={"requester": "J. Doe"},
                    transmitted=True,
                )
            )
        uow.commit()
    set_legal_hold(deployed, DPO, "sharing_log", 2, "Information Commissioner inquiry.")
    assert run_retention(deployed, date(2032, 10, 1)).redacted == ()
    assert run_retention(deployed, date(2032, 10, 2)).redacted == (("sharing_log", 1),)
    entries = services.sharing_log(deployed, DPO, "2026-08-01", "2027-07-31")
    assert [(e["speaker"], e["decision"]) for e in entries] == [(REDACTED, "shared"), ("Sam Held", "shared")]
    assert services.verify_audit(deployed).ok


def test_legal_holds_need_the_dpo_a_reason_and_a_known_record(two_events):
    engine, (first, _) = two_events
    with pytest.raises(PermissionDeniedError):
        set_legal_hold(engine, AUDITOR, "instance", first, "Pending claim here.")
    with pytest.raises(InvalidDataError) as caught:
        set_legal_hold(engine, DPO, "instance", first, " ")
    assert "reason" in caught.value.fields
    with pytest.raises(InvalidDataError) as caught:
        set_legal_hold(engine, DPO, "speaker", first, "Pending claim here.")
    assert "record_type" in caught.value.fields
    history = services.instance_history(engine, first, AUDITOR)
    assert "legal_hold_set" not in [e.type for e in history]  # nothing changed
