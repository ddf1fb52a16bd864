"""In-memory workflow operations on a BpmnWorkflow: start, complete, fire timers, and what changed.

No database here: services load and save around these calls. Imports SpiffWorkflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ParallelGateway,
    ScriptTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from . import clock, serializer
from .audit import AuditEventType
from .bpmn_parser import CamundaServiceTask
from .camunda_fixes import pin_collection_io
from .effects import Effect, collecting
from .errors import (
    InvalidTaskDataError,
    PermissionDeniedError,
    ScriptTaskError,
    TaskNotFoundError,
    TaskNotReadyError,
)
from .scripting import InputRefused, is_iso_timer_literal, python_expression

LONDON = ZoneInfo("Europe/London")
clock.install()
_GATEWAYS = (ExclusiveGateway, InclusiveGateway, ParallelGateway)
_EVENTS = (StartEvent, EndEvent, IntermediateCatchEvent, IntermediateThrowEvent, BoundaryEvent)


@dataclass
class Step:
    """What one engine run did: audit events in order, and the side effects scripts asked for."""

    events: list[StepEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    data: dict[str, Any] | None = None  # the instance's variables after the step
    ready: list[SpiffTask] | None = None  # the READY user tasks after the step, in tree order


@dataclass(frozen=True)
class StepEvent:
    """Something the engine did on its own (gateway, timer, decision, script...), for the audit trail."""

    type: AuditEventType
    element_id: str
    details: dict[str, Any] = field(default_factory=dict)


def new_workflow(spec_json: str, script_engine: Any,
                 specs: tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None = None) -> BpmnWorkflow:
    """A fresh workflow for a process version's stored spec; `specs`: its spec objects when they are built
    already and may be shared (see `serializer.specs_are_shareable`)."""
    spec, subprocess_specs = specs if specs is not None else serializer.load_specs(spec_json)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def start(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    """Seed the start data and run until the workflow needs input."""
    first = workflow.get_next_task(state=TaskState.READY)
    if first is not None:
        first.data.update(data)
    run_engine(workflow)


def run_engine(workflow: BpmnWorkflow) -> None:
    """Run every ready engine task; wrap engine failures with the element and line."""
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        refusal = _refusal(exc)
        if refusal is not None:
            raise InvalidTaskDataError(refusal.message, fields={refusal.field: [refusal.message]}) from exc
        task = getattr(exc, "task", None)
        element = task.task_spec.bpmn_id if task is not None else getattr(exc, "id", None)
        raise ScriptTaskError(f"{element or 'workflow'}: {exc}", element_id=element,
                              line=getattr(exc, "line_number", None)) from exc


def _refusal(exc: BaseException) -> InputRefused | None:
    """The InputRefused a diagram script raised, wherever SpiffWorkflow wrapped it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, InputRefused):
            return seen
        seen = getattr(seen, "exception", None) or seen.__cause__ or seen.__context__
    return None


def all_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    """Every task of the workflow and of its called processes, in `workflow.get_tasks()` order: depth first,
    a called process's tasks just before the children of the task that calls it.

    The same walk as SpiffWorkflow's task iterator without its filters; a step needs it several times.
    """
    subprocesses = workflow.subprocesses
    found: list[SpiffTask] = []
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        found.append(task)
        if task._children:
            tasks = task.workflow.tasks
            stack.extend([tasks[child] for child in reversed(task._children)])
        if subprocesses and (called := subprocesses.get(task.id)) is not None:
            stack.append(called.task_tree)
    return found


def ready_user_tasks(workflow: BpmnWorkflow, tasks: list[SpiffTask] | None = None) -> list[SpiffTask]:
    """READY user (manual) tasks, including those of called processes, in tree order.

    `tasks`: `all_tasks(workflow)` when the caller has it (one walk fewer).
    """
    return [task for task in (tasks if tasks is not None else all_tasks(workflow))
            if task.state == TaskState.READY and task.task_spec.manual]


def ready_user_task(workflow: BpmnWorkflow, task_id: str | UUID) -> SpiffTask:
    """The READY user task with this id (SpiffWorkflow runs tasks in any state, so check it here)."""
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (TaskNotFoundException, ValueError) as exc:
        raise TaskNotFoundError(f"task {task_id} not found in this instance") from exc
    if task is None:
        raise TaskNotFoundError(f"task {task_id} not found in this instance")
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReadyError(f"task {task_id} is no longer open ({TaskState.get_name(task.state)})")
    return task


def complete(workflow: BpmnWorkflow, task: SpiffTask, data: dict[str, Any], completed_by: str | None = None) -> None:
    """Complete a user task with validated data and run the engine on."""
    task.data.update(data)
    if completed_by:
        task.internal_data["completed_by"] = completed_by
    try:
        task.run()
    except SpiffWorkflowException as exc:
        raise ScriptTaskError(f"{task.task_spec.bpmn_id}: {exc}", element_id=task.task_spec.bpmn_id) from exc
    run_engine(workflow)


def check_separation_of_duties(workflow: BpmnWorkflow, task: SpiffTask, username: str, *, initiator: str) -> None:
    """Refuse when `username` did an earlier step this task must be separate from.

    Process owners list those steps in the user task's extension property `separateFrom` (element ids,
    comma-separated; `initiator` means whoever started the instance).
    """
    names = {n.strip() for n in str((task.task_spec.extensions or {}).get("separateFrom", "")).split(",") if n.strip()}
    if not names:
        return
    if "initiator" in names and initiator == username:
        raise PermissionDeniedError("separation of duties: you started this request, so someone else must do this step")
    for earlier in all_tasks(workflow):
        if (earlier.task_spec.bpmn_id in names and earlier.has_state(TaskState.COMPLETED)
                and earlier.internal_data.get("completed_by") == username):
            raise PermissionDeniedError(
                f"separation of duties: you completed {earlier.task_spec.bpmn_name or earlier.task_spec.bpmn_id!r}, "
                "so someone else must do this step")


def fire_timers(workflow: BpmnWorkflow) -> None:
    """Move expired timers to READY and run them (two calls: Spiff only runs them on the next pass)."""
    workflow.refresh_timers()
    run_engine(workflow)


def next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
    """When the earliest waiting timer falls due (None when no timer waits)."""
    due = []
    for task in list(workflow.event_manager.tasks.values()):  # includes event-based gateways and called processes
        definition = task.task_spec.event_definition
        inner = getattr(definition, "event_definitions", None) or [definition]
        value = task.internal_data.get("event_value")
        if isinstance(value, dict) and value.get("cycles"):  # a repeating timer: its next firing
            value = value.get("next")
        if any(isinstance(d, TimerEventDefinition) for d in inner) and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return min(due) if due else None


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance's variables: the final data when finished, otherwise merged from the open branches."""
    if workflow.is_completed():
        return dict(workflow.data)  # no tree walk for a finished instance
    return _merged_data(workflow, all_tasks(workflow))


_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _merged_data(workflow: BpmnWorkflow, tasks: list[SpiffTask]) -> dict[str, Any]:
    """`current_data` of a running workflow from its tasks in tree order (live ones are picked; where live
    branches disagree, the one later in the tree wins)."""
    merged: dict[str, Any] = {}
    for task in tasks:
        if task.state & _LIVE:
            merged.update(task.data)
    if not merged and workflow.last_task is not None:
        merged.update(workflow.last_task.data)
    return merged


def _data_now(workflow: BpmnWorkflow, tasks: list[SpiffTask]) -> dict[str, Any]:
    """`current_data` from `all_tasks(workflow)`."""
    return dict(workflow.data) if _is_completed(workflow, tasks) else _merged_data(workflow, tasks)


def _is_completed(workflow: BpmnWorkflow, tasks: list[SpiffTask]) -> bool:
    """`workflow.is_completed()` from `all_tasks(workflow)`: no unfinished task in its own tree (SpiffWorkflow
    walks the tree again for it, with its filtering iterator). Sets the same flag as SpiffWorkflow does."""
    if not workflow.completed and not any(t.state & TaskState.NOT_FINISHED_MASK for t in tasks
                                          if t.workflow is workflow):
        workflow.completed = True
    return workflow.completed


def status(workflow: BpmnWorkflow) -> str:
    """running or completed."""
    return "completed" if workflow.is_completed() else "running"


def evaluate_task_expression(workflow: BpmnWorkflow, task: SpiffTask, expression: str,
                             context: dict[str, Any] | None = None) -> Any:
    """Evaluate a `${…}` attribute value (dueDate, assignee) against the task's data."""
    return workflow.script_engine.evaluate(task, python_expression(expression), external_context=context or {})


def due_at(workflow: BpmnWorkflow, task: SpiffTask, now: datetime) -> datetime | None:
    """The task's due time from `camunda:dueDate`: an ISO duration from now, an ISO date, or an expression."""
    raw = (task.task_spec.extensions or {}).get("dueDate")
    if not raw:
        return None
    if is_iso_timer_literal(raw) and raw.strip().startswith("P"):
        return now + _iso_duration(raw.strip())
    value = raw.strip() if is_iso_timer_literal(raw) else evaluate_task_expression(workflow, task, raw)
    return as_datetime(value)


def as_datetime(value: Any) -> datetime | None:
    """A due value as an aware datetime; a plain date means the end of that day in London."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), LONDON).astimezone(UTC)
    raise ScriptTaskError(f"a due date must be a date or date-time, not {value!r}")


def _iso_duration(text: str) -> timedelta:
    parsed = TimerEventDefinition.parse_iso_duration(text)
    return TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())


@contextmanager
def tracking(workflow: BpmnWorkflow) -> Iterator[Step]:
    """Collect the engine's own steps, data changes and requested effects made inside the block, in order."""
    pin_collection_io(workflow)
    before_tasks = all_tasks(workflow)
    before_states = {t.id: t.state for t in before_tasks}
    before_cycles = {t.id: _cycles_left(t) for t in before_tasks if t.state == TaskState.WAITING}
    before_data = _data_now(workflow, before_tasks)
    step = Step()
    events = step.events
    with collecting() as effects:
        yield step
    step.effects.extend(effects)
    after_tasks = all_tasks(workflow)
    step.ready = ready_user_tasks(workflow, after_tasks)
    for task in after_tasks:  # repeating timers first: each firing precedes the branch it spawns
        left, before = _cycles_left(task), before_cycles.get(task.id)
        if left is not None and before is not None and left < before:
            fired = StepEvent(AuditEventType.timer_fired, task.task_spec.bpmn_id,
                              {"name": task.task_spec.bpmn_name, "cycles_left": left})
            events.extend([fired] * (before - left))
    finished = [t for t in after_tasks
                if t.task_spec.bpmn_id and t.has_state(TaskState.FINISHED_MASK)
                and before_states.get(t.id) != t.state]
    for task in sorted(finished, key=lambda t: t.last_state_change):
        event = _step_event(task)
        if event is not None:
            events.append(event)
    step.data = _data_now(workflow, after_tasks)
    changes = data_changes(before_data, step.data)
    if changes:
        events.append(StepEvent(AuditEventType.data_changed, "", {"changes": changes}))


def _element_id(task: SpiffTask) -> str | None:
    """The diagram element a task stands for; SpiffWorkflow's internal wrappers (boundary-event splits) are
    looked through to the activity they wrap."""
    if task.task_spec.bpmn_id:
        return task.task_spec.bpmn_id
    for child in task.children:
        if not isinstance(child.task_spec, BoundaryEvent):
            return _element_id(child)
    return None


def _cycles_left(task: SpiffTask) -> int | None:
    """Cycles a repeating timer still has to fire (None for anything else)."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        return value.get("cycles")
    return 0 if task.internal_data.get("event_fired") else None


def data_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-field before/after for every variable that changed."""
    return {key: {"before": before.get(key), "after": after.get(key)}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def _step_event(task: SpiffTask) -> StepEvent | None:
    spec = task.task_spec
    if task.has_state(TaskState.CANCELLED):
        return StepEvent(AuditEventType.task_cancelled, spec.bpmn_id, {"name": spec.bpmn_name}) if spec.manual else None
    if spec.manual:
        return None  # user tasks are recorded by the service that completed them
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        return StepEvent(AuditEventType.timer_fired, spec.bpmn_id, {"name": spec.bpmn_name})
    if isinstance(definition, MessageEventDefinition):
        kind = AuditEventType.message_received if isinstance(spec, IntermediateCatchEvent | StartEvent |
                                                             BoundaryEvent) else AuditEventType.message_sent
        return StepEvent(kind, spec.bpmn_id, {"message": definition.name})
    if isinstance(spec, _GATEWAYS):
        reached = TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK
        taken = [_element_id(c) for c in task.children
                 if c.has_state(reached) and not c.has_state(TaskState.CANCELLED)]
        return StepEvent(AuditEventType.gateway_taken, spec.bpmn_id, {"name": spec.bpmn_name, "to": taken})
    simple = {BusinessRuleTask: AuditEventType.decision_evaluated, ScriptTask: AuditEventType.script_ran,
              CamundaServiceTask: AuditEventType.service_called}
    for spec_class, event_type in simple.items():
        if isinstance(spec, spec_class):
            return StepEvent(event_type, spec.bpmn_id, {"name": spec.bpmn_name})
    if isinstance(spec, (*_EVENTS, CallActivity)):
        return StepEvent(AuditEventType.event_reached, spec.bpmn_id, {"name": spec.bpmn_name})
    return None
