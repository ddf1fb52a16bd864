"""`Idempotency-Key` on start and complete: a retry returns the first response and changes nothing."""

from __future__ import annotations

import pytest
from builders import AUDITOR, event_request

from engine import services

API = "/api/v1"
START = f"{API}/processes/event_approval/instances"
APPROVE = {"decision": "approved"}


@pytest.fixture
def users(auth) -> dict[str, dict[str, str]]:
    return {"olivia": auth("olivia", "organiser"), "oscar": auth("oscar", "organiser"),
            "evan": auth("evan", "events_office")}


def count(deployed) -> tuple[int, int]:
    """(instances, audit events)."""
    return len(services.list_instances(deployed, AUDITOR)), services.verify_audit(deployed).events


def test_a_retried_start_with_the_same_key_returns_the_first_instance_and_starts_nothing(client, users, deployed):
    headers = {**users["olivia"], "Idempotency-Key": "start-1"}
    first = client.post(START, json={"data": event_request()}, headers=headers)
    before = count(deployed)

    again = client.post(START, json={"data": event_request()}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert count(deployed) == before


def test_the_same_key_with_another_body_is_409_and_changes_nothing(client, users, deployed):
    headers = {**users["olivia"], "Idempotency-Key": "start-2"}
    client.post(START, json={"data": event_request()}, headers=headers)
    before = count(deployed)

    other = client.post(START, json={"data": event_request(title="Another event")}, headers=headers)

    assert other.status_code == 409 and other.json["error"] == "idempotency_key_reused"
    assert count(deployed) == before


def test_keys_belong_to_their_user_so_another_user_may_use_the_same_key(client, users, deployed):
    a = client.post(START, json={"data": event_request()}, headers={**users["olivia"], "Idempotency-Key": "k"})
    b = client.post(START, json={"data": event_request()}, headers={**users["oscar"], "Idempotency-Key": "k"})

    assert a.status_code == b.status_code == 201 and a.json["id"] != b.json["id"]


def test_a_retried_complete_returns_the_instance_instead_of_completing_twice(client, users, deployed):
    instance = client.post(START, json={"data": event_request()}, headers=users["olivia"]).json
    task = instance["open_tasks"][0]["id"]
    headers = {**users["evan"], "Idempotency-Key": "done-1"}
    first = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVE}, headers=headers)
    before = count(deployed)

    again = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVE}, headers=headers)
    without_key = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVE}, headers=users["evan"])

    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert without_key.status_code == 409  # the task is closed: no key, no replay
    assert count(deployed) == before


def test_a_failed_request_records_no_key_so_a_corrected_retry_with_it_succeeds(client, users, deployed):
    headers = {**users["olivia"], "Idempotency-Key": "fix-1"}
    bad = client.post(START, json={"data": event_request(title="")}, headers=headers)

    good = client.post(START, json={"data": event_request()}, headers=headers)

    assert bad.status_code == 422 and good.status_code == 201


def test_an_over_long_key_is_422_naming_the_header(client, users):
    response = client.post(START, json={"data": event_request()},
                           headers={**users["olivia"], "Idempotency-Key": "x" * 201})

    assert response.status_code == 422 and "Idempotency-Key" in response.json["fields"]


def test_the_key_is_written_in_the_same_unit_of_work_as_the_instance(deployed):
    from builders import ORGANISER
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER, idempotency_key="uow")

    again = services.start_instance(deployed, "event_approval", event_request(), ORGANISER, idempotency_key="uow")

    assert again.id == view.id
    assert len(services.list_instances(deployed, AUDITOR)) == 1
