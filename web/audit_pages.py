"""Page models for the auditor pages: the replay steps of an instance, the data at each step and what changed.

Built from engine.services calls only (history, diagram at a sequence number, re-execution). No Flask here.
A *step* is one recorded input (request submitted, task claimed or completed, timer fired, message delivered,
escalation...) together with everything the engine recorded in answer to it; reads of the case are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import services
from engine.audit import canonical_json
from engine.bootstrap import WorkflowEngine
from engine.errors import NotFoundError
from engine.model import Actor, AuditEntry
from engine.replay import ReplayReport
from engine.services.diagrams import DiagramView

from .display import display_value, sentence, words

READS = frozenset({"document_viewed"})
STARTERS = frozenset({"instance_started", "task_claimed", "task_unclaimed", "task_completed", "task_escalated",
                      "instance_cancelled", "timer_fired", "data_redacted", "legal_hold_set", "legal_hold_released",
                      "subject_access_exported"})
REASON_WORDS = ("reason", "notes", "comment", "summary", "justification", "explanation")


@dataclass(frozen=True)
class Step:
    """One input and the engine's answer to it: who acted, in which role, when, and the events recorded."""

    number: int
    events: tuple[AuditEntry, ...]

    @property
    def first(self) -> AuditEntry:
        return self.events[0]

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq

    @property
    def title(self) -> str:
        return event_title(self.first)

    @property
    def answers(self) -> list[tuple[str, str]]:
        """The data the actor gave at this step (start form or task form)."""
        given = self.first.details.get("data") if self.first.type in ("instance_started", "task_completed") else None
        return [(sentence(words(k)), show(v)) for k, v in (given or {}).items()]

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """Why: reasons, notes and comments among the answers and the event's own details."""
        given = {**(self.first.details.get("data") or {}), **self.first.details}
        return [(sentence(words(k)), display_value(v)) for k, v in given.items()
                if isinstance(v, str) and v and any(w in k for w in REASON_WORDS)]


@dataclass(frozen=True)
class DataRow:
    """One data field at a step, and how it changed from the step before."""

    key: str
    value: str
    change: str | None  # "added", "changed", "removed" or None
    before: str | None


@dataclass
class ReplayPage:
    """What the replay page shows for one step of one instance."""

    instance_id: int
    title: str
    steps: list[Step]
    step: Step
    data: list[DataRow]
    diagram: DiagramView
    redacted: bool = False
    report: ReplayReport | None = None
    state_check: str | None = None
    changed: list[DataRow] = field(default_factory=list)


def event_title(entry: AuditEntry) -> str:
    """An event in plain words: its type and the step it concerns."""
    name = entry.details.get("name") or (words(entry.element_id) if entry.element_id else "")
    return f"{words(entry.type)}: {name}" if name else words(entry.type)


def group_steps(history: Iterable[AuditEntry]) -> list[Step]:
    """Split the history (reads left out) into steps, each starting at an input event."""
    groups: list[list[AuditEntry]] = []
    for entry in history:
        if entry.type in READS:
            continue
        delivered = entry.type == "message_received" and entry.element_id is None
        if not groups or entry.type in STARTERS or delivered:
            groups.append([entry])
        else:
            groups[-1].append(entry)
    return [Step(i, tuple(events)) for i, events in enumerate(groups, start=1)]


def fold_data(events: Iterable[AuditEntry], data: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
    """The instance data after `events`: the start data, then every recorded change; and whether any was erased."""
    data = dict(data or {})
    redacted = False
    for entry in events:
        redacted = redacted or bool(entry.details.get("redacted"))
        if entry.type == "instance_started":
            data.update(entry.details.get("data") or {})
        elif entry.type == "data_changed":
            for key, change in (entry.details.get("changes") or {}).items():
                if isinstance(change, dict) and change.get("after") is None:
                    data.pop(key, None)
                elif isinstance(change, dict):
                    data[key] = change["after"]
    return data, redacted


def show(value: Any) -> str:
    """A data value as plain text; records (e.g. speakers) as `Label: value` pairs."""
    if isinstance(value, dict):
        return "; ".join(f"{sentence(words(k))}: {show(v)}" for k, v in value.items()) or "Nothing"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return " | ".join(f"{i}) {show(v)}" for i, v in enumerate(value, start=1))
    return display_value(value)


def data_rows(before: dict[str, Any], after: dict[str, Any]) -> list[DataRow]:
    """Every field at the step (removed ones too), marked with how it changed."""
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
        change = None if _same(old, new) else "added" if old is _ABSENT else "removed" if new is _ABSENT \
            else "changed"
        rows.append(DataRow(key, show(None if new is _ABSENT else new), change,
                            None if old is _ABSENT or change in (None, "added") else show(old)))
    return rows


_ABSENT = object()


def _same(a: Any, b: Any) -> bool:
    return a is b or (a is not _ABSENT and b is not _ABSENT and canonical_json(a) == canonical_json(b))


def replay_page(engine: WorkflowEngine, instance_id: int, actor: Actor, number: int | None,
                reexecute: bool = False) -> ReplayPage:
    """The replay page at step `number` (the last step when None); with `reexecute`, also the proof run."""
    history = services.instance_history(engine, instance_id, actor)
    steps = group_steps(history)
    if not steps:
        raise NotFoundError(f"instance {instance_id} has no recorded steps")
    number = len(steps) if number is None else number
    if not 1 <= number <= len(steps):
        raise NotFoundError(f"instance {instance_id} has no step {number} (it has {len(steps)})")
    step = steps[number - 1]
    before, _ = fold_data(e for s in steps[: number - 1] for e in s.events)
    after, redacted = fold_data(step.events, before)
    rows = data_rows(before, after)
    diagram = services.instance_diagram(engine, instance_id, actor, at_seq=step.last_seq)
    first = history[0].details.get("data") or {}
    page = ReplayPage(instance_id, str(after.get("title") or first.get("title") or f"Instance {instance_id}"),
                      steps, step, rows, diagram, redacted, changed=[r for r in rows if r.change])
    if reexecute:
        page.report = services.replay_instance(engine, instance_id, actor)
        page.state_check = _state_check(page.report, step, after)
    return page


def _state_check(report: ReplayReport, step: Step, recorded: dict[str, Any]) -> str | None:
    """Whether the re-executed data after this step's input equals the data folded from the audit."""
    state = next((s for s in report.states if s["seq"] == step.first.seq), None)
    if state is None:
        return None
    replayed = json.loads(canonical_json(state["data"]))
    recorded = json.loads(canonical_json(recorded))
    differing = sorted(k for k in set(replayed) | set(recorded) if replayed.get(k) != recorded.get(k))
    return "matches" if not differing else "differs in " + ", ".join(differing)


@dataclass(frozen=True)
class ReportPage:
    """The printable history of one instance: every step, the final data, and the chain evidence."""

    instance_id: int
    title: str
    steps: list[Step]
    data: list[DataRow]
    verify: Any
    head: tuple[int, str]
    printed_at: datetime


def report_page(engine: WorkflowEngine, instance_id: int, actor: Actor) -> ReportPage:
    """Everything the printable report needs."""
    history = services.instance_history(engine, instance_id, actor)
    steps = group_steps(history)
    data, _ = fold_data(history)
    return ReportPage(instance_id, str(data.get("title") or f"Instance {instance_id}"), steps,
                      data_rows(data, data), services.verify_audit(engine, instance_id),
                      services.chain_head(engine), engine.now())
