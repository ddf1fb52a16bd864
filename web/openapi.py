"""The OpenAPI 3 document of the JSON API, generated from the marshmallow schemas, and its HTML docs page.

Blueprint "apidocs": `GET /api/v1/openapi.json` and `GET /api/docs` (server-rendered; no external assets).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify, render_template

from . import schemas

bp = Blueprint("apidocs", __name__)
ERRORS = {400: "Malformed request or query parameter", 401: "Not authenticated", 403: "Not allowed",
          404: "Unknown", 409: "Conflict: task no longer open, concurrent change, idempotency key reused",
          422: "Invalid data; `fields` names each problem"}
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string",
               "minLength": 1, "maxLength": 200},
               "description": "Retrying with the same key and body returns the first response and changes nothing; "
                              "the same key with another body is 409."}
INSTANCE_ID = {"in": "path", "name": "instance_id", "required": True,
               "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}
TASK_ID = {"in": "path", "name": "task_id", "required": True, "schema": {"type": "string", "maxLength": 36}}
KEY = {"in": "path", "name": "key", "required": True, "schema": {"type": "string", "maxLength": 200}}
FORM_ID = {"in": "path", "name": "form_id", "required": True, "schema": {"type": "string", "maxLength": 200}}
NEXT_LINK = {"Link": {"description": 'Present when there are more: `<url>; rel="next"`', "schema": {"type": "string"}}}

# (path, method, summary, parameters, request schema, success status, response schema or content, error statuses)
OPERATIONS: tuple[tuple[str, str, str, list[Any], Any, int, Any, tuple[int, ...]], ...] = (
    ("/processes", "get", "Deployed processes and whether I may start each", [], None, 200,
     schemas.ProcessSchema(many=True), (401,)),
    ("/forms/{form_id}", "get", "A form definition (Camunda Forms JSON)", [FORM_ID], None, 200,
     {"type": "object"}, (401, 404)),
    ("/processes/{key}/instances", "post", "Start an instance with the start form data", [KEY, IDEMPOTENCY],
     schemas.DataBodySchema, 201, schemas.InstanceSchema, (400, 401, 403, 404, 409, 422)),
    ("/instances", "get", "Instances I may see (filters: process, status, decision)",
     [{"in": "query", "schema": schemas.InstanceQuerySchema}], None, 200, schemas.InstanceSummarySchema(many=True),
     (400, 401)),
    ("/instances/{instance_id}", "get", "One instance: data my role may see, open tasks, outcome", [INSTANCE_ID],
     None, 200, schemas.InstanceSchema, (401, 403, 404)),
    ("/instances/{instance_id}/history", "get", "The instance's audit events in order", [INSTANCE_ID], None, 200,
     schemas.AuditEntrySchema(many=True), (401, 403, 404)),
    ("/instances/{instance_id}/diagram.svg", "get", "The diagram with completed, active and untaken elements",
     [INSTANCE_ID], None, 200, "image/svg+xml", (401, 403, 404)),
    ("/tasks", "get", "Open tasks I may work on (scope: mine, groups, all)",
     [{"in": "query", "schema": schemas.TaskQuerySchema}], None, 200, schemas.TaskSchema(many=True), (400, 401)),
    ("/tasks/{task_id}", "get", "One task with its form and current data", [TASK_ID], None, 200,
     schemas.TaskDetailSchema, (401, 403, 404, 409)),
    ("/tasks/{task_id}/claim", "post", "Assign the task to me", [TASK_ID], None, 200, schemas.TaskSchema,
     (401, 403, 404, 409)),
    ("/tasks/{task_id}/unclaim", "post", "Release the task", [TASK_ID], None, 200, schemas.TaskSchema,
     (401, 403, 404, 409)),
    ("/tasks/{task_id}/complete", "post", "Validate, complete, run the engine; returns the instance",
     [TASK_ID, IDEMPOTENCY], schemas.DataBodySchema, 200, schemas.InstanceSchema, (400, 401, 403, 404, 409, 422)),
    ("/audit/verify", "get", "Verify the audit hash chain (auditors and admins)",
     [{"in": "query", "schema": schemas.VerifyQuerySchema}], None, 200, schemas.VerifySchema, (400, 401, 403)),
)


def _content(schema: Any) -> dict[str, Any]:
    if isinstance(schema, str):
        return {schema: {"schema": {"type": "string"}}}
    return {"application/json": {"schema": schema}}


@lru_cache(maxsize=1)
def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.0 document (built once per process: it depends on code only)."""
    spec = APISpec(title="campusflow API", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   servers=[{"url": "/api/v1"}],
                   info={"description": "SPEC §12. Authenticate with `Authorization: Bearer <token>` "
                                        "(`campusflow users token NAME`) or the UI session (writes then need "
                                        "the `X-CSRFToken` header). Timestamps are ISO-8601 with offset."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    for path, method, summary, parameters, body, status, result, errors in OPERATIONS:
        responses: dict[Any, Any] = {str(status): {"description": "OK", "content": _content(result)}}
        if path in ("/instances", "/tasks"):
            responses[str(status)]["headers"] = NEXT_LINK
        for code in errors:
            responses[str(code)] = {"description": ERRORS[code], "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        operation: dict[str, Any] = {"summary": summary, "parameters": parameters, "responses": responses,
                                     "security": [{"bearer": []}],
                                     "operationId": f"{method}_{path.strip('/').replace('/', '_')}"}
        if body is not None:
            operation["requestBody"] = {"required": True, "content": _content(body)}
        spec.path(path=path, operations={method: operation})
    spec.path(path="/openapi.json", operations={"get": {
        "summary": "This document", "security": [], "operationId": "get_openapi",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}})
    return spec.to_dict()


@bp.get("/api/v1/openapi.json")
def openapi_json():  # type: ignore[no-untyped-def]
    """The OpenAPI 3 description of the JSON API."""
    return jsonify(build_spec())


@bp.get("/api/docs")
def docs():  # type: ignore[no-untyped-def]
    """A browsable list of the operations, rendered from the same document."""
    spec = build_spec()
    operations = [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]
    return render_template("docs.html", spec=spec, operations=operations)
