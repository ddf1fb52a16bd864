"""Helpers for the staff UI tests: an app with CSRF switched on, demo users, and form posts with the token."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine import services
from engine.bootstrap import WorkflowEngine
from web import create_app

USERS = {"olivia": ("organiser",), "evan": ("events_office",), "sam": ("security",), "audrey": ("auditor",)}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(engine: WorkflowEngine) -> Flask:
    """The app over a deployed engine, with the demo users (password `pw-<name>`)."""
    for name, roles in USERS.items():
        services.add_user(engine, name, list(roles), password=f"pw-{name}", email=f"{name}@example.ac.uk")
    return create_app(engine=engine, test_config={"TESTING": True})


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None) -> TestResponse:
    """Open `page`, then post `data` with its CSRF token to `action` (default: the page itself)."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action or page, data={**data, "csrf_token": token})


def login(client: FlaskClient, username: str) -> TestResponse:
    """Sign in through the login form."""
    return post_form(client, "/login", {"username": username, "password": f"pw-{username}"})


def text(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)
