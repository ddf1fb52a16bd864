"""Blueprint "ui": HTML pages (a minimal home and login; the staff UI grows here)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from engine.errors import AuthenticationError

from .auth import log_in, optional_actor

bp = Blueprint("ui", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """Landing page: who I am and where the API lives."""
    return render_template("home.html", actor=optional_actor())


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Log in with a local account."""
    error = None
    if request.method == "POST":
        try:
            log_in(request.form.get("username", ""), request.form.get("password", ""))
            return redirect(url_for("ui.home"))
        except AuthenticationError as exc:
            error = exc.message
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """End the session."""
    session.clear()
    return redirect(url_for("ui.login"))
