"""prevent_concern (SPEC §13): every triage branch, referral, restricted access, receipt, and the W/T figures."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from scenario_driver import AUDITOR, DPO, EVENTS, ORGANISER, PREVENT, PREVENT_2, SECURITY, SENIOR, Driver
from sqlalchemy import select

from engine import services
from engine.awareness_counting import IDEOLOGY_CATEGORIES
from engine.errors import PermissionDeniedError
from engine.tables import ConcernMilestoneRecord, OutboxRecord

CONCERN = {"subject_name": "A. Student", "subject_relationship": "student",
           "observed": "Shared a leaflet of a proscribed group in the library.", "observed_on": "2027-02-26",
           "observed_where": "Main library"}
ADVICE = {"advice_received_on": "2027-03-01", "coordinator_name": "Regional coordinator",
          "advice_recommendation": "refer_to_channel", "external_advice": "Consider a Channel referral."}
OUTCOME = {"case_outcome": "support_provided", "outcome_notes": "Mentoring arranged.", "closed_on": "2027-03-01"}


def triage(outcome: str, category: str = "extreme_right_wing") -> dict:
    data = {"triage_outcome": outcome, "ideology_category": category, "triage_reasons": "Facts reviewed."}
    if outcome == "internal_support":
        data["support_plan"] = "Mentoring."
    return data


def raise_concern(driver: Driver, actor=ORGANISER) -> None:
    driver.start(CONCERN, actor, process="prevent_concern")


def milestones(engine) -> list[tuple[str, str]]:
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(ConcernMilestoneRecord).order_by(ConcernMilestoneRecord.id)).scalars()
        return [(r.stage, r.ideology_category) for r in rows]


def test_no_further_action_closes_the_case_and_counts_the_escalation(driver):
    raise_concern(driver)
    assert driver.open() == ["triage_concern"]
    driver.complete("triage_concern", triage("no_further_action"), PREVENT)
    view = driver.view()
    assert view.status == "completed" and view.data["case_outcome"] == "no_further_action"
    assert milestones(driver.engine) == [("escalated", "extreme_right_wing")]


def test_internal_support_records_an_outcome(driver):
    raise_concern(driver)
    driver.complete("triage_concern", triage("internal_support", "islamist"), PREVENT)
    assert driver.open() == ["record_outcome"]
    driver.complete("record_outcome", OUTCOME, PREVENT)
    assert driver.view().status == "completed"
    assert milestones(driver.engine) == [("escalated", "islamist")]


@pytest.mark.parametrize("decision, counted", [
    ("referred", [("escalated", "mixed_unclear_unstable"), ("advice_sought", "mixed_unclear_unstable"),
                  ("referred", "mixed_unclear_unstable")]),
    ("not_referred", [("escalated", "mixed_unclear_unstable"), ("advice_sought", "mixed_unclear_unstable")]),
])
def test_external_advice_then_referral_decision(driver, decision, counted):
    raise_concern(driver)
    driver.complete("triage_concern", triage("seek_external_advice", "mixed_unclear_unstable"), PREVENT)
    driver.complete("record_external_advice", ADVICE, PREVENT)
    referral = {"referral_decision": decision, "referral_reasons": "Per the coordinator's advice."}
    if decision == "referred":
        referral["referred_on"] = "2027-03-01"
    driver.complete("decide_referral", referral, PREVENT)
    driver.complete("record_outcome", {**OUTCOME, "case_outcome": "channel_adopted"}, PREVENT)
    assert driver.view().status == "completed"
    assert milestones(driver.engine) == counted


def test_only_prevent_lead_dpo_and_auditors_see_the_case_the_raiser_gets_a_receipt(driver):
    raise_concern(driver)
    for actor in (PREVENT, DPO, AUDITOR):
        assert services.get_instance(driver.engine, driver.instance_id, actor).data["subject_name"] == "A. Student"
    for actor in (ORGANISER, EVENTS, SECURITY, SENIOR):
        with pytest.raises(PermissionDeniedError):
            services.get_instance(driver.engine, driver.instance_id, actor)
        with pytest.raises(PermissionDeniedError):
            services.instance_history(driver.engine, driver.instance_id, actor)
    receipt = services.case_receipt(driver.engine, driver.instance_id, ORGANISER)
    assert (receipt.status, receipt.process_key) == ("running", "prevent_concern")
    with pytest.raises(PermissionDeniedError):
        services.case_receipt(driver.engine, driver.instance_id, EVENTS)
    views = [e for e in services.instance_history(driver.engine, driver.instance_id, AUDITOR)
             if e.type == "document_viewed"]
    assert {e.actor for e in views} >= {"priya", "dana", "audrey", "olivia"}
    with driver.engine.new_uow(readonly=True) as uow:
        bodies = uow.session.execute(select(OutboxRecord.body)).scalars().all()
    assert bodies and not any("A. Student" in b or "leaflet" in b for b in bodies)


def test_a_prevent_lead_who_raised_the_concern_cannot_triage_it(driver):
    raise_concern(driver, PREVENT)
    with pytest.raises(PermissionDeniedError):
        driver.complete("triage_concern", triage("no_further_action"), PREVENT)
    services.unclaim_task(driver.engine, driver.task("triage_concern").id, PREVENT)
    driver.complete("triage_concern", triage("no_further_action"), PREVENT_2)
    assert driver.view().status == "completed"


def test_untriaged_concern_reminds_the_prevent_lead(driver, clock):
    raise_concern(driver)
    clock.move_to(driver.data["triage_due_at"])
    clock.tick(timedelta(minutes=1))
    services.fire_due_timers(driver.engine)
    driver.round_trip()
    assert driver.open() == ["triage_concern"]
    with driver.engine.new_uow(readonly=True) as uow:
        subjects = uow.session.execute(select(OutboxRecord.subject).where(
            OutboxRecord.recipient == "role:prevent_lead")).scalars().all()
    assert any(s.startswith("Prevent concern awaiting triage") for s in subjects)


def test_figures_for_a_generated_year_equal_an_independent_count(driver, clock):
    rng = random.Random(2026)
    expected = {f"{w}_by_category": dict.fromkeys(IDEOLOGY_CATEGORIES, 0) for w in ("W1", "W2", "W3")}
    trained: dict[str, set[str]] = {"induction": set(), "refresher": set(), "broader_safeguarding": set()}
    days = [date(2026, 7, 30), date(2026, 8, 1), date(2027, 1, 15), date(2027, 7, 31), date(2027, 8, 1)]
    csv_lines = ["person,course,training_type,completed_on"]
    for _ in range(40):
        day = rng.choice(days[:-1])
        kind = rng.choice(list(trained))
        person = f"p{rng.randrange(15)}"
        csv_lines.append(f"{person},wrap_workshop,{kind},{day.isoformat()}")
        if date(2026, 8, 1) <= day <= date(2027, 7, 31):
            trained[kind].add(person)
    clock.move_to(datetime(2027, 8, 2, 9, tzinfo=UTC))
    assert services.import_training_records(driver.engine, "\n".join(csv_lines), PREVENT) == 40
    for _ in range(12):
        day = rng.choice(days)
        clock.move_to(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10))
        category, outcome = rng.choice(IDEOLOGY_CATEGORIES), rng.choice(
            ["no_further_action", "internal_support", "seek_external_advice"])
        case = Driver(driver.engine)
        raise_concern(case)
        case.complete("triage_concern", triage(outcome, category), PREVENT)
        in_year = date(2026, 8, 1) <= day <= date(2027, 7, 31)
        expected["W1_by_category"][category] += in_year
        if outcome == "seek_external_advice":
            expected["W2_by_category"][category] += in_year
            case.complete("record_external_advice", {**ADVICE, "advice_received_on": day.isoformat()}, PREVENT)
            refer = rng.random() < 0.6
            case.complete("decide_referral", {"referral_decision": "referred" if refer else "not_referred",
                                              "referral_reasons": "As advised.",
                                              **({"referred_on": day.isoformat()} if refer else {})}, PREVENT)
            expected["W3_by_category"][category] += in_year and refer
    figures = services.awareness_figures(driver.engine, 2026)
    assert figures["academic_year"] == "2026/27"
    assert (figures["T1"], figures["T2"], figures["T3"]) == (
        len(trained["induction"]), len(trained["refresher"]), len(trained["broader_safeguarding"]))
    for w in ("W1", "W2", "W3"):
        assert figures[f"{w}_by_category"] == expected[f"{w}_by_category"]
        assert figures[w] == sum(expected[f"{w}_by_category"].values())
    assert figures["W1"] > 0 and figures["T1"] + figures["T2"] + figures["T3"] > 0
