"""BPMN messages and escalations that leave a workflow: turn `workflow.get_events()` into effects, and deliver
a stored message into a waiting workflow (app-side correlation, since Camunda Modeler cannot author keys).

Imports SpiffWorkflow and effects, never the database.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition

from . import serializer
from .effects import Effect

CORRELATION_FIELDS = ("intel_query_ref",)


def thrown_effects(workflow: BpmnWorkflow) -> list[Effect]:
    """Messages and escalations thrown by the last engine run that nothing inside the workflow caught."""
    effects = []
    for event in workflow.get_events():
        definition = event.event_definition
        if isinstance(definition, MessageEventDefinition):
            payload = (event.payload or {}).get("payload")
            effects.append(Effect("message_thrown", {"name": definition.name, "payload": payload,
                                                     "correlation_key": correlation_key(payload)}))
        elif isinstance(definition, EscalationEventDefinition):
            effects.append(Effect("escalation_thrown", {"code": definition.code, "name": definition.name}))
    return effects


def correlation_key(payload: Any) -> str | None:
    """The key that pairs a reply with its request (e.g. `intel_query_ref`)."""
    if isinstance(payload, dict):
        for name in CORRELATION_FIELDS:
            if payload.get(name):
                return str(payload[name])
    return None


def message_event(name: str, payload: Any) -> BpmnEvent:
    """A Camunda message event carrying `payload`; the catching task stores it under the message name."""
    return BpmnEvent(MessageEventDefinition(name), payload={"payload": payload, "result_var": name})


def waiting_catchers(workflow: BpmnWorkflow, name: str, correlation: str | None) -> list[Any]:
    """Waiting tasks (in any called process) that catch message `name` and whose data carries the same key."""
    probe = message_event(name, None)
    found = []
    for task in list(workflow.event_manager.tasks.values()):
        if not task.task_spec.catches(task, probe):
            continue
        if correlation is None or any(str(task.data.get(f)) == correlation for f in CORRELATION_FIELDS):
            found.append(task)
    return found


def deliver(workflow: BpmnWorkflow, name: str, payload: Any, correlation: str | None) -> bool:
    """Let exactly the correlated waiting task catch the message; False when nothing waits for it."""
    catchers = waiting_catchers(workflow, name, correlation)
    if not catchers:
        return False
    event = message_event(name, payload)
    task = catchers[0]
    task.task_spec.catch(task, event)
    task.task_spec._update(task)
    return True


def start_by_message(workflow: BpmnWorkflow, name: str, payload: Any) -> None:
    """Trigger a message start event of a fresh workflow (its start event waits once the engine has run)."""
    workflow.send_event(message_event(name, payload))


def starts_on_message(spec_json: str, name: str) -> bool:
    """True when the stored process (not a process it calls) has a message start event for `name`."""
    spec, _ = serializer.load_specs(spec_json)
    return any(isinstance(ts, StartEvent) and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
               and ts.event_definition.name == name for ts in spec.task_specs.values())
