"""Flask edge: create_app wires settings, the engine, blueprints and error handlers."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from engine.bootstrap import WorkflowEngine, bootstrap
from engine.config import Settings

from . import api, errors, views


def create_app(settings: Settings | None = None, engine: WorkflowEngine | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; tests pass their own settings or engine."""
    settings = settings or (engine.settings if engine else Settings.from_env())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or _local_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        JSON_SORT_KEYS=False,
    )
    app.config.update(test_config or {})
    app.extensions["campusflow"] = engine or bootstrap(settings)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.after_request(_security_headers)
    return app


def _security_headers(response):  # type: ignore[no-untyped-def]
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
    return response


def _local_secret() -> str:
    """A per-installation key kept beside the working directory, for when CAMPUSFLOW_SECRET_KEY is unset."""
    path = Path("instance/secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
