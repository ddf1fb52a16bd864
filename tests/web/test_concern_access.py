"""Prevent concerns (restrictedTo): organisers, events office, security and senior officers see no case details,
through the API or the pages; the raiser gets a receipt; the register and its CSV import on the web."""

from __future__ import annotations

import io

import pytest
from ui_support import login, make_app, text

from engine import services

CONCERN = {"subject_name": "B. Visitor", "subject_relationship": "visitor",
           "observed": "Handed out leaflets of a proscribed group.", "observed_on": "2027-02-26"}
OUTSIDERS = (("evan", "events_office"), ("sam", "security"), ("morgan", "senior_officer"))
READERS = (("priya", "prevent_lead"), ("dana", "dpo"), ("audrey", "auditor"))


@pytest.fixture
def concern(client, auth) -> int:
    response = client.post("/api/v1/processes/prevent_concern/instances", json={"data": CONCERN},
                           headers=auth("olivia", "organiser"))
    assert response.status_code == 201
    return response.get_json()["id"]


def test_api_shows_the_case_only_to_the_prevent_lead_dpo_and_auditors(client, auth, concern):
    for name, role in (("olivia", "organiser"), *OUTSIDERS):
        headers = auth(name, role)
        for path in (f"/api/v1/instances/{concern}", f"/api/v1/instances/{concern}/history",
                     f"/api/v1/instances/{concern}/diagram.svg"):
            response = client.get(path, headers=headers)
            assert response.status_code == 403, (name, path)
            assert b"B. Visitor" not in response.data
        tasks = client.get("/api/v1/tasks?scope=all", headers=headers).get_json()
        assert all(t["instance_id"] != concern for t in (tasks if isinstance(tasks, list) else tasks["tasks"]))
    for name, role in READERS:
        response = client.get(f"/api/v1/instances/{concern}", headers=auth(name, role))
        assert response.status_code == 200 and response.get_json()["data"]["subject_name"] == "B. Visitor"


def test_the_raiser_sees_a_receipt_with_the_status_only(client, auth, concern):
    response = client.get(f"/api/v1/concerns/{concern}/receipt", headers=auth("olivia", "organiser"))
    assert response.status_code == 200
    assert set(response.get_json()) == {"id", "process_key", "status", "received_at", "ended_at"}
    assert client.get(f"/api/v1/concerns/{concern}/receipt", headers=auth("evan", "events_office")).status_code == 403


def test_pages_refuse_outsiders_and_send_the_raiser_to_the_receipt(deployed):
    app = make_app(deployed)
    services.add_user(deployed, "morgan", ["senior_officer"], password="pw-morgan")
    services.add_user(deployed, "priya", ["prevent_lead"], password="pw-priya")
    client = app.test_client()
    login(client, "olivia")
    concern = services.list_my_requests(deployed, services.get_actor(deployed, "olivia"))
    assert concern == []
    view = services.start_instance(deployed, "prevent_concern", CONCERN, services.get_actor(deployed, "olivia"))
    page = client.get(f"/instances/{view.id}")
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/concerns/{view.id}/receipt")
    receipt = client.get(f"/concerns/{view.id}/receipt")
    assert receipt.status_code == 200 and "Concern received" in text(receipt) and "B. Visitor" not in text(receipt)
    assert "B. Visitor" not in text(client.get("/requests"))
    for name in ("evan", "sam", "morgan"):
        other = app.test_client()
        login(other, name)
        for path in (f"/instances/{view.id}", f"/concerns/{view.id}/receipt"):
            response = other.get(path)
            assert response.status_code == 403 and "B. Visitor" not in text(response), (name, path)
        assert "B. Visitor" not in text(other.get("/tasks"))
    lead = app.test_client()
    login(lead, "priya")
    assert lead.get(f"/instances/{view.id}").status_code == 200


def test_register_page_and_an_all_or_nothing_csv_import(deployed):
    app = make_app(deployed)
    services.add_user(deployed, "ada", ["admin"], password="pw-ada")
    client = app.test_client()
    login(client, "ada")
    page = client.get("/training/register")
    assert page.status_code == 200 and "Import existing records" in text(page)
    token = text(page).split('name="csrf_token" value="')[1].split('"')[0]
    bad = "person,course,training_type,completed_on\nann,wrap_workshop,induction,2026-09-01\nbob,knitting,induction,x\n"
    response = client.post("/training/import", data={"csrf_token": token, "file": (io.BytesIO(bad.encode()), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Line 3" in text(response) and "knitting" in text(response)
    assert services.training_register(deployed, services.get_actor(deployed, "ada")) == []
    good = bad.splitlines()[:2]
    response = client.post("/training/import", data={"csrf_token": token,
                                                     "file": (io.BytesIO("\n".join(good).encode()), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "ann" in text(client.get("/training/register?department=&status=current"))
    organiser = app.test_client()
    login(organiser, "olivia")
    assert organiser.get("/training/register").status_code == 403
