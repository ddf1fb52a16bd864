"""Authentication for the API and pages: bearer tokens, or the session set by the login page."""

from __future__ import annotations

from flask import current_app, g, request, session

from engine import services
from engine.errors import AuthenticationError
from engine.model import Actor

from .context import get_engine


def current_actor() -> Actor:
    """The authenticated actor for this request, or AuthenticationError."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        g.actor = services.authenticate_token(get_engine(), header[7:].strip())
        return g.actor
    username = session.get("username")
    if username:
        g.actor = services.get_actor(get_engine(), username)
        return g.actor
    raise AuthenticationError("log in or send 'Authorization: Bearer <token>'")


def optional_actor() -> Actor | None:
    """The actor if logged in, else None (for public pages)."""
    try:
        return current_actor()
    except AuthenticationError:
        return None


def log_in(username: str, password: str) -> Actor:
    """Check the password and start a session."""
    actor = services.authenticate_password(get_engine(), username, password)
    session.clear()
    session["username"] = actor.username
    session.permanent = True
    current_app.logger.info("login %s", actor.username)
    return actor
