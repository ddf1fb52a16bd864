"""Expressions written the Camunda Modeler way: bare ISO-8601 timers, `${…}` conditions, due dates, priorities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from mini_project import ADMIN, AUDITOR, MINI, REQUESTER, REVIEWER, START

from engine import services
from engine.catalog import load_catalog


def _types(engine, instance_id: int) -> list[str]:
    return [e.type for e in services.instance_history(engine, instance_id, AUDITOR)]


def test_decision_due_date_and_priority_come_from_the_diagram(mini):
    with freeze_time(START):
        view = services.start_instance(mini, "leave_request", {"days": 3}, REQUESTER)
    staff = services.get_instance(mini, view.id, REVIEWER)  # the requester does not see the working data
    assert staff.data["band"] == "long" and staff.data["days_score"] == 6
    [task] = view.open_tasks
    assert task.priority == 70 and set(task.candidate_groups) == {"events_office", "security"}
    # 3 working days after Monday 7 January 2030, end of that day in London
    assert task.due_at == datetime(2030, 1, 10, 23, 59, 59, tzinfo=UTC)


def test_iso_cycle_timer_fires_once_per_cycle_and_never_twice(mini):
    with freeze_time(START) as clock:
        view = services.start_instance(mini, "leave_request", {"days": 1}, REQUESTER)
        assert services.fire_due_timers(mini) == 0
        clock.tick(timedelta(minutes=61))
        assert services.fire_due_timers(mini) == 1
        assert services.fire_due_timers(mini) == 0  # already fired: a second worker pass does nothing
        clock.tick(timedelta(minutes=61))
        assert services.fire_due_timers(mini) == 1
        clock.tick(timedelta(hours=5))
        assert services.fire_due_timers(mini) == 0  # R2: only two cycles
    assert _types(mini, view.id).count("timer_fired") == 2
    assert services.get_instance(mini, view.id, REVIEWER).status == "running"


def test_el_condition_and_duration_timer_complete_the_instance(mini):
    with freeze_time(START) as clock:
        view = services.start_instance(mini, "leave_request", {"days": 1}, REQUESTER)
        [task] = view.open_tasks
        after = services.complete_task(mini, task.id, {"approved": True}, REVIEWER)
        assert after.status == "running" and after.open_tasks == ()  # waiting on PT5M
        clock.tick(timedelta(minutes=6))
        assert services.fire_due_timers(mini) == 1
    final = services.get_instance(mini, view.id, REVIEWER)
    assert final.status == "completed"
    gateway = [e for e in services.instance_history(mini, view.id, AUDITOR) if e.type == "gateway_taken"]
    assert gateway[0].details["to"] == ["wait"]


def test_default_flow_is_taken_when_the_condition_is_false(mini):
    view = services.start_instance(mini, "leave_request", {"days": 1}, REQUESTER)
    [task] = view.open_tasks
    assert services.complete_task(mini, task.id, {"approved": False}, REVIEWER).status == "completed"
    assert "timer_fired" not in _types(mini, view.id)


def test_running_instance_keeps_its_pinned_version_after_a_redeploy(mini, tmp_path):
    import shutil

    view = services.start_instance(mini, "leave_request", {"days": 1}, REQUESTER)
    shutil.copytree(MINI, tmp_path / "mini")
    dmn = tmp_path / "mini" / "processes" / "leave_band.dmn"
    dmn.write_text(dmn.read_text().replace('"short"', '"brief"'))
    result = services.deploy(mini, load_catalog(tmp_path / "mini" / "processes", tmp_path / "mini" / "forms",
                                                mini.settings.roles), ADMIN)
    assert result.deployed == (("leave_request", 2),)
    new = services.start_instance(mini, "leave_request", {"days": 1}, REQUESTER)
    new = services.get_instance(mini, new.id, REVIEWER)
    assert (new.process_version, new.data["band"]) == (2, "brief")
    old = services.get_instance(mini, view.id, REVIEWER)
    assert (old.process_version, old.data["band"]) == (1, "short")
    [task] = old.open_tasks
    assert services.complete_task(mini, task.id, {"approved": False}, REVIEWER).process_version == 1
