"""Request context shared by blueprints: the wired engine."""

from __future__ import annotations

from flask import current_app

from engine.bootstrap import WorkflowEngine


def get_engine() -> WorkflowEngine:
    """The app's WorkflowEngine."""
    return current_app.extensions["campusflow"]
