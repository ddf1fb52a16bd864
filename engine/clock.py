"""The engine's clock: real UTC time, or a moment set for the current context (replays run at recorded times).

SpiffWorkflow's timers read `datetime.now` directly; `install()` points their module at a datetime whose
`now()` honours this clock. Context-local, so one thread replaying never moves another's time. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

_moment: ContextVar[datetime | None] = ContextVar("campusflow_clock", default=None)


def now() -> datetime:
    """The current time (aware UTC), or the moment set by `frozen_at`."""
    moment = _moment.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were `moment` (aware)."""
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)


class ClockDatetime(datetime):
    """A datetime whose `now()` reads the engine clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> ClockDatetime:  # type: ignore[override]
        moment = _moment.get()
        if moment is None:
            return cls.fromisoformat(datetime.now(tz).isoformat())
        local = moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(local.isoformat())


def install() -> None:
    """Make SpiffWorkflow's timer module read this clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = ClockDatetime
