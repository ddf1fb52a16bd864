"""Every role × every endpoint (API and pages): allowed or refused, organiser A never sees organiser B's case,
and an auditor's attempted change is refused with 403 and audited as `access_refused`."""

from __future__ import annotations

from typing import Any

import pytest
from builders import event_request
from sqlalchemy import func, select

from engine import services
from engine.tables import AuditRecord, InstanceRecord
from web import create_app

ROLES = {  # user -> roles; "anon" sends no credentials
    "olivia": ("organiser",), "oscar": ("organiser",), "evan": ("events_office",), "sam": ("security",),
    "priya": ("prevent_lead",), "morgan": ("senior_officer",), "alex": ("appeal_officer",), "dana": ("dpo",),
    "audrey": ("auditor",), "ada": ("admin",), "anon": (),
}
CASE_STAFF = {"evan", "sam", "priya", "morgan", "alex"}  # roles that work on event_approval
ALL = set(ROLES) - {"anon"}


def allow(who: set[str], ok: int, refused: int = 403) -> dict[str, int]:
    """Expected status per user: `ok` for `who`, `refused` for the other signed-in users, 401 for anon."""
    return {user: (ok if user in who else refused) for user in ALL} | {"anon": 401}


# (name, method, path, JSON body, expected status per user); {i} = olivia's instance, {t} = its review task
API = (
    ("list processes", "GET", "/api/v1/processes", None, allow(ALL, 200)),
    ("get form", "GET", "/api/v1/forms/review_decision", None, allow(ALL, 200)),
    ("list instances", "GET", "/api/v1/instances", None, allow(ALL, 200)),
    ("list tasks", "GET", "/api/v1/tasks", None, allow(ALL, 200)),
    ("get instance", "GET", "/api/v1/instances/{i}", None, allow({"olivia", "audrey"} | CASE_STAFF, 200)),
    ("history", "GET", "/api/v1/instances/{i}/history", None, allow({"olivia", "audrey"} | CASE_STAFF, 200)),
    ("diagram", "GET", "/api/v1/instances/{i}/diagram.svg", None, allow({"olivia", "audrey"} | CASE_STAFF, 200)),
    ("get task", "GET", "/api/v1/tasks/{t}", None, allow({"evan"}, 200)),
    ("verify audit", "GET", "/api/v1/audit/verify", None, allow({"audrey", "ada"}, 200)),
    ("start", "POST", "/api/v1/processes/event_approval/instances", {"data": event_request()},
     allow({"olivia", "oscar"}, 201)),
    ("claim", "POST", "/api/v1/tasks/{t}/claim", None, allow({"evan"}, 200)),
    ("unclaim", "POST", "/api/v1/tasks/{t}/unclaim", None, allow({"evan"}, 200)),
    ("complete", "POST", "/api/v1/tasks/{t}/complete", {"data": {"decision": "approved"}}, allow({"evan"}, 200)),
)
LOGIN = 302  # pages send the anonymous to the login page
PAGES = (
    ("home", "GET", "/", None, allow(ALL, 200) | {"anon": LOGIN}),
    ("inbox", "GET", "/tasks", None, allow(ALL, 200) | {"anon": LOGIN}),
    ("my requests", "GET", "/requests", None, allow(ALL, 200) | {"anon": LOGIN}),
    ("instance page", "GET", "/instances/{i}", None, allow({"olivia", "audrey"} | CASE_STAFF, 200) | {"anon": LOGIN}),
    ("task page", "GET", "/tasks/{t}", None, allow({"evan"}, 200) | {"anon": LOGIN}),
    ("start form", "GET", "/start/event_approval", None, allow({"olivia", "oscar"}, 200) | {"anon": LOGIN}),
    ("api docs", "GET", "/api/docs", None, allow(ALL, 200) | {"anon": 200}),
    ("admin users", "GET", "/admin/users", None, allow({"ada"}, 200) | {"anon": LOGIN}),
    ("admin user", "GET", "/admin/users/olivia", None, allow({"ada"}, 200) | {"anon": LOGIN}),
    ("admin deployments", "GET", "/admin/deployments", None, allow({"ada"}, 200) | {"anon": LOGIN}),
    ("submit empty start form", "POST", "/start/event_approval", {}, allow({"olivia", "oscar"}, 422) | {"anon": LOGIN}),
    ("add user without reason", "POST", "/admin/users", {"username": "x", "roles": "dpo"},
     allow({"ada"}, 422) | {"anon": LOGIN}),
    ("deactivate without reason", "POST", "/admin/users/olivia/active", {"active": "0"},
     allow({"ada"}, 422) | {"anon": LOGIN}),
    ("claim from page", "POST", "/tasks/{t}/claim", {}, allow({"evan"}, 302) | {"anon": LOGIN}),
)


@pytest.fixture
def world(deployed, auth) -> dict[str, Any]:
    """Every user with a token, olivia's request waiting for review, oscar's own request."""
    headers = {user: (auth(user, *roles) if roles else {}) for user, roles in ROLES.items()}
    olivia = services.start_instance(deployed, "event_approval", event_request(), _actor(deployed, "olivia"))
    oscar = services.start_instance(deployed, "event_approval", event_request(), _actor(deployed, "oscar"))
    return {"headers": headers, "i": olivia.id, "t": olivia.open_tasks[0].id, "oscar_instance": oscar.id}


def _actor(engine, name):  # type: ignore[no-untyped-def]
    return services.get_actor(engine, name)


def _counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(instances, audit events, access_refused events)."""
    with engine.new_uow(readonly=True) as uow:
        count = uow.session.execute(select(func.count()).select_from(InstanceRecord)).scalar_one()
        events = uow.session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
        refused = uow.session.execute(select(func.count()).select_from(AuditRecord)
                                      .where(AuditRecord.type == "access_refused")).scalar_one()
    return count, events, refused


@pytest.mark.parametrize("user", sorted(ROLES))
def test_every_api_endpoint_allows_or_refuses_each_role(client, world, deployed, user):
    results = {}
    for name, method, path, body, expected in API:
        url = path.format(i=world["i"], t=world["t"])
        response = client.open(url, method=method, json=body, headers=world["headers"][user])
        results[name] = (response.status_code, expected[user])
    assert {n: got for n, (got, _) in results.items()} == {n: want for n, (_, want) in results.items()}


@pytest.mark.parametrize("user", sorted(ROLES))
def test_every_page_allows_or_refuses_each_role(deployed, world, user):
    app = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    if user != "anon":
        assert client.post("/login", data={"username": user, "password": f"pw-{user}"}).status_code == 302
    results = {}
    for name, method, path, body, expected in PAGES:
        response = client.open(path.format(i=world["i"], t=world["t"]), method=method, data=body)
        results[name] = (response.status_code, expected[user])
    assert {n: got for n, (got, _) in results.items()} == {n: want for n, (_, want) in results.items()}


@pytest.mark.parametrize("user", ["olivia", "oscar", "dana", "ada"])
def test_organisers_see_only_their_own_requests_and_uninvolved_roles_none(client, world, user):
    listed = {i["id"] for i in client.get("/api/v1/instances", headers=world["headers"][user]).json}

    expected = {"olivia": {world["i"]}, "oscar": {world["oscar_instance"]}}.get(user, set())
    assert listed == expected
    other = world["oscar_instance"] if user == "olivia" else world["i"]
    assert client.get(f"/api/v1/instances/{other}", headers=world["headers"][user]).status_code == 403
    assert client.get(f"/api/v1/instances/{other}/history", headers=world["headers"][user]).status_code == 403


def test_auditors_read_everything(client, world):
    listed = {i["id"] for i in client.get("/api/v1/instances", headers=world["headers"]["audrey"]).json}

    assert listed == {world["i"], world["oscar_instance"]}


def test_an_auditors_attempted_changes_are_refused_audited_and_change_nothing(client, world, deployed):
    before = _counts(deployed)
    attempts = [
        client.post("/api/v1/processes/event_approval/instances", json={"data": event_request()},
                    headers=world["headers"]["audrey"]),
        client.post(f"/api/v1/tasks/{world['t']}/claim", headers=world["headers"]["audrey"]),
        client.post(f"/api/v1/tasks/{world['t']}/complete", json={"data": {"decision": "approved"}},
                    headers=world["headers"]["audrey"]),
    ]

    assert [r.status_code for r in attempts] == [403, 403, 403]
    instances, events, refused = _counts(deployed)
    assert (instances, events, refused) == (before[0], before[1] + 3, before[2] + 3)
    assert services.verify_audit(deployed).ok
    task = services.get_task(deployed, world["t"], _actor(deployed, "evan"))
    assert task.assignee is None


def test_admin_does_no_task_work_until_given_a_working_role(client, world, deployed):
    refused = client.post(f"/api/v1/tasks/{world['t']}/claim", headers=world["headers"]["ada"])
    services.set_roles(deployed, "ada", ["admin", "events_office"], _actor(deployed, "ada"), "covering the desk")

    allowed = client.post(f"/api/v1/tasks/{world['t']}/claim", headers=world["headers"]["ada"])

    assert (refused.status_code, allowed.status_code) == (403, 200)
