"""Blueprint "audit" (/audit, auditors and admins): replay an instance step by step, re-execute it, check the
hash chain, export the trail, and print an instance's history. Everything here only reads; every read of case
data is audited by the service it calls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context, url_for

from engine import services
from engine.audit_export import FORMATS
from engine.errors import InvalidDataError, PermissionDeniedError

from . import audit_pages
from .auth import current_actor
from .context import get_engine
from .diagram import STATES, render_svg

bp = Blueprint("audit", __name__, url_prefix="/audit")
AUDIT_ROLES = ("auditor", "admin")
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


@bp.before_request
def require_auditor() -> None:
    """Signed in (else to the login page) and an auditor or admin (else 403)."""
    if not current_actor().has_role(*AUDIT_ROLES):
        raise PermissionDeniedError("only auditors and admins may open the audit pages")


def _sharing_log_url() -> str | None:
    """The reporting pages' sharing log, when that blueprint is installed (it is built separately)."""
    endpoint = next((r.endpoint for r in current_app.url_map.iter_rules()
                     if "sharing" in r.endpoint and "GET" in (r.methods or ()) and not r.arguments), None)
    return url_for(endpoint) if endpoint else None


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Every instance, with its replay and report, and the chain tools."""
    instances = services.list_instances(get_engine(), current_actor(), limit=1000)
    return render_template("audit/index.html", instances=instances, sharing_log_url=_sharing_log_url())


@bp.get("/instances/<int:instance_id>/replay")
def replay(instance_id: int):  # type: ignore[no-untyped-def]
    """One step of the instance's history: diagram, data, changes, who and why; `?reexecute=1` proves it."""
    step = request.args.get("step", type=int)
    page = audit_pages.replay_page(get_engine(), instance_id, current_actor(), step,
                                   reexecute=request.args.get("reexecute") == "1")
    diagram = page.diagram
    svg = render_svg(diagram.source, diagram.completed, diagram.active, diagram.untaken,
                     title=f"Diagram of {diagram.process_key} after step {page.step.number}")
    return render_template("audit/replay.html", page=page, svg=svg, states=STATES)


@bp.get("/instances/<int:instance_id>/report")
def report(instance_id: int):  # type: ignore[no-untyped-def]
    """The printable history of one instance, with the hashes of its events."""
    return render_template("audit/report.html", page=audit_pages.report_page(get_engine(), instance_id,
                                                                              current_actor()))


@bp.get("/verify")
def verify():  # type: ignore[no-untyped-def]
    """The chain head to record elsewhere; with `?run=1`, verify the whole chain or `instance`."""
    instance = request.args.get("instance", type=int)
    result = services.verify_audit(get_engine(), instance) if request.args.get("run") == "1" else None
    return render_template("audit/verify.html", head=services.chain_head(get_engine()), result=result,
                           instance=instance)


@bp.get("/export")
def export():  # type: ignore[no-untyped-def]
    """The export form; with `format`, the trail (one instance or a date range) as JSON Lines or CSV."""
    fmt = request.args.get("format")
    if not fmt:
        return render_template("audit/export.html", formats=FORMATS, errors={}, args=request.args)
    try:
        instance = _optional_int("instance")
        since, until = _moment("since"), _moment("until", end_of_day=True)
        lines = services.export_audit(get_engine(), fmt, instance_id=instance, since=since, until=until,
                                      actor=current_actor())
    except InvalidDataError as exc:
        return render_template("audit/export.html", formats=FORMATS, errors=exc.fields or {"format": [exc.message]},
                               args=request.args), 422
    name = f"audit-{'instance-' + str(instance) if instance else 'trail'}.{fmt}"
    return Response(stream_with_context(lines), mimetype=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _optional_int(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidDataError(f"{name} must be a number", fields={name: ["Enter a number, like 12."]})
    return int(value)


def _moment(name: str, end_of_day: bool = False) -> datetime | None:
    """A date (the whole day, UTC) or an ISO date-time; `until` with a date means up to the end of that day."""
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + (timedelta(days=1) if end_of_day else timedelta())
            return datetime.combine(day, time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidDataError(f"{name} must be a date", fields={name: ["Enter a date like 2027-03-01."]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
