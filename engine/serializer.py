"""Workflow state as JSON: the instance state without its spec (specs are stored once per process version).

Imports SpiffWorkflow only.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)

from .bpmn_parser import CamundaServiceTask, CamundaServiceTaskConverter

CamundaMultiInstance = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)
_pinned_specs: ContextVar[tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None] = ContextVar(
    "campusflow_pinned_specs", default=None)


class PinnedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Restores a workflow against already-built spec objects when `loads` supplies them."""

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        pinned = _pinned_specs.get()
        if pinned is None:
            return super().from_dict(dct)
        spec, subprocess_specs = pinned
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_REGISTRY = BpmnWorkflowSerializer.configure({**CAMUNDA_CONFIG, CamundaServiceTask: CamundaServiceTaskConverter,
                                               BpmnWorkflow: PinnedSpecWorkflowConverter})
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
_VERSION_KEY = _SERIALIZER.VERSION_KEY
_COMPACT = {"separators": (",", ":"), "sort_keys": False}


def _fresh_defaults() -> dict[str, Any]:
    """The task fields `dumps` leaves out when they hold these values, with new mutable values (each restored
    task gets its own lists and dicts)."""
    return {"children": [], "triggered": False, "internal_data": {}, "data": {},
            "delta": {"updates": {}, "deletions": []}, "typename": "Task"}


# Task fields that hold these values in most tasks: `dumps` leaves them out (and each task's `id`, its key in
# `tasks`), `loads` puts them back. States carrying _DEFAULTS_LEFT_OUT were written so; older ones are complete.
_TASK_DEFAULTS = _fresh_defaults()
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
    dct: dict[str, Any] = _SERIALIZER.to_dict(workflow)
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    for tasks in _task_maps(dct):
        for task_id, task in tasks.items():
            tasks[task_id] = {key: value for key, value in task.items()
                              if key != "id" and (key not in _TASK_DEFAULTS or value != _TASK_DEFAULTS[key])}
    dct[_DEFAULTS_LEFT_OUT] = 1
    dct[_VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, **_COMPACT)


def _task_maps(dct: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """The `tasks` mappings of a serialized workflow and of its subprocesses."""
    return [dct["tasks"], *(sub["tasks"] for sub in dct.get("subprocesses", {}).values())]


def _restore_defaults(dct: dict[str, Any]) -> None:
    """Undo what `dumps` left out: each task's id and its default-valued fields."""
    if not dct.pop(_DEFAULTS_LEFT_OUT, None):
        return
    for tasks in _task_maps(dct):
        for task_id, task in tasks.items():
            restored = _fresh_defaults()
            restored.update(task)
            restored["id"] = task_id
            tasks[task_id] = restored



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
    _restore_defaults(dct)
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
    restored = _SERIALIZER.deserialize_json(_SERIALIZER.serialize_json(workflow))
    restored.script_engine = engine
    return restored
