"""Diagram service (read-only): an instance's pinned BPMN source and which elements ran, wait or were skipped.

Imports lxml, SpiffWorkflow task states and the instance loader; never Flask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from ..audit import AuditEventType
from ..bootstrap import PinnedVersion, WorkflowEngine
from ..errors import ProcessNotFoundError
from ..model import Actor
from ..tables import AuditRecord
from .instances import load_visible, record_view

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Audit events that mean "this element ran to completion".
_DONE_EVENTS = frozenset({
    AuditEventType.event_reached, AuditEventType.script_ran, AuditEventType.decision_evaluated,
    AuditEventType.task_completed, AuditEventType.gateway_taken, AuditEventType.timer_fired,
    AuditEventType.message_sent, AuditEventType.message_received, AuditEventType.service_called,
})
_GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")


@dataclass(frozen=True)
class DiagramView:
    """The pinned BPMN of an instance and the element ids (nodes and flows) in each state."""

    instance_id: int
    process_key: str
    process_version: int
    file_name: str
    source: str
    completed: frozenset[str]
    active: frozenset[str]
    untaken: frozenset[str]


@dataclass(frozen=True)
class _Flow:
    id: str
    source: str
    target: str


def instance_diagram(engine: WorkflowEngine, instance_id: int, actor: Actor, at_seq: int | None = None) -> DiagramView:
    """The instance's pinned BPMN source with completed, active and untaken element ids (the read is audited).

    `at_seq`: the marking as it was just after that audit event, worked out from the events up to it alone.
    """
    with engine.new_uow(readonly=True) as uow:
        record, version = load_visible(engine, uow, instance_id, actor)
        query = select(AuditRecord.type, AuditRecord.element_id, AuditRecord.details).where(
            AuditRecord.instance_id == instance_id).order_by(AuditRecord.seq)
        if at_seq is not None:
            query = query.where(AuditRecord.seq <= at_seq)
        rows = uow.session.execute(query).all()
        workflow = engine.load_workflow(record.state, version) if at_seq is None else None
        process_key = record.process_key
    record_view(engine, instance_id, actor, "diagram" if at_seq is None else f"diagram at #{at_seq}")
    file_name, source = bpmn_source(version)
    if workflow is None:
        completed, active, cancelled = _marking_from_audit(rows)
        callers = _callers(version, source, process_key)
        active = {callers.get(element, element) for element in active}
    else:
        tasks = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id]
        completed = {t.task_spec.bpmn_id for t in tasks if t.has_state(TaskState.COMPLETED)}
        completed |= {element for kind, element, _ in rows if element and kind in _DONE_EVENTS}
        active = {t.task_spec.bpmn_id for t in tasks if t.has_state(TaskState.READY | TaskState.STARTED)
                  or (t.has_state(TaskState.WAITING) and not isinstance(t.task_spec, BoundaryEvent))}
        cancelled = {t.task_spec.bpmn_id for t in tasks if t.has_state(TaskState.CANCELLED)} - completed - active
    taken = _gateway_targets(rows)
    flows, gateways = _flows(source, process_key)
    done_flows, untaken = _mark_flows(flows, gateways, completed, active, cancelled, taken)
    return DiagramView(instance_id=instance_id, process_key=process_key, process_version=version.version,
                       file_name=file_name, source=source, completed=frozenset(completed | done_flows),
                       active=frozenset(active), untaken=frozenset(untaken))


def _marking_from_audit(rows: Iterable[tuple[str, str | None, str]]) -> tuple[set[str], set[str], set[str]]:
    """Completed, active (user tasks made ready and not yet done) and cancelled elements after `rows`."""
    completed: set[str] = set()
    open_tasks: dict[str, str] = {}  # task id -> element id
    cancelled: set[str] = set()
    for kind, element, details in rows:
        if not element:
            continue
        if kind == AuditEventType.task_ready:
            open_tasks[json.loads(details).get("task_id", element)] = element
        elif kind == AuditEventType.task_completed:
            open_tasks.pop(json.loads(details).get("task_id", element), None)
        elif kind == AuditEventType.task_cancelled:
            open_tasks = {t: e for t, e in open_tasks.items() if e != element}
            cancelled.add(element)
        if kind in _DONE_EVENTS:
            completed.add(element)
    active = set(open_tasks.values())
    return completed, active, cancelled - completed - active


def bpmn_source(version: PinnedVersion) -> tuple[str, str]:
    """The pinned BPMN file (name, text) that defines the version's process."""
    marker = f'id="{version.key}"'
    for name, text in sorted(version.sources.items()):
        if name.endswith(".bpmn") and marker in text:
            return name, text
    raise ProcessNotFoundError(f"no BPMN source for {version.key} version {version.version}")


def _gateway_targets(rows: Iterable[tuple[str, str | None, str]]) -> dict[str, set[str]]:
    taken: dict[str, set[str]] = {}
    for kind, element, details in rows:
        if kind == AuditEventType.gateway_taken and element:
            taken.setdefault(element, set()).update(json.loads(details).get("to") or ())
    return taken


def _callers(version: PinnedVersion, source: str, process_key: str) -> dict[str, str]:
    """Element ids of the processes this one calls -> the call activity that runs them (one level deep)."""
    process = etree.fromstring(source.encode("utf-8")).find(f"{{{BPMN_NS}}}process[@id='{process_key}']")
    if process is None:
        return {}
    calls = {c.get("calledElement"): c.get("id", "") for c in process.iter(f"{{{BPMN_NS}}}callActivity")}
    callers: dict[str, str] = {}
    for name, text in version.sources.items():
        if not name.endswith(".bpmn") or not any(f'id="{key}"' in text for key in calls):
            continue
        for called in etree.fromstring(text.encode("utf-8")).iter(f"{{{BPMN_NS}}}process"):
            caller = calls.get(called.get("id"))
            if caller:
                callers.update({e.get("id"): caller for e in called.iter() if isinstance(e.tag, str) and e.get("id")})
    return callers


def _flows(source: str, process_key: str) -> tuple[list[_Flow], set[str]]:
    root = etree.fromstring(source.encode("utf-8"))
    process = root.find(f"{{{BPMN_NS}}}process[@id='{process_key}']")
    if process is None:
        return [], set()
    flows = [_Flow(f.get("id", ""), f.get("sourceRef", ""), f.get("targetRef", ""))
             for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")]
    gateways = {g.get("id", "") for name in _GATEWAYS for g in process.iter(f"{{{BPMN_NS}}}{name}")}
    return flows, gateways


def _mark_flows(flows: list[_Flow], gateways: set[str], completed: set[str], active: set[str],
                cancelled: set[str], taken: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """Completed flows, and untaken flows and nodes (skipped gateway branches, cancelled boundary events)."""
    reached = completed | active
    done = {f.id for f in flows if f.source in completed and f.target in reached
            and (f.source not in taken or f.target in taken[f.source])}
    untaken_flows = {f.id for f in flows if f.source in gateways and f.source in completed
                     and f.target not in taken.get(f.source, set()) and f.target not in reached}
    untaken_nodes = set(cancelled)
    changed = True
    while changed:  # spread downstream while every way into a node is untaken
        changed = False
        for f in flows:
            if f.source in untaken_nodes and f.id not in untaken_flows:
                untaken_flows.add(f.id)
                changed = True
        for node in {f.target for f in flows} - untaken_nodes - reached:
            incoming = [f.id for f in flows if f.target == node]
            if incoming and all(i in untaken_flows for i in incoming):
                untaken_nodes.add(node)
                changed = True
    return done, untaken_flows | untaken_nodes
