"""Work-arounds for SpiffWorkflow's Camunda multi-instance spec. Imports SpiffWorkflow only.

The Camunda spec sets its data input (the `camunda:collection`) only while it runs, and that change is not
part of the stored spec; after a reload the finished instances' items were appended to the collection
instead of replacing their own entries. Setting the input on every loaded spec keeps updates in place.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.camunda.specs.multiinstance_task import ParallelMultiInstanceTask, SequentialMultiInstanceTask


def pin_collection_io(workflow: Any) -> None:
    """Give each Camunda collection multi-instance spec its input collection and item (idempotent)."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    for process in specs:
        for spec in process.task_specs.values():
            if (isinstance(spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask) and spec.cardinality is None
                    and spec.data_input is None and spec.data_output is not None):
                spec.data_input = TaskDataReference(spec.data_output.bpmn_id)
                if spec.output_item is not None:
                    spec.input_item = TaskDataReference(spec.output_item.bpmn_id)
