"""Scenario fixtures: a frozen clock (SpiffWorkflow timers read datetime.now), a driver, and a check that every
stored state restores its task tree."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg  # noqa: F401 - load its C extension before freezegun swaps datetime classes
import pytest
from freezegun import freeze_time
from scenario_driver import TODAY, Driver
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import runtime, serializer
from engine.bootstrap import WorkflowEngine


@pytest.fixture
def clock() -> Iterator[object]:
    """Time stands still at TODAY until the test moves it (`clock.move_to(...)`)."""
    with freeze_time(TODAY) as frozen:
        yield frozen


@pytest.fixture
def driver(clock: object, deployed: WorkflowEngine) -> Driver:
    """A scenario driver on the deployed processes."""
    return Driver(deployed)


def _task_facts(workflow: BpmnWorkflow) -> str:
    """Everything a task tree holds that a stored state must give back, as canonical JSON."""
    trees = {"top": workflow, **{str(k): sub for k, sub in workflow.subprocesses.items()}}
    facts = {name: {"data": tree.data, "last_task": str(tree.last_task.id) if tree.last_task else None,
                    "completed": tree.completed, "tasks": {str(task.id): [
                        task.task_spec.name, task.state, str(task._parent), list(map(str, task._children)),
                        task.triggered, task.last_state_change, task.data, task.internal_data]
                        for task in tree.tasks.values()}}
             for name, tree in trees.items()}
    facts["events"] = len(workflow.bpmn_events)
    return json.dumps(facts, sort_keys=True, default=_as_dict)


def _as_dict(value: object) -> object:
    """Typed values (events, dates) the way SpiffWorkflow's own registry writes them."""
    registry = serializer._STOCK_SERIALIZER.registry
    return registry.convert(value) if type(value) in registry.typenames else str(value)


@pytest.fixture(autouse=True)
def state_restores_every_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every state a scenario stores loads back to the same task tree: ids, states, data and internal data of
    every task, in subprocesses too (serializer's own task converter against the workflow that was dumped).
    And runtime's own tree walk finds what SpiffWorkflow's iterator finds, in its order."""
    dumps = serializer.dumps

    def checked(workflow: BpmnWorkflow) -> str:
        assert runtime.all_tasks(workflow) == workflow.get_tasks()  # the same tasks in the same order
        assert runtime.ready_user_tasks(workflow) == workflow.get_tasks(state=TaskState.READY, manual=True)
        state = dumps(workflow)
        specs = (workflow.spec, workflow.subprocess_specs)
        assert _task_facts(serializer.loads(state, "", workflow.script_engine, specs)) == _task_facts(workflow)
        return state

    monkeypatch.setattr(serializer, "dumps", checked)
