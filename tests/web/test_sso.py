"""SSO behind a proxy: the trusted header counts only from the configured proxy addresses."""

from __future__ import annotations

import dataclasses

import pytest

from engine import services
from engine.config import Settings, parse_role_map
from engine.model import Actor
from web import create_app

PROXY, STRANGER = "10.0.0.5", "203.0.113.9"


def sso_client(deployed, **changes):
    settings = dataclasses.replace(deployed.settings, trusted_user_header="X-Remote-User",
                                   trusted_proxies=("10.0.0.0/24",), **changes)
    deployed.settings = settings
    return create_app(engine=deployed, test_config={"TESTING": True}).test_client()


@pytest.fixture
def olivia(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")


def test_the_header_from_the_proxy_signs_the_local_user_in(deployed, olivia):
    client = sso_client(deployed)

    response = client.get("/api/v1/instances", headers={"X-Remote-User": "olivia"},
                          environ_base={"REMOTE_ADDR": PROXY})

    assert response.status_code == 200


def test_the_header_from_anyone_else_is_ignored(deployed, olivia):
    client = sso_client(deployed)

    response = client.get("/api/v1/instances", headers={"X-Remote-User": "olivia"},
                          environ_base={"REMOTE_ADDR": STRANGER})
    page = client.get("/tasks", headers={"X-Remote-User": "olivia"}, environ_base={"REMOTE_ADDR": STRANGER})

    assert response.status_code == 401
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_forwarded_for_header_does_not_make_a_stranger_a_proxy(deployed, olivia):
    client = sso_client(deployed)

    response = client.get("/api/v1/instances", environ_base={"REMOTE_ADDR": STRANGER},
                          headers={"X-Remote-User": "olivia", "X-Forwarded-For": PROXY})

    assert response.status_code == 401


def test_without_the_setting_the_header_means_nothing_even_from_the_proxy(deployed, olivia):
    client = create_app(engine=deployed, test_config={"TESTING": True}).test_client()

    response = client.get("/api/v1/instances", headers={"X-Remote-User": "olivia"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})

    assert response.status_code == 401


def test_an_unknown_user_without_a_roles_header_is_refused(deployed):
    client = sso_client(deployed)

    response = client.get("/api/v1/instances", headers={"X-Remote-User": "nobody"},
                          environ_base={"REMOTE_ADDR": PROXY})

    assert response.status_code == 401


def test_roles_come_from_the_roles_header_through_the_mapping(deployed):
    client = sso_client(deployed, trusted_roles_header="X-Remote-Groups",
                        role_map={"urn:uni:staff:events": "events_office"})
    headers = {"X-Remote-User": "erin", "X-Remote-Groups": "urn:uni:staff:events, urn:uni:library"}

    tasks = client.get("/api/v1/tasks?scope=groups", headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    verify = client.get("/api/v1/audit/verify", headers=headers, environ_base={"REMOTE_ADDR": PROXY})

    assert tasks.status_code == 200
    assert verify.status_code == 403  # unmapped entitlements grant nothing


def test_a_deactivated_local_account_stays_refused_through_sso(deployed, olivia):
    services.set_active(deployed, "olivia", False, Actor("ada", frozenset({"admin"})), "left the university")
    client = sso_client(deployed, trusted_roles_header="X-Remote-Groups")

    response = client.get("/api/v1/instances", headers={"X-Remote-User": "olivia", "X-Remote-Groups": "organiser"},
                          environ_base={"REMOTE_ADDR": PROXY})

    assert response.status_code == 401


def test_api_writes_through_sso_need_the_csrf_token(deployed, olivia):
    settings = dataclasses.replace(deployed.settings, trusted_user_header="X-Remote-User",
                                   trusted_proxies=("10.0.0.0/24",))
    deployed.settings = settings
    client = create_app(engine=deployed).test_client()

    response = client.post("/api/v1/processes/event_approval/instances", json={"data": {}},
                           headers={"X-Remote-User": "olivia"}, environ_base={"REMOTE_ADDR": PROXY})

    assert response.status_code == 400 and response.json["error"] == "csrf_failed"


def test_settings_read_the_sso_variables():
    settings = Settings.from_env({"CAMPUSFLOW_TRUSTED_USER_HEADER": "X-Remote-User",
                                  "CAMPUSFLOW_TRUSTED_PROXIES": "10.0.0.1, 10.0.1.0/24",
                                  "CAMPUSFLOW_TRUSTED_ROLES_HEADER": "X-Groups",
                                  "CAMPUSFLOW_TRUSTED_ROLE_MAP": "cn=prevent,ou=groups=prevent_lead; staff=organiser"})

    assert settings.trusted_proxies == ("10.0.0.1", "10.0.1.0/24")
    assert settings.role_map == {"cn=prevent,ou=groups": "prevent_lead", "staff": "organiser"}
    assert parse_role_map("") == {}
