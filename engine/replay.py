"""Re-execution replay: rebuild an instance from its pinned version by re-applying the recorded inputs
(start data, task completions, timer firings, messages) at their recorded times, and check that every
recorded engine step, data change and the final state follow. Imports SpiffWorkflow via runtime; no database.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import clock, messaging, runtime
from .audit import AuditEventType, canonical_json
from .errors import EngineError

E = AuditEventType
# What the engine itself produces after an input; everything else (reads, claims, effects) is not replayed.
ENGINE_OUTPUTS = frozenset({E.gateway_taken, E.timer_fired, E.decision_evaluated, E.script_ran, E.service_called,
                            E.event_reached, E.message_sent, E.message_received, E.task_cancelled, E.data_changed,
                            E.task_ready, E.instance_completed})


@dataclass(frozen=True)
class RecordedEvent:
    """One audit event as replay needs it."""

    seq: int
    at: datetime
    actor: str
    type: str
    element_id: str | None
    details: dict[str, Any]


@dataclass
class ReplayReport:
    """The outcome: `ok`, the steps checked, and the first divergence (sequence number and what differs)."""

    instance_id: int
    ok: bool = True
    steps: int = 0
    events_checked: int = 0
    first_divergence: int | None = None
    reason: str | None = None
    states: list[dict[str, Any]] = field(default_factory=list)

    def diverge(self, seq: int | None, reason: str) -> ReplayReport:
        self.ok, self.first_divergence, self.reason = False, seq, reason
        return self


@dataclass(frozen=True)
class Expected:
    type: str
    element_id: str | None
    details: dict[str, Any]


class _Replayer:
    def __init__(self, instance_id: int, spec_json: str, script_engine: Any) -> None:
        self.report = ReplayReport(instance_id)
        self.spec_json = spec_json
        self.script_engine = script_engine
        self.workflow: BpmnWorkflow | None = None
        self.expected: deque[Expected] = deque()
        self.task_ids: dict[str, str] = {}  # recorded task id -> replayed task id
        self.open_ids: set[str] = set()

    def run(self, events: Iterable[RecordedEvent]) -> None:
        for event in events:
            if not self.report.ok:
                return
            if self._is_input(event):
                self._apply(event)
                if event.type == E.timer_fired and self.report.ok:
                    self._check(event)  # the firing is also the first thing the timer step records
            elif event.type in ENGINE_OUTPUTS:
                self._check(event)

    def _is_input(self, event: RecordedEvent) -> bool:
        if event.type in (E.instance_started, E.task_completed):
            return True
        if event.type == E.message_received:
            return event.element_id is None  # the delivery itself; the catch event is an engine output
        return event.type == E.timer_fired and not self.expected

    def _apply(self, event: RecordedEvent) -> None:
        if self.expected:
            left = self.expected[0]
            self.report.diverge(event.seq, f"the replay also produced {left.type} at {left.element_id}, "
                                           "which was not recorded")
            return
        self.report.steps += 1
        try:
            with clock.frozen_at(event.at), runtime.tracking(self._workflow(event)) as step:
                self._input(event)
        except EngineError as exc:
            self.report.diverge(event.seq, f"re-applying {event.type} failed: {exc.message}")
            return
        self.expected.extend(Expected(e.type, e.element_id or None, _normal(e.details)) for e in step.events)
        self._expect_new_tasks()
        if self.workflow.is_completed() and not self._completed_recorded:
            self._completed_recorded = True
            outcome = {k: v for k, v in runtime.current_data(self.workflow).items() if k in _OUTCOME}
            self.expected.append(Expected(E.instance_completed, None, _normal({"outcome": outcome})))
        self.report.states.append({"seq": event.seq, "data": runtime.current_data(self.workflow)})

    _completed_recorded = False

    def _workflow(self, event: RecordedEvent) -> BpmnWorkflow:
        if self.workflow is None:
            if event.type != E.instance_started:
                raise EngineError("the history does not begin with instance_started")
            self.workflow = runtime.new_workflow(self.spec_json, self.script_engine)
        return self.workflow

    def _input(self, event: RecordedEvent) -> None:
        workflow = self.workflow
        if event.type == E.instance_started:
            if "message" in event.details:
                runtime.start(workflow, {})
                messaging.start_by_message(workflow, event.details["message"], event.details.get("payload"))
                runtime.run_engine(workflow)
            else:
                runtime.start(workflow, event.details.get("data", {}))
        elif event.type == E.task_completed:
            replay_id = self.task_ids.get(event.details.get("task_id", ""))
            if replay_id is None:
                raise EngineError(f"task {event.details.get('task_id')} was never made ready in the replay")
            task = runtime.ready_user_task(workflow, replay_id)
            runtime.complete(workflow, task, event.details.get("data", {}), completed_by=event.actor)
        elif event.type == E.timer_fired:
            runtime.fire_timers(workflow)
        else:  # a message delivered to this instance
            if not messaging.deliver(workflow, event.details["message"], event.details.get("payload"),
                                     event.details.get("correlation_key")):
                raise EngineError(f"the replay does not wait for message {event.details['message']!r}")
            runtime.run_engine(workflow)

    def _expect_new_tasks(self) -> None:
        ready = {str(t.id): t for t in runtime.ready_user_tasks(self.workflow)}
        for task_id, task in ready.items():
            if task_id not in self.open_ids:
                self.expected.append(Expected(E.task_ready, task.task_spec.bpmn_id, {"replay_task_id": task_id}))
        self.open_ids = set(ready)

    def _check(self, event: RecordedEvent) -> None:
        self.report.events_checked += 1
        want = self.expected.popleft() if self.expected else None
        if want is None or (want.type, want.element_id) != (event.type, event.element_id):
            got = f"{want.type} at {want.element_id}" if want else "nothing"
            self.report.diverge(event.seq, f"recorded {event.type} at {event.element_id}, replay produced {got}")
            return
        if event.type == E.task_ready:
            self.task_ids[event.details.get("task_id", "")] = want.details["replay_task_id"]
        elif event.type in (E.data_changed, E.gateway_taken, E.instance_completed):
            # a key left out is a null (new events store no nulls: audit.split_details)
            details = _normal(event.details)
            recorded = {k: details.get(k) for k in want.details}
            if recorded != want.details:
                self.report.diverge(event.seq, f"{event.type} differs: recorded {_short(recorded)}, "
                                               f"replay {_short(want.details)}")


_OUTCOME = ("decision", "risk_level", "risk_score", "conditions", "condition_reason_category",
            "rejection_reason_category", "decision_reasons", "late_accepted")


def _normal(value: Any) -> Any:
    """What the audit stores: canonical JSON, read back."""
    return json.loads(canonical_json(value))


def _short(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 300 else text[:297] + "..."


def replay(instance_id: int, spec_json: str, script_engine: Any, events: Iterable[RecordedEvent],
           stored: BpmnWorkflow | None) -> ReplayReport:
    """Re-execute `events` against the pinned spec; compare every step and then the stored final state."""
    replayer = _Replayer(instance_id, spec_json, script_engine)
    replayer.run(events)
    report = replayer.report
    if not report.ok:
        return report
    if replayer.expected:
        left = replayer.expected[0]
        return report.diverge(None, f"the replay produced {left.type} at {left.element_id}, which was not recorded")
    if replayer.workflow is None:
        return report.diverge(None, "no instance_started event")
    if stored is not None:
        _compare_final(report, replayer.workflow, stored)
    return report


def _compare_final(report: ReplayReport, replayed: BpmnWorkflow, stored: BpmnWorkflow) -> None:
    mine, theirs = _normal(runtime.current_data(replayed)), _normal(runtime.current_data(stored))
    if mine != theirs:
        fields = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        report.diverge(None, f"stored state differs from the replay in: {', '.join(fields)}")
        return
    if _shape(replayed) != _shape(stored):
        report.diverge(None, "stored state has different open or finished steps than the replay")


def _shape(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    return sorted((t.task_spec.name, TaskState.get_name(t.state)) for t in workflow.get_tasks()
                  if t.task_spec.bpmn_id)
