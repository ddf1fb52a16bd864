"""Blueprint "api" (/api/v1): load -> engine.services -> dump. No database access here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, url_for

from engine import services
from engine.errors import PermissionDeniedError

from . import schemas
from .auth import current_actor
from .context import get_engine

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="the request body must be a JSON object")
    return schemas.data_body.load(body)


def _int_arg(name: str, default: int) -> int:
    try:
        return max(0, int(request.args.get(name, default)))
    except ValueError:
        abort(400, description=f"{name} must be an integer")


@bp.get("/processes")
def list_processes():  # type: ignore[no-untyped-def]
    """Deployed processes and whether I may start each."""
    return schemas.process_list.dump(services.list_processes(get_engine(), current_actor()))


@bp.get("/forms/<form_id>")
def get_form(form_id: str):  # type: ignore[no-untyped-def]
    """A form definition (Camunda Forms JSON)."""
    current_actor()
    return services.get_form(get_engine(), form_id)


@bp.post("/processes/<key>/instances")
def start_instance(key: str):  # type: ignore[no-untyped-def]
    """Start an instance with the start form data."""
    actor = current_actor()
    body = _json_body()
    view = services.start_instance(get_engine(), key, body["data"], actor, body.get("business_key"))
    return schemas.instance_schema.dump(view), 201, {"Location": url_for("api.get_instance", instance_id=view.id)}


@bp.get("/instances")
def list_instances():  # type: ignore[no-untyped-def]
    """Instances I may see."""
    views = services.list_instances(
        get_engine(), current_actor(), process=request.args.get("process"), status=request.args.get("status"),
        decision=request.args.get("decision"), limit=min(_int_arg("limit", 200), 1000),
        offset=_int_arg("offset", 0))
    return schemas.instance_list.dump(views)


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int):  # type: ignore[no-untyped-def]
    """One instance with its data, open tasks and outcome."""
    return schemas.instance_schema.dump(services.get_instance(get_engine(), instance_id, current_actor()))


@bp.get("/instances/<int:instance_id>/history")
def instance_history(instance_id: int):  # type: ignore[no-untyped-def]
    """The instance's audit events in order."""
    return schemas.history_schema.dump(services.instance_history(get_engine(), instance_id, current_actor()))


@bp.get("/tasks")
def list_tasks():  # type: ignore[no-untyped-def]
    """Open tasks I may work on."""
    scope = request.args.get("scope", "all")
    if scope not in services.tasks.SCOPES:
        abort(400, description="scope must be mine, groups or all")
    views = services.list_tasks(get_engine(), current_actor(), scope, process=request.args.get("process"),
                                limit=min(_int_arg("limit", 500), 1000), offset=_int_arg("offset", 0))
    return schemas.task_list.dump(views)


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):  # type: ignore[no-untyped-def]
    """One task with its form and current data."""
    return schemas.task_detail.dump(services.get_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):  # type: ignore[no-untyped-def]
    """Assign the task to me."""
    return schemas.task_schema.dump(services.claim_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str):  # type: ignore[no-untyped-def]
    """Release the task."""
    return schemas.task_schema.dump(services.unclaim_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):  # type: ignore[no-untyped-def]
    """Validate, complete, run the engine; returns the instance."""
    actor = current_actor()
    body = _json_body()
    return schemas.instance_schema.dump(services.complete_task(get_engine(), task_id, body["data"], actor))


@bp.get("/audit/verify")
def verify_audit():  # type: ignore[no-untyped-def]
    """Verify the audit chain (auditors and admins)."""
    actor = current_actor()
    if not actor.has_role("auditor", "admin"):
        raise PermissionDeniedError("only auditors and admins may verify the audit trail")
    instance = request.args.get("instance", type=int)
    return schemas.verify_schema.dump(services.verify_audit(get_engine(), instance))


@bp.get("/instances/<int:instance_id>/diagram.svg")
def instance_diagram_svg(instance_id: int):  # type: ignore[no-untyped-def]
    """The instance's diagram with completed, active and untaken elements marked."""
    from .diagram import instance_svg  # imported here so this route can sit apart from the shared import block

    svg = instance_svg(get_engine(), instance_id, current_actor())
    return str(svg), 200, {"Content-Type": "image/svg+xml; charset=utf-8"}
