"""The small fixture project (tests/fixtures/mini: a leave request with a decision and timers) and its people."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.model import Actor

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
ADMIN = Actor("admin", frozenset({"admin"}))
REQUESTER = Actor("rita", frozenset({"organiser"}))
REVIEWER = Actor("ravi", frozenset({"security"}))
AUDITOR = Actor("audrey", frozenset({"auditor"}))
START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday
