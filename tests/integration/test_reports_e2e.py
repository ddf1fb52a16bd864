"""The OfS return over requests driven end to end through the real event_approval process."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg  # noqa: F401 - load its C extension before freezegun swaps datetime classes
import pytest
from freezegun import freeze_time

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))
from scenario_driver import APPEAL, AUDITOR, EVENTS, ORGANISER, TODAY, Driver, event_data  # noqa: E402

from engine import services  # noqa: E402

PROCEDURAL = {"decision": "rejected", "rejection_reason_category": "procedural", "decision_reasons": "Too late."}
NON_PREVENT = {
    "decision": "approved_with_conditions",
    "conditions_change_reason": "Proportionate to this event.",
    "conditions": ["M06"],
    "condition_reason_category": "non_prevent",
}


@pytest.fixture
def driven(deployed):
    with freeze_time(TODAY):
        yield deployed


def _decide(engine, decision: dict) -> Driver:
    driver = Driver(engine)
    driver.start(event_data(20))
    driver.complete("review_request", decision, EVENTS)
    return driver


def test_real_processes_give_the_expected_return(driven):
    _decide(driven, {"decision": "approved"})
    _decide(driven, NON_PREVENT)
    _decide(driven, PROCEDURAL)
    overturned = _decide(driven, PROCEDURAL)
    overturned.complete("lodge_appeal", {"appeal_grounds": "We can move the date."}, ORGANISER)
    overturned.complete("decide_appeal", {"appeal_outcome": "overturn", "appeal_reasons": "Date moved."}, APPEAL)
    _decide(driven, NON_PREVENT).complete("accept_conditions", {"conditions_response": "withdraw"}, ORGANISER)
    Driver(driven).start(
        event_data(
            20,
            venue_mode="off_campus",
            organiser_type="external_hirer",
            uses_university_brand=False,
            university_funded=False,
        )
    )
    report = services.ofs_report(driven, AUDITOR, 2026)
    assert report["figures"] == {"E1": 3, "E2a": 0, "E2b": 1, "E3a": 0, "E3b": 1}
    assert report["E3b_by_category"]["procedural"] == 1
    assert report["drilldown"]["E1"] == [1, 2, 4]
    assert report["withdrawn_internal"] == 1
    assert report["median_decision_working_days"] == 0  # all decided the day they were submitted
    assert report["decisions_timed"] == 5
    assert services.ofs_report(driven, AUDITOR, 2025)["figures"]["E1"] == 0
