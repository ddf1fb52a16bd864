"""Process B (external_speaker), called per speaker from event_approval: intelligence branches and the timeout."""

from __future__ import annotations

from datetime import timedelta

from scenario_driver import CLEAR, PREVENT, SECURITY, Driver, event_data, instances_of, speaker
from sqlalchemy import select

from engine import services
from engine.tables import MessageRecord


def test_no_flags_means_no_external_query(driver):
    driver.start(event_data(20, speakers=[speaker()]))
    driver.complete("due_diligence", CLEAR, SECURITY)
    assert driver.open() == ["record_speaker_declaration"]
    assert instances_of(driver.engine, "intel_query") == []


def test_a_suspected_link_queries_partners_and_a_timeout_leaves_the_rating_not_requested(driver: Driver, clock):
    driver.start(event_data(30, speakers=[speaker()]))
    driver.complete("due_diligence", {**CLEAR, "proscribed_check": "suspected",
                                      "due_diligence_summary": "Possible link, unconfirmed."}, PREVENT)
    assert services.run_worker_once(driver.engine).messages == 1
    with driver.engine.new_uow(readonly=True) as uow:
        (message,) = uow.session.execute(select(MessageRecord)).scalars()
        assert (message.name, message.status, message.source_instance_id) == ("intel_query", "delivered", 1)
        assert set(message.payload) == {"intel_query_ref", "speaker_name", "affiliation", "event_title", "event_date"}
    deadline = driver.data["intel_deadline_at"]
    clock.move_to(deadline)
    clock.tick(timedelta(minutes=1))
    assert services.run_worker_once(driver.engine).timers >= 1
    assert driver.open() == ["record_speaker_declaration"]
    driver.declare()
    data = driver.data
    assert (data["external_intel"], data["speakers"][0]["intel_timed_out"]) == ("not_requested", True)
    assert (data["proscribed_check"], data["risk_level"]) == ("suspected", "HIGH")
    history = services.instance_history(driver.engine, driver.instance_id, __import__("scenario_driver").AUDITOR)
    assert "intel_wait_expired" in [e.element_id for e in history]  # the timeout is logged


def test_an_on_tour_speaker_triggers_a_query(driver):
    driver.start(event_data(20, speakers=[speaker(on_tour=True)]))
    driver.complete("due_diligence", CLEAR, SECURITY)
    assert driver.open() == []
    services.run_worker_once(driver.engine)
    assert len(instances_of(driver.engine, "intel_query")) == 1


def test_due_diligence_summary_is_required_when_something_is_flagged(driver):
    driver.start(event_data(20, speakers=[speaker()]))
    task = driver.task("due_diligence")
    try:
        services.complete_task(driver.engine, task.id, {**CLEAR, "prior_incidents": "serious"}, SECURITY)
    except Exception as exc:  # noqa: BLE001 - the engine's InvalidTaskDataError
        assert list(exc.fields) == ["due_diligence_summary"]
    else:
        raise AssertionError("a flagged check without a summary was accepted")
    assert driver.open() == ["due_diligence"]
