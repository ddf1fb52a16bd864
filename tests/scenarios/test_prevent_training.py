"""prevent_training (SPEC §13): assignment, completion, overdue reminder, refresher timer, register, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scenario_driver import AUDITOR, ORGANISER, PREVENT, TODAY, Driver
from sqlalchemy import select

from engine import services
from engine.errors import ConflictError, InvalidDataError, PermissionDeniedError
from engine.model import Actor
from engine.tables import OutboxRecord

ASSIGNER = Actor("ada", frozenset({"admin"}))
TRAINEE = Actor("tom", frozenset({"security"}))
MANAGER = Actor("mia", frozenset({"security"}))


def assignment(**overrides) -> dict:
    data = {"trainee": "tom", "trainee_name": "Tom Guard", "department": "Security", "staff_role": "security",
            "manager": "mia", "course": "prevent_awareness_elearning", "training_type": "induction",
            "complete_by": (TODAY.date() + timedelta(days=14)).isoformat()}
    data.update(overrides)
    return data


def complete_own(driver: Driver, element_id: str, data: dict, actor: Actor) -> None:
    """The trainee's task is assigned to them by name: they complete it without claiming."""
    services.complete_task(driver.engine, driver.task(element_id).id, data, actor)
    driver.round_trip()


def fire(driver: Driver, clock, moment) -> None:
    clock.move_to(moment)
    clock.tick(timedelta(minutes=1))
    services.fire_due_timers(driver.engine)
    driver.round_trip()


def notices(engine, recipient: str) -> list[str]:
    with engine.new_uow(readonly=True) as uow:
        return list(uow.session.execute(select(OutboxRecord.subject).where(OutboxRecord.recipient == recipient)
                                        .order_by(OutboxRecord.id)).scalars())


def register(engine, **filters):
    return services.training_register(engine, AUDITOR, **filters)


def test_completion_schedules_a_refresher_that_reminds_trainee_and_manager(driver, clock):
    driver.start(assignment(), ASSIGNER, process="prevent_training")
    task = driver.task("complete_training")
    assert task.assignee == "tom" and driver.open() == ["complete_training"]
    assert notices(driver.engine, "tom") == ["Training assigned: Prevent awareness e-learning"]
    assert [(r.person, r.status) for r in register(driver.engine)] == [("tom", "assigned")]

    complete_own(driver, "complete_training", {"completed_on": "2027-03-01", "certificate_ref": "CERT-1",
                                               "completion_confirmed": True}, TRAINEE)
    data = driver.data
    assert data["refresher_years"] == 3 and data["refresher_due_on"] == "2030-03-01"
    assert driver.view().status == "running" and driver.open() == []
    row = register(driver.engine)[0]
    assert (row.status, row.completed_on, row.refresher_due_on, row.certificate_ref) == \
        ("current", "2027-03-01", "2030-03-01", "CERT-1")

    fire(driver, clock, data["refresher_due_at"])
    assert driver.view().status == "completed"
    assert notices(driver.engine, "tom")[-1] == notices(driver.engine, "mia")[-1] == \
        "Refresher due: Prevent awareness e-learning"
    assert notices(driver.engine, "role:admin") == ["Refresher due: Prevent awareness e-learning"]
    assert register(driver.engine)[0].status == "refresher_overdue"
    history = [e.type for e in services.instance_history(driver.engine, driver.instance_id, AUDITOR)]
    assert "timer_fired" in history and "instance_completed" in history


def test_overdue_training_reminds_and_shows_on_the_register_until_completed(driver, clock):
    driver.start(assignment(manager=""), ASSIGNER, process="prevent_training")
    fire(driver, clock, driver.data["complete_by_at"])
    assert driver.open() == ["complete_training"]
    assert notices(driver.engine, "tom")[-1] == "Training overdue: Prevent awareness e-learning"
    assert register(driver.engine, status="overdue")[0].person == "tom"
    complete_own(driver, "complete_training", {"completed_on": clock.time_to_freeze.date().isoformat(),
                                               "completion_confirmed": True}, TRAINEE)
    assert register(driver.engine)[0].status == "current"
    assert register(driver.engine, status="overdue") == []


def test_refresher_period_comes_from_the_decision_table(driver, clock):
    driver.start(assignment(course="other", course_other="Local briefing", training_type="refresher"), PREVENT,
                 process="prevent_training")
    complete_own(driver, "complete_training", {"completed_on": "2027-02-28", "completion_confirmed": True}, TRAINEE)
    assert driver.data["refresher_due_on"] == "2030-02-28"
    assert register(driver.engine, department="Security", staff_role="security")[0].training_type == "refresher"
    assert register(driver.engine, department="Estates") == []


def test_only_the_trainee_completes_and_the_people_named_see_the_case(driver):
    driver.start(assignment(), ASSIGNER, process="prevent_training")
    task_id = driver.task("complete_training").id
    with pytest.raises((ConflictError, PermissionDeniedError)):
        services.complete_task(driver.engine, task_id, {"completed_on": "2027-03-01", "completion_confirmed": True},
                               MANAGER)
    assert services.get_instance(driver.engine, driver.instance_id, MANAGER).id == driver.instance_id
    assert services.get_task(driver.engine, task_id, TRAINEE).assignee == "tom"
    with pytest.raises(PermissionDeniedError):
        services.get_instance(driver.engine, driver.instance_id, ORGANISER)
    assert [t.id for t in services.list_tasks(driver.engine, TRAINEE, "mine")] == [task_id]


def test_bad_assignments_are_refused_naming_the_field(driver):
    with pytest.raises(InvalidDataError) as refused:
        services.start_instance(driver.engine, "prevent_training", assignment(course="other"), ASSIGNER)
    assert "course_other" in refused.value.fields
    with pytest.raises(InvalidDataError) as refused:
        services.start_instance(driver.engine, "prevent_training", assignment(course="knitting"), ASSIGNER)
    assert "course" in refused.value.fields
    with pytest.raises(PermissionDeniedError):
        services.start_instance(driver.engine, "prevent_training", assignment(), ORGANISER)
    with pytest.raises(PermissionDeniedError):
        services.training_register(driver.engine, ORGANISER)
