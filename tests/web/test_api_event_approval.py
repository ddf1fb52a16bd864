"""An event_approval request driven end to end through the JSON API only (SPEC §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from builders import event_request
from flask.testing import FlaskClient

API = "/api/v1"
APPROVE = {"decision": "approved"}
REJECT = {
    "decision": "rejected",
    "rejection_reason_category": "health_and_safety",
    "decision_reasons": "The venue holds 40 people and no larger room is free; moving the date was refused.",
}

# Off campus, not branded, funded or organised by staff or students: outside the policy (SPEC §3 step 1).
OUT_OF_SCOPE = {
    "venue_mode": "off_campus",
    "organiser_type": "external_hirer",
    "uses_university_brand": False,
    "university_funded": False,
}


@pytest.fixture
def users(auth) -> dict[str, dict[str, str]]:
    return {
        "olivia": auth("olivia", "organiser"),
        "evan": auth("evan", "events_office"),
        "eve": auth("eve", "events_office"),
        "audrey": auth("audrey", "auditor"),
    }


def start(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/processes/event_approval/instances",
        json={"data": event_request(**overrides)},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def review_task_id(instance: dict[str, Any]) -> str:
    (task,) = [t for t in instance["open_tasks"] if t["element_id"] == "review_request"]
    return task["id"]


def complete(client: FlaskClient, task_id: str, data: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(f"{API}/tasks/{task_id}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def has_offset(timestamp: str) -> bool:
    return datetime.fromisoformat(timestamp).utcoffset() is not None


def test_organiser_may_start_event_approval_and_events_office_may_not(client, users):
    as_organiser = client.get(f"{API}/processes", headers=users["olivia"])
    as_office = client.get(f"{API}/processes", headers=users["evan"])

    assert as_organiser.status_code == as_office.status_code == 200
    (organiser_view,) = [p for p in as_organiser.json if p["key"] == "event_approval"]
    (office_view,) = [p for p in as_office.json if p["key"] == "event_approval"]
    assert organiser_view["can_start"] is True
    assert office_view["can_start"] is False
    assert organiser_view["version"] == 1
    assert organiser_view["start_form"] == "event_request"
    assert organiser_view["name"] == "Event approval"


def test_start_form_is_served_as_camunda_forms_json(client, users):
    response = client.get(f"{API}/forms/event_request", headers=users["olivia"])

    assert response.status_code == 200
    assert response.json["id"] == "event_request"
    keys = {c.get("key") for c in response.json["components"]}
    assert {"title", "start_at", "end_at", "audience", "code_of_practice_ack"} <= keys


def test_starting_a_request_returns_201_with_location_and_the_running_instance(client, users):
    response = client.post(
        f"{API}/processes/event_approval/instances", json={"data": event_request()}, headers=users["olivia"]
    )

    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"{API}/instances/{body['id']}")
    assert body["process_key"] == "event_approval"
    assert body["process_version"] == 1
    assert body["status"] == "running"
    assert body["started_by"] == "olivia"
    assert has_offset(body["started_at"])
    assert body["ended_at"] is None
    assert body["data"]["title"] == "Research seminar: soil carbon"
    assert (body["outcome"]["risk_level"], body["outcome"]["risk_score"]) == ("LOW", 0)
    assert "decision" not in body["outcome"]
    (task,) = body["open_tasks"]
    assert (task["element_id"], task["candidate_groups"], task["assignee"]) == (
        "review_request",
        ["events_office"],
        None,
    )
    assert task["form_id"] == "review_decision"
    fetched = client.get(response.headers["Location"], headers=users["olivia"])
    assert fetched.status_code == 200
    assert (fetched.json["id"], fetched.json["status"]) == (body["id"], "running")


def test_review_task_is_offered_to_the_events_office_and_not_to_the_organiser(client, users):
    instance = start(client, users["olivia"])

    office = client.get(f"{API}/tasks?scope=groups", headers=users["evan"])
    organiser = client.get(f"{API}/tasks?scope=groups", headers=users["olivia"])

    assert office.status_code == organiser.status_code == 200
    assert [(t["id"], t["instance_id"], t["name"]) for t in office.json] == [
        (review_task_id(instance), instance["id"], "Review event request")
    ]
    assert organiser.json == []
    detail = client.get(f"{API}/tasks/{review_task_id(instance)}", headers=users["evan"])
    assert detail.status_code == 200
    assert detail.json["form"]["id"] == "review_decision"
    assert detail.json["data"]["title"] == "Research seminar: soil carbon"


def test_a_claimed_task_cannot_be_claimed_by_a_colleague_until_it_is_released(client, users):
    task_id = review_task_id(start(client, users["olivia"]))

    claimed = client.post(f"{API}/tasks/{task_id}/claim", headers=users["evan"])
    second = client.post(f"{API}/tasks/{task_id}/claim", headers=users["eve"])

    assert claimed.status_code == 200
    assert claimed.json["assignee"] == "evan"
    assert second.status_code == 409
    assert second.json["error"] == "conflict"
    assert [t["id"] for t in client.get(f"{API}/tasks?scope=mine", headers=users["evan"]).json] == [task_id]
    assert client.get(f"{API}/tasks?scope=groups", headers=users["eve"]).json == []

    released = client.post(f"{API}/tasks/{task_id}/unclaim", headers=users["evan"])

    assert released.status_code == 200
    assert released.json["assignee"] is None
    reclaimed = client.post(f"{API}/tasks/{task_id}/claim", headers=users["eve"])
    assert (reclaimed.status_code, reclaimed.json["assignee"]) == (200, "eve")


def test_approving_the_review_records_the_decision_and_waits_for_the_event(client, users):
    instance = start(client, users["olivia"])
    task_id = review_task_id(instance)
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=users["evan"]).status_code == 200

    body = complete(client, task_id, APPROVE, users["evan"])

    assert body["id"] == instance["id"]
    assert body["outcome"]["decision"] == "approved"
    assert (body["outcome"]["risk_level"], body["outcome"]["risk_score"]) == ("LOW", 0)
    assert body["status"] == "running"  # the post-event report is still to come
    assert body["open_tasks"] == []
    seen_by_organiser = client.get(f"{API}/instances/{instance['id']}", headers=users["olivia"]).json
    assert seen_by_organiser["outcome"]["decision"] == "approved"
    assert client.get(f"{API}/tasks?scope=all", headers=users["evan"]).json == []


def test_rejecting_the_review_records_the_category_and_reasons_and_offers_an_appeal(client, users):
    instance = start(client, users["olivia"])

    body = complete(client, review_task_id(instance), REJECT, users["evan"])

    assert body["outcome"]["decision"] == "rejected"
    assert body["outcome"]["rejection_reason_category"] == "health_and_safety"
    assert body["outcome"]["decision_reasons"] == REJECT["decision_reasons"]
    mine = client.get(f"{API}/tasks?scope=mine", headers=users["olivia"]).json
    assert [(t["instance_id"], t["element_id"]) for t in mine] == [(instance["id"], "lodge_appeal")]


def test_a_request_out_of_scope_completes_at_once_with_its_outcome(client, users):
    body = start(client, users["olivia"], **OUT_OF_SCOPE)

    assert body["status"] == "completed"
    assert has_offset(body["ended_at"])
    assert body["open_tasks"] == []
    assert body["outcome"]["decision"] == "not_in_scope"


def test_instances_can_be_filtered_by_process_status_and_decision(client, users):
    approved = start(client, users["olivia"], title="Approved one")
    rejected = start(client, users["olivia"], title="Rejected one")
    waiting = start(client, users["olivia"], title="Waiting for review")
    closed = start(client, users["olivia"], title="Off campus", **OUT_OF_SCOPE)
    complete(client, review_task_id(approved), APPROVE, users["evan"])
    complete(client, review_task_id(rejected), REJECT, users["evan"])

    def ids(query: str, who: str = "audrey") -> list[int]:
        response = client.get(f"{API}/instances{query}", headers=users[who])
        assert response.status_code == 200, response.json
        return sorted(i["id"] for i in response.json)

    everything = sorted(i["id"] for i in (approved, rejected, waiting, closed))
    assert ids("?process=event_approval") == everything
    assert ids("?process=event_approval&status=completed") == [closed["id"]]
    assert ids("?status=running") == sorted([approved["id"], rejected["id"], waiting["id"]])
    assert ids("?process=event_approval&status=running&decision=approved") == [approved["id"]]
    assert ids("?decision=rejected") == [rejected["id"]]
    assert ids("?decision=not_in_scope&status=completed") == [closed["id"]]
    assert ids("?decision=rejected", who="olivia") == [rejected["id"]]
    assert ids("?process=no_such_process") == []
    assert ids("?status=cancelled") == []
    listed = client.get(f"{API}/instances?decision=approved", headers=users["audrey"]).json
    assert listed[0]["summary"]["title"] == "Approved one"


def test_history_is_in_sequence_order_and_each_event_links_to_the_one_before(client, users):
    instance = start(client, users["olivia"])
    task_id = review_task_id(instance)
    client.post(f"{API}/tasks/{task_id}/claim", headers=users["evan"])
    complete(client, task_id, APPROVE, users["evan"])

    response = client.get(f"{API}/instances/{instance['id']}/history", headers=users["audrey"])

    assert response.status_code == 200
    events = response.json
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for before, after in zip(events, events[1:], strict=False):
        if after["seq"] == before["seq"] + 1:
            assert after["prev_hash"] == before["hash"]
    assert all(len(e["hash"]) == 64 and has_offset(e["at"]) for e in events)
    types = [e["type"] for e in events]
    assert types[0] == "instance_started"
    assert types.index("task_ready") < types.index("task_claimed") < types.index("task_completed")
    (done,) = [e for e in events if e["type"] == "task_completed"]
    assert (done["actor"], done["role"], done["element_id"]) == ("evan", "events_office", "review_request")
    assert done["details"]["data"]["decision"] == "approved"


def test_auditor_verifies_the_audit_chain_and_an_organiser_may_not(client, users):
    instance = start(client, users["olivia"])
    complete(client, review_task_id(instance), APPROVE, users["evan"])
    history = client.get(f"{API}/instances/{instance['id']}/history", headers=users["audrey"]).json

    verified = client.get(f"{API}/audit/verify", headers=users["audrey"])
    refused = client.get(f"{API}/audit/verify", headers=users["olivia"])

    assert verified.status_code == 200
    assert verified.json["ok"] is True
    assert verified.json["first_bad"] is None
    assert verified.json["events"] >= history[-1]["seq"]
    assert refused.status_code == 403
    assert refused.json["error"] == "forbidden"
