"""Flask's signed-cookie sessions, minus the work a request without a session cookie does not need.

Every API call with a bearer token arrives without a cookie; Flask would still build a signing serializer to
open its (empty) session and read seven cookie settings to save it. Imports flask and itsdangerous only.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class CookieSessionInterface(SecureCookieSessionInterface):
    """The same cookies as Flask's; the serializer is built once per key set, and cookieless requests skip it."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:  # keys are read per call, so a changed key is used at once
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # Flask sets no cookie then, only Vary when it was read
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
