"""The background worker's one pass: due timers, pending messages, then the notification outbox."""

from __future__ import annotations

from dataclasses import dataclass

from ..bootstrap import WorkflowEngine
from .messages import deliver_pending_messages
from .outbox import send_pending_notifications
from .timers import fire_due_timers


@dataclass(frozen=True)
class WorkerPass:
    """What one pass did."""

    timers: int
    messages: int
    notifications: int

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
    return WorkerPass(timers, messages, send_pending_notifications(engine))
