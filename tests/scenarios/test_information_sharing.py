"""Process C (information_sharing, and the outbound intel_query pool): S13, S14, separation and the log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scenario_driver import (
    DPO,
    EVENTS,
    ORGANISER,
    PREVENT,
    PREVENT_2,
    SENIOR,
    Driver,
    event_data,
    speaker,
)
from sqlalchemy import select

from engine import services
from engine.errors import PermissionDeniedError
from engine.tables import SharingLogRecord

REQUEST = {
    "requesting_org": "University of Northshire",
    "requester_name_role": "Jo Bloggs, Prevent lead",
    "requester_email": "j.bloggs@northshire.ac.uk",
    "channel": "email",
    "speaker": "Dr Returning",
    "speaker_affiliation": "University of Elsewhere",
    "event_ref": "NS-2027-14",
    "purpose": "Assessing a booking for the same speaker.",
    "data_requested": ["event_dates", "event_format", "conditions", "incidents"],
}
DPO_OK = {
    "art6_basis": "public_task",
    "special_category": "none",
    "necessity_justification": "Needed to assess the same speaker's event.",
    "minimisation_applied": True,
    "dsa_ref": "DSA-NORTH-2026",
}


def hold_past_event(engine, clock) -> None:
    """Dr Returning spoke here: approved with conditions, no incidents (written by the post-event report)."""
    event = Driver(engine)
    event.start(event_data(20, speakers=[speaker("Dr Returning")]))
    event.check_speaker()
    event.complete(
        "review_request",
        {
            "decision": "approved_with_conditions",
            "conditions_change_reason": "Proportionate to this event.",
            "conditions": ["M06", "M13"],
            "condition_reason_category": "non_prevent",
        },
        EVENTS,
    )
    event.complete("accept_conditions", {"conditions_response": "accept"}, ORGANISER)
    for moment in (event.data["pre_event_check_at"], event.data["end_at"]):
        clock.move_to(moment)
        clock.tick(timedelta(minutes=1))
        services.fire_due_timers(engine)
        if "confirm_conditions_in_place" in event.open():
            event.complete("confirm_conditions_in_place", {"conditions_in_place": "yes"}, EVENTS)
    event.complete(
        "file_post_event_report",
        {"actual_attendance": 80, "incidents": "none", "conditions_complied": "yes"},
        ORGANISER,
    )


def log_rows(engine) -> list[SharingLogRecord]:
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(SharingLogRecord).order_by(SharingLogRecord.id)).scalars())


def test_s13_a_verified_partner_gets_the_verifiable_facts_and_the_share_is_logged(driver, clock):
    hold_past_event(driver.engine, clock)
    driver.start(REQUEST, PREVENT, process="information_sharing")
    assert driver.open() == ["verify_requester"]
    driver.complete(
        "verify_requester",
        {
            "identity_verified": True,
            "verification_method": "dsa_contact",
            "verification_notes": "Named contact in our DSA.",
        },
        PREVENT,
    )
    assert "no incidents" in driver.data["speaker_facts_summary"]
    driver.complete("review_lawful_basis", DPO_OK, DPO)
    driver.complete(
        "decide_disclosure",
        {
            "disclosure_decision": "shared",
            "transfer_method": "secure_email",
            "data_categories_shared": ["event_dates", "event_format", "conditions", "incidents"],
        },
        SENIOR,
    )
    view = driver.view()
    assert view.status == "completed"
    (fact,) = view.data["disclosed_facts"]
    assert fact == {
        "event_date": view.data["speaker_facts"][0]["event_date"],
        "event_format": "on_campus",
        "conditions": ["M06", "M13"],
        "incidents": "no incidents",
    }
    (row,) = log_rows(driver.engine)
    assert (row.direction, row.decision, row.transmitted, row.counterpart_org) == (
        "inbound",
        "shared",
        True,
        "University of Northshire",
    )
    assert row.data_categories_shared == ["event_dates", "event_format", "conditions", "incidents"]
    assert (row.lawful_basis, row.transfer_method, row.recorded_by, row.decided_by) == (
        "public_task",
        "secure_email",
        "priya",
        "morgan",
    )
    assert row.details["dsa_ref"] == "DSA-NORTH-2026" and "attendee" not in str(row.details)
    shared_on = row.created_at.date()
    assert row.retention_until == shared_on.replace(year=shared_on.year + 6).isoformat()


def test_s14_an_unverified_webmail_request_is_declined_and_nothing_is_sent(driver):
    driver.start(
        {
            **REQUEST,
            "requester_email": "prevent.checks@gmail.com",
            "data_requested": ["event_dates", "decision", "attendee_list", "opinions", "other"],
        },
        PREVENT,
        process="information_sharing",
    )
    driver.complete(
        "verify_requester",
        {
            "identity_verified": False,
            "verification_method": "not_verified",
            "verification_notes": "Webmail address; no partner record.",
        },
        PREVENT,
    )
    view = driver.view()
    assert (view.status, view.data["disclosure_decision"], view.data["data_categories_shared"]) == (
        "completed",
        "declined",
        [],
    )
    (row,) = log_rows(driver.engine)
    assert (row.decision, row.transmitted, row.data_categories_shared, row.transfer_method) == (
        "declined",
        False,
        [],
        None,
    )
    assert "attendee_list" in row.data_requested and "verif" in row.reasons
    assert row.retention_until == "2033-03-01"


def test_the_person_who_recorded_the_request_may_not_decide_the_disclosure(driver):
    driver.start(REQUEST, PREVENT, process="information_sharing")
    driver.complete(
        "verify_requester",
        {"identity_verified": True, "verification_method": "known_partner", "verification_notes": "Known contact."},
        PREVENT_2,
    )
    driver.complete("review_lawful_basis", DPO_OK, DPO)
    task = driver.task("decide_disclosure")
    with pytest.raises(PermissionDeniedError):
        services.complete_task(
            driver.engine, task.id, {"disclosure_decision": "declined", "disclosure_reasons": "x"}, PREVENT
        )
    driver.complete(
        "decide_disclosure",
        {"disclosure_decision": "declined", "disclosure_reasons": "Not necessary for their purpose."},
        PREVENT_2,
    )
    (row,) = log_rows(driver.engine)
    assert (row.decision, row.transmitted, row.decided_by) == ("declined", False, "paul")


def test_a_partial_share_needs_reasons(driver):
    driver.start(REQUEST, PREVENT, process="information_sharing")
    driver.complete(
        "verify_requester",
        {"identity_verified": True, "verification_method": "known_partner", "verification_notes": "Known contact."},
        PREVENT,
    )
    driver.complete("review_lawful_basis", DPO_OK, DPO)
    task = driver.task("decide_disclosure")
    with pytest.raises(Exception) as refused:
        services.complete_task(
            driver.engine,
            task.id,
            {"disclosure_decision": "partial", "transfer_method": "letter", "data_categories_shared": ["event_dates"]},
            SENIOR,
        )
    assert "disclosure_reasons" in refused.value.fields
    assert driver.open() == ["decide_disclosure"] and log_rows(driver.engine) == []
