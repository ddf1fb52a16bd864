"""Report services: the OfS return, the dashboard and the sharing log (read-only, role-checked).

Queries here, arithmetic in engine.reporting. Reports read only counting fields, which survive redaction.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, union

from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import InvalidDataError, PermissionDeniedError
from ..model import Actor
from ..reporting.dashboard import dashboard_figures
from ..reporting.ofs import BreachRow, RequestRow, ShareRow, academic_year_bounds, ofs_return, utc_bounds
from ..tables import AuditRecord, InstanceRecord, SharingLogRecord, TaskRecord
from ..unit_of_work import UnitOfWork
from .awareness import awareness_figures

REPORT_ROLES = ("auditor", "prevent_lead", "senior_officer", "dpo", "admin")
DASHBOARD_ROLES = ("prevent_lead", "security", "senior_officer", "auditor", "dpo", "admin")
SHARING_LOG_ROLES = ("dpo", "auditor")
EVENT_PROCESS = "event_approval"
SHARE_FIELDS = ("id", "created_at", "instance_id", "direction", "decision", "counterpart_org", "speaker", "purpose",
                "data_requested", "data_categories_shared", "transmitted", "transfer_method", "reasons",
                "lawful_basis", "recorded_by", "decided_by", "retention_until")


def _require(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDeniedError(f"only {', '.join(r.replace('_', ' ') for r in roles)} may see {what}")


def parse_year(value: Any) -> int:
    """An academic year start (e.g. 2026 for 2026/27), or InvalidDataError naming `year`."""
    try:
        year = int(str(value))
    except (TypeError, ValueError):
        raise InvalidDataError("year must be a number such as 2026", fields={"year": ["Not a valid year."]}) from None
    if not 2000 <= year <= 2100:
        raise InvalidDataError("year is out of range", fields={"year": ["Must be between 2000 and 2100."]})
    return year


def parse_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """A date range (ISO dates); defaults to the current academic year; errors name the field."""
    errors: dict[str, list[str]] = {}
    default_year = today.year if today.month >= 8 else today.year - 1
    bounds = list(academic_year_bounds(default_year))
    for index, (name, value) in enumerate((("from", first), ("to", last))):
        if value:
            try:
                bounds[index] = date.fromisoformat(value)
            except ValueError:
                errors[name] = ["Not a valid date (YYYY-MM-DD)."]
    if not errors and bounds[0] > bounds[1]:
        errors["to"] = ["Must not be before the start date."]
    if not errors and (bounds[1] - bounds[0]).days > 3 * 366:
        errors["to"] = ["The range may cover at most three years."]
    if errors:
        raise InvalidDataError("the date range is not valid", fields=errors)
    return bounds[0], bounds[1]


def _requests(uow: UnitOfWork, first: date, last: date) -> list[RequestRow]:
    """Event requests submitted from `first` to `last` (London dates), or decided then (submitted before its end).

    Bounded by the range through indexes (submission time; PostgreSQL also indexes the ISO decision dates the
    process writes), so the cost follows the range's volume, not the whole history; the figures filter exactly.
    """
    start, end = utc_bounds(first, last)
    low, high = first.isoformat(), (last + timedelta(days=1)).isoformat()  # ISO strings, compared as text
    decided = [(field >= low) & (field < high) for field in (
        InstanceRecord.summary["final_decision_on"].as_string(), InstanceRecord.summary["decided_on"].as_string())]
    ids = union(*(select(InstanceRecord.id).where(InstanceRecord.process_key == EVENT_PROCESS,
                                                  InstanceRecord.started_at < end, term)
                  for term in (InstanceRecord.started_at >= start, *decided))).subquery()  # one index range each
    query = (select(InstanceRecord.id, InstanceRecord.started_at, InstanceRecord.status, InstanceRecord.summary)
             .where(InstanceRecord.id.in_(select(ids.c.id))).order_by(InstanceRecord.id))
    return [RequestRow(r.id, r.started_at, r.status, r.summary or {}) for r in uow.session.execute(query)]


def _shares(uow: UnitOfWork, start: datetime, end: datetime) -> list[ShareRow]:
    t = SharingLogRecord
    query = (select(t.id, t.instance_id, t.direction, t.decision, t.created_at)
             .where(t.created_at >= start, t.created_at < end).order_by(t.id))
    return [ShareRow(*row) for row in uow.session.execute(query)]


def _breaches(uow: UnitOfWork, start: datetime, end: datetime, now: datetime) -> list[BreachRow]:
    t = TaskRecord
    late = or_(t.closed_at > t.due_at, (t.status == "open") & (t.due_at < now))
    query = (select(t.id, t.instance_id, t.name, t.due_at, t.closed_at)
             .where(t.due_at.is_not(None), t.due_at >= start, t.due_at < end, late).order_by(t.due_at))
    return [BreachRow(*row) for row in uow.session.execute(query)]


def ofs_report(engine: WorkflowEngine, actor: Actor, year: Any) -> dict[str, Any]:
    """The SPEC §9 figures for the academic year starting 1 Aug `year`, with the requests behind each."""
    _require(actor, REPORT_ROLES, "the OfS return")
    year = parse_year(year)
    first, last = academic_year_bounds(year)
    start, end = utc_bounds(first, last)
    with engine.new_uow(readonly=True) as uow:
        report = ofs_return(_requests(uow, first, last), _shares(uow, start, end),
                            _breaches(uow, start, end, engine.now()), year)
    report["staff_awareness"] = awareness_figures(engine, year)  # SPEC §13: T1–T3, W1–W3 by ideology category
    return report


def dashboard_report(engine: WorkflowEngine, actor: Actor, first: str | None = None,
                     last: str | None = None) -> dict[str, Any]:
    """Dashboard figures for a date range (default: the current academic year)."""
    _require(actor, DASHBOARD_ROLES, "the dashboard")
    day_from, day_to = parse_range(first, last, engine.now().date())
    start, end = utc_bounds(day_from, day_to)
    with engine.new_uow(readonly=True) as uow:
        escalations = uow.session.execute(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.type == AuditEventType.task_escalated, AuditRecord.at >= start, AuditRecord.at < end)
        ).scalar_one()
        return dashboard_figures(_requests(uow, day_from, day_to), _shares(uow, start, end),
                                 _breaches(uow, start, end, engine.now()), escalations, day_from, day_to)


def request_titles(engine: WorkflowEngine, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Title, decision and final decision date of the requests behind a figure (for drill-down lists)."""
    _require(actor, REPORT_ROLES + DASHBOARD_ROLES, "report details")
    if not ids:
        return {}
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(InstanceRecord.id, InstanceRecord.summary).where(InstanceRecord.id.in_(ids)))
        return {r.id: {k: (r.summary or {}).get(k) for k in ("title", "decision", "final_decision_on")} for r in rows}


def sharing_log(engine: WorkflowEngine, actor: Actor, first: str | None = None,
                last: str | None = None) -> list[dict[str, Any]]:
    """Every sharing-log row in the range (default: the current academic year), oldest first; the read is audited."""
    _require(actor, SHARING_LOG_ROLES, "the sharing log")
    day_from, day_to = parse_range(first, last, engine.now().date())
    start, end = utc_bounds(day_from, day_to)
    with engine.new_uow() as uow:
        rows = uow.session.execute(select(SharingLogRecord).where(
            SharingLogRecord.created_at >= start, SharingLogRecord.created_at < end)
            .order_by(SharingLogRecord.id)).scalars()
        entries = [{k: (v.isoformat() if isinstance(v := getattr(r, k), datetime) else v) for k in SHARE_FIELDS}
                   for r in rows]
        uow.audit.append(AuditEventType.document_viewed, None, actor.username, role=actor.primary_role,
                         document="sharing_log", range=f"{day_from}..{day_to}", rows=len(entries))
        uow.commit()
        return entries


def sharing_log_csv(entries: list[dict[str, Any]]) -> str:
    """Sharing-log rows as CSV (lists joined with spaces)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SHARE_FIELDS)
    for entry in entries:
        writer.writerow([" ".join(v) if isinstance(v := entry[k], list) else ("" if v is None else v)
                         for k in SHARE_FIELDS])
    return out.getvalue()
