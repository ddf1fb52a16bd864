"""One table from engine errors to HTTP status and code; JSON under /api, plain pages elsewhere."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engine import errors as e

STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (e.AuthenticationError, 401, "unauthenticated"),
    (e.PermissionDeniedError, 403, "forbidden"),
    (e.NotFoundError, 404, "not_found"),
    (e.ConflictError, 409, "conflict"),
    (e.InvalidDataError, 422, "invalid_data"),
    (e.ProcessDefinitionError, 422, "invalid_definition"),
    (e.ScriptTaskError, 422, "workflow_error"),
)


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> tuple[Response, int]:
    """The SPEC §12 error body."""
    return jsonify({"error": code, "message": message, "fields": fields or {}}), status


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(e.EngineError)
    def engine_error(exc: e.EngineError):  # type: ignore[no-untyped-def]
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                return error_response(status, exc.code if status != 422 else code, exc.message, exc.fields)
        return error_response(500, "engine_error", exc.message)

    @app.errorhandler(ValidationError)
    def schema_error(exc: ValidationError):  # type: ignore[no-untyped-def]
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "invalid_data", "the request body is not valid", fields)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if not request.path.startswith("/api/"):
            return exc
        code = {400: "malformed", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict"}.get(exc.code or 500, "http_error")
        return error_response(exc.code or 500, code, exc.description or exc.name)
