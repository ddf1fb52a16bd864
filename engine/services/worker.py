"""The background worker's one pass: due timers, pending messages, the notification outbox, then retention."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date

from ..bootstrap import WorkflowEngine
from .messages import deliver_pending_messages
from .outbox import send_pending_notifications
from .retention import run_retention
from .timers import fire_due_timers


@dataclass(frozen=True)
class WorkerPass:
    """What one pass did."""

    timers: int
    messages: int
    notifications: int
    redacted: int = 0

    @property
    def busy(self) -> bool:
        """True when anything happened (poll again at once)."""
        return bool(self.timers or self.messages or self.notifications)


def run_worker_once(engine: WorkflowEngine, rounds: int = 10) -> WorkerPass:
    """Handle everything due now; messages that trigger further messages are followed for a few rounds."""
    timers = fire_due_timers(engine)
    messages = 0
    for _ in range(rounds):
        delivered = deliver_pending_messages(engine)
        messages += delivered
        if not delivered:
            break
    notifications = send_pending_notifications(engine)
    return WorkerPass(timers, messages, notifications, _retention_once_a_day(engine))


# The retention pass scans every closed record, so a polling worker runs it once per day (and on its first pass).
_last_retention: weakref.WeakKeyDictionary[WorkflowEngine, date] = weakref.WeakKeyDictionary()


def _retention_once_a_day(engine: WorkflowEngine) -> int:
    today = engine.now().date()
    if _last_retention.get(engine) == today:
        return 0
    _last_retention[engine] = today
    return len(run_retention(engine, today).redacted)
