"""A linear process of N user tasks (one text field each), written as Camunda Modeler would, for benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_linear" '
          'targetNamespace="http://bpmn.io/schema/bpmn">\n')


def write_linear_process(folder: Path, steps: int = 10) -> tuple[Path, Path]:
    """Write processes/linear.bpmn and forms/bench_step.form under `folder`; return both folders."""
    processes, forms = folder / "processes", folder / "forms"
    processes.mkdir(parents=True, exist_ok=True)
    forms.mkdir(parents=True, exist_ok=True)
    nodes = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    for i in range(steps):
        nodes.append(f'<bpmn:userTask id="step_{i}" name="Step {i}" camunda:candidateGroups="events_office" '
                     f'camunda:formRef="bench_step"><bpmn:incoming>f{i}</bpmn:incoming>'
                     f'<bpmn:outgoing>f{i + 1}</bpmn:outgoing></bpmn:userTask>')
    nodes.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{steps}</bpmn:incoming></bpmn:endEvent>')
    targets = ["start", *[f"step_{i}" for i in range(steps)], "end"]
    flows = [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{targets[i]}" targetRef="{targets[i + 1]}" />'
             for i in range(steps + 1)]
    body = "\n".join(nodes + flows)
    (processes / "linear.bpmn").write_text(
        f'{HEADER}<bpmn:process id="linear" name="Linear" isExecutable="true" '
        f'camunda:candidateStarterGroups="organiser">\n{body}\n</bpmn:process>\n</bpmn:definitions>\n')
    form = {"type": "default", "id": "bench_step", "schemaVersion": 16,
            "components": [{"id": "Field_note", "key": "note", "label": "Note", "type": "textfield"}]}
    (forms / "bench_step.form").write_text(json.dumps(form))
    return processes, forms


def write_timer_process(folder: Path) -> tuple[Path, Path]:
    """Write processes/wait.bpmn (start → one-minute timer → end) under `folder`; return both folders."""
    processes, forms = folder / "processes", folder / "forms"
    processes.mkdir(parents=True, exist_ok=True)
    forms.mkdir(parents=True, exist_ok=True)
    (processes / "wait.bpmn").write_text(
        f'{HEADER}<bpmn:process id="wait" name="Wait" isExecutable="true" camunda:candidateStarterGroups="organiser">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:intermediateCatchEvent id="one_minute"><bpmn:incoming>f0</bpmn:incoming>'
        '<bpmn:outgoing>f1</bpmn:outgoing><bpmn:timerEventDefinition id="t">'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">PT1M</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="one_minute" />\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="one_minute" targetRef="end" />\n'
        '</bpmn:process>\n</bpmn:definitions>\n')
    return processes, forms
