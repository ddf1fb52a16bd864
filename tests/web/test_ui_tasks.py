"""Inbox, task pages, my requests and the instance page through the Flask test client."""

from __future__ import annotations

import pytest
from builders import ORGANISER, event_request
from flask import Flask
from ui_support import login, make_app, post_form, text

from engine import services
from engine.bootstrap import WorkflowEngine
from engine.model import Actor, TaskView

EVAN = Actor("evan", frozenset({"events_office"}))
DECISION = {
    "decision": "approved_with_conditions", "conditions_change_reason": "Proportionate to this event.",
    "conditions": ["M01", "M13"],
    "condition_reason_category": "non_prevent",
}


@pytest.fixture
def app(deployed: WorkflowEngine) -> Flask:
    """The app with the demo users; conftest's `client` uses it."""
    return make_app(deployed)


@pytest.fixture
def decision(deployed: WorkflowEngine, app: Flask) -> TaskView:
    """Olivia's low-risk request (no speakers), waiting for the events office's decision."""
    services.start_instance(deployed, "event_approval", event_request(venue="Room <2.14>"), ORGANISER)
    return services.list_tasks(deployed, EVAN, "groups")[0]


@pytest.fixture
def review(decision: TaskView) -> str:
    return decision.id


def test_the_inbox_lists_group_tasks_and_claiming_moves_them_to_mine(client, review):
    login(client, "evan")
    page = text(client.get("/tasks"))
    assert "Nothing is assigned to you." in page
    assert "Research seminar: soil carbon" in page and f"/tasks/{review}/claim" in page
    response = post_form(client, "/tasks", {}, action=f"/tasks/{review}/claim")
    assert response.headers["Location"] == f"/tasks/{review}"
    page = text(client.get("/tasks"))
    assert "Your groups have no unclaimed tasks." in page and f"/tasks/{review}/unclaim" in page
    post_form(client, "/tasks", {}, action=f"/tasks/{review}/unclaim")
    assert "Nothing is assigned to you." in text(client.get("/tasks"))


def test_the_inbox_filters_by_process(client, review):
    login(client, "evan")
    assert "Research seminar" not in text(client.get("/tasks?process=no_such_process"))
    assert "Research seminar" in text(client.get("/tasks?process=event_approval"))


def test_the_task_page_shows_what_was_requested_and_the_risk(client, review):
    login(client, "evan")
    page = text(client.get(f"/tasks/{review}"))
    assert "Room &lt;2.14&gt;" in page and "Research seminar: soil carbon" in page
    assert "Risk level" in page and "Claim this task" in page
    assert '<legend class="legend">Decision</legend>' in page


def test_a_user_without_the_role_gets_the_403_page(client, review):
    login(client, "sam")
    response = client.get(f"/tasks/{review}")
    assert response.status_code == 403
    assert "You cannot open this page" in text(response) and "Research seminar" not in text(response)


def test_a_decision_with_missing_answers_is_shown_again_with_errors(client, review):
    login(client, "evan")
    response = post_form(client, f"/tasks/{review}", {"decision": "rejected", "conditions": ["M01"]})
    page = text(response)
    assert response.status_code == 422
    assert '<a href="#f-decision_reasons">Reasons – This field is required.</a>' in page
    assert 'id="f-decision-2" name="decision" type="radio" value="rejected" checked' in page
    assert 'value="M01" checked' in page


def test_a_decision_completes_the_task_and_the_organiser_sees_the_outcome(client, review, app):
    login(client, "evan")
    response = post_form(client, f"/tasks/{review}", DECISION)
    assert response.headers["Location"] == "/tasks"
    organiser = app.test_client()
    login(organiser, "olivia")
    page = text(organiser.get("/requests"))
    assert "Approved with conditions" in page and "M01, M13" in page and "Not Prevent-related" in page
    assert "For you to do:" in page  # whatever the process asks of the organiser next, linked


def test_my_requests_say_who_acts_next(client, decision):
    login(client, "olivia")
    page = text(client.get("/requests"))
    assert f"{decision.name}: waiting for the events office" in page and "In progress" in page


def test_the_instance_page_shows_the_marked_diagram_legend_and_timeline(client, decision):
    login(client, "olivia")
    page = text(client.get(f"/instances/{decision.instance_id}"))
    assert f'data-element-id="{decision.element_id}"><title>{decision.name} (active now)</title>' in page
    assert 'class="el el-completed" data-element-id="request_submitted"' in page
    assert "Not taken: grey, dotted outline, hatched, cross" in page
    assert "Instance started" in page and "Task ready" in page


def test_the_diagram_is_served_as_svg_by_the_api(client, decision, deployed):
    token = services.issue_token(deployed, "olivia")
    instance_id = decision.instance_id
    response = client.get(f"/api/v1/instances/{instance_id}/diagram.svg", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert text(response).startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert client.get(f"/api/v1/instances/{instance_id}/diagram.svg").status_code == 401
