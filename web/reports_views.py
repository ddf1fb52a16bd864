"""Blueprint "reports": OfS return, dashboard, sharing log, retention holds and subject access (HTML + downloads)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from engine import services
from engine.errors import InvalidDataError
from engine.reporting.ofs import FIGURES, ofs_csv
from engine.services import reports, retention, subject_access

from .auth import current_actor
from .charts import bar_chart
from .context import get_engine
from .display import words

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
def require_login() -> None:
    """Every report page needs a signed-in user (the error handler redirects to login)."""
    current_actor()


@bp.context_processor
def layout() -> dict[str, Any]:
    """The header's signed-in user and unseen notifications (as the ui blueprint provides them)."""
    actor = current_actor()
    unseen = services.count_notifications(get_engine(), actor, after_id=int(session.get("notifications_seen", 0)))
    return {"actor": actor, "unseen_notifications": unseen}


def _labels(codes: Any) -> list[str]:
    return [words(code).capitalize() for code in codes]


def _download(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The reports this user may open."""
    actor = current_actor()
    return render_template("reports/index.html", may={
        "ofs": actor.has_role(*reports.REPORT_ROLES), "dashboard": actor.has_role(*reports.DASHBOARD_ROLES),
        "sharing": actor.has_role(*reports.SHARING_LOG_ROLES), "dpo": actor.has_role(*retention.HOLD_ROLES)})


@bp.get("/ofs")
def ofs():  # type: ignore[no-untyped-def]
    """The OfS return for an academic year, with the requests behind each figure; CSV/JSON downloads."""
    engine, actor = get_engine(), current_actor()
    today = engine.now().date()
    year = request.args.get("year") or str(today.year if today.month >= 8 else today.year - 1)
    report = reports.ofs_report(engine, actor, year)
    fmt = request.args.get("format")
    if fmt == "csv":
        return _download(ofs_csv(report), "text/csv", f"ofs-return-{report['year']}.csv")
    if fmt == "json":
        return _download(json.dumps(report, indent=2), "application/json", f"ofs-return-{report['year']}.json")
    ids = sorted({i for code, _ in FIGURES for i in report["drilldown"].get(code, [])}
                 | set(report["drilldown"]["withdrawn"]) | set(report["drilldown"]["sla_breaches"]))
    titles = reports.request_titles(engine, actor, ids)
    return render_template("reports/ofs.html", report=report, figures=FIGURES, titles=titles)


@bp.get("/dashboard")
def dashboard():  # type: ignore[no-untyped-def]
    """Requests by status and risk band, decisions per month, timeliness and shares, as SVG charts and tables."""
    data = reports.dashboard_report(get_engine(), current_actor(), request.args.get("from"), request.args.get("to"))
    months = list(data["decisions_per_month"])
    decisions = ("approved", "approved_with_conditions", "rejected", "not_in_scope", "withdrawn")
    charts = {
        "status": bar_chart("chart-status", "Requests by status", _labels(data["by_status"]),
                            {"Requests": list(data["by_status"].values())}, "Status", "Requests"),
        "risk": bar_chart("chart-risk", "Requests by risk band", _labels(data["by_risk_band"]),
                          {"Requests": list(data["by_risk_band"].values())}, "Risk band", "Requests"),
        "months": bar_chart("chart-months", "Decisions per month", [m[2:] for m in months],
                            {_labels([d])[0]: [data["decisions_per_month"][m][d] for m in months] for d in decisions},
                            "Month (YY-MM) of the final decision", "Decisions"),
    }
    return render_template("reports/dashboard.html", data=data, charts=charts, decisions=decisions)


@bp.get("/sharing-log")
def sharing_log():  # type: ignore[no-untyped-def]
    """The sharing log for a date range; CSV/JSON downloads."""
    first, last = request.args.get("from"), request.args.get("to")
    entries = reports.sharing_log(get_engine(), current_actor(), first, last)
    fmt = request.args.get("format")
    if fmt == "csv":
        return _download(reports.sharing_log_csv(entries), "text/csv", "sharing-log.csv")
    if fmt == "json":
        return _download(json.dumps(entries, indent=2), "application/json", "sharing-log.json")
    return render_template("reports/sharing_log.html", entries=entries, first=first or "", last=last or "")


@bp.route("/retention", methods=["GET", "POST"])
def legal_holds():  # type: ignore[no-untyped-def]
    """Legal holds (DPO): set one with a reason, or release one with a reason."""
    engine, actor = get_engine(), current_actor()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "release":
                retention.release_legal_hold(engine, actor, int(form.get("hold_id", "0") or 0), form.get("reason"))
                flash("The legal hold has been released.")
            else:
                retention.set_legal_hold(engine, actor, form.get("record_type", ""), form.get("record_id"),
                                         form.get("reason"))
                flash("The legal hold is in place.")
            return redirect(url_for("reports.legal_holds"))
        except InvalidDataError as exc:
            errors = exc.fields
    holds = retention.list_legal_holds(engine, actor)
    return render_template("reports/retention.html", holds=holds, errors=errors,
                           form=request.form), (422 if errors else 200)


@bp.route("/subject-access", methods=["GET", "POST"])
def subject_access_page():  # type: ignore[no-untyped-def]
    """Subject access (DPO): everything held about a person, as one JSON export."""
    engine, actor = get_engine(), current_actor()
    if request.method == "POST":
        try:
            export = subject_access.gather_subject_data(engine, actor, request.form.get("subject"))
        except InvalidDataError as exc:
            return render_template("reports/subject_access.html", errors=exc.fields), 422
        return _download(json.dumps(export, indent=2, default=str), "application/json", "subject-access.json")
    subject_access.require_dpo(actor)
    return render_template("reports/subject_access.html", errors={})
