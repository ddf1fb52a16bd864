"""Side effects requested by diagram scripts and service tasks (notify, escalate, share...).

Scripts never touch the database: they emit effects while the engine runs, and the service layer
persists them in the same transaction as the step. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_collector: ContextVar[list[Effect] | None] = ContextVar("campusflow_effects", default=None)


@dataclass(frozen=True)
class Effect:
    """One requested side effect: `kind` names the handler, `element_id` the element that asked for it."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    element_id: str | None = None


def emit(kind: str, element_id: str | None = None, **payload: Any) -> None:
    """Request a side effect; only valid while the engine runs inside `collecting()`."""
    effects = _collector.get()
    if effects is None:
        raise RuntimeError(f"effect {kind!r} requested outside a service call")
    effects.append(Effect(kind, payload, element_id))


@contextmanager
def collecting() -> Iterator[list[Effect]]:
    """Collect the effects emitted inside the block (nested blocks collect separately)."""
    effects: list[Effect] = []
    token = _collector.set(effects)
    try:
        yield effects
    finally:
        _collector.reset(token)
