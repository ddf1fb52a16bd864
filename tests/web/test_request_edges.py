"""What every request passes through: NUL refusal, security headers, signed-cookie sessions (and key rotation)."""

from __future__ import annotations

import pytest
from flask import Flask
from ui_support import login, make_app, text

from engine import services
from engine.bootstrap import WorkflowEngine


@pytest.fixture
def app(deployed: WorkflowEngine) -> Flask:
    """The app with the demo users; conftest's `client` uses it."""
    return make_app(deployed)


@pytest.fixture
def bearer(app: Flask, deployed: WorkflowEngine) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.issue_token(deployed, 'evan')}"}


@pytest.mark.parametrize("url", [
    "/api/v1/tasks?process=%00", "/api/v1/tasks?scope=all&process=a%00b", "/api/v1/tasks/a%00b"])
def test_a_nul_character_anywhere_in_the_url_is_a_malformed_request(client, bearer, url):
    response = client.get(url, headers=bearer)
    assert response.status_code == 400
    assert response.get_json() == {"error": "malformed", "message": "the URL contains a NUL character", "fields": {}}


def test_a_url_without_nul_characters_passes_with_or_without_a_query(client, bearer):
    assert client.get("/api/v1/tasks", headers=bearer).status_code == 200
    assert client.get("/api/v1/tasks?scope=all&limit=5", headers=bearer).status_code == 200


def test_a_bearer_api_answer_sets_no_cookie_but_varies_on_it_and_carries_the_security_headers(client, bearer):
    response = client.post("/api/v1/tasks/nope/claim", headers=bearer)
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"  # a write's CSRF check looked for a session login
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert "Cache-Control" not in response.headers  # no-store is for HTML pages
    assert "Strict-Transport-Security" not in response.headers  # TESTING: cookies are not Secure


def test_security_headers_a_view_set_itself_are_kept_and_each_header_is_sent_once(app):
    @app.get("/framed")
    def framed():  # type: ignore[no-untyped-def]
        return "<p>ok</p>", 200, {"x-frame-options": "SAMEORIGIN", "Cache-Control": "max-age=60"}

    response = app.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == ["max-age=60"]
    assert response.headers.getlist("Referrer-Policy") == ["same-origin"]


def test_a_login_session_survives_a_key_rotation_with_the_old_key_as_fallback_and_not_without(app, client):
    login(client, "olivia")
    assert client.get("/requests").status_code == 200
    old_key = app.config["SECRET_KEY"]

    app.config.update(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=[old_key])
    assert client.get("/requests").status_code == 200

    app.config.update(SECRET_KEY_FALLBACKS=[])
    client.set_cookie("campusflow_session", "", expires=0)  # drop the cookie re-signed with the new key
    login(client, "olivia")
    assert client.get("/requests").status_code == 200
    app.config.update(SECRET_KEY="yet-another-key")
    assert client.get("/requests").headers["Location"].startswith("/login")


def test_a_tampered_session_cookie_counts_as_signed_out(client):
    login(client, "olivia")
    cookie = client.get_cookie("campusflow_session")
    assert cookie is not None
    client.set_cookie("campusflow_session", cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    response = client.get("/requests")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Sign in" in text(client.get(response.headers["Location"]))
