"""Workflow state as JSON: the instance state without its spec (specs are stored once per process version).

Imports SpiffWorkflow only.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .bpmn_parser import CamundaServiceTask, CamundaServiceTaskConverter

CamundaMultiInstance = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)
_pinned_specs: ContextVar[tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None] = ContextVar(
    "campusflow_pinned_specs", default=None)


# Task ids repeat within a state (a task's key, its parent's children, its children's parent): parse each
# string once. UUIDs are immutable, so the cache is shared by every load and thread.
_uuid = lru_cache(maxsize=16384)(UUID)


class StateTaskConverter(TaskConverter):
    """A task as `dumps` stores it: no id (its key in `tasks`) and no field that holds its usual value.

    Restores that form and SpiffWorkflow's complete one alike (states written before fields were left out).
    """

    def to_dict(self, task: SpiffTask) -> dict[str, Any]:
        """The task's state; data as a delta from its parent's, as SpiffWorkflow stores it."""
        parent = task.parent
        dct: dict[str, Any] = {"parent": str(task._parent) if parent is not None else None,
                               "last_state_change": task.last_state_change, "state": task.state,
                               "task_spec": task.task_spec.name}
        if task._children:
            dct["children"] = [str(child) for child in task._children]
        if task.triggered:
            dct["triggered"] = True
        if task.internal_data:
            dct["internal_data"] = self.registry.convert(task.internal_data)
        if parent is None:
            if task.data:
                dct["data"] = task.data
        else:
            updates = DeepMerge.get_updated_keys(parent.data, task.data)
            deletions = DeepMerge.get_deleted_keys(parent.data, task.data)
            if updates or deletions:
                dct["delta"] = {"updates": updates, "deletions": deletions}
        return dct

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> SpiffTask:
        """The task, its data rebuilt from its parent's (parents are restored first, as in SpiffWorkflow)."""
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        parent = dct["parent"]
        task._parent = _uuid(parent) if parent is not None else None
        task._children = [_uuid(child) for child in dct.get("children", ())]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct.get("triggered", False)
        task.internal_data = self.registry.restore(dct.get("internal_data", {}))
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        parent_task = task.parent
        if parent_task is not None:  # no delta stored: the same data as the parent
            data = DeepMerge.merge({}, parent_task.data)
            delta = dct.get("delta") or {}
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct.get("data", {}))
        task.data = data
        return task


class StateWorkflowConverter(BpmnWorkflowConverter):
    """A top-level workflow without its specs (stored once per process version), restored against the specs
    `loads` supplies, already built or from their JSON."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The workflow's state: tasks, data, subprocesses and pending events; no specs."""
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        """The workflow, on the pinned spec objects when `loads` has them."""
        pinned = _pinned_specs.get()
        if pinned is None:
            spec, subprocess_specs = self.registry.restore(dct.pop("spec")), self.mapping_from_dict(
                dct.pop("subprocess_specs", {}))
        else:
            spec, subprocess_specs = pinned
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_STOCK_CONFIG = {**CAMUNDA_CONFIG, CamundaServiceTask: CamundaServiceTaskConverter}
_STATE_CONFIG = {**_STOCK_CONFIG, BpmnWorkflow: StateWorkflowConverter, SpiffTask: StateTaskConverter}
_REGISTRY = BpmnWorkflowSerializer.configure(_STATE_CONFIG)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
# `dumps` runs the registry in SpiffWorkflow's encoder mode (what its `serialize_json` switches on for the call):
# plain values are left to the JSON encoder instead of being copied first. The mode is a flag on the registry,
# so it gets its own registry: flipping a shared one would change what `_REGISTRY` returns to another thread.
_ENCODING_REGISTRY = BpmnWorkflowSerializer.configure(_STATE_CONFIG)
_ENCODING_REGISTRY._encoder_mode = True
_ENCODER = BpmnWorkflowSerializer(_ENCODING_REGISTRY)._encoder_cls
# SpiffWorkflow as it comes, for the benchmark's baseline (`raw_round_trip`).
_STOCK_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_STOCK_CONFIG))
_VERSION_KEY = _SERIALIZER.VERSION_KEY
_COMPACT = {"separators": (",", ":"), "sort_keys": False}
# States carrying this key were written by StateTaskConverter (fields left out); older ones are complete.
_DEFAULTS_LEFT_OUT = "campusflow_defaults_left_out"


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """Serialize a process spec and the specs it calls, to be stored once per process version."""
    return json.dumps({
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(sub) for name, sub in subprocess_specs.items()},
    }, **_COMPACT)


def load_specs(spec_json: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Fresh spec objects from `dump_specs` output (Camunda multi-instance specs mutate, so never share them)."""
    dct = json.loads(spec_json)
    subprocess_specs = {name: _REGISTRY.restore(sub) for name, sub in dct["subprocess_specs"].items()}
    return _REGISTRY.restore(dct["spec"]), subprocess_specs


def dumps(workflow: BpmnWorkflow) -> str:
    """Serialize the state of `workflow` without its specs."""
    dct: dict[str, Any] = _ENCODING_REGISTRY.convert(workflow)
    for tasks in _task_maps(dct):
        for task in tasks.values():
            del task["typename"]  # always "Task"; `loads` puts it back
    dct[_DEFAULTS_LEFT_OUT] = 1
    dct[_VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, cls=_ENCODER, **_COMPACT)


def _task_maps(dct: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """The `tasks` mappings of a serialized workflow and of its subprocesses."""
    return [dct["tasks"], *(sub["tasks"] for sub in dct.get("subprocesses", {}).values())]


def _restore_left_out(dct: dict[str, Any]) -> None:
    """Give each task of a `dumps` state back what the registry needs to restore it: its id and typename."""
    if not dct.pop(_DEFAULTS_LEFT_OUT, None):
        return
    for tasks in _task_maps(dct):
        for task_id, task in tasks.items():
            task["id"] = task_id
            task["typename"] = "Task"


def specs_are_shareable(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> bool:
    """True unless a Camunda multi-instance uses loopCardinality: that spec rewrites itself at run time."""
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, CamundaMultiInstance) and task_spec.cardinality is not None:
                return False
    return True


def loads(state: str, spec_json: str, script_engine: Any,
          specs: tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None = None) -> BpmnWorkflow:
    """Rebuild a workflow from `dumps` output and its version's specs; re-attach the script engine.

    `specs` are spec objects built once per version (see `specs_are_shareable`); without them the specs are
    restored from `spec_json`.
    """
    dct = json.loads(state)
    _restore_left_out(dct)
    if specs is None:
        dct.update(json.loads(spec_json))
    if dct.get(_VERSION_KEY) != _SERIALIZER.VERSION:
        _SERIALIZER.migrate(dct)
    else:
        dct.pop(_VERSION_KEY, None)
    token = _pinned_specs.set(specs)
    try:
        workflow: BpmnWorkflow = _SERIALIZER.from_dict(dct)
    finally:
        _pinned_specs.reset(token)
    workflow.script_engine = script_engine
    return workflow


def raw_round_trip(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """The plain SpiffWorkflow JSON round trip with the spec embedded (the benchmark's baseline)."""
    engine = workflow.script_engine
    restored = _STOCK_SERIALIZER.deserialize_json(_STOCK_SERIALIZER.serialize_json(workflow))
    restored.script_engine = engine
    return restored
