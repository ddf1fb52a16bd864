"""Admin pages (users, roles, tokens, deployments: every act audited with its reason), login throttling,
token revocation from the CLI, and the cookie and security headers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import services
from engine.errors import AuthenticationError
from engine.tables import AuditRecord
from web import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin_client(deployed):
    services.add_user(deployed, "ada", ["admin"], password="pw-ada")
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    client = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    assert client.post("/login", data={"username": "ada", "password": "pw-ada"}).status_code == 302
    return client


def audit_events(engine, type_: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(AuditRecord).where(AuditRecord.type == type_)).scalars()
        return [{"actor": r.actor, **json.loads(r.details)} for r in rows]


def test_adding_a_user_needs_a_reason_and_is_audited_with_it(admin_client, deployed):
    refused = admin_client.post("/admin/users", data={"username": "dana", "roles": ["dpo"], "reason": ""})
    added = admin_client.post("/admin/users", data={"username": "dana", "roles": ["dpo"], "reason": "new DPO"})

    assert refused.status_code == 422 and b"reason" in refused.data
    assert added.status_code == 200 and b"shown only now" in added.data
    assert [u.roles for u in services.list_users(deployed) if u.username == "dana"] == [("dpo",)]
    assert [e["reason"] for e in audit_events(deployed, "user_changed") if e.get("username") == "dana"] == ["new DPO"]


def test_changing_roles_and_deactivating_are_audited_and_take_effect(admin_client, deployed):
    token = services.issue_token(deployed, "olivia")
    roles = admin_client.post("/admin/users/olivia/roles", data={"roles": ["organiser", "security"],
                                                                 "reason": "joined the security team"})
    off = admin_client.post("/admin/users/olivia/active", data={"active": "0", "reason": "left the university"})

    assert roles.status_code == off.status_code == 302
    changes = [(e["action"], e["reason"]) for e in audit_events(deployed, "user_changed") if e["actor"] == "ada"]
    assert changes == [("roles_changed", "joined the security team"), ("user_deactivated", "left the university")]
    api = create_app(engine=deployed, test_config={"TESTING": True}).test_client()
    assert api.get("/api/v1/processes", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_unknown_role_is_422_and_changes_nothing(admin_client, deployed):
    response = admin_client.post("/admin/users/olivia/roles", data={"roles": ["wizard"], "reason": "why not"})

    assert response.status_code == 422
    assert [u.roles for u in services.list_users(deployed) if u.username == "olivia"] == [("organiser",)]


def test_a_revoked_token_stops_working_and_the_page_lists_tokens(admin_client, deployed):
    token = services.issue_token(deployed, "olivia")
    (listed,) = services.list_tokens(deployed, "olivia")
    page = admin_client.get("/admin/users/olivia")

    revoked = admin_client.post(f"/admin/tokens/{listed.id}/revoke", data={"username": "olivia",
                                                                           "reason": "laptop stolen"})

    assert f"Revoke token {listed.id}".encode() in page.data and token.encode() not in page.data
    assert revoked.status_code == 302
    api = create_app(engine=deployed, test_config={"TESTING": True}).test_client()
    assert api.get("/api/v1/processes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert [e["reason"] for e in audit_events(deployed, "token_revoked")] == ["laptop stolen"]


def test_the_cli_lists_and_revokes_tokens(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    token = services.issue_token(deployed, "olivia")
    env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": deployed.settings.database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:  # a process of its own, as an operator runs it
        return subprocess.run([sys.executable, "-c", "from web.cli import main; main()", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    listed = run("users", "tokens", "olivia")
    token_id = listed.stdout.split("\t")[0]
    revoked = run("users", "revoke-token", token_id, "--reason", "rotated yearly")

    assert listed.returncode == revoked.returncode == 0, listed.stderr + revoked.stderr
    assert "active" in listed.stdout and f"revoked token {token_id} of olivia" in revoked.stdout
    with pytest.raises(AuthenticationError):
        services.authenticate_token(deployed, token)


def test_an_upload_shows_problems_with_file_element_and_reason_and_cannot_be_deployed(admin_client, deployed):
    broken = (ROOT / "processes" / "event_approval.bpmn").read_text().replace(
        'camunda:formRef="review_decision"', 'camunda:formRef="no_such_form"', 1)

    response = admin_client.post("/admin/deployments", data={"files": [(io.BytesIO(broken.encode()),
                                                                        "event_approval.bpmn")]},
                                 content_type="multipart/form-data")
    review = admin_client.get(response.headers["Location"])

    assert response.status_code == 302 and review.status_code == 200
    assert b"cannot be deployed" in review.data and b"no_such_form" in review.data
    assert b"event_approval.bpmn" in review.data and b"review_request" in review.data
    assert b'action="/admin/deployments/1/deploy"' not in review.data
    assert admin_client.post("/admin/deployments/1/deploy", data={"reason": "try anyway"}).status_code == 422


def test_an_upload_shows_the_diff_and_deploys_with_a_reason(admin_client, deployed):
    source = (ROOT / "processes" / "event_approval.bpmn").read_text()
    changed = source.replace("</bpmn:definitions>", "<!-- reviewed 2026 -->\n</bpmn:definitions>")

    staged = admin_client.post("/admin/deployments", data={"files": [(io.BytesIO(changed.encode()),
                                                                      "event_approval.bpmn")]},
                               content_type="multipart/form-data").headers["Location"]
    review = admin_client.get(staged)
    without_reason = admin_client.post(f"{staged}/deploy", data={"reason": ""})
    deployed_now = admin_client.post(f"{staged}/deploy", data={"reason": "annual review"})

    assert b"+&lt;!-- reviewed 2026 --&gt;" in review.data and b"validate together" in review.data
    assert without_reason.status_code == 422
    assert deployed_now.status_code == 302
    assert {p.key: p.version for p in services.list_processes(deployed, services.get_actor(deployed, "ada"))}[
        "event_approval"] == 2
    assert [e["reason"] for e in audit_events(deployed, "deployment_approved")] == ["annual review"]


def test_a_non_admin_gets_403_on_admin_pages(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    client = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    client.post("/login", data={"username": "olivia", "password": "pw-olivia"})

    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data={"username": "x", "roles": ["admin"], "reason": "promote me"}
                       ).status_code == 403


def test_five_failed_logins_lock_the_user_out_from_that_address_even_with_the_right_password(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    client = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    for _ in range(5):
        assert client.post("/login", data={"username": "olivia", "password": "wrong"}).status_code == 401

    locked = client.post("/login", data={"username": "olivia", "password": "pw-olivia"})
    elsewhere = client.post("/login", data={"username": "olivia", "password": "pw-olivia"},
                            environ_base={"REMOTE_ADDR": "192.0.2.7"})

    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.data
    assert elsewhere.status_code == 302


def test_a_successful_login_clears_earlier_failures(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    client = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    for _ in range(4):
        client.post("/login", data={"username": "olivia", "password": "wrong"})
    assert client.post("/login", data={"username": "olivia", "password": "pw-olivia"}).status_code == 302
    for _ in range(4):
        client.post("/login", data={"username": "olivia", "password": "wrong"})

    assert client.post("/login", data={"username": "olivia", "password": "pw-olivia"}).status_code == 302


def test_outside_testing_the_session_cookie_is_secure_and_hsts_is_sent(deployed):
    services.add_user(deployed, "olivia", ["organiser"], password="pw-olivia")
    app = create_app(engine=deployed, test_config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()

    response = client.post("/login", data={"username": "olivia", "password": "pw-olivia"})

    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
