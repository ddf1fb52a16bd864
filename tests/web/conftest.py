"""Web fixtures: the Flask app on the deployed engine, its test client, and bearer-token headers per user."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import services
from engine.bootstrap import WorkflowEngine

# pytest puts tests/ on sys.path, where this folder would be found as a namespace package `web` before the
# editable install's import hook is asked; the project root must come first. Remove when pyproject.toml
# sets `pythonpath = ["."]` for pytest.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from web import create_app  # noqa: E402

AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def app(deployed: WorkflowEngine) -> Flask:
    return create_app(engine=deployed, test_config={"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(deployed: WorkflowEngine) -> AuthHeaders:
    """`auth("evan", "events_office")` creates the user once and returns fresh bearer headers for them."""
    created: set[str] = set()

    def headers(username: str, *roles: str) -> dict[str, str]:
        if username not in created:
            services.add_user(deployed, username, list(roles), password=f"pw-{username}")
            created.add(username)
        return {"Authorization": f"Bearer {services.issue_token(deployed, username)}"}

    return headers
