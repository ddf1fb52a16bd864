"""Blueprint "admin" (/admin, admin role only): users and roles, API tokens, and deployments.

Every change needs a reason and is audited by the service it calls. Invalid input re-renders the page with
422 and the field errors; nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import services
from engine.errors import InvalidDataError, ProcessDefinitionError, UserNotFoundError

from .auth import current_actor
from .context import get_engine

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin() -> None:
    """Signed in (else to the login page) and holding the admin role (else 403)."""
    services.require_admin(current_actor())


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


def _attempt(change: Callable[[], Any], page: Callable[[dict[str, list[str]]], Any]) -> Any:
    """Run a change; on invalid input show `page` with the field errors (422) instead."""
    try:
        return change()
    except InvalidDataError as exc:
        return page(exc.fields or {"_form": [exc.message]}), 422


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The admin start page: users."""
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users(errors: dict[str, list[str]] | None = None, created: Any = None):  # type: ignore[no-untyped-def]
    """Every account, and a form to add one."""
    return render_template("admin/users.html", users=services.list_users(get_engine()), errors=errors or {},
                           roles=get_engine().settings.roles, created=created)


@bp.post("/users")
def add_user():  # type: ignore[no-untyped-def]
    """Add an account; a generated password is shown once."""
    def change() -> str:
        view, password = services.admin_add_user(
            get_engine(), _form("username"), request.form.getlist("roles"), current_actor(), _form("reason"),
            display_name=_form("display_name"), email=_form("email"))
        return users(created=(view, password))
    return _attempt(change, lambda errors: users(errors=errors))


@bp.get("/users/<username>")
def user(username: str, errors: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    """One account: roles, active, API tokens."""
    view = next((u for u in services.list_users(get_engine()) if u.username == username), None)
    if view is None:
        raise UserNotFoundError(f"no user {username!r}")
    return render_template("admin/user.html", user=view, roles=get_engine().settings.roles, errors=errors or {},
                           tokens=services.list_tokens(get_engine(), username))


@bp.post("/users/<username>/roles")
def set_roles(username: str):  # type: ignore[no-untyped-def]
    """Replace the user's roles."""
    return _attempt(lambda: _done(services.set_roles(get_engine(), username, request.form.getlist("roles"),
                                                     current_actor(), _form("reason")), "Roles changed."),
                    lambda errors: user(username, errors))


@bp.post("/users/<username>/active")
def set_active(username: str):  # type: ignore[no-untyped-def]
    """Deactivate or reactivate the account."""
    active = _form("active") == "1"
    return _attempt(lambda: _done(services.set_active(get_engine(), username, active, current_actor(),
                                                      _form("reason")),
                                  "Account reactivated." if active else "Account deactivated."),
                    lambda errors: user(username, errors))


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    """Revoke an API token."""
    owner = _form("username")
    return _attempt(lambda: _done_token(services.revoke_token(get_engine(), token_id, current_actor(),
                                                              _form("reason"))),
                    lambda errors: user(owner, errors))


def _done(view: Any, message: str) -> Any:
    flash(message)
    return redirect(url_for("admin.user", username=view.username))


def _done_token(token: Any) -> Any:
    flash(f"Token {token.id} revoked.")
    return redirect(url_for("admin.user", username=token.username))


@bp.get("/deployments")
def deployments(errors: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    """Running process versions and the upload form."""
    return render_template("admin/deployments.html", errors=errors or {},
                           processes=services.list_processes(get_engine(), current_actor()))


@bp.post("/deployments")
def upload():  # type: ignore[no-untyped-def]
    """Stage uploaded BPMN, DMN and form files, then show the review."""
    files = {f.filename or "": f.read().decode("utf-8", errors="replace") for f in request.files.getlist("files")
             if f.filename}
    return _attempt(lambda: redirect(url_for("admin.staged", staged_id=services.stage_upload(
        get_engine(), files, current_actor()))), lambda errors: deployments(errors))


@bp.get("/deployments/<int:staged_id>")
def staged(staged_id: int, errors: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    """The validation result and the diff to the running version, with the deploy form."""
    review = services.review_staged(get_engine(), staged_id, current_actor())
    return render_template("admin/staged.html", review=review, errors=errors or {})


@bp.post("/deployments/<int:staged_id>/deploy")
def deploy(staged_id: int):  # type: ignore[no-untyped-def]
    """Deploy the staged files with a reason."""
    def change() -> Any:
        result = services.deploy_staged(get_engine(), staged_id, current_actor(), _form("reason"))
        flash("Deployed: " + (", ".join(f"{k} version {v}" for k, v in result.deployed) or "no process changed")
              + (f"; forms: {', '.join(result.forms_deployed)}" if result.forms_deployed else "") + ".")
        return redirect(url_for("admin.deployments"))
    try:
        return _attempt(change, lambda errors: staged(staged_id, errors))
    except ProcessDefinitionError:
        return staged(staged_id, {"files": ["The files do not validate; see the problems listed."]}), 422
