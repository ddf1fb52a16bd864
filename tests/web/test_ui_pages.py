"""Staff UI pages through the Flask test client: sign-in, sessions, CSRF, security headers, start form errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from ui_support import csrf_token, login, make_app, post_form, text

from engine.bootstrap import WorkflowEngine
from engine.tables import OutboxRecord


@pytest.fixture
def app(deployed: WorkflowEngine) -> Flask:
    """The app with the demo users; conftest's `client` uses it."""
    return make_app(deployed)


def test_pages_send_anonymous_users_to_the_login_page_and_back(client):
    response = client.get("/requests")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/requests"
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login?next=/requests", data={"username": "olivia", "password": "pw-olivia", "csrf_token": token}
    )
    assert response.headers["Location"] == "/requests"


def test_login_never_redirects_to_another_site(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login?next=https://evil.example/", data={"username": "olivia", "password": "pw-olivia", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_a_wrong_password_shows_the_error_summary(client):
    response = post_form(client, "/login", {"username": "olivia", "password": "nope"})
    assert response.status_code == 401
    assert "There is a problem" in text(response) and "Wrong user name or password" in text(response)


@pytest.mark.parametrize("path", ["/", "/tasks", "/start", "/start/event_approval", "/requests", "/notifications"])
def test_every_page_renders_for_a_signed_in_organiser(client, path):
    login(client, "olivia")
    response = client.get(path)
    assert response.status_code == 200
    assert 'lang="en-GB"' in text(response) and "Skip to main content" in text(response)


def test_roles_come_from_the_user_record_and_show_in_the_header(client):
    login(client, "evan")
    assert 'evan <span class="header__roles">(Events office)</span>' in text(client.get("/"))


def test_security_headers_forbid_inline_script_and_framing(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in text(response) and "style=" not in text(response)


def test_posts_without_a_csrf_token_are_refused(client):
    assert client.post("/login", data={"username": "olivia", "password": "pw-olivia"}).status_code == 400
    login(client, "olivia")
    response = client.post("/start/event_approval", data={"title": "x"})
    assert response.status_code == 400 and "The form had expired" in text(response)
    assert client.post("/logout").status_code == 400


def test_session_api_writes_need_the_csrf_header_but_bearer_tokens_do_not(client, deployed):
    login(client, "olivia")
    assert client.post("/api/v1/tasks/nope/claim").get_json()["error"] == "csrf_failed"
    token = csrf_token(text(client.get("/")))
    assert client.post("/api/v1/tasks/nope/claim", headers={"X-CSRFToken": token}).status_code == 404
    from engine import services

    bearer = {"Authorization": f"Bearer {services.issue_token(deployed, 'evan')}"}
    assert client.application.test_client().post("/api/v1/tasks/nope/claim", headers=bearer).status_code == 404


def test_sessions_expire_some_hours_after_login_even_when_active(client):
    login(client, "olivia")
    assert client.get("/requests").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] = (datetime.now(UTC) - timedelta(hours=11)).timestamp()
    assert client.get("/requests").headers["Location"].startswith("/login")


def test_logout_ends_the_session(client):
    login(client, "olivia")
    response = post_form(client, "/", {}, action="/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/requests").status_code == 302


def test_a_start_form_with_bad_input_shows_field_errors_and_keeps_the_values(client):
    login(client, "olivia")
    response = post_form(
        client,
        "/start/event_approval",
        {
            "title": "My <talk>",
            "expected_attendance": "lots",
            "start_at__date": "2030-07-01",
            "start_at__time": "18:00",
            "speakers__count": "1",
            "speakers[0].full_name": "Ana",
        },
    )
    page = text(response)
    assert response.status_code == 422
    assert "<title>Error: Event approval – campusflow</title>" in page
    assert '<a href="#f-description">Description – This field is required.</a>' in page
    assert '<a href="#f-expected_attendance">Expected attendance – Not a valid number.</a>' in page
    assert '<a href="#f-speakers-0-affiliation">Speaker 1: Affiliation – This field is required.</a>' in page
    assert 'value="My &lt;talk&gt;"' in page and 'value="lots"' in page and 'value="Ana"' in page
    assert 'name="start_at__date" type="date" value="2030-07-01"' in page


def test_notifications_addressed_to_me_are_listed_and_counted_until_seen(client, deployed):
    with deployed.new_uow() as uow:
        uow.session.add(OutboxRecord(recipient="olivia", subject="Your event was approved", body="Line one\nTwo"))
        uow.session.add(OutboxRecord(recipient="evan", subject="Not for Olivia", body="x"))
        uow.commit()
    login(client, "olivia")
    assert '<span class="count">1<span class="visually-hidden"> new</span>' in text(client.get("/"))
    page = text(client.get("/notifications"))
    assert "Your event was approved" in page and "<p>Line one</p>" in page and "Not for Olivia" not in page
    assert 'class="count"' not in text(client.get("/"))
