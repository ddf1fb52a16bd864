"""SPEC §11 S15: a year of event decisions gives the OfS counts from the instances' counting fields."""

from __future__ import annotations

from scenario_driver import APPEAL, EVENTS, NON_PREVENT_CONDITIONS, ORGANISER, Driver, event_data
from sqlalchemy import select

from engine.ofs_counting import count_event_decisions
from engine.tables import InstanceRecord

APPROVED = {"decision": "approved"}
PREVENT = {
    "decision": "approved_with_conditions",
    "conditions_change_reason": "Proportionate to this event.",
    "conditions": ["M01", "M11"],
    "condition_reason_category": "prevent",
}
PROCEDURAL = {"decision": "rejected", "rejection_reason_category": "procedural", "decision_reasons": "Too late."}
PREVENT_RISK = {
    "decision": "rejected",
    "rejection_reason_category": "prevent_risk",
    "decision_reasons": "Unlawful speech expected.",
}


def decide(engine, decision: dict) -> Driver:
    driver = Driver(engine)
    driver.start(event_data(20))
    driver.complete("review_request", decision, EVENTS)
    return driver


def summaries(engine) -> list[dict]:
    with engine.new_uow(readonly=True) as uow:
        return [
            dict(s)
            for s in uow.session.execute(
                select(InstanceRecord.summary).where(InstanceRecord.process_key == "event_approval")
            ).scalars()
        ]


def test_s15_a_year_of_decisions_is_counted_once_each_by_final_outcome(driver):
    engine = driver.engine
    decisions = ((APPROVED, 10), (NON_PREVENT_CONDITIONS, 4), (PREVENT, 1), (PROCEDURAL, 1), (PREVENT_RISK, 1))
    for decision, times in decisions:
        for _ in range(times):
            decide(engine, decision)
    decide(engine, NON_PREVENT_CONDITIONS).complete("accept_conditions", {"conditions_response": "withdraw"}, ORGANISER)
    counts = count_event_decisions(summaries(engine), 2026)
    assert {k: counts[k] for k in ("E1", "E2a", "E2b", "E3a", "E3b", "withdrawn")} == {
        "E1": 15,
        "E2a": 1,
        "E2b": 4,
        "E3a": 1,
        "E3b": 1,
        "withdrawn": 1,
    }
    assert counts["E3b_by_category"] == {"health_and_safety": 0, "procedural": 1, "other": 0}
    assert counts["E3b_reasons"] == [{"category": "procedural", "reasons": "Too late."}]
    assert count_event_decisions(summaries(engine), 2025)["E1"] == 0


def test_a_rejection_overturned_on_appeal_counts_once_as_its_final_outcome(driver):
    rejected = decide(driver.engine, PROCEDURAL)
    assert count_event_decisions(summaries(driver.engine), 2026)["E3b"] == 1  # window open: counts as rejected
    rejected.complete("lodge_appeal", {"appeal_grounds": "We can move the date."}, ORGANISER)
    rejected.complete("decide_appeal", {"appeal_outcome": "overturn", "appeal_reasons": "Date moved."}, APPEAL)
    counts = count_event_decisions(summaries(driver.engine), 2026)
    assert (counts["E1"], counts["E3b"]) == (1, 0)
