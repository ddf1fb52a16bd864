"""Authentication for the API and pages: bearer tokens, or the session set by the login page.

Sessions expire after `SESSION_IDLE_MINUTES` without a request (the signed cookie's max age) and, in any
case, `SESSION_MAX_HOURS` after login. Roles are re-read from the user record on every request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, g, request, session

from engine import services
from engine.errors import AuthenticationError
from engine.model import Actor

from .context import get_engine
from .sso import sso_actor


def current_actor() -> Actor:
    """The authenticated actor for this request, or AuthenticationError."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        g.actor = services.authenticate_token(get_engine(), header[7:].strip())
        return g.actor
    proxied = sso_actor()
    if proxied is not None:
        g.actor, g.via_sso = proxied, True
        return g.actor
    username = session.get("username")
    if username and not _session_expired():
        g.actor = services.get_actor(get_engine(), username)
        return g.actor
    session.clear()
    raise AuthenticationError("log in or send 'Authorization: Bearer <token>'")


def _session_expired() -> bool:
    started = session.get("login_at")
    limit = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return not isinstance(started, int | float) or datetime.now(UTC).timestamp() - started > limit.total_seconds()


def optional_actor() -> Actor | None:
    """The actor if logged in, else None (for public pages)."""
    try:
        return current_actor()
    except AuthenticationError:
        return None


def log_in(username: str, password: str) -> Actor:
    """Check the password and start a fresh session (a new session id, so no fixation).

    Failures are counted per user name and address (in the database, so across workers); too many lock out.
    """
    engine, address = get_engine(), request.remote_addr or "unknown"
    services.check_login_allowed(engine, username, address)
    try:
        actor = services.authenticate_password(engine, username, password)
    except AuthenticationError:
        services.record_login_failure(engine, username, address)
        raise
    services.clear_login_failures(engine, username, address)
    session.clear()
    session["username"] = actor.username
    session["login_at"] = datetime.now(UTC).timestamp()
    session.permanent = True
    current_app.logger.info("login %s", actor.username)
    return actor


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login; anything pointing elsewhere is dropped."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None
