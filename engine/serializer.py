"""Workflow state as JSON: the instance state without its spec (specs are stored once per process version).

Imports SpiffWorkflow only.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG

from .bpmn_parser import CamundaServiceTask, CamundaServiceTaskConverter

_REGISTRY = BpmnWorkflowSerializer.configure({**CAMUNDA_CONFIG, CamundaServiceTask: CamundaServiceTaskConverter})
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
_VERSION_KEY = _SERIALIZER.VERSION_KEY
_COMPACT = {"separators": (",", ":"), "sort_keys": False}


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
    dct[_VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, **_COMPACT)


def loads(state: str, spec_json: str, script_engine: Any) -> BpmnWorkflow:
    """Rebuild a workflow from `dumps` output and its version's specs; re-attach the script engine."""
    dct = json.loads(state)
    dct.update(json.loads(spec_json))
    if dct.get(_VERSION_KEY) != _SERIALIZER.VERSION:
        _SERIALIZER.migrate(dct)
    else:
        dct.pop(_VERSION_KEY, None)
    workflow: BpmnWorkflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow


def raw_round_trip(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """The plain SpiffWorkflow JSON round trip with the spec embedded (the benchmark's baseline)."""
    engine = workflow.script_engine
    restored = _SERIALIZER.deserialize_json(_SERIALIZER.serialize_json(workflow))
    restored.script_engine = engine
    return restored
