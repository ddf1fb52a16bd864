"""Blueprint "ui": the staff pages. Each route parses, calls engine.services (or a page model), renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import services
from engine.errors import AuthenticationError
from engine.model import ProcessView, TaskView

from . import pages
from .auth import current_actor, log_in, safe_next
from .context import get_engine
from .diagram import STATES, instance_svg
from .form_render import render_form

bp = Blueprint("ui", __name__)
PUBLIC = frozenset({"ui.login"})


@bp.before_request
def require_login() -> None:
    """Every page but the login page needs a signed-in user (the error handler redirects to login)."""
    if request.endpoint not in PUBLIC:
        current_actor()


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """Landing page: where to go next."""
    return render_template("home.html", processes=services.list_processes(get_engine(), current_actor()))


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Log in with a local account."""
    error, status = None, 200
    if request.method == "POST":
        try:
            log_in(request.form.get("username", ""), request.form.get("password", ""))
            return redirect(safe_next(request.args.get("next")) or url_for("ui.home"))
        except AuthenticationError as exc:
            error, status = exc.message, 429 if exc.code == "throttled" else 401
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """End the session."""
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("ui.login"))


@bp.get("/tasks")
def inbox():  # type: ignore[no-untyped-def]
    """Tasks assigned to me and offered to my groups, by due date."""
    inbox = pages.load_inbox(get_engine(), current_actor(), request.args.get("process") or None)
    return render_template("inbox.html", inbox=inbox)


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str):  # type: ignore[no-untyped-def]
    """Assign the task to me, then open it."""
    services.claim_task(get_engine(), task_id, current_actor())
    flash("The task is now assigned to you.")
    return redirect(url_for("ui.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str):  # type: ignore[no-untyped-def]
    """Release the task back to its groups."""
    services.unclaim_task(get_engine(), task_id, current_actor())
    flash("The task has been released to its groups.")
    return redirect(url_for("ui.inbox"))


@bp.get("/tasks/<task_id>")
def task(task_id: str):  # type: ignore[no-untyped-def]
    """Show a task with its case context and its form."""
    view = services.get_task(get_engine(), task_id, current_actor())
    return _task_page(view, pages.initial_form(view.form, view.data))


@bp.post("/tasks/<task_id>")
def complete(task_id: str):  # type: ignore[no-untyped-def]
    """Complete the task with the posted form; show the form again with the field errors if it is invalid."""
    engine, actor = get_engine(), current_actor()
    view = services.get_task(engine, task_id, actor)
    outcome = pages.submit_form(view.form, request.form.to_dict(flat=False),
                                lambda data: services.complete_task(engine, task_id, data, actor))
    if outcome.result is None:
        return _task_page(view, outcome)
    flash(f"“{view.name}” is complete.")
    return redirect(url_for("ui.inbox"))


def _task_page(view: TaskView, outcome: pages.FormOutcome[Any]) -> tuple[str, int]:
    engine, actor = get_engine(), current_actor()
    history = services.instance_history(engine, view.instance_id, actor)
    context = pages.case_context(engine, actor, view.process_key, view.data or {}, history)
    form = render_form(view.form or pages.NO_FORM, outcome.raw, outcome.errors, view.data)
    return render_template("task.html", task=view, case=context, form=form), (422 if outcome.errors else 200)


@bp.get("/start")
def catalogue():  # type: ignore[no-untyped-def]
    """The processes I may start."""
    processes = [p for p in services.list_processes(get_engine(), current_actor()) if p.can_start]
    return render_template("catalogue.html", processes=processes)


@bp.get("/start/<key>")
def start(key: str):  # type: ignore[no-untyped-def]
    """The start form of a process I may start."""
    process = pages.startable_process(get_engine(), current_actor(), key)
    schema = pages.start_schema(get_engine(), process)
    return _start_page(process, schema, pages.initial_form(schema, {}))


@bp.post("/start/<key>")
def submit_start(key: str):  # type: ignore[no-untyped-def]
    """Start the process with the posted form; show it again with the field errors if it is invalid."""
    engine, actor = get_engine(), current_actor()
    process = pages.startable_process(engine, actor, key)
    schema = pages.start_schema(engine, process)
    outcome = pages.submit_form(schema, request.form.to_dict(flat=False),
                                lambda data: services.start_instance(engine, key, data, actor))
    if outcome.result is None:
        return _start_page(process, schema, outcome)
    flash(f"Your request has been submitted as number {outcome.result.id}.")
    return redirect(url_for("ui.instance", instance_id=outcome.result.id))


def _start_page(process: ProcessView, schema: dict[str, Any], outcome: pages.FormOutcome[Any]) -> tuple[str, int]:
    form = render_form(schema, outcome.raw, outcome.errors)
    return render_template("start.html", process=process, form=form), (422 if outcome.errors else 200)


@bp.get("/requests")
def my_requests():  # type: ignore[no-untyped-def]
    """The requests I started: status, outcome and next step."""
    return render_template("my_requests.html", rows=pages.my_requests(get_engine(), current_actor()))


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int):  # type: ignore[no-untyped-def]
    """One instance: outcome, open tasks, the diagram with its progress, and the audit timeline."""
    engine, actor = get_engine(), current_actor()
    view = services.get_instance(engine, instance_id, actor)
    svg = instance_svg(engine, instance_id, actor)
    history = services.instance_history(engine, instance_id, actor)
    return render_template("instance.html", instance=view, svg=svg, states=STATES, history=history)


@bp.get("/notifications")
def notifications():  # type: ignore[no-untyped-def]
    """Messages addressed to me; opening the page marks them seen."""
    items = services.list_notifications(get_engine(), current_actor())
    if items:
        session["notifications_seen"] = max(session.get("notifications_seen", 0), items[0].id)
    return render_template("notifications.html", items=items)
