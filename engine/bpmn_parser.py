"""SpiffWorkflow's Camunda parser, taught to read everything Camunda Modeler writes (assignment, forms,
due dates, priorities) and to execute service tasks. Imports SpiffWorkflow only."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.camunda.parser import CamundaParser

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SERVICE_IMPLEMENTATIONS = ("class", "expression", "delegateExpression", "type")


class CamundaAttributes:
    """Parser mixin: copy every `camunda:*` attribute of the element into `spec.extensions`."""

    node: Any

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions: dict[str, Any] = dict(super().parse_extensions(node))  # type: ignore[misc]
        prefix = f"{{{CAMUNDA_NS}}}"
        for name, value in (node if node is not None else self.node).attrib.items():
            if name.startswith(prefix):
                extensions[name[len(prefix):]] = value
        return extensions


class CamundaServiceTask(ServiceTask, BpmnSpecMixin):
    """A `bpmn:serviceTask` that calls the engine's registered service handler named by its implementation."""

    def __init__(self, wf_spec: Any, bpmn_id: str, implementation: str = "", operation: str = "",
                 topic: str | None = None, result_variable: str | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.implementation = implementation
        self.operation = operation
        self.topic = topic
        self.result_variable = result_variable

    def _execute(self, task: Any) -> bool | None:
        if self.implementation == "type":
            return None  # an external task: stays STARTED until a worker completes it
        result = task.workflow.script_engine.call_service(task, spec=self)
        if self.result_variable:
            task.data[self.result_variable] = result
        return True


class ServiceTaskParser(TaskParser):
    """Reads `camunda:class|expression|delegateExpression` or `camunda:type="external"` + `camunda:topic`."""

    def create_task(self) -> CamundaServiceTask:
        implementation, operation = "", ""
        for name in SERVICE_IMPLEMENTATIONS:
            value = self.node.get(f"{{{CAMUNDA_NS}}}{name}")
            if value:
                implementation, operation = name, value
                break
        if not implementation:
            self.raise_validation_exception(
                "A service task needs an implementation: set camunda:expression (e.g. ${notify_organiser()}), "
                "camunda:class, camunda:delegateExpression or camunda:type=\"external\" with a topic")
        return CamundaServiceTask(
            self.spec, self.bpmn_id, implementation=implementation, operation=operation,
            topic=self.node.get(f"{{{CAMUNDA_NS}}}topic"),
            result_variable=self.node.get(f"{{{CAMUNDA_NS}}}resultVariable"), **self.bpmn_attributes)


class CamundaServiceTaskConverter(TaskSpecConverter):
    """Serializes CamundaServiceTask with its implementation."""

    def to_dict(self, spec: CamundaServiceTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct.update(implementation=spec.implementation, operation=spec.operation, topic=spec.topic,
                   result_variable=spec.result_variable)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> CamundaServiceTask:
        return self.task_spec_from_dict(dct)


def _with_camunda_attributes(parser_class: type) -> type:
    return type(parser_class.__name__, (CamundaAttributes, parser_class), {})


class ModelerParser(CamundaParser):
    """CamundaParser that keeps all `camunda:*` attributes on each spec and supports service tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **{tag: (_with_camunda_attributes(parser), spec)
           for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()},
        full_tag("serviceTask"): (_with_camunda_attributes(ServiceTaskParser), CamundaServiceTask),
    }
