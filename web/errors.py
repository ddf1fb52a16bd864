"""One table from engine errors to HTTP status and code; JSON under /api, HTML error pages elsewhere."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engine import errors as e
from engine import services

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (e.AuthenticationError, 401, "unauthenticated"),
    (e.PermissionDeniedError, 403, "forbidden"),
    (e.NotFoundError, 404, "not_found"),
    (e.ConflictError, 409, "conflict"),
    (e.InvalidDataError, 422, "invalid_data"),
    (e.ProcessDefinitionError, 422, "invalid_definition"),
    (e.ScriptTaskError, 422, "workflow_error"),
)
PAGE_TITLES = {400: "The request could not be handled", 403: "You cannot open this page",
               404: "Page not found", 405: "That action is not allowed here", 409: "Someone got there first",
               422: "The request could not be processed", 500: "Something went wrong"}


class MalformedQueryError(Exception):
    """A query parameter that cannot be parsed: 400 naming it (the body's JSON is 422, the URL's is 400)."""

    def __init__(self, fields: dict | list) -> None:
        super().__init__("a query parameter is not valid")
        self.fields = fields if isinstance(fields, dict) else {"_query": fields}


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> tuple[Response, int]:
    """The SPEC §12 error body."""
    return jsonify({"error": code, "message": message, "fields": fields or {}}), status


def error_page(status: int, message: str) -> tuple[str, int]:
    """The HTML error page for the staff UI."""
    return render_template("errors/error.html", status=status, heading=PAGE_TITLES.get(status, "Error"),
                           message=message), status


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(e.EngineError)
    def engine_error(exc: e.EngineError):  # type: ignore[no-untyped-def]
        status, code = next(((s, c) for cls, s, c in STATUS if isinstance(exc, cls)), (500, "engine_error"))
        if status == 403 and request.method in UNSAFE and "actor" in g and services.is_read_only(g.actor):
            # an auditor tried to change something: nothing was done, and the refusal is kept in its own transaction
            services.record_refusal(current_app.extensions["campusflow"], g.actor, request.method, request.path,
                                    exc.message)
        if _is_api():
            body, status = error_response(status, exc.code if status not in (422, 500) else code, exc.message,
                                          exc.fields)
            if status == 401:  # RFC 6750: name the scheme the API accepts
                body.headers["WWW-Authenticate"] = 'Bearer realm="campusflow"'
            return body, status
        if status == 401:
            return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
        return error_page(status, exc.message)

    @app.errorhandler(MalformedQueryError)
    def query_error(exc: MalformedQueryError):  # type: ignore[no-untyped-def]
        return error_response(400, "malformed", str(exc), exc.fields)

    @app.errorhandler(ValidationError)
    def schema_error(exc: ValidationError):  # type: ignore[no-untyped-def]
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "invalid_data", "the request body is not valid", fields)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        if not _is_api():
            if isinstance(exc, CSRFError):
                return error_page(400, "The form had expired or was sent from another site. "
                                       "Go back, reload the page and try again.")
            return error_page(status, exc.description or exc.name) if status >= 400 else exc
        code = {400: "malformed", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict"}.get(status, "http_error")
        if isinstance(exc, CSRFError):
            code = "csrf_failed"
        return error_response(status, code, exc.description or exc.name)
