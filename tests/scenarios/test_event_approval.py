"""Process A (event_approval): SPEC §11 scenarios S01–S07 and every routing branch, via engine.services."""

from __future__ import annotations

from scenario_driver import (
    CLEAR,
    EVENTS,
    PREVENT,
    SECURITY,
    SENIOR,
    Driver,
    attach,
    event_data,
    instances_of,
    medium_risk_event,
    speaker,
)

from engine import services

ASSESSED = {"security_risk": "medium", "security_notes": "Stewards at both doors."}
PREVENT_ASSESSED = {"prevent_risk": "low", "prevent_notes": "No specific evidence of risk."}
REASONS = "The speaker's own recent statements incite violence; no chair, recording or stewarding can prevent that."


def assess(driver: Driver) -> None:
    assert driver.open() == ["assess_prevent", "assess_security"]
    driver.complete("assess_security", ASSESSED, SECURITY)
    driver.complete("assess_prevent", PREVENT_ASSESSED, PREVENT)


def outcome(driver: Driver) -> dict:
    view = driver.view()
    return {**view.outcome, "ofs_category": view.data.get("ofs_category")}


def test_s01_low_risk_seminar_is_approved_by_the_events_office(driver):
    driver.start(event_data(20, speakers=[speaker()]))
    assert driver.open() == ["due_diligence"]
    driver.check_speaker()
    data = driver.data
    assert (data["notice_working_days"], data["risk_score"], data["risk_level"]) == (20, 0, "LOW")
    assert (data["route"], data["notice_decision"], data["required_mitigations"]) == ("events_office", "proceed", [])
    assert data["speakers"][0]["new_speaker"] is True and len(data["speakers"]) == 1
    assert driver.open() == ["review_request"]
    driver.complete("review_request", {"decision": "approved"}, EVENTS)
    result = outcome(driver)
    assert (result["decision"], result["conditions"], result["late_accepted"]) == ("approved", [], False)
    assert (result["risk_level"], result["risk_score"], result["ofs_category"]) == ("LOW", 0, "approved")


def test_s02_high_risk_society_event_is_approved_with_non_prevent_conditions(driver):
    driver.start(
        event_data(
            18,
            organiser_type="student_society",
            audience="open_to_public",
            expected_attendance=300,
            topic_sensitivity="contested",
            protest_anticipated="possible",
            speakers=[speaker()],
        )
    )
    driver.check_speaker({"prior_cancellations": 2, "due_diligence_summary": "Two cancellations elsewhere."})
    data = driver.data
    assert (data["risk_score"], data["risk_level"], data["route"]) == (6, "HIGH", "senior_officer")
    required = ["M01", "M03", "M04", "M06", "M07", "M13", "M16"]
    assert data["required_mitigations"] == required
    assess(driver)
    task = services.get_task(driver.engine, driver.task("decide_high_risk").id, SENIOR)
    assert (task.candidate_groups, task.data["conditions"]) == (("senior_officer",), required)
    assert task.data["condition_reason_category"] == "non_prevent"
    driver.complete(
        "decide_high_risk",
        {
            "decision": "approved_with_conditions",
            "conditions_change_reason": "Proportionate to this event.",
            "conditions": required,
            "condition_reason_category": "non_prevent",
        },
        SENIOR,
    )
    result = outcome(driver)
    assert (result["decision"], result["conditions"]) == ("approved_with_conditions", required)
    assert (result["condition_reason_category"], result["ofs_category"]) == (
        "non_prevent",
        "approved_non_prevent_conditions",
    )
    assert driver.open() == ["accept_conditions"]


def test_s03_confirmed_proscribed_link_is_a_legal_refusal(driver):
    driver.start(event_data(20, expected_attendance=50, speakers=[speaker("Mr Proscribed")]))
    driver.check_speaker({"proscribed_check": "confirmed", "due_diligence_summary": "Professes membership."})
    assert (driver.data["risk_level"], driver.data["route"]) == ("REFUSE_LEGAL", "legal_refusal")
    assert driver.open() == ["confirm_legal_refusal"]
    driver.complete("confirm_legal_refusal", {"refusal_confirmed": True, "decision_reasons": REASONS}, SENIOR)
    result = outcome(driver)
    assert (result["decision"], result["rejection_reason_category"]) == ("rejected", "prevent_risk")
    assert (result["decision_reasons"], result["ofs_category"]) == (REASONS, "rejected_prevent")
    assert driver.open() == ["lodge_appeal"]


def test_s04_short_notice_low_risk_is_accepted_late_and_approved(driver):
    driver.start(event_data(6, title="Charity talk", event_type="lecture", expected_attendance=60))
    data = driver.data
    assert (data["notice_working_days"], data["risk_level"], data["late_accepted"]) == (6, "LOW", True)
    driver.complete("review_request", {"decision": "approved"}, EVENTS)
    result = outcome(driver)
    assert (result["decision"], result["late_accepted"], result["ofs_category"]) == ("approved", True, "approved")


def test_s05_medium_risk_with_three_days_notice_is_rejected_as_procedural(driver):
    driver.start(medium_risk_event(3))
    data = driver.data
    assert (data["risk_score"], data["risk_level"], data["notice_decision"]) == (4, "MEDIUM", "reject")
    assert driver.open() == ["confirm_procedural_rejection"]
    driver.complete("confirm_procedural_rejection", {"procedural_rejection_confirmed": True}, EVENTS)
    result = outcome(driver)
    assert (result["decision"], result["rejection_reason_category"]) == ("rejected", "procedural")
    assert "3 working days" in result["decision_reasons"]
    assert result["ofs_category"] == "rejected_other"


def rate_speaker(driver: Driver, rating: str) -> None:
    """Due diligence asks for external intelligence; the outbound query returns `rating`."""
    driver.complete(
        "due_diligence", {**CLEAR, "request_external_intel": True, "due_diligence_summary": "Ask partners."}, PREVENT
    )
    assert driver.open() == []
    assert services.run_worker_once(driver.engine).messages == 1
    (query_id,) = instances_of(driver.engine, "intel_query")
    query = attach(driver.engine, query_id)
    query.complete(
        "send_intel_query",
        {
            "query_recipient_org": "Partner University",
            "transfer_method": "secure_email",
            "identifiers_sent": ["full_name", "affiliation"],
            "art6_basis": "public_task",
        },
        PREVENT,
    )
    query.complete(
        "record_intel_response",
        {"external_intel": rating, "intel_source": "Partner Prevent team", "intel_expiry": "2027-09-01"},
        PREVENT,
    )
    assert query.view().status == "completed"
    assert services.run_worker_once(driver.engine).messages == 1
    assert driver.open() == ["record_speaker_declaration"]
    driver.declare()


def test_s06_amber_rating_gives_prevent_conditions_decided_by_the_prevent_lead(driver):
    driver.start(event_data(20, expected_attendance=80, topic_sensitivity="contested", speakers=[speaker()]))
    rate_speaker(driver, "amber")
    data = driver.data
    assert (data["external_intel"], data["risk_score"], data["risk_level"]) == ("amber", 4, "MEDIUM")
    assert data["required_mitigations"] == ["M01", "M02", "M09", "M11", "M13"]
    assess(driver)
    driver.complete(
        "decide_medium_risk",
        {
            "decision": "approved_with_conditions",
            "conditions_change_reason": "Proportionate to this event.",
            "conditions": data["required_mitigations"],
            "condition_reason_category": "prevent",
        },
        PREVENT,
    )
    result = outcome(driver)
    assert (result["decision"], result["condition_reason_category"]) == ("approved_with_conditions", "prevent")
    assert result["ofs_category"] == "approved_prevent_conditions"


def test_s07_red_rating_is_high_and_a_rejection_opens_the_appeal_window(driver):
    driver.start(event_data(20, expected_attendance=120, speakers=[speaker()]))
    rate_speaker(driver, "red")
    assert (driver.data["risk_level"], driver.data["route"]) == ("HIGH", "senior_officer")
    assess(driver)
    driver.complete(
        "decide_high_risk",
        {"decision": "rejected", "rejection_reason_category": "prevent_risk", "decision_reasons": REASONS},
        SENIOR,
    )
    result = outcome(driver)
    assert (result["decision"], result["rejection_reason_category"]) == ("rejected", "prevent_risk")
    assert (result["decision_reasons"], result["ofs_category"]) == (REASONS, "rejected_prevent")
    appeal = driver.task("lodge_appeal")
    assert (appeal.assignee, appeal.candidate_groups) == ("olivia", ("organiser",))
    assert driver.data["appeal_deadline_on"] == "2027-03-08"


def test_an_off_campus_external_event_is_out_of_scope(driver):
    driver.start(event_data(20, venue_mode="off_campus", organiser_type="external_hirer", uses_university_brand=False))
    view = driver.view()
    assert (view.status, view.outcome["decision"], view.open_tasks) == ("completed", "not_in_scope", ())


def test_an_off_campus_branded_event_is_in_scope_and_scores_the_venue(driver):
    driver.start(event_data(20, venue_mode="off_campus", organiser_type="external_hirer"))
    assert (driver.data["in_scope"], driver.data["risk_score"], driver.open()) == (True, 1, ["review_request"])


def test_the_senior_officer_may_accept_a_short_notice_request_then_the_band_route_follows(driver):
    driver.start(medium_risk_event(8))
    assert (driver.data["notice_decision"], driver.open()) == ("discretion", ["consider_late_request"])
    driver.complete("consider_late_request", {"late_request_decision": "accept"}, SENIOR)
    assess(driver)
    assert driver.open() == ["decide_medium_risk"]


def test_the_senior_officer_may_reject_a_short_notice_request_as_procedural(driver):
    driver.start(event_data(8, expected_attendance=150, topic_sensitivity="highly_contentious", media_expected=True))
    driver.complete(
        "consider_late_request",
        {"late_request_decision": "reject", "decision_reasons": "Too late to arrange stewarding."},
        SENIOR,
    )
    result = outcome(driver)
    assert (result["decision"], result["rejection_reason_category"]) == ("rejected", "procedural")
    assert driver.open() == ["lodge_appeal"]


def test_the_event_takes_the_worst_factor_of_each_speaker(driver):
    driver.start(event_data(20, speakers=[speaker("A"), speaker("B")]))
    assert driver.open() == ["due_diligence", "due_diligence"]
    driver.complete(
        "due_diligence",
        {
            **CLEAR,
            "prior_incidents": "minor",
            "prior_cancellations": 1,
            "due_diligence_summary": "Minor scuffle in 2025.",
        },
        SECURITY,
    )
    driver.complete(
        "due_diligence", {**CLEAR, "prior_cancellations": 3, "due_diligence_summary": "Cancelled."}, SECURITY
    )
    driver.declare()
    driver.declare()
    data = driver.data
    assert [s["full_name"] for s in data["speakers"]] == ["A", "B"]
    assert [s["prior_cancellations"] for s in data["speakers"]] == [1, 3]
    assert (data["prior_incidents"], data["prior_cancellations"], data["any_speaker_on_tour"]) == ("minor", 3, False)
    assert (data["risk_score"], data["risk_level"]) == (3, "MEDIUM")
    assert data["score_factor"] == ["baseline", "prior_incidents_minor", "several_cancellations"]
