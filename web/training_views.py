"""Blueprint "training": the training register (page, JSON, CSV import) and the receipt for restricted cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from engine import services
from engine.awareness_counting import COURSES, TRAINING_TYPES
from engine.errors import InvalidDataError
from engine.services.training import IMPORT_ROLES, STATUSES

from .auth import current_actor, optional_actor
from .context import get_engine

bp = Blueprint("training", __name__)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@bp.context_processor
def layout() -> dict[str, Any]:
    """The header's signed-in user and unseen notifications (as the ui blueprint provides them)."""
    actor = optional_actor()
    if actor is None:
        return {}
    unseen = services.count_notifications(get_engine(), actor, after_id=int(session.get("notifications_seen", 0)))
    return {"actor": actor, "unseen_notifications": unseen}


@bp.before_app_request
def receipt_for_restricted_cases() -> Response | None:
    """Whoever raised a restricted case (a Prevent concern) is sent to its receipt instead of the case page."""
    if request.endpoint != "ui.instance":
        return None
    actor, instance_id = optional_actor(), (request.view_args or {}).get("instance_id")
    if actor is None or instance_id is None or not services.sees_receipt_only(get_engine(), instance_id, actor):
        return None
    return redirect(url_for("training.receipt", instance_id=instance_id))


def _filters() -> dict[str, str | None]:
    return {name: (request.args.get(name) or "").strip() or None for name in ("department", "staff_role", "status")}


@bp.get("/training/register")
def register():  # type: ignore[no-untyped-def]
    """Who is trained and what is overdue, filtered by department, staff role and status."""
    actor, filters = current_actor(), _filters()
    rows = services.training_register(get_engine(), actor, **filters)
    return render_template("training/register.html", rows=rows, filters=filters, statuses=STATUSES,
                           courses=COURSES, training_types=TRAINING_TYPES, may_import=actor.has_role(*IMPORT_ROLES))


@bp.get("/api/v1/training/register")
def register_json():  # type: ignore[no-untyped-def]
    """The register as JSON (same filters as the page)."""
    rows = services.training_register(get_engine(), current_actor(), **_filters())
    return {"rows": [asdict(r) for r in rows]}


@bp.post("/training/import")
def import_csv():  # type: ignore[no-untyped-def]
    """Import a CSV of past training: all rows or none; the problems are listed by line."""
    actor = current_actor()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.")
        return redirect(url_for("training.register"))
    raw = upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InvalidDataError("the file is larger than 5 MB", fields={"file": ["Too large."]})
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidDataError("the file is not UTF-8 text", fields={"file": ["Not UTF-8 text."]}) from exc
        count = services.import_training_records(get_engine(), text, actor, file_name=upload.filename)
    except InvalidDataError as exc:
        rows = services.training_register(get_engine(), actor)
        return render_template("training/register.html", rows=rows, filters={}, statuses=STATUSES,
                               courses=COURSES, training_types=TRAINING_TYPES, may_import=True,
                               import_error=exc), 422
    flash(f"Imported {count} training records from {upload.filename}.")
    return redirect(url_for("training.register"))


@bp.get("/concerns/<int:instance_id>/receipt")
def receipt(instance_id: int):  # type: ignore[no-untyped-def]
    """The receipt of a restricted case: received, and whether it is still open; never its contents."""
    view = services.case_receipt(get_engine(), instance_id, current_actor())
    return render_template("training/receipt.html", receipt=view)


@bp.get("/api/v1/concerns/<int:instance_id>/receipt")
def receipt_json(instance_id: int):  # type: ignore[no-untyped-def]
    """The receipt as JSON: id, process, status, received and ended times."""
    view = services.case_receipt(get_engine(), instance_id, current_actor())
    return {"id": view.id, "process_key": view.process_key, "status": view.status,
            "received_at": view.received_at.isoformat(),
            "ended_at": view.ended_at.isoformat() if view.ended_at else None}
