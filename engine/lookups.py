"""Read-only look-ups that diagram scripts may make during a service call (a speaker's history here).

Scripts never open sessions: the unit of work's session is remembered when it begins a transaction (a
SQLAlchemy session event, in this context only), and look-ups read through it, so they see the same
transaction. Outside a service call they find nothing. Imports SQLAlchemy and tables.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .process_functions import speaker_ref
from .tables import SpeakerHistoryRecord

_current: ContextVar[Session | None] = ContextVar("campusflow_lookup_session", default=None)
SHAREABLE_CATEGORIES = ("event_dates", "event_format", "decision", "conditions", "incidents")


@event.listens_for(Session, "after_begin")
def _remember(session: Session, transaction: Any, connection: Any) -> None:
    _current.set(session)


def _session() -> Session | None:
    session = _current.get()
    return session if session is not None and session.is_active else None


def past_events_of(full_name: str, affiliation: str | None = None) -> list[dict[str, Any]]:
    """A speaker's past events here, oldest first (empty for a new speaker)."""
    session = _session()
    if session is None or not full_name:
        return []
    query = select(SpeakerHistoryRecord).where(SpeakerHistoryRecord.speaker_ref == speaker_ref(full_name, affiliation))
    if not affiliation:
        query = select(SpeakerHistoryRecord).where(SpeakerHistoryRecord.full_name.ilike(full_name.strip()))
    rows = session.execute(query.order_by(SpeakerHistoryRecord.event_date)).scalars()
    return [{"event_date": r.event_date, "event_format": r.event_format, "decision": r.decision,
             "conditions": list(r.conditions or []), "incidents": r.incidents or "none"} for r in rows]


def shareable_facts_about(full_name: str, affiliation: str | None = None) -> list[dict[str, Any]]:
    """Verifiable facts only (dates, format, decision, conditions, incidents): never attendees or opinions."""
    return past_events_of(full_name, affiliation)


def facts_summary(facts: list[dict[str, Any]]) -> str:
    """One line per past event, for the reviewer's form."""
    if not facts:
        return "no events with this speaker on record"
    return "; ".join(f"{f['event_date']} {f['event_format']} event, {f['decision']}"
                     f"{' with conditions ' + ', '.join(f['conditions']) if f['conditions'] else ''}, "
                     f"{'no incidents' if f['incidents'] == 'none' else f['incidents'] + ' incidents'}" for f in facts)


def facts_for_categories(facts: list[dict[str, Any]], categories: list[str]) -> list[dict[str, Any]]:
    """The facts restricted to the shared categories (attendee lists and opinions are never included)."""
    keys = {"event_dates": ("event_date",), "event_format": ("event_format",), "decision": ("decision",),
            "conditions": ("conditions",), "incidents": ("incidents",)}
    wanted = [k for c in categories if c in SHAREABLE_CATEGORIES for k in keys[c]]
    shared = []
    for fact in facts:
        item = {k: fact[k] for k in wanted}
        if "incidents" in item and item["incidents"] == "none":
            item["incidents"] = "no incidents"
        shared.append(item)
    return shared
