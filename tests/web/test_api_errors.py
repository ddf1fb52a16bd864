"""Every refusal of the JSON API has the SPEC §12 error shape, and a refused request changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from builders import AUDITOR, EVENTS_OFFICE, event_request

from engine import services
from engine.model import Actor

API = "/api/v1"
START = f"{API}/processes/event_approval/instances"
REJECTION = {"decision": "rejected", "rejection_reason_category": "other", "decision_reasons": "Double-booked."}


@pytest.fixture
def users(auth) -> dict[str, dict[str, str]]:
    return {
        "olivia": auth("olivia", "organiser"),
        "oscar": auth("oscar", "organiser"),
        "evan": auth("evan", "events_office"),
        "sam": auth("sam", "security"),
        "audrey": auth("audrey", "auditor"),
    }


@pytest.fixture
def running(client, users) -> dict[str, Any]:
    """Olivia's request, waiting for the events office's review."""
    response = client.post(START, json={"data": event_request()}, headers=users["olivia"])
    assert response.status_code == 201
    return response.json


@pytest.fixture
def snapshot(client, users, deployed):
    """`snapshot()` -> (instance ids, audit event count, open (task id, assignee)); compare before/after."""

    def take() -> tuple[list[int], int, list[tuple[str, str | None]]]:
        instances = sorted(i.id for i in services.list_instances(deployed, AUDITOR))
        verify = client.get(f"{API}/audit/verify", headers=users["audrey"])
        assert verify.status_code == 200 and verify.json["ok"] is True
        tasks = sorted((t.id, t.assignee) for t in services.list_tasks(deployed, EVENTS_OFFICE, "groups"))
        return instances, verify.json["events"], tasks

    return take


def assert_error(response, status: int, code: str | None = None) -> dict[str, list[str]]:
    """The body is exactly {"error", "message", "fields"}; returns the fields."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error", "message", "fields"}
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(isinstance(m, list) and m and all(isinstance(s, str) for s in m) for m in body["fields"].values())
    if code is not None:
        assert body["error"] == code
    return body["fields"]


def task_of(instance: dict[str, Any]) -> str:
    return instance["open_tasks"][0]["id"]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"a string"', "null", ""])
def test_a_body_that_is_not_a_json_object_is_400(client, users, running, snapshot, body):
    before = snapshot()

    on_start = client.post(START, data=body, content_type="application/json", headers=users["olivia"])
    on_complete = client.post(
        f"{API}/tasks/{task_of(running)}/complete",
        data=body,
        content_type="application/json",
        headers=users["evan"],
    )

    assert_error(on_start, 400, "malformed")
    assert_error(on_complete, 400, "malformed")
    assert snapshot() == before


@pytest.mark.parametrize("query", ["scope=everything", "limit=lots", "offset=-x"])
def test_a_malformed_query_parameter_is_400(client, users, query):
    assert_error(client.get(f"{API}/tasks?{query}", headers=users["evan"]), 400, "malformed")


@pytest.mark.parametrize(
    "body, field", [({"data": [1]}, "data"), ({}, "data"), ({"data": {}, "colour": "red"}, "colour")]
)
def test_a_json_object_without_a_data_mapping_is_422_naming_the_field(client, users, snapshot, body, field):
    before = snapshot()

    fields = assert_error(client.post(START, json=body, headers=users["olivia"]), 422, "invalid_data")

    assert set(fields) == {field}
    assert snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic b2xpdmlhOnB3"},
    ],
)
def test_a_missing_or_wrong_token_is_401(client, users, running, snapshot, headers):
    before = snapshot()

    responses = [
        client.get(f"{API}/processes", headers=headers),
        client.get(f"{API}/instances/{running['id']}", headers=headers),
        client.post(START, json={"data": event_request()}, headers=headers),
        client.post(f"{API}/tasks/{task_of(running)}/claim", headers=headers),
        client.post(
            f"{API}/tasks/{task_of(running)}/complete",
            json={"data": {"decision": "approved"}},
            headers=headers,
        ),
    ]

    for response in responses:
        assert_error(response, 401, "unauthenticated")
    assert snapshot() == before


def test_an_unauthenticated_request_is_401_even_when_its_body_is_malformed(client, running):
    assert_error(client.post(START, data="{not json", content_type="application/json"), 401, "unauthenticated")
    assert_error(
        client.post(f"{API}/tasks/{task_of(running)}/complete", data="[]", content_type="application/json"),
        401,
        "unauthenticated",
    )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_a_401_names_the_bearer_scheme_in_www_authenticate(client, headers):
    response = client.get(f"{API}/processes", headers=headers)

    assert_error(response, 401, "unauthenticated")
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_a_user_outside_the_candidate_group_may_not_claim_or_complete_the_task(client, users, running, snapshot):
    before = snapshot()
    task_id = task_of(running)

    claim = client.post(f"{API}/tasks/{task_id}/claim", headers=users["sam"])
    finish = client.post(
        f"{API}/tasks/{task_id}/complete", json={"data": {"decision": "approved"}}, headers=users["sam"]
    )
    by_requester = client.post(
        f"{API}/tasks/{task_id}/complete", json={"data": {"decision": "approved"}}, headers=users["olivia"]
    )

    for response in (claim, finish, by_requester):
        assert_error(response, 403, "forbidden")
    assert snapshot() == before
    assert snapshot()[2] == [(task_id, None)]


def test_an_organiser_may_not_read_another_organisers_request(client, users, running, snapshot):
    before = snapshot()

    instance = client.get(f"{API}/instances/{running['id']}", headers=users["oscar"])
    history = client.get(f"{API}/instances/{running['id']}/history", headers=users["oscar"])
    listed = client.get(f"{API}/instances", headers=users["oscar"])

    assert_error(instance, 403, "forbidden")
    assert_error(history, 403, "forbidden")
    assert listed.status_code == 200 and listed.json == []
    assert snapshot() == before


def test_an_organiser_may_not_open_or_take_another_organisers_task(client, users, running, deployed, snapshot):
    rejected = client.post(f"{API}/tasks/{task_of(running)}/complete", json={"data": REJECTION}, headers=users["evan"])
    (appeal,) = [t for t in rejected.json["open_tasks"] if t["assignee"] == "olivia"]
    before = snapshot()

    opened = client.get(f"{API}/tasks/{appeal['id']}", headers=users["oscar"])
    claimed = client.post(f"{API}/tasks/{appeal['id']}/claim", headers=users["oscar"])
    done = client.post(f"{API}/tasks/{appeal['id']}/complete", json={"data": {}}, headers=users["oscar"])

    assert_error(opened, 403, "forbidden")
    assert {claimed.status_code, done.status_code} <= {403, 409}
    assert snapshot() == before
    olivia = Actor("olivia", frozenset({"organiser"}))
    assert [(t.id, t.assignee) for t in services.list_tasks(deployed, olivia, "mine")] == [(appeal["id"], "olivia")]


def test_a_role_that_may_not_start_the_process_gets_403_and_no_instance(client, users, snapshot):
    before = snapshot()

    assert_error(client.post(START, json={"data": event_request()}, headers=users["evan"]), 403, "forbidden")
    assert snapshot() == before


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", f"{API}/processes/no_such_process/instances"),
        ("get", f"{API}/instances/987654"),
        ("get", f"{API}/instances/987654/history"),
        ("get", f"{API}/tasks/00000000-0000-0000-0000-000000000000"),
        ("post", f"{API}/tasks/00000000-0000-0000-0000-000000000000/claim"),
        ("post", f"{API}/tasks/00000000-0000-0000-0000-000000000000/complete"),
        ("get", f"{API}/forms/no_such_form"),
        ("get", f"{API}/no_such_endpoint"),
    ],
)
def test_an_unknown_process_instance_task_or_form_is_404(client, users, running, snapshot, method, path):
    before = snapshot()
    headers = users["olivia"] if "processes" in path else users["evan"]
    body = {"data": event_request()} if "processes" in path else {"data": {"decision": "approved"}}

    response = client.post(path, json=body, headers=headers) if method == "post" else client.get(path, headers=headers)

    assert_error(response, 404)
    assert snapshot() == before


def test_completing_a_task_that_was_already_completed_is_409(client, users, running, deployed, snapshot):
    task_id = task_of(running)
    first = client.post(
        f"{API}/tasks/{task_id}/complete", json={"data": {"decision": "approved"}}, headers=users["evan"]
    )
    assert first.status_code == 200
    before = snapshot()

    again = client.post(
        f"{API}/tasks/{task_id}/complete", json={"data": {"decision": "rejected"}}, headers=users["evan"]
    )

    assert_error(again, 409)
    assert snapshot() == before
    instance = services.get_instance(deployed, running["id"], AUDITOR)
    assert (instance.status, instance.outcome["decision"]) == (first.json["status"], "approved")
    history = services.instance_history(deployed, running["id"], AUDITOR)
    assert [e.details["task_id"] for e in history if e.type == "task_completed"] == [task_id]


def test_claiming_a_task_someone_else_holds_is_409_and_keeps_the_holder(client, users, auth, running, snapshot):
    colleague = auth("eve", "events_office")
    task_id = task_of(running)
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=users["evan"]).status_code == 200
    before = snapshot()

    claim = client.post(f"{API}/tasks/{task_id}/claim", headers=colleague)
    release = client.post(f"{API}/tasks/{task_id}/unclaim", headers=colleague)
    finish = client.post(f"{API}/tasks/{task_id}/complete", json={"data": {"decision": "approved"}}, headers=colleague)

    for response in (claim, release, finish):
        assert_error(response, 409, "conflict")
    assert snapshot() == before
    assert before[2] == [(task_id, "evan")]


def _end_before_start() -> dict[str, Any]:
    start = datetime.fromisoformat(event_request()["start_at"])
    return {"end_at": (start - timedelta(hours=1)).isoformat()}


def _without(name: str) -> dict[str, Any]:
    data = event_request()
    del data[name]
    return data


INVALID_STARTS = {
    "missing required field": (_without("title"), {"title"}),
    "unknown field": (event_request(favourite_colour="red"), {"favourite_colour"}),
    "wrong enum value": (event_request(audience="everyone"), {"audience"}),
    "end before start": (event_request(**_end_before_start()), {"end_at"}),
    "start in the past": (
        event_request(start_at="2020-01-01T10:00:00+00:00", end_at="2020-01-01T12:00:00+00:00"),
        {"start_at"},
    ),
    "code of practice not acknowledged": (
        event_request(code_of_practice_ack=False),
        {"code_of_practice_ack"},
    ),
    "attendance below one": (event_request(expected_attendance=0), {"expected_attendance"}),
    "bad email": (event_request(organiser_email="not-an-address"), {"organiser_email"}),
    "several at once": (
        {**_without("title"), "audience": "everyone", "favourite_colour": "red", **_end_before_start()},
        {"title", "audience", "favourite_colour", "end_at"},
    ),
}


@pytest.mark.parametrize("data, bad", INVALID_STARTS.values(), ids=INVALID_STARTS.keys())
def test_invalid_start_data_is_422_naming_each_bad_field(client, users, snapshot, data, bad):
    before = snapshot()

    fields = assert_error(client.post(START, json={"data": data}, headers=users["olivia"]), 422, "invalid_data")

    assert set(fields) == bad
    assert snapshot() == before


INVALID_REVIEWS = {
    "no decision": ({}, {"decision"}),
    "unknown decision": ({"decision": "maybe"}, {"decision"}),
    "unknown field": ({"decision": "approved", "mood": "good"}, {"mood"}),
    "rejection without category and reasons": (
        {"decision": "rejected"},
        {"rejection_reason_category", "decision_reasons"},
    ),
    "conditions without codes and category": (
        {"decision": "approved_with_conditions"},
        {"conditions", "condition_reason_category"},
    ),
    "unknown condition code": (
        {
            "decision": "approved_with_conditions", "conditions_change_reason": "Proportionate to this event.",
            "conditions": ["M99"],
            "condition_reason_category": "prevent",
        },
        {"conditions"},
    ),
    "reasons over 300 words": (
        {"decision": "rejected", "rejection_reason_category": "other", "decision_reasons": "word " * 301},
        {"decision_reasons"},
    ),
}


@pytest.mark.parametrize("data, bad", INVALID_REVIEWS.values(), ids=INVALID_REVIEWS.keys())
def test_invalid_task_data_is_422_and_the_task_stays_open(client, users, running, deployed, snapshot, data, bad):
    task_id = task_of(running)
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=users["evan"]).status_code == 200
    before = snapshot()

    response = client.post(f"{API}/tasks/{task_id}/complete", json={"data": data}, headers=users["evan"])

    assert set(assert_error(response, 422, "invalid_data")) == bad
    assert snapshot() == before
    assert before[2] == [(task_id, "evan")]
    assert services.get_instance(deployed, running["id"], AUDITOR).status == "running"
