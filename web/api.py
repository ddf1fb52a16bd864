"""Blueprint "api" (/api/v1): load -> engine.services -> dump. No database access here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, url_for
from marshmallow import Schema, ValidationError

from engine import services
from engine.errors import InvalidDataError, PermissionDeniedError

from . import schemas
from .auth import current_actor
from .context import get_engine
from .errors import MalformedQueryError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="the request body must be a JSON object")
    return schemas.data_body.load(body)


def _query(schema: Schema) -> dict[str, Any]:
    """Parse the query string; a bad parameter is 400 naming it."""
    try:
        return schema.load(request.args)
    except ValidationError as exc:
        raise MalformedQueryError(exc.messages) from exc


def _page(items: list[Any], query: dict[str, Any], dump: schemas.Dump) -> tuple[Any, int, dict[str, str]]:
    """Dump one page; `items` holds up to limit+1 rows, the extra one only saying that a next page exists."""
    headers = {}
    if len(items) > query["limit"]:
        args = {**request.args.to_dict(), "offset": query["offset"] + query["limit"], "limit": query["limit"]}
        headers["Link"] = f'<{url_for(request.endpoint or "", _external=True, **args)}>; rel="next"'
    return dump(items[:query["limit"]]), 200, headers


def _idempotency_key() -> str | None:
    return request.headers.get("Idempotency-Key")



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
    view = services.start_instance(get_engine(), key, body["data"], actor, body.get("business_key"),
                                   idempotency_key=_idempotency_key())
    return schemas.dump_instance(view), 201, {"Location": url_for("api.get_instance", instance_id=view.id)}


@bp.get("/instances")
def list_instances():  # type: ignore[no-untyped-def]
    """Instances I may see."""
    query = _query(schemas.instance_query)
    views = services.list_instances(get_engine(), current_actor(), process=query["process"], status=query["status"],
                                    decision=query["decision"], limit=query["limit"] + 1, offset=query["offset"])
    return _page(views, query, schemas.dump_instance_list)


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int):  # type: ignore[no-untyped-def]
    """One instance with its data, open tasks and outcome."""
    return schemas.dump_instance(services.get_instance(get_engine(), instance_id, current_actor()))


@bp.get("/instances/<int:instance_id>/history")
def instance_history(instance_id: int):  # type: ignore[no-untyped-def]
    """The instance's audit events in order; `?format=jsonl|csv` exports them with their hashes (auditors)."""
    fmt = request.args.get("format")
    if fmt:
        lines = services.export_audit(get_engine(), fmt, instance_id=instance_id, actor=current_actor())
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
        return "".join(lines), 200, {"Content-Type": media}
    return schemas.history_schema.dump(services.instance_history(get_engine(), instance_id, current_actor()))


@bp.get("/tasks")
def list_tasks():  # type: ignore[no-untyped-def]
    """Open tasks I may work on."""
    query = _query(schemas.task_query)
    views = services.list_tasks(get_engine(), current_actor(), query["scope"], process=query["process"],
                                limit=query["limit"] + 1, offset=query["offset"])
    return _page(views, query, schemas.dump_task_list)


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):  # type: ignore[no-untyped-def]
    """One task with its form and current data."""
    return schemas.dump_task_detail(services.get_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):  # type: ignore[no-untyped-def]
    """Assign the task to me."""
    return schemas.dump_task(services.claim_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str):  # type: ignore[no-untyped-def]
    """Release the task."""
    return schemas.dump_task(services.unclaim_task(get_engine(), task_id, current_actor()))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):  # type: ignore[no-untyped-def]
    """Validate, complete, run the engine; returns the instance."""
    actor = current_actor()
    body = _json_body()
    view = services.complete_task(get_engine(), task_id, body["data"], actor, idempotency_key=_idempotency_key())
    return schemas.dump_instance(view)


@bp.get("/audit/verify")
def verify_audit():  # type: ignore[no-untyped-def]
    """Verify the audit chain (auditors and admins)."""
    actor = current_actor()
    if not actor.has_role("auditor", "admin"):
        raise PermissionDeniedError("only auditors and admins may verify the audit trail")
    instance = _query(schemas.verify_query)["instance"]
    return schemas.verify_schema.dump(services.verify_audit(get_engine(), instance))


@bp.get("/instances/<int:instance_id>/diagram.svg")
def instance_diagram_svg(instance_id: int):  # type: ignore[no-untyped-def]
    """The instance's diagram with completed, active and untaken elements marked."""
    from .diagram import instance_svg  # imported here so this route can sit apart from the shared import block

    svg = instance_svg(get_engine(), instance_id, current_actor())
    return str(svg), 200, {"Content-Type": "image/svg+xml; charset=utf-8"}


@bp.get("/reports/ofs")
def ofs_report():  # type: ignore[no-untyped-def]
    """The SPEC §9 OfS return for ?year=YYYY as JSON (?format=csv for CSV)."""
    from engine.reporting.ofs import ofs_csv  # kept beside the report routes appended here
    from engine.services import reports

    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        abort(400, description="format must be json or csv")
    if "year" not in request.args:
        raise InvalidDataError("year is required", fields={"year": ["Missing data for required field."]})
    report = reports.ofs_report(get_engine(), current_actor(), request.args["year"])
    if fmt == "csv":
        return ofs_csv(report), 200, {"Content-Type": "text/csv; charset=utf-8"}
    return report


@bp.get("/reports/dashboard")
def dashboard_report():  # type: ignore[no-untyped-def]
    """Dashboard figures for ?from=YYYY-MM-DD&to=YYYY-MM-DD (default: the current academic year)."""
    return services.dashboard_report(get_engine(), current_actor(), request.args.get("from"), request.args.get("to"))


@bp.get("/reports/sharing-log")
def sharing_log():  # type: ignore[no-untyped-def]
    """The sharing log for ?from=&to= (DPO and auditors) as JSON (?format=csv for CSV)."""
    from engine.services import reports

    entries = services.sharing_log(get_engine(), current_actor(), request.args.get("from"), request.args.get("to"))
    if request.args.get("format") == "csv":
        return reports.sharing_log_csv(entries), 200, {"Content-Type": "text/csv; charset=utf-8"}
    return {"entries": entries}
