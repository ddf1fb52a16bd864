"""Flask edge: create_app wires settings, the engine, blueprints, CSRF, sessions and error handlers."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request, session
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.config import Settings

from . import admin, api, audit_views, display, errors, openapi, reports_views, training_views, views
from .auth import optional_actor
from .context import get_engine
from .cookie_session import CookieSessionInterface
from .sso import trusted_username

csrf = CSRFProtect()
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_app(settings: Settings | None = None, engine: WorkflowEngine | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; tests pass their own settings or engine."""
    settings = settings or (engine.settings if engine else Settings.from_env())
    app = Flask(__name__)
    app.session_interface = CookieSessionInterface()
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(
        SECRET_KEY=settings.secret_key or _local_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="campusflow_session",
        # Idle limit: the signed cookie is refreshed on every request and refused once older than this.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=60),
        SESSION_MAX_HOURS=10,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which expires on its own
        JSON_SORT_KEYS=False,
    )
    app.config.update(test_config or {})
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        app.config["SESSION_COOKIE_SECURE"] = settings.cookie_secure and not (app.debug or app.testing)
    app.extensions["campusflow"] = engine or bootstrap(settings)
    csrf.init_app(app)
    csrf.exempt(api.bp)  # bearer-token clients; session-authenticated writes are checked below
    csrf.exempt(openapi.bp)  # read-only
    errors.register(app)
    display.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(reports_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(training_views.bp)
    app.before_request(_refuse_nul_characters)
    app.before_request(_csrf_for_session_api_writes)
    app.before_request(_refuse_read_only_writes)
    app.context_processor(_layout_context)
    app.after_request(_security_headers)
    return app


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` ids up to the database's integer range; anything larger is simply not found (404), not a 500."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul_characters() -> None:
    """A NUL in the path or query is malformed (PostgreSQL cannot even compare text containing one)."""
    query = request.query_string  # most requests have none: then there are no arguments to parse
    if "\x00" in request.path or (query and (b"\x00" in query or any("\x00" in v for v in request.args.values()))):
        abort(400, description="the URL contains a NUL character")


def _csrf_for_session_api_writes() -> None:
    """API writes that ride on the login cookie or the SSO proxy's header need the CSRF token (header X-CSRFToken).

    Bearer-token writes do not: a browser never adds that header on its own.
    """
    if (request.blueprint == "api" and request.method in _UNSAFE
            and ("username" in session or trusted_username(get_engine().settings) is not None)
            and not request.headers.get("Authorization", "").lower().startswith("bearer ")):
        csrf.protect()


def _refuse_read_only_writes() -> None:
    """Auditors change nothing: every write but signing in or out is refused (and audited) before it runs."""
    if request.method in _UNSAFE and request.endpoint not in ("ui.login", "ui.logout"):
        actor = optional_actor()
        if actor is not None:
            services.refuse_if_read_only(actor)


def _layout_context() -> dict[str, Any]:
    """The signed-in user and the unseen-notification count, for the header on every page."""
    if request.blueprint not in ("ui", "admin", "apidocs", "audit"):
        return {}
    actor = optional_actor()
    unseen = 0
    if actor is not None:
        unseen = services.count_notifications(get_engine(), actor,
                                              after_id=int(session.get("notifications_seen", 0)))
    return {"actor": actor, "unseen_notifications": unseen}


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'; object-src 'none'"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_NO_STORE = ("Cache-Control", "no-store")
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _security_headers(response: Response) -> Response:
    """Add the security headers a view has not set itself (one pass over the headers, not a lookup per header:
    this runs on every request)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    wanted = list(_SECURITY_HEADERS)
    if response.mimetype == "text/html":
        wanted.append(_NO_STORE)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        wanted.append(_HSTS)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def _local_secret() -> str:
    """A per-installation key kept beside the working directory, for when CAMPUSFLOW_SECRET_KEY is unset."""
    path = Path("instance/secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
