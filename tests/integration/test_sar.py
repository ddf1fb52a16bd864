"""Subject access: everything held about a person, from requests, shares and audit payloads, in one export."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg  # noqa: F401 - load its C extension before freezegun swaps datetime classes
import pytest
from freezegun import freeze_time

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))
from scenario_driver import AUDITOR, DPO, TODAY, Driver, event_data, speaker  # noqa: E402

from engine import services  # noqa: E402
from engine.errors import InvalidDataError, PermissionDeniedError  # noqa: E402
from engine.services.subject_access import gather_subject_data  # noqa: E402
from engine.tables import SharingLogRecord  # noqa: E402


def test_a_speaker_is_found_in_requests_shares_and_the_audit(deployed):
    with freeze_time(TODAY):
        driver = Driver(deployed)
        driver.start(event_data(20, speakers=[speaker("Dr Ada Visitor")]))
        Driver(deployed).start(event_data(20, title="Unrelated"))
    with deployed.new_uow() as uow:
        uow.session.add(SharingLogRecord(direction="inbound", decision="declined", counterpart_org="North Uni",
                                         speaker="Dr Ada Visitor", decided_by="priya", data_requested=[],
                                         data_categories_shared=[], details={}, transmitted=False,
                                         created_at=datetime(2027, 3, 1, tzinfo=UTC)))
        uow.commit()
    export = gather_subject_data(deployed, DPO, "  ada   VISITOR ")
    assert [r["id"] for r in export["requests"]] == [driver.instance_id]
    assert export["requests"][0]["data"]["speakers"][0]["full_name"] == "Dr Ada Visitor"
    assert [s["speaker"] for s in export["sharing_log"]] == ["Dr Ada Visitor"]
    started = [e for e in export["audit_mentions"] if e["type"] == "instance_started"]
    assert started and "Ada Visitor" in json.dumps(started[0]["details"])  # found through the audit payload
    json.dumps(export, default=str)
    history = services.verify_audit(deployed)
    assert history.ok


def test_only_the_dpo_searches_and_the_subject_is_required(deployed):
    with pytest.raises(PermissionDeniedError):
        gather_subject_data(deployed, AUDITOR, "Ada Visitor")
    with pytest.raises(InvalidDataError) as caught:
        gather_subject_data(deployed, DPO, " a ")
    assert "subject" in caught.value.fields
